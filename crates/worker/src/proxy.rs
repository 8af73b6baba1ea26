//! One proxied TCP connection on the worker, from the accepted socket to the report of
//! its close: TLS, WebSocket upgrade, handshake, dial, `HandshakeResult`, splice, report.
//!
//! Every step that waits on the client is bounded, every refusal is a WebSocket close with
//! the code of docs/wire-contract.md §3, and nothing here can affect another connection: the caller
//! runs each connection in its own task.

use super::Shared;
use super::dial::dial;
use super::handshake::{self, Refusal, Request, reason};
use super::live::StopReason;
use super::session_cache::SessionTls;
use super::tls;
use boundary_net::tunnel::splice::{SpliceEnd, SpliceMode, splice};
use boundary_wire::api::Secret;
use boundary_wire::api::session::reason as closed;
use boundary_wire::api::worker::{AuthorizeConnectionResponse, CloseConnectionRequest};
use boundary_wire::proto::{HandshakeResult, close, subprotocol, to_timestamp};
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request as HttpRequest, Response,
};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

/// The only path the worker upgrades.
pub const PROXY_PATH: &str = "/v1/proxy";

/// Bounds on what a client may take before it has proven anything.
const TLS_TIMEOUT: Duration = Duration::from_secs(15);
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(15);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a close handshake may take before the connection is dropped anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest WebSocket message accepted; clients send at most a TCP read's worth.
const MAX_MESSAGE: usize = 16 << 20;

/// Serves one accepted TCP connection to its end.
pub async fn serve(tcp: TcpStream, peer: SocketAddr, shared: &Shared) {
    let _ = tcp.set_nodelay(true);
    let (stream, session) =
        match tokio::time::timeout(TLS_TIMEOUT, tls::accept(tcp, &shared.sessions)).await {
            Ok(Ok(accepted)) => accepted,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake refused");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
    let session_id = session.session_id.as_str();
    let (ws, mode) = match tokio::time::timeout(UPGRADE_TIMEOUT, accept_upgrade(stream)).await {
        Ok(Ok(upgraded)) => upgraded,
        Ok(Err(e)) => {
            tracing::debug!(%peer, session_id, error = %e, "WebSocket upgrade refused");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, session_id, "WebSocket upgrade timed out");
            return;
        }
    };
    tunnel(ws, peer, &session, mode, shared).await;
}

/// The WebSocket upgrade on the client's (TLS) stream: `GET /v1/proxy` offering a
/// subprotocol we speak, with the worker's message and frame size bounds. Returns the
/// WebSocket and the proxy protocol version chosen. The caller bounds it in time.
pub async fn accept_upgrade<S>(
    stream: S,
) -> Result<(WebSocketStream<S>, SpliceMode), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut mode = None;
    let ws = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        Negotiate { mode: &mut mode },
        Some(
            WebSocketConfig::default()
                .max_message_size(Some(MAX_MESSAGE))
                .max_frame_size(Some(MAX_MESSAGE)),
        ),
    )
    .await?;
    Ok((ws, mode.unwrap_or(SpliceMode::V1)))
}

/// The upgrade callback: `GET /v1/proxy` offering a subprotocol we speak. v2 (ours) is
/// chosen only when offered; otherwise v1 must be offered.
struct Negotiate<'a> {
    mode: &'a mut Option<SpliceMode>,
}

impl Callback for Negotiate<'_> {
    fn on_request(
        self,
        request: &HttpRequest,
        mut response: Response,
    ) -> Result<Response, ErrorResponse> {
        if request.uri().path() != PROXY_PATH {
            return Err(refuse_upgrade(StatusCode::NOT_FOUND, "not found"));
        }
        let offered: Vec<&str> = request
            .headers()
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let (chosen, name) = if offered.contains(&subprotocol::V2) {
            (SpliceMode::V2, subprotocol::V2)
        } else if offered.contains(&subprotocol::V1) {
            (SpliceMode::V1, subprotocol::V1)
        } else {
            return Err(refuse_upgrade(
                StatusCode::BAD_REQUEST,
                "Sec-WebSocket-Protocol must offer boundary-tcp-proxy-v1",
            ));
        };
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(name),
        );
        *self.mode = Some(chosen);
        Ok(response)
    }
}

fn refuse_upgrade(status: StatusCode, message: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(message.to_owned()));
    *response.status_mut() = status;
    response
}

async fn tunnel<S>(
    mut ws: WebSocketStream<S>,
    peer: SocketAddr,
    session: &SessionTls,
    mode: SpliceMode,
    shared: &Shared,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let session_id = session.session_id.as_str();
    let request = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake::read_request(&mut ws))
        .await
    {
        Ok(Ok(request)) => request,
        Ok(Err(refusal)) => return close_with(ws, refusal.code, refusal.reason).await,
        Err(_) => {
            return close_with(ws, close::POLICY_VIOLATION, "no handshake received in time").await;
        }
    };
    match request {
        Request::Gone => {}
        Request::Cancel { tofu_token } => {
            match handshake::cancel(&shared.link, session_id, &tofu_token).await {
                Ok(()) => {
                    tracing::info!(session_id, %peer, "session canceled by client");
                    shared
                        .live
                        .stop_session(session_id, StopReason::SessionCanceled);
                    close_with(ws, close::NORMAL, close::SESSION_CANCELED).await;
                }
                Err(refusal) => close_with(ws, refusal.code, refusal.reason).await,
            }
        }
        // Checked here too, not only at the controller: an expired session must not be
        // activated, and its clients get the same answer whatever the controller's sweep
        // has done to it meanwhile.
        Request::Connect { .. } if session.expiration <= time::OffsetDateTime::now_utc() => {
            close_with(ws, close::INTERNAL_ERROR, close::UNABLE_TO_AUTHORIZE).await;
        }
        Request::Connect { tofu_token } => {
            connect(ws, peer, session, &tofu_token, mode, shared).await;
        }
    }
}

