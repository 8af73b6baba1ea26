//! One authorized session on the client side: its decoded authorization data, its TLS
//! configuration and its tofu token, and a way to open tunnels and to cancel it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;

use boundary_wire::api::Secret;
use boundary_wire::api::ids::random_base62;
use boundary_wire::proto::{
    ClientHandshake, HandshakeCommand, HandshakeResult, SessionAuthorizationData, close,
    decode_authorization_token, from_timestamp,
};

use super::handshake::{self, HandshakeReply, ProtocolOffer};
use super::worker_address::WorkerAddress;
use super::{SpliceMode, SpliceReport, TunnelError, splice, tls};

/// Length of the tofu token: 20 base62 characters (docs/wire-contract.md §3.4).
pub const TOFU_TOKEN_LEN: usize = 20;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// TLS, WebSocket upgrade and handshake exchange together.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// A session the client can open tunnels for. Cheap to use per connection: the TLS
/// configuration is built once here. Share it with `Arc` between tasks.
pub struct TunnelSession {
    data: SessionAuthorizationData,
    /// Made once per session and sent on every connection: the first connection binds the
    /// session to this client (trust on first use).
    tofu: Secret,
    tls: TlsConnector,
    offer: ProtocolOffer,
    /// The lowest `connections_left` any handshake reported (`-1` = unlimited).
    connections_left: Mutex<Option<i32>>,
    /// `Some` when spare tunnels are on ([`TunnelSession::with_spare_tunnels`]).
    spare: Option<SpareSlot>,
}

/// An open tunnel after a successful handshake: a WebSocket carrying one TCP connection.
pub struct Tunnel {
    ws: WebSocketStream<TlsStream<TcpStream>>,
    mode: SpliceMode,
    result: HandshakeResult,
    worker: String,
}

impl TunnelSession {
    /// From the `authorization_token` of an authorize-session response.
    pub fn from_token(authorization_token: &str) -> Result<Self, TunnelError> {
        Self::new(decode_authorization_token(authorization_token)?)
    }

    pub fn new(data: SessionAuthorizationData) -> Result<Self, TunnelError> {
        if data.worker_info.is_empty() {
            return Err(TunnelError::NoWorker);
        }
        let config = tls::session_client_config(&data)?;
        Ok(Self {
            data,
            tofu: Secret::new(random_base62(TOFU_TOKEN_LEN)),
            tls: TlsConnector::from(config),
            offer: ProtocolOffer::V2AndV1,
            connections_left: Mutex::new(None),
            spare: None,
        })
    }

    /// After each connection made with [`TunnelSession::connect_with_spare`], opens the
    /// next tunnel up to the WebSocket upgrade in the background and keeps it for at most
    /// `max_idle` (see the `spare` module for why this is safe with a worker).
    pub fn with_spare_tunnels(mut self, max_idle: Duration) -> Self {
        self.spare = Some(SpareSlot::new(max_idle));
        self
    }

    /// Which subprotocols to offer; the default offers v2 (half-close) before v1.
    pub fn with_protocol_offer(mut self, offer: ProtocolOffer) -> Self {
        self.offer = offer;
        self
    }

    pub fn data(&self) -> &SessionAuthorizationData {
        &self.data
    }

    pub fn session_id(&self) -> &str {
        &self.data.session_id
    }

    pub fn expiration(&self) -> Option<OffsetDateTime> {
        self.data.expiration.as_ref().and_then(from_timestamp)
    }

