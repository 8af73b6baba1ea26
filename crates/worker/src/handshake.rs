//! The proxy handshake on the worker (docs/wire-contract.md §3, step 4): read the client's
//! `ClientHandshake`, then cancel, or activate the session and authorize the connection at
//! the controller. Every refusal carries the close code and reason the protocol assigns.

use super::session_cache::SessionTls;
use super::tofu_binding::TofuCheck;
use super::upstream::{ControllerLink, UpstreamError};
use boundary_wire::api::Secret;
use boundary_wire::api::worker::AuthorizeConnectionResponse;
use boundary_wire::proto::{ClientHandshake, HandshakeCommand, close};
use futures_util::StreamExt;
use prost::Message as _;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// Length of a tofu token (20 base62 characters).
pub const TOFU_TOKEN_LEN: usize = 20;

/// A close the worker sends instead of serving the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub reason: &'static str,
}

impl Refusal {
    const fn new(code: u16, reason: &'static str) -> Self {
        Self { code, reason }
    }
}

/// Reasons for closes docs/wire-contract.md gives a code but no text for. The first two
/// are Boundary's worker's words.
pub mod reason {
    /// Any first message that is not a binary one (a text frame).
    pub const INVALID_HANDSHAKE_RECEIVED: &str = "invalid handshake received";
    /// A binary first message that is not a `ClientHandshake`.
    pub const INVALID_HANDSHAKE: &str = "failed to unmarshal protobuf";
    pub const UNABLE_TO_CANCEL: &str = "unable to cancel session";
    pub const DIAL_FAILED: &str = "unable to dial endpoint";
    pub const INTERNAL: &str = "internal error";
}

/// What the client asked for in its first message.
pub enum Request {
    /// The client went away before sending a handshake; nothing to answer.
    Gone,
    Connect {
        tofu_token: Secret,
    },
    Cancel {
        tofu_token: Secret,
    },
}

/// Reads the first message: it must be a binary `ClientHandshake` with a 20-byte tofu token.
pub async fn read_request<S>(ws: &mut WebSocketStream<S>) -> Result<Request, Refusal>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let payload = match ws.next().await {
            Some(Ok(Message::Binary(payload))) => payload,
            // Boundary's worker: 1008, not the 1003 a text message might suggest.
            Some(Ok(Message::Text(_))) => {
                return Err(Refusal::new(
                    close::POLICY_VIOLATION,
                    reason::INVALID_HANDSHAKE_RECEIVED,
                ));
            }
            // Control frames are answered by tungstenite; the handshake is still to come.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ok(Request::Gone),
        };
        return parse_request(&payload);
    }
}

/// Decodes a `ClientHandshake` and checks the tofu token's length.
pub fn parse_request(payload: &[u8]) -> Result<Request, Refusal> {
    let handshake = ClientHandshake::decode(payload)
        .map_err(|_| Refusal::new(close::INVALID_PAYLOAD, reason::INVALID_HANDSHAKE))?;
    if handshake.tofu_token.len() != TOFU_TOKEN_LEN {
        return Err(Refusal::new(close::UNSUPPORTED_DATA, close::INVALID_TOFU));
    }
    let tofu_token = Secret::new(handshake.tofu_token);
    // Unknown command values are treated as a plain connection, as protobuf's open enums do.
    Ok(
        if handshake.command == HandshakeCommand::SessionCancel as i32 {
            Request::Cancel { tofu_token }
        } else {
            Request::Connect { tofu_token }
        },
    )
}

/// Cancels the session at the controller on behalf of a client holding its tofu token.
pub async fn cancel(
    link: &ControllerLink,
    session_id: &str,
    tofu_token: &Secret,
) -> Result<(), Refusal> {
    match link.cancel(session_id, tofu_token).await {
        Ok(_) => Ok(()),
        Err(UpstreamError::TofuMismatch) => Err(Refusal::new(
            close::POLICY_VIOLATION,
            close::TOFU_NOT_ALLOWED,
        )),
        Err(e) => {
            tracing::warn!(session_id, error = %e, "cannot cancel session at the controller");
            Err(Refusal::new(
                close::INTERNAL_ERROR,
                reason::UNABLE_TO_CANCEL,
            ))
        }
    }
}

