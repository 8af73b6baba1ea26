//! The byte splice between one TCP connection and one established proxy WebSocket: the data
//! phase of the worker proxy protocol (docs/wire-contract.md §3.5, docs/proxy-protocol-v2.md).
//!
//! Both the client tunnel and the worker run the same code, so the two ends agree on every
//! edge case by construction. The splice starts after the handshake (`ClientHandshake` /
//! `HandshakeResult`) and owns both streams until the tunnel is finished.
//!
//! Data path: TCP reads go into a 64 KiB buffer that is frozen and handed to the WebSocket
//! as one binary message without copying; received binary payloads are written to TCP as
//! they are. Both directions run concurrently, so a side that writes a lot before reading
//! cannot deadlock the tunnel.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use boundary_wire::proto::close;

/// Which data-phase semantics the two ends negotiated (the echoed subprotocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpliceMode {
    /// `boundary-tcp-proxy-v1`: the first EOF on either side ends the whole tunnel.
    V1,
    /// `boundary-tcp-proxy-v2`: an EOF is forwarded as a `half-close` text message and the
    /// other direction keeps flowing until it ends too.
    V2,
}

/// What a finished splice did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpliceReport {
    /// Payload bytes received as WebSocket binary messages and written to TCP.
    pub from_ws: u64,
    /// Payload bytes read from TCP and sent as WebSocket binary messages.
    pub to_ws: u64,
    pub end: SpliceEnd,
}

/// How a splice ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpliceEnd {
    /// v1: an EOF on either side; v2: both directions half-closed; or the peer closed the
    /// WebSocket normally (1000, 1001 or no code), for instance on a session cancel.
    Normal,
    /// The peer closed the WebSocket with another code.
    PeerClosed { code: u16, reason: String },
    /// A read or write failed, or a stream ended without a close handshake.
    Reset { side: Side, error: String },
    /// The peer broke the protocol; we closed the WebSocket with `code`.
    ProtocolViolation { code: u16, reason: String },
    /// The cancel future completed; we closed the WebSocket with 1000.
    Cancelled,
}

/// The side of the splice an error came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Tcp,
    WebSocket,
}

/// Payload of the v2 half-close text message.
pub const HALF_CLOSE: &str = "half-close";

/// Size of one TCP read, and so the largest binary message the splice sends.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// How long the close handshake and the final TCP shutdown may take before the streams are
/// dropped anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// RFC 6455 close codes for malformed frames (the proxy protocol's own are in
/// [`boundary_wire::proto::close`]).
const PROTOCOL_ERROR: u16 = 1002;
const MESSAGE_TOO_BIG: u16 = 1009;

/// Copies bytes both ways between `tcp` and `ws` until the tunnel is finished (see
/// [`SpliceMode`]) or `cancel` completes, then closes the WebSocket (1000 normally, 1003
/// for a text message the mode does not allow, 1002/1007/1009 for a malformed frame),
/// waits for the close handshake, and shuts both streams down.
///
/// Never panics on peer input; every outcome is reported in [`SpliceReport::end`].
pub async fn splice<T, S, C>(
    tcp: T,
    ws: WebSocketStream<S>,
    mode: SpliceMode,
    cancel: C,
) -> SpliceReport
where
    T: AsyncRead + AsyncWrite,
    S: AsyncRead + AsyncWrite + Unpin,
    C: Future<Output = ()>,
{
    let (mut tcp_rd, mut tcp_wr) = tokio::io::split(tcp);
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut from_ws, mut to_ws) = (0u64, 0u64);
    let half_close = HalfCloseState::default();

    let finish = {
        let up = tcp_to_ws(&mut tcp_rd, &mut ws_tx, mode, &half_close, &mut to_ws);
        let down = ws_to_tcp(&mut ws_rx, &mut tcp_wr, mode, &half_close, &mut from_ws);
        tokio::pin!(up, down, cancel);
        let mut up_running = true;
        loop {
            tokio::select! {
                () = &mut cancel => break Finish::close(SpliceEnd::Cancelled, close::NORMAL, "canceled"),
                up_end = &mut up, if up_running => match up_end {
                    UpEnd::HalfClosed => up_running = false,
                    UpEnd::Finished => break Finish::close(SpliceEnd::Normal, close::NORMAL, ""),
                    UpEnd::TcpError(e) => break Finish::close(reset(Side::Tcp, e), close::NORMAL, "connection error"),
                    UpEnd::WsError(e) => break Finish::dead(reset(Side::WebSocket, e)),
                },
                down_end = &mut down => break match down_end {
                    DownEnd::Finished => Finish::close(SpliceEnd::Normal, close::NORMAL, ""),
                    DownEnd::PeerClosed(frame) => Finish::closed_by_peer(peer_closed(frame)),
                    DownEnd::Violation { code, reason } => Finish::close(
                        SpliceEnd::ProtocolViolation { code, reason: reason.to_string() },
                        code,
                        reason,
                    ),
                    DownEnd::TcpError(e) => Finish::close(reset(Side::Tcp, e), close::NORMAL, "connection error"),
                    DownEnd::WsError(e) => Finish::dead(reset(Side::WebSocket, e)),
                },
            }
        }
    };

    finish_streams(finish.close_frame, ws_tx, ws_rx, tcp_wr).await;
    SpliceReport {
        from_ws,
        to_ws,
        end: finish.end,
    }
}

