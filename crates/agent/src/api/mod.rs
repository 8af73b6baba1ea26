//! The agent's local HTTP API (docs/wire-contract.md §4), what `boundary client-agent …`, the
//! stock Boundary CLI and Boundary Desktop call: `POST /v1/tokens`, `GET /v1/status`,
//! `GET /v1/sessions`, `POST /v1/pause`, `POST /v1/resume`.
//!
//! The caller's identity is the local user owning the client socket. Every request is
//! checked (no Origin/Referer, a loopback Host, a socket owner) before a handler runs,
//! and handlers pass that uid to [`AgentControl`], which the daemon implements. Errors use the docs/wire-contract.md §1 error
//! body. Bodies over 64 KiB and malformed JSON get 400, bodies slower than
//! [`IDLE_AND_BODY_TIMEOUT`] 408. Connections are bounded per user ([`ApiLimits`]).
//!
//! ```text
//! let server = ApiServer::start(config.api_listen_address, control, peers).await?;
//! // … run …
//! server.shutdown().await?;
//! ```

mod control;
mod guard;
mod handlers;
mod response;
mod server;
mod user_connections;

pub use control::{AgentControl, ControlError, UNAVAILABLE, may_pause_or_resume};
pub use guard::Caller;
pub use handlers::MAX_BODY_BYTES;
pub use server::{
    ApiLimits, ApiServer, ApiServerError, CONNECTIONS_PER_USER, ConnectionAddrs,
    IDLE_AND_BODY_TIMEOUT, SHUTDOWN_GRACE, serve_api_connection,
};
