//! `register` and `heartbeat`: a worker's own record, and nobody else's.

use super::{RegisteredWorker, permission_denied};
use crate::body::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{StoreError, WorkerRecord};
use axum::extract::State;
use axum::{Extension, Json};
use boundary_net::worker_auth::AuthenticatedWorker;
use boundary_wire::api::session::status;
use boundary_wire::api::worker::{
    HeartbeatRequest, HeartbeatResponse, RegisterWorkerRequest, RegisterWorkerResponse,
    WorkerSessionStatus,
};
use boundary_wire::api::{ids, time_format};

/// Creates or updates the record of the worker named by the credential. The body's name
/// must be that name: a credential cannot register (and so re-address) another worker.
pub(super) async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<AuthenticatedWorker>,
    ApiJson(req): ApiJson<RegisterWorkerRequest>,
) -> ApiResult<Json<RegisterWorkerResponse>> {
    if req.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "This is a required field."));
    }
    if req.name != caller.name {
        tracing::warn!(name = %caller.name, claimed = %req.name, "a worker tried to register under another name");
        return Err(permission_denied(
            "name is not the name this worker's credential was issued for.",
        ));
    }
    check_address(&req.address)?;
    let now = time_format::now();
    let worker = state
        .store
        .upsert_worker(&WorkerRecord {
            id: ids::new_public_id(ids::WORKER),
            name: caller.name,
            address: req.address.clone(),
            description: req.description.clone(),
            last_heartbeat: now,
            created: now,
            updated: now,
        })
        .await?;
    tracing::info!(worker_id = %worker.id, name = %worker.name, address = %worker.address, "worker registered");
    Ok(Json(RegisterWorkerResponse {
        worker_id: worker.id,
        heartbeat_interval_seconds: state.heartbeat_interval.as_secs().max(1) as u32,
    }))
}

/// `host:port` with a numeric port (what clients will dial).
fn check_address(address: &str) -> ApiResult<()> {
    let ok = match address.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && !host.contains(char::is_whitespace)
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field("address", "Must be host:port."))
    }
}

/// Refreshes the caller's own record (liveness and address) and reports the status of the
/// sessions it serves. Sessions it was not offered read as `terminated`, exactly like
/// sessions that do not exist.
pub(super) async fn heartbeat(
    State(state): State<AppState>,
    worker: RegisteredWorker,
    ApiJson(req): ApiJson<HeartbeatRequest>,
) -> ApiResult<Json<HeartbeatResponse>> {
    check_address(&req.address)?;
    worker.require_own_id(&req.worker_id)?;
    state
        .store
        .worker_heartbeat(&worker.0.id, &req.address, time_format::now())
        .await?;
    let mut sessions = Vec::with_capacity(req.session_ids.len());
    for id in req.session_ids {
        let status = match state.store.get_session(&id).await {
            Ok(s) if s.offered_worker_ids.contains(&worker.0.id) => s.status,
            Ok(_) | Err(StoreError::NotFound) => status::TERMINATED.to_owned(),
            Err(e) => return Err(e.into()),
        };
        sessions.push(WorkerSessionStatus {
            session_id: id,
            status,
        });
    }
    Ok(Json(HeartbeatResponse { sessions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_and_port() {
        assert!(check_address("127.0.0.1:9202").is_ok());
        assert!(check_address("[::1]:9202").is_ok());
        assert!(check_address("w1.example:9202").is_ok());
        for bad in ["", "host", "host:0", "host:x", ":9202", "a b:1"] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
    }
}
