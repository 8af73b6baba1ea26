//! The receive loop of one UDP listener.
//!
//! Answers the policy knows at once are encoded into a reused buffer and sent from the
//! loop itself; forwarded and pending queries run as tasks in a per-listener `JoinSet`
//! (bounded by `max_udp_in_flight`; beyond it a slow query is dropped and the client
//! retries). Stopping the listener aborts those tasks, so the socket is closed when the
//! loop returns and the address can be bound again at once.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Transport;
use super::counters::Counters;
use super::engine::{QueryContext, QueryEngine, Step};

/// Largest UDP payload; queries are small, but the buffer is allocated once per listener.
const MAX_DATAGRAM: usize = 65535;

pub(crate) async fn serve_udp(
    socket: UdpSocket,
    engine: Arc<QueryEngine>,
    max_in_flight: usize,
    cancel: CancellationToken,
) {
    let socket = Arc::new(socket);
    let server = match socket.local_addr() {
        Ok(addr) => addr,
        Err(error) => {
            tracing::error!(%error, "DNS UDP listener has no local address; not serving");
            return;
        }
    };
    let mut packet = vec![0u8; MAX_DATAGRAM];
    let mut out = Vec::with_capacity(1232);
    let mut in_flight = JoinSet::new();
    loop {
        let received = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => continue,
            received = receive(&socket, &mut packet) => received,
        };
        let (len, client, ingress) = match received {
            Ok(received) => received,
            Err(error) => {
                tracing::debug!(%server, %error, "DNS UDP receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let ctx = QueryContext {
            client,
            server,
            transport: Transport::Udp,
            ingress,
            proven_local: false,
        };
        match engine.handle_guarded(&packet[..len], ctx, &mut out) {
            Step::Reply => send(&socket, &out, client).await,
            Step::Drop => {}
            Step::Later(reply) => {
                if in_flight.len() >= max_in_flight {
                    Counters::bump(&engine.counters.overloaded);
                    tracing::debug!(%server, %client, "too many DNS queries in flight; dropping one");
                    continue;
                }
                let socket = Arc::clone(&socket);
                in_flight.spawn(async move {
                    if let Some(reply) = reply.await {
                        send(&socket, &reply, client).await;
                    }
                });
            }
        }
    }
    in_flight.shutdown().await;
}

/// One datagram: its length, its sender and the interface it arrived on (the
/// `IP_PKTINFO`/`IPV6_PKTINFO` the listener asked for; `None` if the kernel gave none).
async fn receive(
    socket: &UdpSocket,
    buffer: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<u32>)> {
    loop {
        socket.readable().await?;
        match socket.try_io(Interest::READABLE, || {
            receive_now(socket.as_raw_fd(), buffer)
        }) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            received => return received,
        }
    }
}

fn receive_now(fd: RawFd, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr, Option<u32>)> {
    let mut iov = [IoSliceMut::new(buffer)];
    let mut control = nix::cmsg_space!(libc::in6_pktinfo);
    let message =
        recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut control), MsgFlags::MSG_DONTWAIT)?;
    let mut ingress = None;
    for control in message.cmsgs()? {
        match control {
            ControlMessageOwned::Ipv4PacketInfo(info) => {
                ingress = u32::try_from(info.ipi_ifindex).ok();
            }
            ControlMessageOwned::Ipv6PacketInfo(info) => ingress = Some(info.ipi6_ifindex),
            _ => {}
        }
    }
    let sender = message
        .address
        .as_ref()
        .and_then(socket_addr)
        .ok_or_else(|| io::Error::other("a datagram without a sender address"))?;
    Ok((message.bytes, sender, ingress))
}

fn socket_addr(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    storage
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::V6((*v6).into()))
}

async fn send(socket: &UdpSocket, reply: &[u8], client: std::net::SocketAddr) {
    if let Err(error) = socket.send_to(reply, client).await {
        tracing::debug!(%client, %error, "sending a DNS reply failed");
    }
}
