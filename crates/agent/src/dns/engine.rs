//! The transport-independent path of one query: parse, ask the policy, then
//! answer inline or hand back a future that forwards (or waits for a pending decision).
//!
//! The inline path — parse, [`QueryPolicy::decide`], encode into the listener's reused
//! buffer — takes no lock, spawns nothing, and allocates only the question's name; it is
//! the path alias answers take once their session exists.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::DNSClass;

use super::answer::{self, AnswerSettings, LocalAnswer};
use super::counters::Counters;
use super::forward::Forwarder;
use super::packet::{self, Inbound, InboundQuery};
use super::sources::{Admission, SourceGate};
use super::{PendingDecision, QueryOrigin, QueryPolicy, Transport, Verdict, rebinding};
use boundary_agent_core::dns_decision::{DnsDecision, DnsQuestion, normalize_name};

/// Where a query came from and how (what the policy gets as its origin).
pub(crate) type QueryContext = QueryOrigin;

/// A reply that needs async work; `None` means send nothing.
pub(crate) type LaterReply = Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send + 'static>>;

/// What the listener does next with a packet.
pub(crate) enum Step {
    /// Send the bytes now in `out`.
    Reply,
    /// Send nothing.
    Drop,
    /// Run this (in a task) and send what it yields.
    Later(LaterReply),
}

pub(crate) struct QueryEngine {
    pub policy: Arc<dyn QueryPolicy>,
    /// Who may use the server for what (checked before the policy).
    pub sources: Arc<SourceGate>,
    /// Forwarded A/AAAA records inside these are cut (rebinding protection).
    pub protected: Vec<ipnet::IpNet>,
    pub forwarder: Forwarder,
    pub answers: AnswerSettings,
    pub decision_timeout: std::time::Duration,
    pub counters: Counters,
}

