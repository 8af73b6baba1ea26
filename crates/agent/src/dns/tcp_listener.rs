//! The accept loop of one TCP listener and the handling of each client connection.
//!
//! Messages are framed with a 2-byte length (RFC 1035 §4.2.2). A connection may carry
//! several queries, pipelined: up to `max_tcp_pipelined` are handled at once and replies
//! go out as they are ready, possibly out of order (RFC 7766 §6.2.1.1; clients match by
//! ID). A connection with no query for `tcp_idle_timeout` is closed once its in-flight
//! queries are answered; so is one whose client half-closes. At most
//! `max_tcp_connections` are open per listener; more are closed on accept.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use super::Transport;
use super::counters::Counters;
use super::engine::{QueryContext, QueryEngine, Step};

/// Limits of one listener's connections.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpLimits {
    pub max_connections: usize,
    pub max_pipelined: usize,
    pub idle_timeout: Duration,
}

pub(crate) async fn serve_tcp(
    listener: TcpListener,
    engine: Arc<QueryEngine>,
    limits: TcpLimits,
    cancel: CancellationToken,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, client) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // EMFILE and friends: back off instead of spinning on the error.
                tracing::warn!(%error, "accepting a DNS TCP connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if connections.len() >= limits.max_connections {
            Counters::bump(&engine.counters.overloaded);
            tracing::debug!(%client, "too many DNS TCP connections; closing a new one");
            continue;
        }
        let engine = Arc::clone(&engine);
        let cancel = cancel.clone();
        connections.spawn(serve_connection(stream, client, engine, limits, cancel));
    }
    connections.shutdown().await;
}

async fn serve_connection(
    stream: TcpStream,
    client: SocketAddr,
    engine: Arc<QueryEngine>,
    limits: TcpLimits,
    cancel: CancellationToken,
) {
    let server = match stream.local_addr() {
        Ok(addr) => addr,
        Err(_) => return,
    };
    let _ = stream.set_nodelay(true);
    let ctx = QueryContext {
        client,
        server,
        transport: Transport::Tcp,
        ingress: None,
        proven_local: false,
    };
    let (read_half, write_half) = stream.into_split();
    let mut queries = FramedRead::new(read_half, dns_codec());
    let mut replies = FramedWrite::new(write_half, dns_codec());
    let mut in_flight: JoinSet<Option<Vec<u8>>> = JoinSet::new();
    let mut out = Vec::new();
    let mut reading = true;
    loop {
        if !reading && in_flight.is_empty() {
            break;
        }
        let can_read = reading && in_flight.len() < limits.max_pipelined;
        let ready: Option<Vec<u8>> = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => done.ok().flatten(),
            frame = tokio::time::timeout(limits.idle_timeout, queries.next()), if can_read => {
                match frame {
                    // Idle: close once nothing is pending; while queries are still in
                    // flight the client is waiting, not idle.
                    Err(_) => {
                        reading = !in_flight.is_empty();
                        if !reading {
                            tracing::trace!(%client, "closing an idle DNS TCP connection");
                        }
                        None
                    }
                    Ok(None) => {
                        reading = false;
                        None
                    }
                    Ok(Some(Err(error))) => {
                        tracing::debug!(%client, %error, "DNS TCP connection failed");
                        break;
                    }
                    Ok(Some(Ok(frame))) => match engine.handle_guarded(&frame, ctx, &mut out) {
                        Step::Reply => Some(std::mem::take(&mut out)),
                        Step::Drop => None,
                        Step::Later(reply) => {
                            in_flight.spawn(reply);
                            None
                        }
                    },
                }
            }
        };
        if let Some(reply) = ready {
            let sent = tokio::time::timeout(limits.idle_timeout, replies.send(Bytes::from(reply)));
            match sent.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::debug!(%client, %error, "writing a DNS TCP reply failed");
                    break;
                }
                Err(_) => {
                    tracing::debug!(%client, "DNS TCP client does not read its replies; closing");
                    break;
                }
            }
        }
    }
    in_flight.shutdown().await;
}

/// 2-byte big-endian length prefix, 64 KiB maximum.
fn dns_codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(2)
        .max_frame_length(usize::from(u16::MAX))
        .new_codec()
}
