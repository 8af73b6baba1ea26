//! Forwarding a query the agent does not answer itself: the client's bytes go to the
//! upstreams in priority order, unchanged except for a fresh random ID (so flags, EDNS
//! options such as cookies or client subnet, and the DO bit reach the upstream as the
//! client sent them, and DNSSEC records come back untouched).
//!
//! Per upstream: one attempt on the client's transport, bounded by `dns_request_timeout`.
//! A UDP reply with TC=1 (or too large for the client) is asked again over TCP from the
//! same upstream and the full reply returned; if that fails, the truncated reply is still
//! a valid answer and the client retries over TCP itself. A timeout or socket error moves
//! on to the next upstream. Every outcome is reported to the [`ForwardObserver`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::exchange::{AttemptError, ReplyCheck, UdpReply, exchange_tcp, exchange_udp};
use super::loop_check::LoopCheck;
use super::packet::{HEADER_LEN, InboundQuery};
use super::upstream_sockets::UpstreamSockets;
use super::upstreams::Upstreams;
use super::{ForwardEvent, ForwardFailure, ForwardObserver, Transport};

pub(crate) struct Forwarder {
    pub upstreams: Upstreams,
    /// Probes for upstreams that send our queries back (`loop_check`).
    pub loops: LoopCheck,
    request_timeout_ms: AtomicU64,
    observer: Option<ForwardObserver>,
    sockets: UpstreamSockets,
}

impl Forwarder {
    pub fn new(
        upstreams: Upstreams,
        request_timeout: Duration,
        observer: Option<ForwardObserver>,
    ) -> Self {
        let forwarder = Forwarder {
            upstreams,
            loops: LoopCheck::default(),
            request_timeout_ms: AtomicU64::new(0),
            observer,
            sockets: UpstreamSockets::new(),
        };
        forwarder.set_request_timeout(request_timeout);
        forwarder
    }

