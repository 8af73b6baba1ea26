//! Socket owners through NETLINK_SOCK_DIAG exact lookups (the interface `ss` uses).
//!
//! Async over `netlink-proto` (re-exported by rtnetlink) rather than a blocking socket in
//! `spawn_blocking`: one socket opened at construction, bound to the network namespace
//! current then, and many lookups in flight on it. No capability is needed.
//!
//! Verified against the kernel (tests/agent_os_linux): TCP over IPv4, IPv6 and
//! dual-stack (v4-mapped) listeners; UDP queries from connected sockets (dig, glibc's
//! stub resolver) and unconnected ones (`sendto`), IPv4, IPv6 and v4-mapped. A closed
//! client (time-wait or orphaned socket) is reported as not found.

use std::io;
use std::net::{IpAddr, SocketAddr};

use async_trait::async_trait;
use futures_util::StreamExt;
use netlink_packet_core::{NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, TCP_TIME_WAIT,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags,
};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use rtnetlink::proto::ConnectionHandle;

use crate::agent::os::{PeerLookupError, PeerUidLookup};

/// `INET_DIAG_NOCOOKIE`: match on addresses and ports only.
const NO_COOKIE: [u8; 8] = [0xff; 8];

/// [`PeerUidLookup`] over a sock_diag netlink connection whose task runs on the tokio
/// runtime current at construction and stops when this value is dropped.
pub struct SockDiagPeerLookup {
    handle: ConnectionHandle<SockDiagMessage>,
    connection: tokio::task::JoinHandle<()>,
}

impl SockDiagPeerLookup {
    /// Opens the sock_diag socket in the calling thread's network namespace. Must be
    /// called from within a tokio runtime.
    pub fn new() -> Result<SockDiagPeerLookup, PeerLookupError> {
        let (connection, handle, _) =
            rtnetlink::proto::new_connection::<SockDiagMessage>(NETLINK_SOCK_DIAG)
                .map_err(PeerLookupError::Socket)?;
        Ok(SockDiagPeerLookup {
            handle,
            connection: tokio::spawn(connection),
        })
    }

    /// Looks up one socket by its exact 4-tuple; `None` when there is none.
    async fn lookup(
        &self,
        socket_id: SocketId,
        protocol: u8,
    ) -> io::Result<Option<InetResponseHeader>> {
        let family = if socket_id.source_address.is_ipv4() {
            AF_INET
        } else {
            AF_INET6
        };
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST; // no NLM_F_DUMP: an exact lookup
        let request = InetRequest {
            family,
            protocol,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::all(),
            socket_id,
        };
        let mut message = NetlinkMessage::new(header, SockDiagMessage::InetRequest(request).into());
        message.finalize();
        let mut responses = self
            .handle
            .request(message, netlink_sys::SocketAddr::new(0, 0))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        let mut found = None;
        while let Some(response) = responses.next().await {
            match response.payload {
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                    found = Some(response.header);
                }
                NetlinkPayload::Error(error) if error.code.is_some() => {
                    let error = error.to_io();
                    return match error.raw_os_error() {
                        Some(libc::ENOENT) => Ok(None),
                        _ => Err(error),
                    };
                }
                _ => {}
            }
        }
        Ok(found)
    }
}

impl Drop for SockDiagPeerLookup {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

#[async_trait]
impl PeerUidLookup for SockDiagPeerLookup {
    async fn tcp_client_uid(
        &self,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        let (client, server) = same_family(peer, local)?;
        // For TCP the id's source is the looked-up socket's own end: the client's.
        let found = self
            .lookup(socket_id(client, server), IPPROTO_TCP)
            .await
            .map_err(|source| query_failed("TCP", peer, local, source))?;
        Ok(found.and_then(|socket| open_socket_owner(&socket, client)))
    }

    async fn udp_client_uid(
        &self,
        client: SocketAddr,
        server: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        let (client_end, server_end) = same_family(client, server)?;
        if client_end == server_end {
            return Ok(None);
        }
        // udp_diag looks the socket up as the receiver of a datagram from the id's source
        // to its destination ("swapped for historical reasons" in the kernel), so the
        // client goes in the destination.
        let found = self
            .lookup(socket_id(server_end, client_end), IPPROTO_UDP)
            .await
            .map_err(|source| query_failed("UDP", client, server, source))?;
        Ok(found.and_then(|socket| open_socket_owner(&socket, client_end)))
    }
}

/// The owner of a socket the kernel found, if it is the client's and still open.
///
/// A closed client socket lingers as a time-wait or orphaned socket that reports uid 0
/// or inode 0; treating that as root would hand a dead connection root's session.
fn open_socket_owner(socket: &InetResponseHeader, client: SocketAddr) -> Option<u32> {
    let is_client_end = socket.socket_id.source_port == client.port();
    let still_open = socket.inode != 0 && socket.state != TCP_TIME_WAIT;
    (is_client_end && still_open).then_some(socket.uid)
}

fn socket_id(source: SocketAddr, destination: SocketAddr) -> SocketId {
    SocketId {
        source_port: source.port(),
        destination_port: destination.port(),
        source_address: source.ip(),
        destination_address: destination.ip(),
        interface_id: 0,
        cookie: NO_COOKIE,
    }
}

/// Both ends in one family; IPv4-mapped IPv6 (dual-stack sockets) becomes plain IPv4,
/// which is where the kernel hashes those connections.
fn same_family(
    client: SocketAddr,
    server: SocketAddr,
) -> Result<(SocketAddr, SocketAddr), PeerLookupError> {
    let canonical =
        |address: SocketAddr| SocketAddr::new(address.ip().to_canonical(), address.port());
    let (c, s) = (canonical(client), canonical(server));
    match (c.ip(), s.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => Ok((c, s)),
        _ => Err(PeerLookupError::MixedFamilies { client, server }),
    }
}

fn query_failed(
    protocol: &'static str,
    client: SocketAddr,
    server: SocketAddr,
    source: io::Error,
) -> PeerLookupError {
    if source.kind() == io::ErrorKind::BrokenPipe {
        return PeerLookupError::ConnectionClosed;
    }
    PeerLookupError::Query {
        protocol,
        client,
        server,
        source,
    }
}
