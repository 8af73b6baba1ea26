//! The agent's proxy listeners (docs/architecture.md "On accept"): one TCP listener per
//! (alias address, port), and for every accepted connection: find the local user owning
//! the client socket, ask the agent whether that user may use the alias (a
//! [`ConnectionBroker`]), then open one tunnel to the worker for it and splice the bytes.
//! A refused connection is reset (RST, so the client fails at once instead of waiting)
//! and the reason logged.
//!
//! The listeners follow the core's `Listen`/`StopListening` commands; connections already
//! accepted outlive their listener and end on their own, or at shutdown.

mod connection;
mod listeners;

pub use connection::{ConnectionBroker, ConnectionVerdict, SessionTunnel};
pub use listeners::{ProxyError, ProxyListeners};