impl QueryEngine {
    /// [`handle`](Self::handle), but a panic in the policy (code outside this module)
    /// drops the packet instead of killing the listener: a dead listener would leave the
    /// machine without DNS.
    pub fn handle_guarded(
        self: &Arc<Self>,
        packet: &[u8],
        ctx: QueryContext,
        out: &mut Vec<u8>,
    ) -> Step {
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.handle(packet, ctx, out)
        }));
        handled.unwrap_or_else(|_| {
            Counters::bump(&self.counters.dropped);
            tracing::error!(client = %ctx.client, "handling a DNS query panicked; dropped it");
            Step::Drop
        })
    }

    /// Handles one received packet. Never panics on any bytes.
    pub fn handle(self: &Arc<Self>, packet: &[u8], ctx: QueryContext, out: &mut Vec<u8>) -> Step {
        Counters::bump(&self.counters.received);
        let query = match packet::parse(packet) {
            Inbound::Query(query) => query,
            Inbound::Drop => {
                Counters::bump(&self.counters.dropped);
                tracing::trace!(client = %ctx.client, len = packet.len(), "dropping a packet that is not a query");
                return Step::Drop;
            }
            Inbound::Reject(rejection) => {
                Counters::bump(&self.counters.rejected);
                tracing::debug!(client = %ctx.client, rcode = %rejection.rcode, "rejecting a malformed or unsupported query");
                answer::encode_error(
                    &rejection.metadata,
                    rejection.question.as_ref(),
                    rejection.edns,
                    rejection.rcode,
                    &self.answers,
                    out,
                );
                return Step::Reply;
            }
        };
        let (admission, proven_local) = self.sources.check(&ctx);
        let ctx = match admission {
            Admission::Full => QueryContext {
                proven_local,
                ..ctx
            },
            Admission::ForwardOnly => return self.later_forward(packet, query, ctx),
            Admission::Refuse => {
                Counters::bump(&self.counters.refused_sources);
                self.encode_rcode(&query, ResponseCode::Refused, out);
                return Step::Reply;
            }
        };
        // Only Internet-class questions can be aliases; CHAOS and friends go upstream.
        if query.question.query_class() != DNSClass::IN {
            return self.later_forward(packet, query, ctx);
        }
        let question = DnsQuestion {
            name: normalize_name(&query.question.name().to_ascii()),
            qtype: u16::from(query.question.query_type()),
            uid: None,
        };
        // Our own loop probes (and anything else under their zone) end here.
        if self.forwarder.loops.arrived(&question.name) {
            Counters::bump(&self.counters.answered_locally);
            self.encode_rcode(&query, ResponseCode::Refused, out);
            return Step::Reply;
        }
        match self.policy.decide(&question, &ctx) {
            Verdict::Now(decision) => match LocalAnswer::from_decision(decision) {
                Some(local) => {
                    self.encode_local(&query, local, ctx.transport, out);
                    Step::Reply
                }
                None => self.later_forward(packet, query, ctx),
            },
            Verdict::Pending(pending) => self.later_decision(packet, query, question, pending, ctx),
        }
    }

    /// Awaits a pending decision (fail open on timeout), then answers or forwards.
    fn later_decision(
        self: &Arc<Self>,
        packet: &[u8],
        query: InboundQuery,
        question: DnsQuestion,
        pending: PendingDecision,
        ctx: QueryContext,
    ) -> Step {
        let engine = Arc::clone(self);
        let packet = packet.to_vec();
        Step::Later(Box::pin(async move {
            let decided = tokio::time::timeout(engine.decision_timeout, pending).await;
            let decision = decided.unwrap_or_else(|_| {
                Counters::bump(&engine.counters.decision_timeouts);
                tracing::info!(name = %question.name, "DNS decision timed out; forwarding the query instead");
                DnsDecision::Forward
            });
            Some(match LocalAnswer::from_decision(decision) {
                Some(local) => {
                    let mut out = Vec::new();
                    engine.encode_local(&query, local, ctx.transport, &mut out);
                    out
                }
                None => engine.forward(&packet, &query, ctx.transport).await,
            })
        }))
    }

    fn encode_local(
        &self,
        query: &InboundQuery,
        local: LocalAnswer,
        transport: Transport,
        out: &mut Vec<u8>,
    ) {
        Counters::bump(&self.counters.answered_locally);
        let limit = match transport {
            Transport::Udp => query.udp_reply_limit(),
            Transport::Tcp => usize::from(u16::MAX),
        };
        answer::encode_local(query, local, &self.answers, limit, out);
    }

    fn later_forward(
        self: &Arc<Self>,
        packet: &[u8],
        query: InboundQuery,
        ctx: QueryContext,
    ) -> Step {
        let engine = Arc::clone(self);
        let packet = packet.to_vec();
        Step::Later(Box::pin(async move {
            Some(engine.forward(&packet, &query, ctx.transport).await)
        }))
    }

    /// Forwards and returns what the client gets: the upstream reply, its truncated
    /// stand-in when it does not fit the client's UDP buffer, or SERVFAIL.
    async fn forward(&self, packet: &[u8], query: &InboundQuery, transport: Transport) -> Vec<u8> {
        let reply = self.forwarder.forward(packet, query, transport).await;
        self.client_reply(query, reply, transport)
    }

    /// The forwarding path after the sockets: what the client receives for `query` when
    /// the upstreams yielded `reply` (already checked and carrying the client's ID;
    /// `None`: every upstream failed). Rebinding protection, then the client's UDP size.
    pub fn client_reply(
        &self,
        query: &InboundQuery,
        reply: Option<Vec<u8>>,
        transport: Transport,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let Some(reply) = reply else {
            Counters::bump(&self.counters.servfail);
            self.encode_servfail(query, &mut out);
            return out;
        };
        Counters::bump(&self.counters.forwarded);
        let reply = match rebinding::strip_protected(&reply, &self.protected) {
            Some(stripped) => {
                Counters::bump(&self.counters.rebinding_cut);
                tracing::debug!(name = %query.question.name(), "removed answers pointing into the agent's prefixes (DNS rebinding)");
                stripped
            }
            None => reply,
        };
        if transport == Transport::Tcp || reply.len() <= query.udp_reply_limit() {
            return reply;
        }
        // The reply passed the forwarder's checks, so it has a header.
        match packet::parse_reply_metadata(&reply) {
            Some(upstream) => {
                answer::encode_truncated_reply(query, &upstream, &self.answers, &mut out)
            }
            None => self.encode_servfail(query, &mut out),
        }
        out
    }

    fn encode_servfail(&self, query: &InboundQuery, out: &mut Vec<u8>) {
        self.encode_rcode(query, ResponseCode::ServFail, out);
    }

    fn encode_rcode(&self, query: &InboundQuery, rcode: ResponseCode, out: &mut Vec<u8>) {
        answer::encode_error(
            &query.metadata,
            Some(&query.question),
            query.edns,
            rcode,
            &self.answers,
            out,
        );
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
