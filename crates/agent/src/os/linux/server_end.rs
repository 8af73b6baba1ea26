//! Who serves a TCP connection this process made, by the same sock_diag exact lookup as
//! [`crate::os::PeerUidLookup`], from the other side.
//!
//! The CLI asks before it hands a token to "the client agent" at 127.0.0.1:9300: while the
//! agent is not running, any local user can listen on that port, and would collect every
//! token pushed there. The root agent accepts its connections as root; an impostor's
//! accepted socket is the impostor's.

use std::net::SocketAddr;

use netlink_packet_sock_diag::constants::{IPPROTO_TCP, TCP_ESTABLISHED, TCP_SYN_RECV};
use netlink_packet_sock_diag::inet::InetResponseHeader;

use super::SockDiagPeerLookup;
use super::peer::{is_tcp_connection_end, open_socket_owner, query_failed, same_family, socket_id};
use crate::os::PeerLookupError;

/// The server's end of a TCP connection, as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerEnd {
    /// A process has accepted the connection. `uid` owns the accepted socket (the
    /// filesystem uid of the process that accepted it): whoever reads what is sent.
    Accepted { uid: u32 },
    /// The connection waits in a listener's accept queue. Its owner is not known yet:
    /// for a socket nobody has accepted, current kernels report the listener's owner and
    /// older ones root, so neither can be trusted. Ask again.
    NotAccepted,
    /// There is no such connection (any more): the server has closed it.
    Gone,
}

impl SockDiagPeerLookup {
    /// The server's end of a connection made from this network namespace: `client` is
    /// the connected stream's `local_addr()`, `server` its `peer_addr()`. IPv4-mapped
    /// IPv6 addresses are accepted.
    pub async fn tcp_server_end(
        &self,
        client: SocketAddr,
        server: SocketAddr,
    ) -> Result<ServerEnd, PeerLookupError> {
        let (client_end, server_end) = same_family(client, server)?;
        // The id's source is the looked-up socket's own end: the server's.
        let found = self
            .lookup(socket_id(server_end, client_end), IPPROTO_TCP)
            .await
            .map_err(|source| query_failed("TCP", client, server, source))?;
        Ok(server_end_of(found.as_ref(), client_end, server_end))
    }
}

/// What the socket the kernel found (if any) says about the server's end.
fn server_end_of(
    found: Option<&InetResponseHeader>,
    client: SocketAddr,
    server: SocketAddr,
) -> ServerEnd {
    let Some(socket) = found.filter(|socket| is_tcp_connection_end(socket, server, client)) else {
        return ServerEnd::Gone;
    };
    match open_socket_owner(socket) {
        Some(uid) => ServerEnd::Accepted { uid },
        None if matches!(socket.state, TCP_ESTABLISHED | TCP_SYN_RECV) => ServerEnd::NotAccepted,
        None => ServerEnd::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_sock_diag::constants::{AF_INET, TCP_LISTEN, TCP_TIME_WAIT};

    const CLIENT: &str = "127.0.0.1:40000";
    const SERVER: &str = "127.0.0.1:9300";

    fn found(
        state: u8,
        source: &str,
        destination: &str,
        uid: u32,
        inode: u32,
    ) -> InetResponseHeader {
        InetResponseHeader {
            family: AF_INET,
            state,
            timer: None,
            socket_id: socket_id(source.parse().unwrap(), destination.parse().unwrap()),
            recv_queue: 0,
            send_queue: 0,
            uid,
            inode,
        }
    }

    fn end_of(socket: Option<&InetResponseHeader>) -> ServerEnd {
        server_end_of(socket, CLIENT.parse().unwrap(), SERVER.parse().unwrap())
    }

    #[test]
    fn only_an_accepted_server_socket_of_this_connection_has_an_owner() {
        let accepted = found(TCP_ESTABLISHED, SERVER, CLIENT, 1001, 42);
        assert_eq!(end_of(Some(&accepted)), ServerEnd::Accepted { uid: 1001 });
        // Waiting to be accepted: no inode, and the uid is the listener's (or root's).
        for queued in [
            found(TCP_ESTABLISHED, SERVER, CLIENT, 0, 0),
            found(TCP_SYN_RECV, SERVER, CLIENT, 1001, 0),
        ] {
            assert_eq!(end_of(Some(&queued)), ServerEnd::NotAccepted);
        }
        // Closed by the server.
        let closed = found(TCP_TIME_WAIT, SERVER, CLIENT, 0, 0);
        assert_eq!(end_of(Some(&closed)), ServerEnd::Gone);
        assert_eq!(end_of(None), ServerEnd::Gone);
        // The kernel's fallback to the listener, and our own (client) end, are not it.
        let listener = found(TCP_LISTEN, SERVER, "0.0.0.0:0", 0, 7);
        assert_eq!(end_of(Some(&listener)), ServerEnd::Gone);
        let ours = found(TCP_ESTABLISHED, CLIENT, SERVER, 0, 8);
        assert_eq!(end_of(Some(&ours)), ServerEnd::Gone);
    }
}