    /// Connections the worker still allows after the last handshake (`-1` unlimited);
    /// `None` before the first connection.
    pub fn connections_left(&self) -> Option<i32> {
        *self
            .connections_left
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens one tunnel: TCP to the first reachable worker, pinned TLS, WebSocket upgrade,
    /// handshake. The caller then splices it with the accepted TCP connection.
    pub async fn connect(&self) -> Result<Tunnel, TunnelError> {
        let (ws, mode, worker) = self.open().await?;
        self.handshake(ws, mode, worker).await
    }

    /// [`TunnelSession::connect`] through the spare tunnel when one is ready, then starts
    /// the next spare. A spare the worker or the network closed meanwhile (the connection
    /// ended, or a close frame other than a handshake refusal) is replaced by a fresh
    /// tunnel at once; a refusal of the handshake itself is the answer, as with `connect`.
    pub async fn connect_with_spare(self: &Arc<Self>) -> Result<Tunnel, TunnelError> {
        let Some(slot) = &self.spare else {
            return self.connect().await;
        };
        let result = match slot.take() {
            Some(spare) => match self.handshake(spare.ws, spare.mode, spare.worker).await {
                Err(error) if spare_was_stale(&error) => {
                    tracing::debug!(%error, "the spare tunnel was closed; opening a new one");
                    self.connect().await
                }
                other => other,
            },
            None => self.connect().await,
        };
        if result.is_ok() {
            slot.refill(self);
        }
        result
    }

    /// The proxy handshake on an upgraded WebSocket.
    async fn handshake(
        &self,
        mut ws: WebSocketStream<TlsStream<TcpStream>>,
        mode: SpliceMode,
        worker: String,
    ) -> Result<Tunnel, TunnelError> {
        let handshake = ClientHandshake {
            tofu_token: self.tofu.expose().to_string(),
            command: HandshakeCommand::Unspecified as i32,
        };
        let reply = timed(
            "waiting for the worker's handshake result",
            handshake::exchange(&mut ws, &handshake, &worker),
        )
        .await?;
        match reply {
            HandshakeReply::Accepted(result) => {
                self.record_connections_left(result.connections_left);
                Ok(Tunnel {
                    ws,
                    mode,
                    result,
                    worker,
                })
            }
            HandshakeReply::Closed { code, reason } => {
                if code == close::INTERNAL_ERROR && reason == close::UNABLE_TO_AUTHORIZE {
                    // Limit reached, expired or canceled: nothing is left to connect with.
                    self.record_connections_left(0);
                }
                Err(handshake::refusal(code, reason))
            }
        }
    }

    /// Cancels the session at the worker (a new connection whose handshake carries
    /// `SESSION_CANCEL`); the worker answers with close 1000 "session canceled".
    pub async fn cancel(&self) -> Result<(), TunnelError> {
        let (mut ws, _mode, worker) = self.open().await?;
        let handshake = ClientHandshake {
            tofu_token: self.tofu.expose().to_string(),
            command: HandshakeCommand::SessionCancel as i32,
        };
        let reply = timed(
            "waiting for the worker to cancel the session",
            handshake::exchange(&mut ws, &handshake, &worker),
        )
        .await?;
        match reply {
            HandshakeReply::Closed { code, .. } if code == close::NORMAL => Ok(()),
            HandshakeReply::Closed { code, reason } => Err(handshake::refusal(code, reason)),
            HandshakeReply::Accepted(_) => Err(TunnelError::BadHandshake(
                "the worker answered a cancel with a HandshakeResult instead of closing".into(),
            )),
        }
    }

    fn record_connections_left(&self, left: i32) {
        let mut slot = self
            .connections_left
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Handshakes may finish out of order; the count only goes down.
        *slot = Some(match *slot {
            Some(previous) if previous >= 0 && (left < 0 || previous < left) => previous,
            _ => left,
        });
    }

    /// TCP (first reachable worker), TLS and WebSocket upgrade.
    async fn open(
        &self,
    ) -> Result<(WebSocketStream<TlsStream<TcpStream>>, SpliceMode, String), TunnelError> {
        if let Some(expiration) = self.expiration()
            && OffsetDateTime::now_utc() >= expiration
        {
            return Err(TunnelError::Expired(expiration.to_string()));
        }
        let (tcp, worker) = self.connect_worker().await?;
        let authority = worker.authority();
        let server_name = worker.server_name()?;
        let upgrade =
            async {
                let tls = self.tls.connect(server_name, tcp).await.map_err(|source| {
                    TunnelError::Tls {
                        address: authority.clone(),
                        source,
                    }
                })?;
                handshake::upgrade(tls, &authority, self.offer).await
            };
        let (ws, mode) = timed("in the TLS or WebSocket handshake", upgrade).await?;
        Ok((ws, mode, authority))
    }

    /// The first worker that accepts a TCP connection, in the token's order.
    async fn connect_worker(&self) -> Result<(TcpStream, WorkerAddress), TunnelError> {
        let mut last_error = TunnelError::NoWorker;
        for info in &self.data.worker_info {
            let worker = match WorkerAddress::parse(&info.address) {
                Ok(w) => w,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            let dial = TcpStream::connect((worker.host.as_str(), worker.port));
            let error = match tokio::time::timeout(CONNECT_TIMEOUT, dial).await {
                Ok(Ok(tcp)) => {
                    // Latency matters more than packet count for interactive sessions.
                    let _ = tcp.set_nodelay(true);
                    return Ok((tcp, worker));
                }
                Ok(Err(e)) => e,
                Err(_) => std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
            };
            tracing::debug!(worker = %worker.authority(), %error, "worker unreachable, trying the next");
            last_error = TunnelError::Connect {
                address: worker.authority(),
                source: error,
            };
        }
        Err(last_error)
    }
}

impl std::fmt::Debug for TunnelSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelSession")
            .field("data", &self.data)
            .field("offer", &self.offer)
            .field("connections_left", &self.connections_left())
            .finish_non_exhaustive()
    }
}

impl Tunnel {
    /// v2 when the worker echoed `boundary-tcp-proxy-v2` (half-close), else v1.
    pub fn mode(&self) -> SpliceMode {
        self.mode
    }

    pub fn handshake_result(&self) -> &HandshakeResult {
        &self.result
    }

    /// Connections the session allows after this one (`-1` unlimited).
    pub fn connections_left(&self) -> i32 {
        self.result.connections_left
    }

    /// `host:port` of the worker this tunnel goes through.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Carries `stream` through the tunnel until it is finished or `cancel` completes.
    pub async fn splice<T, C>(self, stream: T, cancel: C) -> SpliceReport
    where
        T: AsyncRead + AsyncWrite,
        C: Future<Output = ()>,
    {
        splice(stream, self.ws, self.mode, cancel).await
    }

    /// The WebSocket itself, for callers that drive the data phase on their own.
    pub fn into_websocket(self) -> (WebSocketStream<TlsStream<TcpStream>>, SpliceMode) {
        (self.ws, self.mode)
    }
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel")
            .field("worker", &self.worker)
            .field("mode", &self.mode)
            .field("result", &self.result)
            .finish_non_exhaustive()
    }
}

/// Errors that say the spare's connection was gone before the worker read the handshake,
/// rather than the worker's answer to it.
fn spare_was_stale(error: &TunnelError) -> bool {
    matches!(
        error,
        TunnelError::Ended
            | TunnelError::WebSocket { .. }
            | TunnelError::Closed { .. }
            | TunnelError::Timeout(_)
    )
}

async fn timed<T>(
    what: &str,
    f: impl Future<Output = Result<T, TunnelError>>,
) -> Result<T, TunnelError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| Err(TunnelError::Timeout(what.to_string())))
}

mod spare;
use spare::SpareSlot;

#[cfg(test)]
mod tests;
