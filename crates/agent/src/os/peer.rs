//! Which local user is on the other end of a connection or a DNS query.

use std::net::SocketAddr;

use async_trait::async_trait;

/// Finds the uid owning the *client* socket of a local connection.
///
/// The uid is the socket's owner (the creating process's fsuid): a socket handed to
/// another process keeps its creator's uid. `Ok(None)` means no open client socket
/// matches (the client has already closed it, or it lives on another host): callers deny.
#[async_trait]
pub trait PeerUidLookup: Send + Sync {
    /// The owner of the client end of an accepted TCP connection: `peer` is the accepted
    /// stream's `peer_addr()`, `local` its `local_addr()`. IPv4-mapped IPv6 addresses
    /// (dual-stack listeners) are accepted.
    async fn tcp_client_uid(
        &self,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError>;

    /// The owner of the UDP socket that sent a datagram from `client` to our `server`
    /// address (a DNS query to port 53). Only meaningful while the client still waits for
    /// the answer.
    async fn udp_client_uid(
        &self,
        client: SocketAddr,
        server: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError>;
}

/// Why a peer lookup could not give an answer (as opposed to "nobody": `Ok(None)`).
#[derive(Debug, thiserror::Error)]
pub enum PeerLookupError {
    #[error("cannot open a sock_diag netlink socket: {0}")]
    Socket(#[source] std::io::Error),
    #[error("socket owner lookup for {protocol} {client} -> {server} failed: {source}")]
    Query {
        protocol: &'static str,
        client: SocketAddr,
        server: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("socket owner lookup: {client} and {server} are not of the same address family")]
    MixedFamilies {
        client: SocketAddr,
        server: SocketAddr,
    },
    #[error("the sock_diag netlink connection is closed")]
    ConnectionClosed,
}
