//! The `{id}` path segment of a route, which may carry `:action`.

use crate::error::ApiError;

/// The `{id}` path segment (which may carry `:action`). A segment that does not decode is a
/// 400 with Boundary's body rather than axum's plain-text rejection.
pub struct Seg(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Seg {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(s)| Seg(s))
            .map_err(|e| ApiError::invalid_field("id", e.body_text()))
    }
}
