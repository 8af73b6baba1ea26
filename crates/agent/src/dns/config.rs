//! Tunables of the DNS server. The agent's HCL config maps onto this; only
//! `dns_request_timeout` is a documented Boundary key, the rest are ours with safe defaults.

use std::time::Duration;

/// How the DNS server answers, forwards and bounds its work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsServerConfig {
    /// TTL of alias A/AAAA answers. Short, so a client re-asks (and the agent sees use).
    pub answer_ttl: Duration,
    /// TTL (and SOA minimum) of NODATA/NXDOMAIN answers the server makes itself.
    pub negative_ttl: Duration,
    /// `dns_request_timeout`: how long one upstream attempt (one server, one transport)
    /// may take before the next upstream is tried. Changeable at runtime through
    /// [`DnsServer::set_request_timeout`](super::DnsServer::set_request_timeout).
    pub request_timeout: Duration,
    /// How long a [`Verdict::Pending`](super::Verdict) decision may take; after that the
    /// query is forwarded (fail open). Default 4 s, under glibc's 5 s per try, so that with
    /// a slow controller the client usually still gets an answer from its first try (the
    /// forward itself adds up to `request_timeout` per upstream).
    pub decision_timeout: Duration,
    /// EDNS UDP payload size the server advertises in its own answers (RFC 9715 / DNS flag
    /// day 2020 recommend 1232: no IP fragmentation).
    pub edns_payload: u16,
    /// Per UDP listener: queries being forwarded or decided at the same time. Beyond
    /// that new slow queries are dropped (the client retries).
    pub max_udp_in_flight: usize,
    /// Per TCP listener: open client connections. Beyond that new ones are closed at once.
    pub max_tcp_connections: usize,
    /// Per TCP connection: pipelined queries handled at the same time (RFC 7766 §6.2.1.1);
    /// the server stops reading until one finishes.
    pub max_tcp_pipelined: usize,
    /// A TCP client connection with no query for this long is closed (RFC 7766 §6.2.3).
    pub tcp_idle_timeout: Duration,
    /// Bind listeners even while their address is not (yet) on an interface
    /// (`IP_FREEBIND`): in systemd-resolved mode the addresses live on the agent's own
    /// link, which exists only while the agent is not paused; the sockets stay open and
    /// receive again once the link is back.
    pub bind_before_assigned: bool,
    /// The agent's own prefixes: forwarded A/AAAA records inside them are removed (DNS
    /// rebinding protection, see `rebinding`).
    pub protected_prefixes: Vec<ipnet::IpNet>,
}

impl Default for DnsServerConfig {
    fn default() -> Self {
        DnsServerConfig {
            answer_ttl: Duration::from_secs(5),
            negative_ttl: Duration::from_secs(5),
            request_timeout: Duration::from_secs(2),
            decision_timeout: Duration::from_secs(4),
            edns_payload: 1232,
            max_udp_in_flight: 1024,
            max_tcp_connections: 128,
            max_tcp_pipelined: 16,
            tcp_idle_timeout: Duration::from_secs(10),
            bind_before_assigned: false,
            protected_prefixes: Vec::new(),
        }
    }
}

/// A duration as a DNS TTL (seconds, saturating).
pub(crate) fn ttl_seconds(duration: Duration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}
