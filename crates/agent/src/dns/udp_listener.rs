//! The receive loop of one UDP listener.
//!
//! Datagrams are read in batches ([`UdpBatch`]); answers the policy knows at once are
//! encoded into reused buffers and sent together from the loop itself; forwarded and
//! pending queries run as tasks in a per-listener `JoinSet` (bounded by
//! `max_udp_in_flight`; beyond it a slow query is dropped and the client retries).
//! Stopping the listener aborts those tasks, so the socket is closed when the loop
//! returns and the address can be bound again at once.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Transport;
use super::counters::Counters;
use super::engine::{QueryContext, QueryEngine, Step};
use super::udp_batch::{BATCH, UdpBatch};

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
    let mut batch = UdpBatch::new();
    let nobody = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
    let mut replies: Vec<(Vec<u8>, SocketAddr)> = (0..BATCH)
        .map(|_| (Vec::with_capacity(1232), nobody))
        .collect();
    let mut in_flight = JoinSet::new();
    loop {
        let ready = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => continue,
            ready = socket.readable() => ready,
        };
        let received = ready
            .and_then(|()| socket.try_io(Interest::READABLE, || batch.receive(socket.as_raw_fd())));
        match received {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(error) => {
                tracing::debug!(%server, %error, "DNS UDP receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        }
        let mut answered = 0;
        for datagram in batch.received() {
            if datagram.truncated {
                Counters::bump(&engine.counters.dropped);
                tracing::debug!(%server, client = %datagram.client, "dropping a datagram too long for a query");
                continue;
            }
            let ctx = QueryContext {
                client: datagram.client,
                server,
                transport: Transport::Udp,
                ingress: datagram.ingress,
                proven_local: false,
            };
            let (out, to) = &mut replies[answered];
            out.clear();
            match engine.handle_guarded(batch.packet(datagram), ctx, out) {
                Step::Reply => {
                    *to = datagram.client;
                    answered += 1;
                }
                Step::Drop => {}
                Step::Later(reply) => {
                    if in_flight.len() >= max_in_flight {
                        Counters::bump(&engine.counters.overloaded);
                        tracing::debug!(%server, client = %datagram.client, "too many DNS queries in flight; dropping one");
                        continue;
                    }
                    let socket = Arc::clone(&socket);
                    let client = datagram.client;
                    in_flight.spawn(async move {
                        if let Some(reply) = reply.await {
                            send(&socket, &reply, client).await;
                        }
                    });
                }
            }
        }
        send_all(&socket, &replies[..answered]).await;
    }
    in_flight.shutdown().await;
}

/// Sends the answers of one batch together; whatever the batch send leaves (the socket's
/// buffer full, an error for one client) is sent one by one.
async fn send_all(socket: &UdpSocket, replies: &[(Vec<u8>, SocketAddr)]) {
    let sent = socket
        .try_io(Interest::WRITABLE, || {
            UdpBatch::send(socket.as_raw_fd(), replies)
        })
        .unwrap_or(0);
    for (reply, client) in &replies[sent..] {
        send(socket, reply, *client).await;
    }
}

async fn send(socket: &UdpSocket, reply: &[u8], client: SocketAddr) {
    if let Err(error) = socket.send_to(reply, client).await {
        tracing::debug!(%client, %error, "sending a DNS reply failed");
    }
}
