//! One accepted connection: owner lookup, the agent's verdict, the tunnel.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::os::PeerUidLookup;
use boundary_agent_core::{ConnectionId, TunnelGrant};
use boundary_net::tunnel::{SpliceEnd, Tunnel, TunnelSession};

/// The per-session tunnel data the agent keeps (the core's `T`): one [`TunnelSession`]
/// per authorized session, shared by all its connections.
pub type SessionTunnel = Arc<TunnelSession>;

/// The agent's answer for an accepted connection.
#[derive(Debug)]
pub enum ConnectionVerdict {
    /// Tunnel it through this session.
    Tunnel(TunnelGrant<SessionTunnel>),
    /// Reset it; the reason is logged.
    Refuse(String),
}

/// Where the proxy asks about connections and reports how they went (the agent's core,
/// through its actor).
#[async_trait]
pub trait ConnectionBroker: Send + Sync + 'static {
    /// Whether the connection to `local`:`port` from a socket owned by `peer_uid`
    /// (`None`: no local owner) may be tunnelled; may wait for an authorization.
    async fn decide(&self, local: IpAddr, port: u16, peer_uid: Option<u32>) -> ConnectionVerdict;
    /// The worker accepted the tunnel's handshake.
    fn established(&self, connection: ConnectionId, connections_left: i32);
    /// The worker refused the tunnel in a way that makes the session unusable.
    fn rejected(&self, connection: ConnectionId, error: String);
    /// The tunnelled connection ended (or could not be tunnelled for another reason).
    fn closed(&self, connection: ConnectionId);
}

/// What every connection task shares.
pub(super) struct ConnectionContext {
    pub broker: Arc<dyn ConnectionBroker>,
    pub peers: Arc<dyn PeerUidLookup>,
    /// Cancelled at shutdown: every splice ends.
    pub shutdown: CancellationToken,
}

/// Handles one accepted connection to its end.
pub(super) async fn handle(stream: TcpStream, peer: SocketAddr, ctx: Arc<ConnectionContext>) {
    let local = match stream.local_addr() {
        Ok(local) => local,
        Err(error) => {
            tracing::warn!(%peer, %error, "an accepted connection has no local address; closing it");
            return reset(stream);
        }
    };
    let uid = match ctx.peers.tcp_client_uid(peer, local).await {
        Ok(uid) => uid,
        Err(error) => {
            tracing::warn!(%peer, %local, %error, "cannot find the local user behind a connection; refusing it");
            None
        }
    };
    let Some((grant, tunnel)) = open_tunnel(&ctx, peer, local, uid).await else {
        return reset(stream);
    };
    let connection = grant.connection;
    ctx.broker
        .established(connection, tunnel.connections_left());
    tracing::debug!(
        alias = %grant.key.alias,
        uid,
        session_id = %grant.session_id,
        worker = tunnel.worker(),
        mode = ?tunnel.mode(),
        "tunnel open"
    );
    let _ = stream.set_nodelay(true);
    let report = tunnel
        .splice(stream, ctx.shutdown.clone().cancelled_owned())
        .await;
    let level_is_debug = matches!(report.end, SpliceEnd::Normal | SpliceEnd::Cancelled);
    if level_is_debug {
        tracing::debug!(alias = %grant.key.alias, uid, to_worker = report.to_ws, from_worker = report.from_ws, end = ?report.end, "tunnel closed");
    } else {
        tracing::info!(alias = %grant.key.alias, uid, to_worker = report.to_ws, from_worker = report.from_ws, end = ?report.end, "tunnel ended abnormally");
    }
    ctx.broker.closed(connection);
}

/// How many sessions one connection may try: a session can end behind the agent's back (an
/// administrator's cancel, a worker's restart, an expiry the agent has not seen yet), and
/// the worker then refuses its next connection. The agent learns of it only from that
/// refusal, so it authorizes a fresh session and tries once more instead of resetting the
/// user's connection; a second refusal is final.
const SESSION_ATTEMPTS: usize = 2;

/// The agent's grant for a connection and the tunnel opened through it; `None` when the
/// connection is refused or no tunnel could be opened (the reason is logged).
async fn open_tunnel(
    ctx: &ConnectionContext,
    peer: SocketAddr,
    local: SocketAddr,
    uid: Option<u32>,
) -> Option<(TunnelGrant<SessionTunnel>, Tunnel)> {
    for attempt in 1..=SESSION_ATTEMPTS {
        let grant = match ctx.broker.decide(local.ip(), local.port(), uid).await {
            ConnectionVerdict::Tunnel(grant) => grant,
            ConnectionVerdict::Refuse(reason) => {
                tracing::info!(%peer, %local, uid, %reason, "refused a connection to an alias address");
                return None;
            }
        };
        let error = match grant.tunnel.connect_with_spare().await {
            Ok(tunnel) => return Some((grant, tunnel)),
            Err(error) => error,
        };
        let retry = error.session_unusable() && attempt < SESSION_ATTEMPTS;
        tracing::warn!(
            alias = %grant.key.alias,
            uid,
            session_id = %grant.session_id,
            %error,
            "cannot open a tunnel through the worker; {}",
            if retry { "authorizing a new session" } else { "resetting the connection" }
        );
        if error.session_unusable() {
            // Processed by the actor before the next `decide`: the session is gone then.
            ctx.broker.rejected(grant.connection, error.to_string());
        } else {
            ctx.broker.closed(grant.connection);
        }
        if !retry {
            return None;
        }
    }
    None
}

/// Closes with RST: the client sees "connection reset" at once.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}
