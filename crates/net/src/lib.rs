//! The network pieces that more than one side uses: TLS with the session certificate
//! pinned ([`tls`]), the client side of the proxy protocol and the TCP⇄WebSocket splice
//! ([`tunnel`]), the controller's HTTP client ([`client`]), bounded serving of HTTP
//! connections for the controller and the agent's local API ([`http_serve`], hyper only),
//! and the worker credential a worker derives and the controller checks ([`worker_auth`]).
//!
//! No controller, no store, no axum: the client agent depends on this crate.

pub mod client;
pub mod http_serve;
pub mod tls;
pub mod tunnel;
pub mod worker_auth;
