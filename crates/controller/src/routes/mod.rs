//! The REST API under `/v1` (docs/wire-contract.md §1), one file per resource.
//!
//! Custom actions are `POST /v1/<collection>/<id>:<action>` (and `GET` for
//! `:list-resolvable-aliases`). axum cannot match part of a segment, so each collection
//! routes `/{id}` and splits the action off with [`boundary_wire::api::split_action`]; an action a
//! collection does not have is a 405. Unknown paths are 404 and unknown methods 405, both
//! with Boundary's error body.

mod accounts;
mod aliases;
mod auth_methods;
mod auth_tokens;
mod authorize_session;
mod common;
mod credential_stores;
mod credentials;
mod list_op;
mod resolvable_aliases;
mod roles;
mod scoped_list;
mod scopes;
mod sessions;
mod targets;
mod users;

pub use authorize_session::endpoint;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;

/// Every `/v1` route, with 404/405 fallbacks in Boundary's error format.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .merge(scopes::routes())
        .merge(auth_methods::routes())
        .merge(accounts::routes())
        .merge(users::routes())
        .merge(auth_tokens::routes())
        .merge(roles::routes())
        .merge(targets::routes())
        .merge(aliases::routes())
        .merge(sessions::routes())
        .merge(credential_stores::routes())
        .merge(credentials::routes())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}
