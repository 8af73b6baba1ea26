//! The cluster listener's API for workers (documented in [`boundary_wire::api::worker`]).
//!
//! Every request must carry a worker credential (see [`boundary_net::worker_auth`]);
//! without a valid one the answer is 401 whatever the path. The credential names one
//! worker, and each call is then limited to what that worker may do:
//!
//! - **its own record**: it registers under the name its credential was derived for, and
//!   heartbeats (which rewrite the address clients are given) only for the id registered
//!   under that name;
//! - **sessions it was offered**: a session records the workers whose addresses went into
//!   its authorization token; any other worker gets 404 for it, as if it did not exist;
//! - **the client's tofu token** for anything that changes a session: `:activate` binds or
//!   checks it, `:authorize-connection` must present the bound one (so a worker cannot
//!   spend a session's connection limit for a client that never came), `:cancel` must
//!   match it once bound;
//! - **connections it authorized**: `:connect` and `:close` of another worker's
//!   connection answer 404.
//!
//! What is left to an offered worker without the tofu, and why:
//! - the session's certificate and private key (`GET /v1/worker/sessions/{id}`). TLS is
//!   terminated with them when the ClientHello arrives, and the tofu only comes later,
//!   inside that TLS connection, so the key cannot wait for it. An offered worker is one
//!   the client may dial anyway; what the key lets it do is be the session's TLS endpoint
//!   towards clients who chose to dial it, which serving them already means. It learns
//!   nothing else: status, endpoint and limits come back only with the tofu. (Boundary's
//!   own workers fetch the session, key included, with `LookupSession` at the same point.)
//! - a *pending* session has no tofu bound yet, so the first offered worker to activate
//!   it binds the token its client sent; cancelling a pending session likewise takes any
//!   well-formed token, because the client proved it holds the session key in mutual TLS,
//!   which the controller cannot see. Either needs the session id, which a worker learns
//!   only from the SNI of a client that dialled it (ids are random and not listed here).
//!
//! Session state changes go through the store's atomic operations, so several workers
//! (and several controllers on one database) agree on tofu binding and connection limits.

mod connections;
mod registration;
mod sessions;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{SessionRecord, StoreError, WorkerRecord};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use boundary_net::worker_auth::AuthenticatedWorker;
use boundary_wire::api::error::kind as error_kind;
use boundary_wire::api::{ApiErrorBody, Secret, ids};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of a tofu token (docs/wire-contract.md §3).
pub const TOFU_TOKEN_LEN: usize = 20;

pub fn cluster_router(state: AppState) -> Router {
    Router::new()
        .route("/v1/worker/register", post(registration::register))
        .route("/v1/worker/heartbeat", post(registration::heartbeat))
        .route(
            "/v1/worker/sessions/{id}",
            get(sessions::lookup).post(sessions::session_action),
        )
        .route(
            "/v1/worker/connections/{id}",
            post(connections::connection_action),
        )
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_worker_auth,
        ))
        .with_state(state)
}

/// Lets through only requests with a valid worker credential, and tells the handlers
/// which worker sent them (an [`AuthenticatedWorker`] request extension).
async fn require_worker_auth(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match state.worker_auth.authenticate(header) {
        Some(worker) => {
            req.extensions_mut().insert(worker);
            next.run(req).await
        }
        None => ApiError::unauthenticated().into_response(),
    }
}

/// The registered record of the worker that sent the request. A valid credential whose
/// name has no record (never registered, or the database was replaced) is a 401, which
/// makes the worker register again.
pub(super) struct RegisteredWorker(pub WorkerRecord);

impl FromRequestParts<AppState> for RegisteredWorker {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Extension(caller) = Extension::<AuthenticatedWorker>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::unauthenticated())?;
        match state.store.get_worker_by_name(&caller.name).await {
            Ok(record) => Ok(RegisteredWorker(record)),
            Err(StoreError::NotFound) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ApiErrorBody::new(
                    error_kind::UNAUTHENTICATED,
                    "This worker is not registered; register first.",
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }
}

impl RegisteredWorker {
    /// Refuses a request whose body names another worker's id.
    fn require_own_id(&self, claimed: &str) -> ApiResult<()> {
        if claimed == self.0.id {
            Ok(())
        } else {
            tracing::warn!(worker_id = %self.0.id, name = %self.0.name, claimed, "a worker sent another worker's id");
            Err(permission_denied("worker_id is not this worker's id."))
        }
    }

    /// The session, if it was offered to this worker; 404 otherwise, so a worker cannot
    /// tell other workers' sessions from sessions that do not exist.
    async fn offered_session(&self, state: &AppState, id: &str) -> ApiResult<SessionRecord> {
        let session = state.store.get_session(session_id(id)?).await?;
        if session.offered_worker_ids.contains(&self.0.id) {
            Ok(session)
        } else {
            tracing::debug!(worker_id = %self.0.id, session_id = %session.id, "session not offered to this worker");
            Err(ApiError::not_found())
        }
    }
}

fn permission_denied(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ApiErrorBody::new(error_kind::PERMISSION_DENIED, message),
    )
}

/// SHA-256 of a tofu token, hex: the store never sees the token itself.
pub fn tofu_hash(token: &Secret) -> String {
    hex::encode(Sha256::digest(token.expose().as_bytes()))
}

/// Whether `token` is the one whose hash is `bound` (compared in constant time).
fn tofu_matches(bound: &str, token: &Secret) -> bool {
    bool::from(bound.as_bytes().ct_eq(tofu_hash(token).as_bytes()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tofu_tokens_are_checked_and_hashed() {
        assert!(check_tofu(&Secret::new("a".repeat(20))).is_ok());
        assert!(check_tofu(&Secret::new("a".repeat(19))).is_err());
        assert_eq!(tofu_hash(&Secret::new("x")).len(), 64);
        let token = Secret::new("abcdefghij0123456789");
        assert!(tofu_matches(&tofu_hash(&token), &token));
        assert!(!tofu_matches(
            &tofu_hash(&token),
            &Secret::new("abcdefghij012345678X")
        ));
        assert!(!tofu_matches("", &token));
    }
}
