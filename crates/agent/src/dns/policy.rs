//! The seam between the DNS shell and whoever decides what a question means.
//!
//! The shell parses a packet into a [`DnsQuestion`] and asks a [`QueryPolicy`], passing the
//! query's [`QueryOrigin`] along. Which local user sent a query matters only for a few
//! names (aliases), and finding out costs a socket-owner lookup, so the shell never does it
//! itself: a policy that needs the user looks it up from the origin, and only for the
//! names where the answer depends on it (typically inside a [`Verdict::Pending`]). Most answers
//! are known at once (an alias with a live session, a miss, a paused agent): the policy
//! returns [`Verdict::Now`] and the shell answers inline, without spawning or locking.
//! The first query for an alias may need async work before it can be answered — DESIGN
//! requires that a session and a listener exist before the alias address is handed out —
//! so the policy may instead return [`Verdict::Pending`]: a future the shell awaits (bounded
//! by [`DnsServerConfig::decision_timeout`](super::DnsServerConfig)) in a per-query task.
//! The future resolves to the final decision; an authorization failure must resolve to
//! [`DnsDecision::Forward`] (fail open), which is also what the shell does on timeout.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use super::Transport;
use boundary_agent_core::dns_decision::{DnsDecision, DnsQuestion};

/// Decides what to do with one question. Called on the query's hot path: keep `decide`
/// cheap and non-blocking (no controller calls, no global locks, no work proportional to
/// the number of aliases); put slow work in a [`Verdict::Pending`] future.
/// `question.uid` is always `None` here: attributing the query is the policy's business
/// (see the module documentation).
pub trait QueryPolicy: Send + Sync + 'static {
    fn decide(&self, question: &DnsQuestion, origin: &QueryOrigin) -> Verdict;
}

/// Any `Fn(&DnsQuestion, &QueryOrigin) -> Verdict` is a policy (tests, benches, glue).
impl<F> QueryPolicy for F
where
    F: Fn(&DnsQuestion, &QueryOrigin) -> Verdict + Send + Sync + 'static,
{
    fn decide(&self, question: &DnsQuestion, origin: &QueryOrigin) -> Verdict {
        self(question, origin)
    }
}

/// Where a query came from and how: enough to find the local user who sent it (on Linux
/// a sock_diag lookup of the client's socket: UDP `(client, server)` or the TCP
/// connection's two ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryOrigin {
    /// The client's address and port (the source of the query).
    pub client: SocketAddr,
    /// The server address and port the query was sent to.
    pub server: SocketAddr,
    pub transport: Transport,
    /// The interface the query arrived on (UDP, from `IP_PKTINFO`); `None` for TCP or
    /// when the kernel did not say.
    pub ingress: Option<u32>,
    /// Set by the server before the policy is asked: the sender is certainly a socket on
    /// this host, because the kernel drops a packet from elsewhere that claims this
    /// source (see [`SourceMap::proves_local`](super::SourceMap::proves_local)). When
    /// `false` a local-looking source may still be forged, and only finding the sending
    /// socket proves it.
    pub proven_local: bool,
}

/// A policy's answer: now, or after some async work.
pub enum Verdict {
    /// The decision is known; the shell answers without leaving the receive loop.
    Now(DnsDecision),
    /// The decision needs async work first (e.g. authorizing a session for an alias).
    /// Must resolve to [`DnsDecision::Forward`] when that work fails (fail open).
    Pending(PendingDecision),
}

/// The future behind [`Verdict::Pending`].
pub type PendingDecision = Pin<Box<dyn Future<Output = DnsDecision> + Send + 'static>>;

impl From<DnsDecision> for Verdict {
    fn from(decision: DnsDecision) -> Self {
        Verdict::Now(decision)
    }
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Now(decision) => f.debug_tuple("Now").field(decision).finish(),
            Verdict::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}
