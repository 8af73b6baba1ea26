//! One accepted connection: owner lookup, the agent's verdict, the tunnel.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::os::PeerUidLookup;
use boundary_agent_core::{ConnectionId, TunnelGrant};
use boundary_net::tunnel::{SpliceEnd, TunnelSession};

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
    let grant = match ctx.broker.decide(local.ip(), local.port(), uid).await {
        ConnectionVerdict::Tunnel(grant) => grant,
        ConnectionVerdict::Refuse(reason) => {
            tracing::info!(%peer, %local, uid, %reason, "refused a connection to an alias address");
            return reset(stream);
        }
    };
    let connection = grant.connection;
    let session = &grant.tunnel;
    let tunnel = match session.connect().await {
        Ok(tunnel) => tunnel,
        Err(error) => {
            tracing::warn!(
                alias = %grant.key.alias,
                uid,
                session_id = %grant.session_id,
                %error,
                "cannot open a tunnel through the worker; resetting the connection"
            );
            if error.session_unusable() {
                ctx.broker.rejected(connection, error.to_string());
            } else {
                ctx.broker.closed(connection);
            }
            return reset(stream);
        }
    };
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

/// Closes with RST: the client sees "connection reset" at once.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}
