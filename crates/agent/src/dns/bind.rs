//! Creating the listening sockets of one address, with errors that say what to do.
//!
//! UDP sockets are bound without SO_REUSEADDR/SO_REUSEPORT, so a second DNS server on the
//! same address:port is an error rather than a silent split of the traffic. TCP listeners
//! set SO_REUSEADDR only so a restart is not blocked by TIME_WAIT connections; Linux still
//! refuses a second listener on the same address.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, UdpSocket};

use super::{DnsError, Transport};

const TCP_BACKLOG: i32 = 1024;

pub(crate) fn bind_udp(addr: SocketAddr, freebind: bool) -> Result<UdpSocket, DnsError> {
    let fail = |error| bind_error(addr, Transport::Udp, error);
    let socket =
        Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(fail)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(fail)?;
    }
    set_freebind(&socket, addr, freebind).map_err(fail)?;
    ask_for_ingress_interface(&socket, addr).map_err(fail)?;
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    UdpSocket::from_std(socket.into()).map_err(fail)
}

pub(crate) fn bind_tcp(addr: SocketAddr, freebind: bool) -> Result<TcpListener, DnsError> {
    let fail = |error| bind_error(addr, Transport::Tcp, error);
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(fail)?;
    socket.set_reuse_address(true).map_err(fail)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(fail)?;
    }
    set_freebind(&socket, addr, freebind).map_err(fail)?;
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    socket.listen(TCP_BACKLOG).map_err(fail)?;
    TcpListener::from_std(socket.into()).map_err(fail)
}

/// `IP_PKTINFO` / `IPV6_RECVPKTINFO`: each datagram says which interface it arrived on
/// (see `sources`: a query from the LAN is told apart from one of this host).
fn ask_for_ingress_interface(socket: &Socket, addr: SocketAddr) -> io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    let result = if addr.is_ipv6() {
        setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true)
    } else {
        setsockopt(socket, sockopt::Ipv4PacketInfo, &true)
    };
    result.map_err(io::Error::from)
}

/// `IP_FREEBIND` / `IPV6_FREEBIND`: bind to an address not (yet) assigned.
fn set_freebind(socket: &Socket, addr: SocketAddr, freebind: bool) -> io::Result<()> {
    if !freebind {
        return Ok(());
    }
    if addr.is_ipv6() {
        socket.set_freebind_v6(true)
    } else {
        socket.set_freebind_v4(true)
    }
}

fn bind_error(addr: SocketAddr, transport: Transport, source: io::Error) -> DnsError {
    match source.kind() {
        io::ErrorKind::AddrInUse => DnsError::AddressInUse { addr, transport },
        io::ErrorKind::AddrNotAvailable => DnsError::AddressNotAssigned { addr, transport },
        io::ErrorKind::PermissionDenied => DnsError::PermissionDenied { addr, transport },
        _ => DnsError::Bind {
            addr,
            transport,
            source,
        },
    }
}
