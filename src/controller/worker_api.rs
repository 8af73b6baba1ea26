//! The cluster listener's API for workers (documented in [`crate::api::worker`]).
//!
//! Every request must carry the worker-auth bearer credential (constant-time check); without
//! it the answer is 401 whatever the path. Session state changes go through the store's
//! atomic operations, so several workers (and several controllers on one database) agree on
//! tofu binding and connection limits.

use crate::api::ids;
use crate::api::session::reason;
use crate::api::worker::{
    ActivateSessionRequest, AuthorizeConnectionRequest, AuthorizeConnectionResponse,
    CloseConnectionRequest, ConnectConnectionRequest, HeartbeatRequest, HeartbeatResponse,
    RegisterWorkerRequest, RegisterWorkerResponse, WorkerCancelSessionRequest, WorkerSession,
    WorkerSessionStatus, kind,
};
use crate::api::{Secret, split_action, time_format};
use crate::controller::body::{ApiJson, JsonBody};
use crate::controller::error::{ApiError, ApiResult};
use crate::controller::segment::Seg;
use crate::controller::state::AppState;
use crate::controller::store::{
    ActivateError, ConnectionRecord, ConnectionRefused, SessionRecord, StoreError, WorkerRecord,
};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Length of a tofu token (PROTOCOL.md §3).
pub const TOFU_TOKEN_LEN: usize = 20;

pub fn cluster_router(state: AppState) -> Router {
    Router::new()
        .route("/v1/worker/register", post(register))
        .route("/v1/worker/heartbeat", post(heartbeat))
        .route("/v1/worker/sessions/{id}", get(lookup).post(session_action))
        .route("/v1/worker/connections/{id}", post(connection_action))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_worker_auth,
        ))
        .with_state(state)
}

async fn require_worker_auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if state.worker_auth.verify_header(header) {
        next.run(req).await
    } else {
        ApiError::unauthenticated().into_response()
    }
}

/// SHA-256 of a tofu token, hex: the store never sees the token itself.
pub fn tofu_hash(token: &Secret) -> String {
    hex::encode(Sha256::digest(token.expose().as_bytes()))
}

fn check_tofu(token: &Secret) -> ApiResult<()> {
    if token.expose().len() != TOFU_TOKEN_LEN {
        return Err(ApiError::invalid_field(
            "tofu_token",
            format!("A tofu token is {TOFU_TOKEN_LEN} characters."),
        ));
    }
    Ok(())
}

