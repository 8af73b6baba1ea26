//! What the server tells the rest of the agent about upstream health: one event per
//! forwarding attempt, so the core's failure breaker can pause the agent when upstreams
//! keep failing.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// The transport a query arrived on, or an upstream attempt used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        })
    }
}

/// The outcome of forwarding, reported to the [`ForwardObserver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardEvent {
    /// An upstream answered (NXDOMAIN is an answer, not a failure).
    Answered {
        upstream: SocketAddr,
        transport: Transport,
    },
    /// An upstream replied SERVFAIL, NOTIMP or REFUSED (`rcode`): the next upstream is
    /// tried, and this reply goes to the client only if none answers.
    Declined {
        upstream: SocketAddr,
        transport: Transport,
        rcode: u8,
    },
    /// One attempt failed; the next upstream (if any) is tried.
    UpstreamFailed {
        upstream: SocketAddr,
        transport: Transport,
        failure: ForwardFailure,
    },
    /// Every upstream failed (`tried == 0`: none is configured, or all of them are the
    /// agent's own addresses; upstreams left out because they loop count as tried); the
    /// client got SERVFAIL.
    Exhausted { tried: usize },
    /// A loopback upstream sent a probe back to the agent; it is left out of forwarding
    /// until it stops (see `loop_check`).
    Looping { upstream: SocketAddr },
}

/// Why one upstream attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardFailure {
    /// No valid reply within `dns_request_timeout`.
    Timeout,
    /// The socket failed (connection refused, network unreachable, reset, ...).
    Io(std::io::ErrorKind),
    /// The upstream sent something that is not a reply to our query (over TCP, where a
    /// stray datagram cannot be the explanation).
    BadReply,
}

impl fmt::Display for ForwardFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardFailure::Timeout => f.write_str("timed out"),
            ForwardFailure::Io(kind) => write!(f, "{kind}"),
            ForwardFailure::BadReply => f.write_str("sent a reply that does not match the query"),
        }
    }
}

/// Receives every [`ForwardEvent`]. Called inline on the forwarding path: keep it cheap
/// (push to a channel or bump counters).
pub type ForwardObserver = Arc<dyn Fn(&ForwardEvent) + Send + Sync>;