/// Trust on first use (asked of the controller only while this worker has not seen the
/// session activated, as Boundary's worker does), then one connection of the session's
/// limit.
pub async fn activate_and_authorize(
    link: &ControllerLink,
    session: &SessionTls,
    tofu_token: &Secret,
    client: SocketAddr,
) -> Result<AuthorizeConnectionResponse, Refusal> {
    let session_id = session.session_id.as_str();
    match session.tofu.check(tofu_token) {
        TofuCheck::Same => {}
        TofuCheck::Different => {
            return Err(Refusal::new(
                close::POLICY_VIOLATION,
                close::TOFU_NOT_ALLOWED,
            ));
        }
        TofuCheck::Unknown => activate(link, session, tofu_token).await?,
    }
    authorize(link, session_id, tofu_token, client).await
}

async fn activate(
    link: &ControllerLink,
    session: &SessionTls,
    tofu_token: &Secret,
) -> Result<(), Refusal> {
    let session_id = session.session_id.as_str();
    match link.activate(session_id, tofu_token).await {
        Ok(_) => {
            session.tofu.bind(tofu_token);
            Ok(())
        }
        Err(UpstreamError::TofuMismatch) => Err(Refusal::new(
            close::POLICY_VIOLATION,
            close::TOFU_NOT_ALLOWED,
        )),
        // The session was activated with this very token and is no longer active (it was
        // canceled, or it expired): as Boundary's worker, which only authorizes the
        // connection then, "unable to authorize connection".
        Err(UpstreamError::ConnectionRefused(why)) => {
            tracing::debug!(session_id, why, "session no longer active");
            Err(Refusal::new(
                close::INTERNAL_ERROR,
                close::UNABLE_TO_AUTHORIZE,
            ))
        }
        Err(UpstreamError::NotActivatable) => Err(Refusal::new(
            close::INTERNAL_ERROR,
            close::REFUSING_TO_ACTIVATE,
        )),
        Err(e) => {
            tracing::warn!(session_id, error = %e, "cannot activate session at the controller");
            Err(Refusal::new(
                close::INTERNAL_ERROR,
                close::REFUSING_TO_ACTIVATE,
            ))
        }
    }
}

async fn authorize(
    link: &ControllerLink,
    session_id: &str,
    tofu_token: &Secret,
    client: SocketAddr,
) -> Result<AuthorizeConnectionResponse, Refusal> {
    link.authorize_connection(session_id, tofu_token, client)
        .await
        .map_err(|e| {
            match &e {
                UpstreamError::ConnectionRefused(why) => {
                    tracing::debug!(session_id, why, "connection not authorized");
                }
                other => {
                    tracing::warn!(session_id, error = %other, "cannot authorize connection at the controller");
                }
            }
            Refusal::new(close::INTERNAL_ERROR, close::UNABLE_TO_AUTHORIZE)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(tofu: &str, command: i32) -> Vec<u8> {
        ClientHandshake {
            tofu_token: tofu.into(),
            command,
        }
        .encode_to_vec()
    }

    #[test]
    fn requests_are_parsed_and_checked() {
        let tofu = "abcdefghij0123456789";
        assert!(matches!(
            parse_request(&handshake(tofu, 0)),
            Ok(Request::Connect { tofu_token }) if tofu_token.expose() == tofu
        ));
        assert!(matches!(
            parse_request(&handshake(tofu, 1)),
            Ok(Request::Cancel { .. })
        ));
        assert!(matches!(
            parse_request(&handshake(tofu, 7)),
            Ok(Request::Connect { .. })
        ));
        assert_eq!(
            parse_request(&handshake("short", 0)).err(),
            Some(Refusal::new(1003, "invalid tofu token"))
        );
        assert_eq!(
            parse_request(&handshake("", 1)).err(),
            Some(Refusal::new(1003, "invalid tofu token"))
        );
        assert_eq!(
            parse_request(&[0xff, 0xff, 0xff]).err().map(|r| r.code),
            Some(1007)
        );
        // Field 10 as a string holding invalid UTF-8.
        assert_eq!(
            parse_request(&[0x52, 2, 0xc3, 0x28]).err().map(|r| r.code),
            Some(1007)
        );
    }
}