/// What to do with the WebSocket once the splice loop stopped.
struct Finish {
    end: SpliceEnd,
    /// `Some` to send this close frame (or, after a peer close, to flush the automatic reply).
    close_frame: Option<Option<CloseFrame>>,
}

impl Finish {
    fn close(end: SpliceEnd, code: u16, reason: &'static str) -> Self {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        Finish {
            end,
            close_frame: Some(Some(frame)),
        }
    }

    /// The peer closed first: tungstenite has queued the reply, closing only flushes it.
    fn closed_by_peer(end: SpliceEnd) -> Self {
        Finish {
            end,
            close_frame: Some(None),
        }
    }

    /// The WebSocket is broken: there is no one to send a close frame to.
    fn dead(end: SpliceEnd) -> Self {
        Finish {
            end,
            close_frame: None,
        }
    }
}

/// v2 bookkeeping shared by the two directions. Both run in the splice's task, so whichever
/// completes its half second sees the other's flag and reports the tunnel finished.
#[derive(Default)]
struct HalfCloseState {
    sent: AtomicBool,
    received: AtomicBool,
}

enum UpEnd {
    /// v2: TCP EOF, `half-close` sent, the other direction still open.
    HalfClosed,
    /// v1 EOF, or v2 EOF after the peer's half-close: the tunnel is done.
    Finished,
    TcpError(std::io::Error),
    WsError(tungstenite::Error),
}

enum DownEnd {
    /// v2: the peer's `half-close` arrived after ours: the tunnel is done.
    Finished,
    PeerClosed(Option<CloseFrame>),
    Violation {
        code: u16,
        reason: &'static str,
    },
    TcpError(std::io::Error),
    WsError(tungstenite::Error),
}

async fn tcp_to_ws<T, S>(
    tcp: &mut ReadHalf<T>,
    ws: &mut SplitSink<WebSocketStream<S>, Message>,
    mode: SpliceMode,
    half_close: &HalfCloseState,
    to_ws: &mut u64,
) -> UpEnd
where
    T: AsyncRead + AsyncWrite,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = BytesMut::with_capacity(CHUNK_SIZE);
    loop {
        // The previous chunk was copied into the WebSocket's frame buffer and dropped, so
        // this reclaims the same allocation.
        buf.reserve(CHUNK_SIZE);
        match tcp.read_buf(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                let chunk = buf.split().freeze();
                if let Err(e) = ws.send(Message::Binary(chunk)).await {
                    return UpEnd::WsError(e);
                }
                *to_ws += n as u64;
            }
            Err(e) => return UpEnd::TcpError(e),
        }
    }
    match mode {
        SpliceMode::V1 => UpEnd::Finished,
        SpliceMode::V2 => {
            if let Err(e) = ws.send(Message::text(HALF_CLOSE)).await {
                return UpEnd::WsError(e);
            }
            half_close.sent.store(true, Ordering::SeqCst);
            if half_close.received.load(Ordering::SeqCst) {
                UpEnd::Finished
            } else {
                UpEnd::HalfClosed
            }
        }
    }
}

