//! Boundary's protobuf messages on the data plane (docs/wire-contract.md §2–3), hand-written with
//! prost derives so that no `protoc` is needed. Tags are Boundary's, exactly.

mod authorization;
mod handshake;
mod timestamp;

pub use authorization::{
    ScopeInfo, SessionAuthorizationData, TokenError, WorkerInfo, decode_authorization_token,
    ed25519_pkcs8_v1, encode_authorization_token,
};
pub use handshake::{ClientHandshake, HandshakeCommand, HandshakeResult, close, subprotocol};
pub use timestamp::{from_timestamp, to_timestamp};
