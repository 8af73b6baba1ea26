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
    AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, TCP_LISTEN, TCP_TIME_WAIT,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags,
};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use rtnetlink::proto::ConnectionHandle;

use crate::os::{PeerLookupError, PeerUidLookup};

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
    pub(super) async fn lookup(
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
        Ok(found
            .filter(|socket| is_tcp_connection_end(socket, client, server))
            .and_then(|socket| open_socket_owner(&socket)))
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
        Ok(found
            .filter(|socket| is_udp_client_end(socket, client_end, server_end))
            .filter(|socket| {
                !socket.socket_id.source_address.is_unspecified()
                    || is_local_address(client_end.ip())
            })
            .and_then(|socket| open_socket_owner(&socket)))
    }
}

/// Whether the TCP socket the kernel found is `this_end` of the connection between
/// `this_end` and `other_end` (the client's end for [`PeerUidLookup::tcp_client_uid`]).
///
/// An exact lookup falls back to a *listening* socket on the looked-up address and port
/// when no connection matches: a peer that is not a local socket at all (another host or
/// network namespace routed to the alias address) whose source port happens to be a local
/// server's port (22 → sshd, root) would otherwise be attributed to that server's owner.
/// So the found socket must be connected, and to exactly this 4-tuple.
pub(super) fn is_tcp_connection_end(
    socket: &InetResponseHeader,
    this_end: SocketAddr,
    other_end: SocketAddr,
) -> bool {
    let found = &socket.socket_id;
    socket.state != TCP_LISTEN
        && found.source_address.to_canonical() == this_end.ip()
        && found.source_port == this_end.port()
        && found.destination_address.to_canonical() == other_end.ip()
        && found.destination_port == other_end.port()
}

/// Whether the UDP socket the kernel found can be the sender: bound to the client's port
/// on its address or the wildcard, and either unconnected or connected to the server.
fn is_udp_client_end(socket: &InetResponseHeader, client: SocketAddr, server: SocketAddr) -> bool {
    let found = &socket.socket_id;
    let bound_here = found.source_port == client.port()
        && (found.source_address.is_unspecified()
            || found.source_address.to_canonical() == client.ip());
    let unconnected = found.destination_port == 0 && found.destination_address.is_unspecified();
    let connected_to_server = found.destination_address.to_canonical() == server.ip()
        && found.destination_port == server.port();
    bound_here && (unconnected || connected_to_server)
}

/// Whether `ip` is an address of this network namespace (a socket can be bound to it).
///
/// A UDP lookup matches a socket bound to the wildcard address by port alone, so a
/// datagram from another host or namespace whose source port equals a local socket's
/// port would be attributed to that socket's owner. Only a sender whose address is local
/// can be that socket. (With `net.ipv4.ip_nonlocal_bind` set every bind succeeds and this
/// check lets everything through, as before it existed.)
fn is_local_address(ip: IpAddr) -> bool {
    std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// The owner of a socket the kernel found, if it is still open.
///
/// A closed client socket lingers as a time-wait or orphaned socket that reports uid 0
/// or inode 0; treating that as root would hand a dead connection root's session.
pub(super) fn open_socket_owner(socket: &InetResponseHeader) -> Option<u32> {
    let still_open = socket.inode != 0 && socket.state != TCP_TIME_WAIT;
    still_open.then_some(socket.uid)
}

pub(super) fn socket_id(source: SocketAddr, destination: SocketAddr) -> SocketId {
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
pub(super) fn same_family(
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

pub(super) fn query_failed(
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

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_sock_diag::constants::TCP_ESTABLISHED;

    const CLIENT: &str = "100.64.0.9:40000";
    const SERVER: &str = "100.64.0.7:22";

    fn found(state: u8, source: &str, destination: &str) -> InetResponseHeader {
        InetResponseHeader {
            family: AF_INET,
            state,
            timer: None,
            socket_id: socket_id(source.parse().unwrap(), destination.parse().unwrap()),
            recv_queue: 0,
            send_queue: 0,
            uid: 1000,
            inode: 42,
        }
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_the_connected_socket_of_this_tcp_connection_is_the_client() {
        let (client, server) = (addr(CLIENT), addr(SERVER));
        assert!(is_tcp_connection_end(
            &found(TCP_ESTABLISHED, CLIENT, SERVER),
            client,
            server
        ));
        // The kernel's fallback for a peer that is no local socket: a listener on the
        // peer's port, wildcard or not.
        for listener in [
            found(TCP_LISTEN, "0.0.0.0:40000", "0.0.0.0:0"),
            found(TCP_LISTEN, CLIENT, "0.0.0.0:0"),
        ] {
            assert!(!is_tcp_connection_end(&listener, client, server));
        }
        // Another connection of the same client port (to another server).
        assert!(!is_tcp_connection_end(
            &found(TCP_ESTABLISHED, CLIENT, "100.64.0.8:22"),
            client,
            server
        ));
        // A dual-stack socket reports its IPv4 connection v4-mapped.
        let mut mapped = found(TCP_ESTABLISHED, CLIENT, SERVER);
        mapped.socket_id.source_address = "::ffff:100.64.0.9".parse().unwrap();
        mapped.socket_id.destination_address = "::ffff:100.64.0.7".parse().unwrap();
        assert!(is_tcp_connection_end(&mapped, client, server));
    }

    #[test]
    fn a_udp_sender_is_bound_to_the_client_port_and_unconnected_or_connected_to_us() {
        let (client, server) = (addr("100.64.0.9:5353"), addr("100.64.0.1:53"));
        for sender in [
            found(7, "100.64.0.9:5353", "100.64.0.1:53"),
            found(7, "0.0.0.0:5353", "0.0.0.0:0"),
            found(7, "100.64.0.9:5353", "0.0.0.0:0"),
        ] {
            assert!(is_udp_client_end(&sender, client, server), "{sender:?}");
        }
        for other in [
            found(7, "0.0.0.0:5354", "0.0.0.0:0"),
            found(7, "10.0.0.1:5353", "0.0.0.0:0"),
            found(7, "0.0.0.0:5353", "8.8.8.8:53"),
        ] {
            assert!(!is_udp_client_end(&other, client, server), "{other:?}");
        }
    }

    #[test]
    fn closed_sockets_have_no_owner() {
        let mut socket = found(TCP_ESTABLISHED, CLIENT, SERVER);
        assert_eq!(open_socket_owner(&socket), Some(1000));
        socket.inode = 0;
        assert_eq!(open_socket_owner(&socket), None);
        let socket = found(TCP_TIME_WAIT, CLIENT, SERVER);
        assert_eq!(open_socket_owner(&socket), None);
    }
}