    pub fn set_request_timeout(&self, timeout: Duration) {
        let millis = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.request_timeout_ms.store(millis, Ordering::Relaxed);
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.load(Ordering::Relaxed))
    }

    /// Relays `query` (as received; `inbound` is its parse) and returns the first valid
    /// upstream reply, carrying the client's ID. `None`: every upstream failed.
    ///
    /// A SERVFAIL, NOTIMP or REFUSED reply moves on to the next upstream, as glibc does
    /// with the nameservers of resolv.conf (a VPN's server that refuses public names must
    /// not hide the next one); it is the answer only when no upstream does better. As with
    /// glibc, a validating upstream's SERVFAIL for a bogus DNSSEC answer can thus be
    /// overridden by a non-validating upstream listed after it.
    pub async fn forward(
        &self,
        query: &[u8],
        inbound: &InboundQuery,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        let question = query.get(HEADER_LEN..HEADER_LEN + inbound.question_len)?;
        let upstreams = self.upstreams.current();
        let mut outgoing = query.to_vec();
        let mut declined = None;
        for &upstream in upstreams.iter() {
            let attempt = match transport {
                Transport::Udp => {
                    let room = inbound.udp_reply_limit();
                    self.attempt_udp(upstream, &mut outgoing, question, room)
                        .await
                }
                Transport::Tcp => self
                    .attempt_tcp(upstream, &mut outgoing, question)
                    .await
                    .map(|reply| (reply, Transport::Tcp)),
            };
            match attempt {
                Ok((mut reply, answered_over)) => {
                    give_client_id(&mut reply, query);
                    if let Some(rcode) = declining_rcode(&reply) {
                        tracing::debug!(%upstream, rcode, "upstream declined; trying the next one");
                        self.report(ForwardEvent::Declined {
                            upstream,
                            transport: answered_over,
                            rcode,
                        });
                        declined = Some(reply);
                        continue;
                    }
                    self.report(ForwardEvent::Answered {
                        upstream,
                        transport: answered_over,
                    });
                    return Some(reply);
                }
                Err(failure) => {
                    tracing::debug!(%upstream, %transport, %failure, "upstream DNS attempt failed");
                    if failure == ForwardFailure::Timeout && upstream.ip().is_loopback() {
                        // A local resolver that times out may be sending our query back.
                        self.loops.wake.notify_one();
                    }
                    self.report(ForwardEvent::UpstreamFailed {
                        upstream,
                        transport,
                        failure,
                    });
                }
            }
        }
        if declined.is_some() {
            return declined;
        }
        self.report(ForwardEvent::Exhausted {
            tried: upstreams.len() + self.upstreams.looping_count(),
        });
        None
    }

    /// One UDP attempt, plus the TCP retry of a truncated reply.
    async fn attempt_udp(
        &self,
        upstream: SocketAddr,
        outgoing: &mut [u8],
        question: &[u8],
        room: usize,
    ) -> Result<(Vec<u8>, Transport), ForwardFailure> {
        let check = ReplyCheck {
            id: fresh_id(outgoing),
            question,
        };
        let exchange = async {
            let leased = self.sockets.take(upstream).await?;
            let reply = exchange_udp(&leased.socket, outgoing, &check, room).await?;
            self.sockets.give_back(upstream, leased);
            Ok(reply)
        };
        let truncated = match tokio::time::timeout(self.request_timeout(), exchange).await {
            Err(_) => return Err(ForwardFailure::Timeout),
            Ok(Err(error)) => return Err(failure_of(error)),
            Ok(Ok(UdpReply::Complete(reply))) => return Ok((reply, Transport::Udp)),
            Ok(Ok(UdpReply::Truncated(reply))) => reply,
        };
        tracing::trace!(%upstream, "truncated UDP reply; asking again over TCP");
        match self.attempt_tcp(upstream, outgoing, question).await {
            Ok(full) => Ok((full, Transport::Tcp)),
            Err(failure) => {
                self.report(ForwardEvent::UpstreamFailed {
                    upstream,
                    transport: Transport::Tcp,
                    failure,
                });
                Ok((truncated, Transport::Udp))
            }
        }
    }

    async fn attempt_tcp(
        &self,
        upstream: SocketAddr,
        outgoing: &mut [u8],
        question: &[u8],
    ) -> Result<Vec<u8>, ForwardFailure> {
        let check = ReplyCheck {
            id: fresh_id(outgoing),
            question,
        };
        let exchange = exchange_tcp(upstream, outgoing, &check);
        match tokio::time::timeout(self.request_timeout(), exchange).await {
            Err(_) => Err(ForwardFailure::Timeout),
            Ok(result) => result.map_err(failure_of),
        }
    }

    pub fn report(&self, event: ForwardEvent) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }
}

/// Gives the outgoing query a new random ID (an off-path attacker must guess it and the
/// source port) and returns it.
fn fresh_id(outgoing: &mut [u8]) -> u16 {
    let id: u16 = rand::random();
    outgoing[..2].copy_from_slice(&id.to_be_bytes());
    id
}

/// Puts the client's ID (the first two bytes of its `query`) back into an accepted reply
/// (which has a header: [`ReplyCheck::accepts`] checked it).
pub(crate) fn give_client_id(reply: &mut [u8], query: &[u8]) {
    reply[..2].copy_from_slice(&query[..2]);
}

fn failure_of(error: AttemptError) -> ForwardFailure {
    match error {
        AttemptError::Io(error) => ForwardFailure::Io(error.kind()),
        AttemptError::BadReply => ForwardFailure::BadReply,
    }
}

/// The RCODE of a reply that declines rather than answers: SERVFAIL (2), NOTIMP (4) or
/// REFUSED (5). NXDOMAIN and NOERROR are answers.
fn declining_rcode(reply: &[u8]) -> Option<u8> {
    let rcode = reply.get(3)? & 0x0f;
    matches!(rcode, 2 | 4 | 5).then_some(rcode)
}
