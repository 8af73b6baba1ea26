//! The worker ↔ controller API (ours): JSON on the controller's cluster listener.
//!
//! Boundary's own workers speak gRPC to the controller; our worker and controller are a
//! matched pair, so this API is ours to define. Every request carries
//! `Authorization: Bearer <worker-auth credential>` (see `controller::worker_auth`).
//! Errors use [`super::ApiErrorBody`] with one of the [`kind`] strings below, which the
//! worker maps to WebSocket close codes (PROTOCOL.md §3).
//!
//! | method, path | request | response |
//! |---|---|---|
//! | `POST /v1/worker/register` | [`RegisterWorkerRequest`] | [`RegisterWorkerResponse`] |
//! | `POST /v1/worker/heartbeat` | [`HeartbeatRequest`] | [`HeartbeatResponse`] |
//! | `GET /v1/worker/sessions/{id}` | – | [`WorkerSession`] |
//! | `POST /v1/worker/sessions/{id}:activate` | [`ActivateSessionRequest`] | [`WorkerSession`] |
//! | `POST /v1/worker/sessions/{id}:authorize-connection` | [`AuthorizeConnectionRequest`] | [`AuthorizeConnectionResponse`] |
//! | `POST /v1/worker/sessions/{id}:cancel` | [`WorkerCancelSessionRequest`] | [`WorkerSession`] |
//! | `POST /v1/worker/connections/{id}:connect` | [`ConnectConnectionRequest`] | `{}` |
//! | `POST /v1/worker/connections/{id}:close` | [`CloseConnectionRequest`] | `{}` |

use super::{Secret, Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

/// Error kinds the controller returns on the worker API.
pub mod kind {
    /// The session is bound to another tofu token → close 1008 "tofu token not allowed".
    pub const TOFU_MISMATCH: &str = "TofuMismatch";
    /// Not pending and no tofu bound → close 1011 "refusing to activate session".
    pub const NOT_ACTIVATABLE: &str = "SessionNotActivatable";
    /// Limit reached, expired or not active → close 1011 "unable to authorize connection".
    pub const CONNECTION_REFUSED: &str = "ConnectionNotAuthorized";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisterWorkerRequest {
    /// Stable name from the worker's config; re-registering with it keeps the worker id.
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
    pub worker_id: String,
    pub address: String,
    /// Sessions with live connections on this worker.
    #[serde(default)]
    pub session_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// The current status of each session the worker reported; the worker closes the
    /// connections of sessions that are `canceling` or `terminated`.
    #[serde(default)]
    pub sessions: Vec<WorkerSessionStatus>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerSessionStatus {
    pub session_id: String,
    pub status: String,
}

/// What a worker needs to serve a session's connections. Carries the session's private key:
/// the worker presents the same certificate as the client.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerSession {
    pub session_id: String,
    pub status: String,
    #[serde(with = "rfc3339")]
    pub expiration: Timestamp,
    pub connection_limit: i32,
    /// Base64 of the certificate DER.
    pub certificate: String,
    /// Base64 of the 64-byte Ed25519 key (seed ‖ public key).
    pub private_key: Secret,
    /// `tcp://host:port`.
    pub endpoint: String,
    /// True once a tofu token is bound (the session was activated).
    pub tofu_bound: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivateSessionRequest {
    pub worker_id: String,
    pub tofu_token: Secret,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizeConnectionRequest {
    pub worker_id: String,
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
