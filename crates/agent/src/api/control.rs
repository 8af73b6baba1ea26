//! The contract between the local API and the agent behind it.

use async_trait::async_trait;

use boundary_wire::api::ApiErrorBody;
use boundary_wire::api::agent::{AddTokenRequest, AgentSessions, AgentStatus};
use boundary_wire::api::error::kind;

/// What the local API asks of the agent. The daemon implements it.
///
/// Every call carries the uid of the local user who made the request (the owner of the
/// caller's TCP socket, found by the API before any handler runs). Implementations must
/// answer with that user's data only: their token, their sessions and brokered
/// credentials, their errors (plus agent-wide errors and warnings, which hold nothing
/// private). Uid 0 is root and gets no one else's data either.
///
/// The API has already checked the request's shape (a JSON body, a well-formed
/// `boundary_addr` URL and token) and, for pause and resume, that the caller may do it
/// (see [`may_pause_or_resume`]).
#[async_trait]
pub trait AgentControl: Send + Sync {
    /// `POST /v1/tokens`: registers (or replaces) `uid`'s token, after validating it with
    /// the controller at `request.boundary_addr`. A token for another controller address
    /// switches the agent to that controller (docs/architecture.md).
    async fn add_token(&self, uid: u32, request: AddTokenRequest) -> Result<(), ControlError>;

    /// Whether `uid` has a registered token (the pause/resume policy asks).
    async fn has_token(&self, uid: u32) -> bool;

    /// `GET /v1/status` for `uid`: their token's address, id and expiry (empty and `None`
    /// when they have none), the agent's version and state, recent errors and warnings
    /// (most recent first).
    async fn status(&self, uid: u32) -> AgentStatus;

    /// `GET /v1/sessions`: `uid`'s sessions only.
    async fn sessions(&self, uid: u32) -> AgentSessions;

    /// `POST /v1/pause`, on behalf of `uid`. Pausing an already paused agent succeeds.
    /// The implementation may refuse a caller the API let through
    /// (`ControlError::PermissionDenied`): the daemon lets only root pause unless
    /// `allow_user_pause` is set.
    async fn pause(&self, uid: u32) -> Result<(), ControlError>;

    /// `POST /v1/resume`, on behalf of `uid`. Resuming a running agent succeeds. May be
    /// refused like `pause`.
    async fn resume(&self, uid: u32) -> Result<(), ControlError>;
}

/// Pausing affects every user of the machine (DNS goes back to the previous resolvers
/// for all), so not every local account may ask: root may, and so may any user who
/// registered a token (a Boundary user of this machine). A service account without a
/// token gets 403. This is only the first gate: the agent then applies its own policy
/// (the daemon's: only root, unless `allow_user_pause`).
pub async fn may_pause_or_resume(control: &dyn AgentControl, uid: u32) -> bool {
    uid == 0 || control.has_token(uid).await
}

/// Why the agent refused or failed a request; each maps to an HTTP status and the
/// docs/wire-contract.md §1 error body. Messages reach the caller: never put a token in one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// 400 `InvalidArgument` naming the request field (e.g. the controller rejected the
    /// token: field `token`).
    #[error("{field}: {description}")]
    InvalidField { field: String, description: String },
    /// 403 `PermissionDenied`.
    #[error("{0}")]
    PermissionDenied(String),
    /// 400 `FailedPrecondition`: the request is fine but the agent cannot do it now.
    #[error("{0}")]
    FailedPrecondition(String),
    /// 503 `Unavailable`: something the agent needs (the controller) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// 500 `Internal`.
    #[error("{0}")]
    Internal(String),
}

impl ControlError {
    /// The HTTP status and error body for this error.
    pub fn to_response_parts(&self) -> (u16, ApiErrorBody) {
        match self {
            ControlError::InvalidField { field, description } => {
                (400, ApiErrorBody::invalid_field(field, description.clone()))
            }
            ControlError::PermissionDenied(message) => (
                403,
                ApiErrorBody::new(kind::PERMISSION_DENIED, message.clone()),
            ),
            ControlError::FailedPrecondition(message) => (
                400,
                ApiErrorBody::new(kind::FAILED_PRECONDITION, message.clone()),
            ),
            ControlError::Unavailable(message) => {
                (503, ApiErrorBody::new(UNAVAILABLE, message.clone()))
            }
            ControlError::Internal(message) => {
                (500, ApiErrorBody::new(kind::INTERNAL, message.clone()))
            }
        }
    }
}

/// gRPC's code name for "try again later".
pub const UNAVAILABLE: &str = kind::UNAVAILABLE;
