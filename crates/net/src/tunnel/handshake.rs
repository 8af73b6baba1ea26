//! The WebSocket upgrade and the `ClientHandshake` / `HandshakeResult` exchange
//! (docs/wire-contract.md §3.3–3.4), over an established TLS stream.

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

use boundary_wire::proto::{ClientHandshake, HandshakeResult, close, subprotocol};

use super::{SpliceMode, TunnelError};

const SEC_WEBSOCKET_PROTOCOL: &str = "Sec-WebSocket-Protocol";

/// Which subprotocols the client offers: our v2 first (a stock worker ignores it), or only
/// v1 to behave exactly like the stock client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolOffer {
    V2AndV1,
    V1Only,
}

impl ProtocolOffer {
    fn header(self) -> &'static str {
        match self {
            ProtocolOffer::V2AndV1 => "boundary-tcp-proxy-v2, boundary-tcp-proxy-v1",
            ProtocolOffer::V1Only => subprotocol::V1,
        }
    }
}

/// `GET ws://<authority>/v1/proxy` with the offered subprotocols; returns the socket and
/// the data-phase mode the worker chose.
pub async fn upgrade<S>(
    stream: S,
    authority: &str,
    offer: ProtocolOffer,
) -> Result<(WebSocketStream<S>, SpliceMode), TunnelError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ws_error = |e: tungstenite::Error| TunnelError::WebSocket {
        address: authority.to_string(),
        source: Box::new(e),
    };
    let mut request = format!("ws://{authority}/v1/proxy")
        .into_client_request()
        .map_err(ws_error)?;
    request.headers_mut().insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(offer.header()),
    );
    let subprotocol_error = |answered: Option<String>| TunnelError::Subprotocol {
        address: authority.to_string(),
        answered,
        offered: offer.header().to_string(),
    };
    let (ws, response) =
        match tokio_tungstenite::client_async_with_config(request, stream, None).await {
            Ok(ok) => ok,
            Err(tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(e))) => {
                let answered = match e {
                    SubProtocolError::NoSubProtocol => None,
                    _ => Some("a protocol that was not offered".to_string()),
                };
                return Err(subprotocol_error(answered));
            }
            Err(e) => return Err(ws_error(e)),
        };
    let answered = response
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok());
    let mode = match (answered, offer) {
        (Some(subprotocol::V2), ProtocolOffer::V2AndV1) => SpliceMode::V2,
        (Some(subprotocol::V1), _) => SpliceMode::V1,
        _ => return Err(subprotocol_error(answered.map(str::to_string))),
    };
    Ok((ws, mode))
}

/// What the worker answered to a `ClientHandshake`.
pub enum HandshakeReply {
    Accepted(HandshakeResult),
    Closed { code: u16, reason: String },
}

/// Sends one binary `ClientHandshake` and waits for the worker's answer: a binary
/// `HandshakeResult`, or a close frame.
pub async fn exchange<S>(
    ws: &mut WebSocketStream<S>,
    handshake: &ClientHandshake,
    authority: &str,
) -> Result<HandshakeReply, TunnelError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ws_error = |e: tungstenite::Error| TunnelError::WebSocket {
        address: authority.to_string(),
        source: Box::new(e),
    };
    ws.send(Message::binary(handshake.encode_to_vec()))
        .await
        .map_err(ws_error)?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(bytes))) => {
                let result = HandshakeResult::decode(bytes)
                    .map_err(|e| TunnelError::BadHandshake(format!("HandshakeResult: {e}")))?;
                return Ok(HandshakeReply::Accepted(result));
            }
            Some(Ok(Message::Close(frame))) => {
                // Flush tungstenite's automatic close reply; the stream is dropped next.
                let _ = ws.close(None).await;
                return Ok(match frame {
                    Some(CloseFrame { code, reason }) => HandshakeReply::Closed {
                        code: code.into(),
                        reason: reason.to_string(),
                    },
                    None => HandshakeReply::Closed {
                        code: close::NORMAL,
                        reason: String::new(),
                    },
                });
            }
            Some(Ok(Message::Text(_))) => {
                return Err(TunnelError::BadHandshake(
                    "a text message instead of HandshakeResult".into(),
                ));
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            Some(Err(e)) => return Err(ws_error(e)),
            None => return Err(TunnelError::Ended),
        }
    }
}

/// The error for a close frame received instead of a `HandshakeResult`.
pub fn refusal(code: u16, reason: String) -> TunnelError {
    match code {
        close::UNSUPPORTED_DATA => TunnelError::InvalidTofu { reason },
        close::POLICY_VIOLATION => TunnelError::TofuNotAllowed { reason },
        close::INTERNAL_ERROR => TunnelError::Refused { reason },
        close::DIAL_FAILED => TunnelError::DialFailed { reason },
        code => TunnelError::Closed { code, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_map_to_typed_errors() {
        let r = |code| refusal(code, "why".into());
        assert!(matches!(r(1003), TunnelError::InvalidTofu { .. }));
        assert!(matches!(r(1008), TunnelError::TofuNotAllowed { .. }));
        assert!(matches!(r(1011), TunnelError::Refused { .. }));
        assert!(matches!(r(3000), TunnelError::DialFailed { .. }));
        assert!(matches!(r(1007), TunnelError::Closed { code: 1007, .. }));
        assert!(r(1011).session_unusable());
        assert!(!r(3000).session_unusable());
    }

    #[test]
    fn v2_is_offered_before_v1() {
        let header = ProtocolOffer::V2AndV1.header();
        let offered: Vec<_> = header.split(',').map(str::trim).collect();
        assert_eq!(offered, [subprotocol::V2, subprotocol::V1]);
    }
}
