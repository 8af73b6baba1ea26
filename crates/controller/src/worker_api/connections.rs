//! `:connect` and `:close` of a connection, by the worker that authorized it only.

use super::RegisteredWorker;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::segment::Seg;
use crate::state::AppState;
use crate::store::StoreError;
use axum::Json;
use axum::extract::State;
use boundary_wire::api::session::reason;
use boundary_wire::api::worker::{CloseConnectionRequest, ConnectConnectionRequest};
use boundary_wire::api::{ids, split_action, time_format};

const CLOSE_REASONS: &[&str] = &[
    reason::TIMED_OUT,
    reason::CLOSED_BY_END_USER,
    reason::TERMINATED,
    reason::NETWORK_ERROR,
    reason::SYSTEM_ERROR,
    reason::CONNECTION_LIMIT,
    reason::CANCELED,
    reason::UNKNOWN,
];

pub(super) async fn connection_action(
    State(state): State<AppState>,
    worker: RegisteredWorker,
    Seg(seg): Seg,
    body: JsonBody,
) -> ApiResult<Json<serde_json::Value>> {
    let (id, action) = split_action(&seg);
    if !ids::is_public_id(id, ids::SESSION_CONNECTION) {
        return Err(ApiError::invalid_field(
            "id",
            "Invalid formatted identifier.",
        ));
    }
    let now = time_format::now();
    match action.unwrap_or("") {
        "connect" => {
            let req: ConnectConnectionRequest = body.parse()?;
            require_own_connection(&state, &worker, id).await?;
            state
                .store
                .connect_connection(id, &req.endpoint_tcp_address, req.endpoint_tcp_port, now)
                .await?;
        }
        "close" => {
            let req: CloseConnectionRequest = body.parse()?;
            if !CLOSE_REASONS.contains(&req.closed_reason.as_str()) {
                return Err(ApiError::invalid_field(
                    "closed_reason",
                    format!("Must be one of {CLOSE_REASONS:?}."),
                ));
            }
            require_own_connection(&state, &worker, id).await?;
            state
                .store
                .close_connection(id, req.bytes_up, req.bytes_down, &req.closed_reason, now)
                .await?;
        }
        other => return Err(ApiError::unknown_action(other)),
    }
    Ok(Json(serde_json::json!({})))
}

/// 404 unless `worker` authorized the connection: another worker's connection looks like
/// one that does not exist. A connection's worker never changes, so the check cannot race
/// with the update that follows.
async fn require_own_connection(
    state: &AppState,
    worker: &RegisteredWorker,
    connection_id: &str,
) -> ApiResult<()> {
    match state.store.get_connection(connection_id).await {
        Ok(c) if c.worker_id == worker.0.id => Ok(()),
        Ok(_) => {
            tracing::warn!(worker_id = %worker.0.id, connection_id, "a worker tried to change another worker's connection");
            Err(ApiError::not_found())
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}
