//! One error type for every REST handler: an HTTP status plus Boundary's error body
//! (docs/wire-contract.md §1). Internal details go to the log, never to the client.

use crate::store::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use boundary_wire::api::error::kind;
use boundary_wire::api::{ApiErrorBody, RequestField};

/// Boxed so that `Result<T, ApiError>` stays small on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    body: ApiErrorBody,
}

/// Boundary's message for a failed password login (401).
pub const AUTHENTICATION_FAILED_MESSAGE: &str = "Unable to authenticate.";

/// Boundary's message when a uniqueness rule is broken.
pub const UNIQUENESS_MESSAGE: &str = "Invalid request.  Request attempted to make second resource with the same field value that must be unique.";

impl ApiError {
    pub fn new(status: StatusCode, body: ApiErrorBody) -> Self {
        Self(Box::new(Inner { status, body }))
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ApiErrorBody::not_found())
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, ApiErrorBody::forbidden())
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ApiErrorBody::unauthenticated())
    }

    /// 400 naming one request field.
    pub fn invalid_field(name: &str, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorBody::invalid_field(name, description),
        )
    }

    /// 400 naming several request fields.
    pub fn invalid_fields(fields: Vec<(String, String)>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorBody::invalid_fields(
                fields
                    .into_iter()
                    .map(|(name, description)| RequestField { name, description })
                    .collect(),
            ),
        )
    }

    /// 400 InvalidArgument without a field.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorBody::new(kind::INVALID_ARGUMENT, message),
        )
    }

    /// 400 FailedPrecondition.
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorBody::new(kind::FAILED_PRECONDITION, message),
        )
    }

    /// 400 with a kind of the caller's choosing (the worker API's kinds).
    pub fn bad_request_kind(kind: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ApiErrorBody::new(kind, message))
    }

    /// 400 `invalid list token`: the client restarts its listing without a token.
    pub fn invalid_list_token(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorBody::new(kind::INVALID_LIST_TOKEN, message),
        )
    }

    /// 400 for a custom action the collection does not have (`POST …/{id}:frobnicate`).
    /// Boundary answers 400 with an empty body; ours says which action.
    pub fn unknown_action(action: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorBody::new(
                kind::INVALID_ARGUMENT,
                format!("Unknown action {action:?} for this resource."),
            ),
        )
    }

    /// 401 for a login with a wrong login name or password, in Boundary's words.
    pub fn authentication_failed() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorBody::new(kind::UNAUTHENTICATED, AUTHENTICATION_FAILED_MESSAGE),
        )
    }

    /// 404 for an update or action whose `version` is not the resource's current one:
    /// Boundary cannot tell that from a missing resource and says so. `what` names the
    /// resource, for example `Target "ttcp_1234567890"`.
    pub fn stale_version(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ApiErrorBody::new(
                kind::NOT_FOUND,
                format!("{what} not found or incorrect version provided."),
            ),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ApiErrorBody::new(kind::UNIMPLEMENTED, "Method Not Allowed"),
        )
    }

    /// 400 for a value that clashes with a unique one, naming the field.
    pub fn already_exists(field: &str, description: impl Into<String>) -> Self {
        let mut body = ApiErrorBody::invalid_field(field, description);
        body.message = UNIQUENESS_MESSAGE.to_owned();
        Self::new(StatusCode::BAD_REQUEST, body)
    }

    /// 408: the request (its body) did not arrive in time.
    pub fn request_timeout(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            ApiErrorBody::new(kind::DEADLINE_EXCEEDED, message),
        )
    }

    /// 503: the controller is too busy for this request now; the client may retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorBody::new(kind::UNAVAILABLE, message),
        )
    }

    /// 500; the cause is logged, the client sees a generic message.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiErrorBody::new(kind::INTERNAL, "Internal error; see the controller log."),
        )
    }

    /// Names the operation, as Boundary does on its non-canned errors (the canned 401,
    /// 403 and 404 bodies stay exactly canned).
    pub fn with_op(mut self, op: &str) -> Self {
        if !matches!(
            self.0.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ) {
            self.0.body.op = op.to_owned();
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn body(&self) -> &ApiErrorBody {
        &self.0.body
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::AlreadyExists(what) => {
                ApiError::already_exists("name", format!("{what} already exists"))
            }
            StoreError::VersionMismatch => ApiError::stale_version("Resource"),
            StoreError::Precondition(message) => ApiError::precondition(message),
            StoreError::Database(message) => ApiError::internal("store failed", message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Inner { status, body } = *self.0;
        (status, Json(body)).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0.status.as_u16(), self.0.body)
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_statuses() {
        assert_eq!(
            ApiError::from(StoreError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        let e = ApiError::from(StoreError::AlreadyExists("alias value \"x\"".into()));
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.body().message, UNIQUENESS_MESSAGE);
        let e = ApiError::from(StoreError::Database("password=hunter2 at host".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.body().message.contains("hunter2"));
        let e = ApiError::from(StoreError::VersionMismatch);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(e.body().kind, kind::NOT_FOUND);
        assert_eq!(
            e.body().message,
            "Resource not found or incorrect version provided."
        );
        assert_eq!(
            ApiError::from(StoreError::Precondition("linked".into()))
                .body()
                .kind,
            kind::FAILED_PRECONDITION
        );
    }
}
