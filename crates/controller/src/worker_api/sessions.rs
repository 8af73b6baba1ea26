//! A worker's session calls: the TLS material at handshake time, then activation,
//! connection authorization and cancellation, each for a session offered to the caller
//! and (for the last three) with the client's tofu token.

use super::{RegisteredWorker, check_tofu, tofu_hash, tofu_matches};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::segment::Seg;
use crate::state::AppState;
use crate::store::{ActivateError, ConnectionRecord, ConnectionRefused, SessionRecord};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use boundary_wire::api::session::reason;
use boundary_wire::api::worker::{
    ActivateSessionRequest, AuthorizeConnectionRequest, AuthorizeConnectionResponse,
    WorkerCancelSessionRequest, WorkerSessionState, WorkerSessionTls, kind,
};
use boundary_wire::api::{Secret, ids, split_action, time_format};

/// `GET /v1/worker/sessions/{id}`: the certificate and key the worker terminates the
/// session's TLS with. Released before the tofu is known (see the module docs of
/// `worker_api`), so it carries nothing else.
pub(super) async fn lookup(
    State(state): State<AppState>,
    worker: RegisteredWorker,
    Seg(seg): Seg,
) -> ApiResult<Json<WorkerSessionTls>> {
    let (id, action) = split_action(&seg);
    if let Some(a) = action {
        return Err(ApiError::unknown_action(a));
    }
    let s = worker.offered_session(&state, id).await?;
    let key = state
        .root_key
        .open(&s.encrypted_private_key, &s.id)
        .map_err(|e| ApiError::internal("opening a session key", e))?;
    Ok(Json(WorkerSessionTls {
        session_id: s.id,
        expiration: s.expiration,
        certificate: STANDARD.encode(&s.certificate),
        private_key: Secret::new(STANDARD.encode(key)),
    }))
}

fn session_state(s: &SessionRecord) -> WorkerSessionState {
    WorkerSessionState {
        session_id: s.id.clone(),
        status: s.status.clone(),
        expiration: s.expiration,
        connection_limit: s.connection_limit,
    }
}

fn tofu_mismatch() -> ApiError {
    ApiError::bad_request_kind(kind::TOFU_MISMATCH, "tofu token not allowed")
}

pub(super) async fn session_action(
    State(state): State<AppState>,
    worker: RegisteredWorker,
    Seg(seg): Seg,
    body: JsonBody,
) -> ApiResult<Response> {
    let (id, action) = split_action(&seg);
    match action.unwrap_or("") {
        "activate" => activate(&state, &worker, id, body.parse()?).await,
        "authorize-connection" => authorize_connection(&state, &worker, id, body.parse()?).await,
        "cancel" => cancel(&state, &worker, id, body.parse()?).await,
        other => Err(ApiError::unknown_action(other)),
    }
}

/// Trust on first use: binds the client's tofu token to a pending session, or checks it
/// against the one already bound.
async fn activate(
    state: &AppState,
    worker: &RegisteredWorker,
    id: &str,
    req: ActivateSessionRequest,
) -> ApiResult<Response> {
    check_tofu(&req.tofu_token)?;
    worker.require_own_id(&req.worker_id)?;
    let offered = worker.offered_session(state, id).await?;
    let s = state
        .store
        .activate_session(&offered.id, &tofu_hash(&req.tofu_token), time_format::now())
        .await
        .map_err(|e| match e {
            ActivateError::NotFound => ApiError::not_found(),
            ActivateError::TofuMismatch => tofu_mismatch(),
            // Activated before with this token, and no longer active (canceled, expired):
            // nothing to activate, and no connection either.
            ActivateError::NotActivatable
                if offered
                    .tofu_hash
                    .as_deref()
                    .is_some_and(|bound| tofu_matches(bound, &req.tofu_token)) =>
            {
                ApiError::bad_request_kind(
                    kind::CONNECTION_REFUSED,
                    "unable to authorize connection: the session is not active",
                )
            }
            ActivateError::NotActivatable => {
                ApiError::bad_request_kind(kind::NOT_ACTIVATABLE, "refusing to activate session")
            }
            ActivateError::Store(m) => ApiError::internal("activating a session", m),
        })?;
    tracing::debug!(session_id = %s.id, worker_id = %worker.0.id, "session active");
    Ok(Json(session_state(&s)).into_response())
}

/// One connection of the session's limit, for a worker presenting the tofu token bound at
/// activation. The token is bound once and never changes, so checking it before the
/// store's atomic limit check cannot race with another activation.
async fn authorize_connection(
    state: &AppState,
    worker: &RegisteredWorker,
    id: &str,
    req: AuthorizeConnectionRequest,
) -> ApiResult<Response> {
    check_tofu(&req.tofu_token)?;
    worker.require_own_id(&req.worker_id)?;
    let s = worker.offered_session(state, id).await?;
    match &s.tofu_hash {
        None => {
            return Err(ApiError::bad_request_kind(
                kind::CONNECTION_REFUSED,
                "unable to authorize connection: the session is not active",
            ));
        }
        Some(bound) if !tofu_matches(bound, &req.tofu_token) => return Err(tofu_mismatch()),
        Some(_) => {}
    }
    let now = time_format::now();
    let connection = ConnectionRecord {
        id: ids::new_public_id(ids::SESSION_CONNECTION),
        session_id: s.id.clone(),
        worker_id: worker.0.id.clone(),
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
            ConnectionRefused::Store(m) => ApiError::internal("authorizing a connection", m),
            refused => ApiError::bad_request_kind(
                kind::CONNECTION_REFUSED,
                format!("unable to authorize connection: {refused}"),
            ),
        })?;
    // Limit, expiration and endpoint are fixed for the session's life.
    Ok(Json(AuthorizeConnectionResponse {
        connection_id: stored.id,
        connections_left: left,
        connection_limit: s.connection_limit,
        expiration: s.expiration,
        endpoint: s.endpoint,
    })
    .into_response())
}

/// The client's cancel command, relayed. Once a tofu token is bound only it cancels; a
/// pending session takes any well-formed one (see the module docs of `worker_api`).
async fn cancel(
    state: &AppState,
    worker: &RegisteredWorker,
    id: &str,
    req: WorkerCancelSessionRequest,
) -> ApiResult<Response> {
    check_tofu(&req.tofu_token)?;
    worker.require_own_id(&req.worker_id)?;
    let s = worker.offered_session(state, id).await?;
    if s.tofu_hash
        .as_ref()
        .is_some_and(|bound| !tofu_matches(bound, &req.tofu_token))
    {
        return Err(tofu_mismatch());
    }
    let s = state
        .store
        .cancel_session(&s.id, None, reason::CANCELED, time_format::now())
        .await?;
    tracing::info!(session_id = %s.id, worker_id = %worker.0.id, "session canceled by the client");
    Ok(Json(session_state(&s)).into_response())
}
