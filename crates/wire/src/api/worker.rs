//! The worker ↔ controller API (ours): JSON on the controller's cluster listener.
//!
//! Boundary's own workers speak gRPC to the controller; our worker and controller are a
//! matched pair, so this API is ours to define. Every request carries
//! `Authorization: Bearer <credential of this worker>`, derived from the shared worker-auth
//! key and the worker's name (see `boundary_net::worker_auth`); the controller acts on behalf
//! of that name only. Errors use [`super::ApiErrorBody`] with one of the [`kind`] strings
//! below, which the worker maps to WebSocket close codes (docs/wire-contract.md §3).
//!
//! | method, path | request | response | the caller must |
//! |---|---|---|---|
//! | `POST /v1/worker/register` | [`RegisterWorkerRequest`] | [`RegisterWorkerResponse`] | register under its own name |
//! | `POST /v1/worker/heartbeat` | [`HeartbeatRequest`] | [`HeartbeatResponse`] | send its own worker id |
//! | `GET /v1/worker/sessions/{id}` | – | [`WorkerSessionTls`] | be offered the session |
//! | `POST /v1/worker/sessions/{id}:activate` | [`ActivateSessionRequest`] | [`WorkerSessionState`] | be offered it; the tofu |
//! | `POST /v1/worker/sessions/{id}:authorize-connection` | [`AuthorizeConnectionRequest`] | [`AuthorizeConnectionResponse`] | be offered it; the bound tofu |
//! | `POST /v1/worker/sessions/{id}:cancel` | [`WorkerCancelSessionRequest`] | [`WorkerSessionState`] | be offered it; the tofu |
//! | `POST /v1/worker/connections/{id}:connect` | [`ConnectConnectionRequest`] | `{}` | have authorized the connection |
//! | `POST /v1/worker/connections/{id}:close` | [`CloseConnectionRequest`] | `{}` | have authorized the connection |
//!
//! A worker is *offered* a session when it was live when the session was authorized: its
//! address is in the `worker_info` of the session's authorization token, so it is one of
//! the workers the client may dial. Sessions not offered to the caller, and connections
//! another worker authorized, answer 404 as if they did not exist.

use super::{Secret, Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

/// Error kinds the controller returns on the worker API.
pub mod kind {
    /// The session is bound to another tofu token → close 1008 "tofu token not allowed".
    pub const TOFU_MISMATCH: &str = "TofuMismatch";
    /// Not pending and no tofu bound → close 1011 "refusing to activate session".
    pub const NOT_ACTIVATABLE: &str = "SessionNotActivatable";
    /// Limit reached, expired or not active (also answered to an activation with the
    /// token already bound, once the session is no longer active) → close 1011 "unable to
    /// authorize connection".
    pub const CONNECTION_REFUSED: &str = "ConnectionNotAuthorized";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisterWorkerRequest {
    /// Stable name from the worker's config; re-registering with it keeps the worker id.
    /// Must be the name the request's credential was derived for.
    pub name: String,
    /// `host:port` clients dial (goes into `worker_info` of authorization tokens).
    pub address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisterWorkerResponse {
    pub worker_id: String,
    /// How often the controller expects a heartbeat; a worker silent for three intervals
    /// is no longer handed out.
    pub heartbeat_interval_seconds: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    /// The caller's own id, from its registration; another worker's id is refused (403).
    pub worker_id: String,
    pub address: String,
    /// Sessions with live connections on this worker.
    #[serde(default)]
    pub session_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// The current status of each session the worker reported; the worker closes the
    /// connections of sessions that are `canceling` or `terminated`. A session that does
    /// not exist or was not offered to this worker is reported `terminated` (the same
    /// answer either way, so a heartbeat cannot probe for other sessions).
    #[serde(default)]
    pub sessions: Vec<WorkerSessionStatus>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerSessionStatus {
    pub session_id: String,
    pub status: String,
}

/// What a worker needs to terminate a session's TLS, and nothing more. It is fetched when
/// a ClientHello names the session, before the client has sent its tofu token (that comes
/// inside the TLS tunnel), so it cannot wait for the tofu; it is released only to workers
/// the session was offered to, which are the only ones its client dials. Status, endpoint
/// and limits come back only from the calls that need the tofu.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerSessionTls {
    pub session_id: String,
    /// Fixed for the session's life; the worker refuses connections past it itself.
    #[serde(with = "rfc3339")]
    pub expiration: Timestamp,
    /// Base64 of the certificate DER.
    pub certificate: String,
    /// Base64 of the 64-byte Ed25519 key (seed ‖ public key): the worker presents the
    /// same certificate as the client.
    pub private_key: Secret,
}

/// A session's state after `:activate` or `:cancel`, for a worker holding its tofu token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerSessionState {
    pub session_id: String,
    pub status: String,
    #[serde(with = "rfc3339")]
    pub expiration: Timestamp,
    pub connection_limit: i32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivateSessionRequest {
    /// The caller's own id; another worker's id is refused (403).
    pub worker_id: String,
    pub tofu_token: Secret,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeConnectionRequest {
    /// The caller's own id; another worker's id is refused (403).
    pub worker_id: String,
    /// The token the client sent in its handshake; must be the one bound at activation.
    pub tofu_token: Secret,
    pub client_tcp_address: String,
    pub client_tcp_port: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeConnectionResponse {
    pub connection_id: String,
    /// After this connection; -1 unlimited.
    pub connections_left: i32,
    pub connection_limit: i32,
    #[serde(with = "rfc3339")]
    pub expiration: Timestamp,
    pub endpoint: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerCancelSessionRequest {
    /// The caller's own id; another worker's id is refused (403).
    pub worker_id: String,
    pub tofu_token: Secret,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConnectConnectionRequest {
    pub endpoint_tcp_address: String,
    pub endpoint_tcp_port: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CloseConnectionRequest {
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// One of [`super::session::reason`].
    pub closed_reason: String,
}