async fn ws_to_tcp<T, S>(
    ws: &mut SplitStream<WebSocketStream<S>>,
    tcp: &mut WriteHalf<T>,
    mode: SpliceMode,
    half_close: &HalfCloseState,
    from_ws: &mut u64,
) -> DownEnd
where
    T: AsyncRead + AsyncWrite,
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let message = match ws.next().await {
            Some(Ok(message)) => message,
            Some(Err(e)) => return websocket_error(e),
            None => return DownEnd::WsError(tungstenite::Error::ConnectionClosed),
        };
        match message {
            Message::Binary(data) => {
                if half_close.received.load(Ordering::SeqCst) {
                    return DownEnd::Violation {
                        code: close::UNSUPPORTED_DATA,
                        reason: "data after half-close",
                    };
                }
                if let Err(e) = tcp.write_all(&data).await {
                    return DownEnd::TcpError(e);
                }
                *from_ws += data.len() as u64;
            }
            Message::Text(text)
                if mode == SpliceMode::V2
                    && text.as_str() == HALF_CLOSE
                    && !half_close.received.load(Ordering::SeqCst) =>
            {
                if let Err(e) = tcp.shutdown().await {
                    return DownEnd::TcpError(e);
                }
                half_close.received.store(true, Ordering::SeqCst);
                if half_close.sent.load(Ordering::SeqCst) {
                    return DownEnd::Finished;
                }
            }
            Message::Text(_) => {
                return DownEnd::Violation {
                    code: close::UNSUPPORTED_DATA,
                    reason: match mode {
                        SpliceMode::V1 => "text messages are not allowed",
                        SpliceMode::V2 => "unexpected text message",
                    },
                };
            }
            Message::Close(frame) => return DownEnd::PeerClosed(frame),
            // Pongs are answered by tungstenite; raw frames are never returned by a read.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

/// A malformed frame is the peer's protocol violation; anything else means the WebSocket
/// is gone.
fn websocket_error(e: tungstenite::Error) -> DownEnd {
    match e {
        tungstenite::Error::Utf8(_) => DownEnd::Violation {
            code: close::INVALID_PAYLOAD,
            reason: "text message is not UTF-8",
        },
        tungstenite::Error::Capacity(_) => DownEnd::Violation {
            code: MESSAGE_TOO_BIG,
            reason: "message too big",
        },
        tungstenite::Error::Protocol(p) if !is_connection_loss(&p) => DownEnd::Violation {
            code: PROTOCOL_ERROR,
            reason: "websocket protocol error",
        },
        other => DownEnd::WsError(other),
    }
}

fn is_connection_loss(p: &tungstenite::error::ProtocolError) -> bool {
    matches!(
        p,
        tungstenite::error::ProtocolError::ResetWithoutClosingHandshake
            | tungstenite::error::ProtocolError::SendAfterClosing
            | tungstenite::error::ProtocolError::ReceivedAfterClosing
    )
}

fn reset(side: Side, error: impl std::fmt::Display) -> SpliceEnd {
    SpliceEnd::Reset {
        side,
        error: error.to_string(),
    }
}

fn peer_closed(frame: Option<CloseFrame>) -> SpliceEnd {
    match frame {
        None => SpliceEnd::Normal,
        Some(f) if matches!(f.code, CloseCode::Normal | CloseCode::Away) => SpliceEnd::Normal,
        Some(f) => SpliceEnd::PeerClosed {
            code: u16::from(f.code),
            reason: f.reason.to_string(),
        },
    }
}

/// Sends the close frame, waits (bounded) for the peer's close and the end of the stream,
/// then shuts down the WebSocket's transport (TLS close_notify + FIN) and the TCP side.
async fn finish_streams<T, S>(
    close_frame: Option<Option<CloseFrame>>,
    mut ws_tx: SplitSink<WebSocketStream<S>, Message>,
    mut ws_rx: SplitStream<WebSocketStream<S>>,
    mut tcp_wr: WriteHalf<T>,
) where
    T: AsyncRead + AsyncWrite,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let websocket = async {
        if let Some(frame) = close_frame {
            let sent = match frame {
                Some(frame) => ws_tx.send(Message::Close(Some(frame))).await,
                None => ws_tx.close().await,
            };
            if sent.is_ok() {
                // Whatever the peer still sends before its close is dropped: the tunnel is over.
                while let Some(Ok(_)) = ws_rx.next().await {}
            }
        }
        if let Ok(mut ws) = ws_tx.reunite(ws_rx) {
            let _ = ws.get_mut().shutdown().await;
        }
    };
    let tcp = async {
        let _ = tcp_wr.shutdown().await;
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, futures_util::future::join(websocket, tcp)).await;
}

#[cfg(test)]
mod tests;