async fn register(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RegisterWorkerRequest>,
) -> ApiResult<Json<RegisterWorkerResponse>> {
    if req.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "This is a required field."));
    }
    check_address(&req.address)?;
    let now = time_format::now();
    let worker = state
        .store
        .upsert_worker(&WorkerRecord {
            id: ids::new_public_id(ids::WORKER),
            name: req.name.trim().to_owned(),
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

async fn heartbeat(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<HeartbeatRequest>,
) -> ApiResult<Json<HeartbeatResponse>> {
    check_address(&req.address)?;
    state
        .store
        .worker_heartbeat(&req.worker_id, &req.address, time_format::now())
        .await?;
    let mut sessions = Vec::with_capacity(req.session_ids.len());
    for id in req.session_ids {
        let status = match state.store.get_session(&id).await {
            Ok(s) => s.status,
            Err(StoreError::NotFound) => crate::api::session::status::TERMINATED.to_owned(),
            Err(e) => return Err(e.into()),
        };
        sessions.push(WorkerSessionStatus {
            session_id: id,
            status,
        });
    }
    Ok(Json(HeartbeatResponse { sessions }))
}

fn worker_session(state: &AppState, s: &SessionRecord) -> ApiResult<WorkerSession> {
    let key = state
        .root_key
        .open(&s.encrypted_private_key, &s.id)
        .map_err(|e| ApiError::internal("opening a session key", e))?;
    Ok(WorkerSession {
        session_id: s.id.clone(),
        status: s.status.clone(),
        expiration: s.expiration,
        connection_limit: s.connection_limit,
        certificate: STANDARD.encode(&s.certificate),
        private_key: Secret::new(STANDARD.encode(key)),
        endpoint: s.endpoint.clone(),
        tofu_bound: s.tofu_hash.is_some(),
    })
}

fn session_id(id: &str) -> ApiResult<&str> {
    if ids::is_public_id(id, ids::SESSION) {
        Ok(id)
    } else {
        Err(ApiError::invalid_field(
            "id",
            "Invalid formatted identifier.",
        ))
    }
}

async fn lookup(State(state): State<AppState>, Seg(seg): Seg) -> ApiResult<Json<WorkerSession>> {
    let (id, action) = split_action(&seg);
    if let Some(a) = action {
        return Err(ApiError::unknown_action(a));
    }
    let s = state.store.get_session(session_id(id)?).await?;
    Ok(Json(worker_session(&state, &s)?))
}

async fn session_action(
    State(state): State<AppState>,
    Seg(seg): Seg,
    body: JsonBody,
) -> ApiResult<Response> {
    let (id, action) = split_action(&seg);
    let action = action.unwrap_or("");
    let now = time_format::now();
    match action {
        "activate" => {
            let req: ActivateSessionRequest = body.parse()?;
            check_tofu(&req.tofu_token)?;
            let s = state
                .store
                .activate_session(session_id(id)?, &tofu_hash(&req.tofu_token), now)
                .await
                .map_err(|e| match e {
                    ActivateError::NotFound => ApiError::not_found(),
                    ActivateError::TofuMismatch => {
                        ApiError::bad_request_kind(kind::TOFU_MISMATCH, "tofu token not allowed")
                    }
                    ActivateError::NotActivatable => ApiError::bad_request_kind(
                        kind::NOT_ACTIVATABLE,
                        "refusing to activate session",
                    ),
                    ActivateError::Store(m) => ApiError::internal("activating a session", m),
                })?;
            tracing::debug!(session_id = %s.id, worker_id = %req.worker_id, "session active");
            Ok(Json(worker_session(&state, &s)?).into_response())
        }
        "authorize-connection" => {
            let req: AuthorizeConnectionRequest = body.parse()?;
            let sid = session_id(id)?;
            let connection = ConnectionRecord {
                id: ids::new_public_id(ids::SESSION_CONNECTION),
                session_id: sid.to_owned(),
                worker_id: req.worker_id.clone(),
                client_tcp_address: req.client_tcp_address.clone(),
                client_tcp_port: req.client_tcp_port,
                endpoint_tcp_address: String::new(),
                endpoint_tcp_port: 0,
                bytes_up: 0,
                bytes_down: 0,
                status: "authorized".to_owned(),
                closed_reason: None,
                created: now,
                updated: now,
            };
            let (stored, left) = state
                .store
                .authorize_connection(&connection, now)
                .await
                .map_err(|e| match e {
                    ConnectionRefused::NotFound => ApiError::not_found(),
                    ConnectionRefused::Store(m) => {
                        ApiError::internal("authorizing a connection", m)
                    }
                    refused => ApiError::bad_request_kind(
                        kind::CONNECTION_REFUSED,
                        format!("unable to authorize connection: {refused}"),
                    ),
                })?;
            let s = state.store.get_session(sid).await?;
            Ok(Json(AuthorizeConnectionResponse {
                connection_id: stored.id,
                connections_left: left,
                connection_limit: s.connection_limit,
                expiration: s.expiration,
                endpoint: s.endpoint,
            })
            .into_response())
        }
        "cancel" => {
            let req: WorkerCancelSessionRequest = body.parse()?;
            check_tofu(&req.tofu_token)?;
            let s = state.store.get_session(session_id(id)?).await?;
            if s.tofu_hash
                .as_ref()
                .is_some_and(|h| *h != tofu_hash(&req.tofu_token))
            {
                return Err(ApiError::bad_request_kind(
                    kind::TOFU_MISMATCH,
                    "tofu token not allowed",
                ));
            }
            let s = state
                .store
                .cancel_session(&s.id, None, reason::CANCELED, now)
                .await?;
            tracing::info!(session_id = %s.id, worker_id = %req.worker_id, "session canceled by the client");
            Ok(Json(worker_session(&state, &s)?).into_response())
        }
        other => Err(ApiError::unknown_action(other)),
    }
}

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

async fn connection_action(
    State(state): State<AppState>,
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
            state
                .store
                .close_connection(id, req.bytes_up, req.bytes_down, &req.closed_reason, now)
                .await?;
        }
        other => return Err(ApiError::unknown_action(other)),
    }
    Ok(Json(serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_tofu() {
        assert!(check_address("127.0.0.1:9202").is_ok());
        assert!(check_address("[::1]:9202").is_ok());
        assert!(check_address("w1.example:9202").is_ok());
        for bad in ["", "host", "host:0", "host:x", ":9202", "a b:1"] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
        assert!(check_tofu(&Secret::new("a".repeat(20))).is_ok());
        assert!(check_tofu(&Secret::new("a".repeat(19))).is_err());
        assert_eq!(tofu_hash(&Secret::new("x")).len(), 64);
    }
}
