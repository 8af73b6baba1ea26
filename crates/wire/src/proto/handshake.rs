//! `worker.proxy.v1` handshake messages, subprotocol names and close codes.

use prost::Message;
use prost_types::Timestamp;

/// WebSocket subprotocols. A client lists v2 (ours, with half-close) before v1; a stock
/// worker only knows v1 and echoes it.
pub mod subprotocol {
    pub const V1: &str = "boundary-tcp-proxy-v1";
    pub const V2: &str = "boundary-tcp-proxy-v2";
}

/// WebSocket close codes and reasons of the proxy protocol.
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY_VIOLATION: u16 = 1008;
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Endpoint dial failed.
    pub const DIAL_FAILED: u16 = 3000;

    pub const INVALID_TOFU: &str = "invalid tofu token";
    pub const TOFU_NOT_ALLOWED: &str = "tofu token not allowed";
    pub const REFUSING_TO_ACTIVATE: &str = "refusing to activate session";
    pub const UNABLE_TO_AUTHORIZE: &str = "unable to authorize connection";
    pub const SESSION_CANCELED: &str = "session canceled";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum HandshakeCommand {
    Unspecified = 0,
    SessionCancel = 1,
}

/// Client → worker, the first binary message. `Debug` hides the tofu token.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct ClientHandshake {
    /// 20 random base62 characters, made once per session and reused on every connection.
    #[prost(string, tag = "10")]
    pub tofu_token: String,
    #[prost(enumeration = "HandshakeCommand", tag = "20")]
    pub command: i32,
}

impl std::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

/// Worker → client, after the handshake succeeded.
#[derive(Clone, PartialEq, Message)]
pub struct HandshakeResult {
    #[prost(message, optional, tag = "10")]
    pub expiration: Option<Timestamp>,
    #[prost(int32, tag = "20")]
    pub connection_limit: i32,
    /// After this connection; -1 unlimited.
    #[prost(int32, tag = "30")]
    pub connections_left: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_bytes_match_the_tags() {
        let h = ClientHandshake {
            tofu_token: "abc".into(),
            command: HandshakeCommand::SessionCancel as i32,
        };
        // tag 10 wire 2 = 0x52, len 3, "abc"; tag 20 wire 0 = 0xa0 0x01, value 1.
        assert_eq!(
            h.encode_to_vec(),
            vec![0x52, 3, b'a', b'b', b'c', 0xa0, 0x01, 1]
        );
        let r = HandshakeResult {
            expiration: None,
            connection_limit: 3,
            connections_left: 2,
        };
        assert_eq!(r.encode_to_vec(), vec![0xa0, 0x01, 3, 0xf0, 0x01, 2]);
        assert_eq!(HandshakeResult::decode(&r.encode_to_vec()[..]).unwrap(), r);
    }
}
