//! Responses: JSON bodies, and docs/wire-contract.md §1 error bodies with their status.

use http_body_util::Full;
use hyper::body::{Body as _, Bytes};
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, StatusCode};
use serde::Serialize;

use super::ControlError;
use boundary_wire::api::ApiErrorBody;
use boundary_wire::api::error::kind;

/// Every answer of the local API: a complete body.
pub(super) type Response = hyper::Response<Full<Bytes>>;

/// `value` as a JSON body with `status`. A value that cannot be serialised (none of ours)
/// is a 500 with the error as text.
pub(super) fn json_with_status(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => with_body(status, "application/json", body),
        Err(error) => with_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            error.to_string().into_bytes(),
        ),
    }
}

/// 200 with `value` as JSON.
pub(super) fn json(value: &impl Serialize) -> Response {
    json_with_status(StatusCode::OK, value)
}

fn with_body(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An error body with its HTTP status.
pub(super) fn error_response(status: u16, body: ApiErrorBody) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_with_status(status, &body)
}

impl ControlError {
    pub(super) fn into_response(self) -> Response {
        let (status, body) = self.to_response_parts();
        error_response(status, body)
    }
}

pub(super) fn not_found() -> Response {
    error_response(404, ApiErrorBody::not_found())
}

/// 405 for a known path, naming the methods it does take in `Allow`.
pub(super) fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = error_response(
        405,
        ApiErrorBody::new(kind::UNIMPLEMENTED, "Method not allowed for this path."),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// Every response leaves with its `Content-Length`; the answer to a `HEAD` request keeps
/// it and drops the body.
pub(super) fn finish(mut response: Response, method: &Method) -> Response {
    if !response.headers().contains_key(CONTENT_LENGTH)
        && let Some(length) = response.body().size_hint().exact()
    {
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    if method == Method::HEAD {
        *response.body_mut() = Full::new(Bytes::new());
    }
    response
}
