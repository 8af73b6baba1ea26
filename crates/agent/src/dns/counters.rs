//! Query counters: relaxed atomics, so counting never takes a lock on the hot path.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of what the server has done since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DnsCounters {
    /// Packets received on any listener (UDP datagrams and TCP frames).
    pub received: u64,
    /// Answered by the server itself (alias address, NODATA, NXDOMAIN).
    pub answered_locally: u64,
    /// Forwarded queries that got an upstream reply.
    pub forwarded: u64,
    /// Answered SERVFAIL because every upstream failed.
    pub servfail: u64,
    /// Answered FORMERR, NOTIMP or BADVERS without asking anyone.
    pub rejected: u64,
    /// Ignored: shorter than a DNS header, or not a query.
    pub dropped: u64,
    /// Dropped or refused because a listener was at its concurrency limit.
    pub overloaded: u64,
    /// Pending policy decisions that timed out (the query was forwarded).
    pub decision_timeouts: u64,
    /// Refused because of where they came from (`dns_allowed_sources`).
    pub refused_sources: u64,
    /// Forwarded replies that pointed into the agent's prefixes and were cut.
    pub rebinding_cut: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub received: AtomicU64,
    pub answered_locally: AtomicU64,
    pub forwarded: AtomicU64,
    pub servfail: AtomicU64,
    pub rejected: AtomicU64,
    pub dropped: AtomicU64,
    pub overloaded: AtomicU64,
    pub decision_timeouts: AtomicU64,
    pub refused_sources: AtomicU64,
    pub rebinding_cut: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> DnsCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DnsCounters {
            received: get(&self.received),
            answered_locally: get(&self.answered_locally),
            forwarded: get(&self.forwarded),
            servfail: get(&self.servfail),
            rejected: get(&self.rejected),
            dropped: get(&self.dropped),
            overloaded: get(&self.overloaded),
            decision_timeouts: get(&self.decision_timeouts),
            refused_sources: get(&self.refused_sources),
            rebinding_cut: get(&self.rebinding_cut),
        }
    }
}