async fn connect<S>(
    mut ws: WebSocketStream<S>,
    peer: SocketAddr,
    session: &SessionTls,
    tofu_token: &Secret,
    mode: SpliceMode,
    shared: &Shared,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let session_id = session.session_id.as_str();
    let authorized =
        match handshake::activate_and_authorize(&shared.link, session, tofu_token, peer).await {
            Ok(authorized) => authorized,
            Err(Refusal { code, reason }) => return close_with(ws, code, reason).await,
        };
    let connection_id = authorized.connection_id.clone();
    // Registered as soon as the controller counts the connection: the heartbeat reports its
    // session from now on, and a cancel or shutdown stops it (once its splice starts).
    let live = shared.live.register(session_id);
    let report = |bytes_up, bytes_down, reason: &str| CloseConnectionRequest {
        bytes_up,
        bytes_down,
        closed_reason: reason.to_owned(),
    };

    let (target, endpoint) = match dial(&authorized.endpoint).await {
        Ok(dialled) => dialled,
        Err(e) => {
            tracing::info!(session_id, connection_id, error = %e, "endpoint dial failed");
            close_with(ws, close::DIAL_FAILED, reason::DIAL_FAILED).await;
            return report_close(shared, &connection_id, report(0, 0, closed::NETWORK_ERROR)).await;
        }
    };
    if let Err(e) = shared
        .link
        .connect_connection(&connection_id, endpoint)
        .await
    {
        tracing::warn!(session_id, connection_id, error = %e, "cannot record the connection at the controller");
        close_with(ws, close::INTERNAL_ERROR, reason::INTERNAL).await;
        return report_close(shared, &connection_id, report(0, 0, closed::SYSTEM_ERROR)).await;
    }
    if let Err(e) = ws
        .send(Message::Binary(handshake_result(&authorized).into()))
        .await
    {
        tracing::debug!(session_id, connection_id, error = %e, "client left before the handshake result");
        return report_close(shared, &connection_id, report(0, 0, closed::NETWORK_ERROR)).await;
    }
    tracing::debug!(session_id, connection_id, %peer, %endpoint, ?mode, "connection spliced");

    let deadline = deadline(authorized.expiration);
    let signal = live.signal().clone();
    let spliced = splice(target, ws, mode, async move {
        tokio::select! {
            _ = signal.stopped() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    })
    .await;
    let reason = match (&spliced.end, live.signal().reason()) {
        (SpliceEnd::Cancelled, Some(StopReason::SessionCanceled)) => closed::CANCELED,
        (SpliceEnd::Cancelled, Some(StopReason::Shutdown)) => closed::SYSTEM_ERROR,
        (SpliceEnd::Cancelled, None) => closed::TIMED_OUT,
        (SpliceEnd::Normal | SpliceEnd::PeerClosed { .. }, _) => closed::CLOSED_BY_END_USER,
        (SpliceEnd::Reset { .. } | SpliceEnd::ProtocolViolation { .. }, _) => closed::NETWORK_ERROR,
    };
    tracing::debug!(session_id, connection_id, end = ?spliced.end, up = spliced.from_ws, down = spliced.to_ws, "connection closed");
    report_close(
        shared,
        &connection_id,
        report(spliced.from_ws, spliced.to_ws, reason),
    )
    .await;
    drop(live);
}

fn handshake_result(authorized: &AuthorizeConnectionResponse) -> Vec<u8> {
    HandshakeResult {
        expiration: Some(to_timestamp(authorized.expiration)),
        connection_limit: authorized.connection_limit,
        connections_left: authorized.connections_left,
    }
    .encode_to_vec()
}

/// The tokio instant of a wall-clock expiration (now when already past).
fn deadline(expiration: boundary_wire::api::Timestamp) -> tokio::time::Instant {
    /// Far enough for any session, near enough not to overflow `Instant`.
    const LONGEST: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
    let remaining = Duration::try_from(expiration - time::OffsetDateTime::now_utc())
        .unwrap_or(Duration::ZERO)
        .min(LONGEST);
    tokio::time::Instant::now() + remaining
}

/// Reports a closed connection, retrying briefly while the controller is unreachable.
async fn report_close(shared: &Shared, connection_id: &str, request: CloseConnectionRequest) {
    const ATTEMPTS: u32 = 3;
    for attempt in 1..=ATTEMPTS {
        match shared.link.close_connection(connection_id, &request).await {
            Ok(()) => return,
            Err(super::upstream::UpstreamError::Unreachable { .. }) if attempt < ATTEMPTS => {
                tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
            }
            Err(e) => {
                tracing::warn!(connection_id, error = %e, "cannot report a closed connection to the controller");
                return;
            }
        }
    }
}

/// Sends a close frame and waits (bounded) for the client's answer, so the code reaches it
/// before the connection goes away.
async fn close_with<S>(mut ws: WebSocketStream<S>, code: u16, reason: &'static str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        if ws.close(Some(frame)).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
        let _ = ws.get_mut().shutdown().await;
    })
    .await;
}
