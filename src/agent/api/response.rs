//! Responses: JSON bodies, and PROTOCOL.md §1 error bodies with their status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::ControlError;
use crate::api::ApiErrorBody;
use crate::api::error::kind;

/// An error body with its HTTP status.
pub(super) fn error_response(status: u16, body: ApiErrorBody) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let (status, body) = self.to_response_parts();
        error_response(status, body)
    }
}

pub(super) async fn not_found() -> Response {
    error_response(404, ApiErrorBody::not_found())
}

pub(super) async fn method_not_allowed() -> Response {
    error_response(
        405,
        ApiErrorBody::new(kind::UNIMPLEMENTED, "Method not allowed for this path."),
    )
}
