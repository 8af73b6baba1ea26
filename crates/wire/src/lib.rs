//! What Boundary's programs and ours say to each other, as data: the REST resources and
//! error body ([`api`]), the session authorization token and the proxy handshake
//! ([`proto`]), ids and base58 — plus Boundary's Go-style command-line flags
//! ([`go_flags`]), which the `boundary` CLI and `boundary-client-agent` both accept.
//!
//! No IO and no async runtime: every other crate of the workspace depends on this one,
//! the agent's pure core included.

pub mod api;
pub mod go_flags;
pub mod proto;
