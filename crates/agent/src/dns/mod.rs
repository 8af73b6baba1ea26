//! The agent's DNS server: the IO shell around the core's [`DnsDecision`].
//!
//! It listens on UDP and TCP port 53 of each address the agent serves (one socket pair per
//! address, never the wildcard), turns each query into a [`DnsQuestion`], asks a
//! [`QueryPolicy`], and either answers itself (alias A/AAAA, NODATA with an SOA, NXDOMAIN)
//! or relays the query to the upstream resolvers.
//!
//! # Why not hickory-server
//!
//! DESIGN lists hickory-server; this module uses only **hickory-proto** (to parse the
//! question and build its own answers) and runs its own socket loops, relaying forwarded
//! queries as **raw bytes** (crates.md §1, option (c)). hickory-server would cost:
//! - *fidelity*: its `ResponseHandler` only sends messages rebuilt from parsed records, so a
//!   forwarded reply would be re-encoded — unknown EDNS options, record order and anything
//!   hickory cannot decode would be lost. A byte relay keeps the client's flags, EDNS
//!   options and DO bit on the way up and the DNSSEC records on the way down;
//! - *lifecycle*: one shutdown token per `Server` and no way to unregister a socket, while
//!   alias addresses come and go one at a time. Here every address has its own listeners
//!   that start and stop independently ([`DnsServer::listen`], [`DnsServer::stop_listening`]);
//! - *noise*: it logs every request at INFO.
//!
//! What we write ourselves instead — TCP framing, idle timeouts and concurrency bounds,
//! random IDs and ports for upstream queries, reply validation, the TC→TCP retry — is
//! small and tested against real dnsmasq and dig (`tests/agent_dns.rs`).
//!
//! # Files
//! - [`policy`]: the [`QueryPolicy`] seam and the [`QueryOrigin`] it gets;
//! - `packet`: reading a query (header, one question, the OPT record);
//! - `answer`: building the server's own answers;
//! - `engine`: one query from bytes to reply, independent of the transport;
//! - `forward`, `exchange`, `upstreams`: relaying to the upstream resolvers;
//! - `loop_check`: finding local upstreams that send our queries back;
//! - `udp_listener`, `tcp_listener`, `bind`: sockets; `server`: the control API.
//!
//! # Benchmarks
//! The server runs in-process: build it with [`DnsServer::builder`], `listen` on
//! `127.0.0.1:0` (or any loopback address) and point dnsperf at the returned address.
//! A policy is any `Fn(&DnsQuestion, &QueryOrigin) -> Verdict`.
//!
//! [`DnsDecision`]: boundary_agent_core::dns_decision::DnsDecision
//! [`DnsQuestion`]: boundary_agent_core::dns_decision::DnsQuestion

mod answer;
mod bind;
mod config;
mod counters;
mod engine;
mod error;
mod events;
mod exchange;
mod forward;
mod loop_check;
mod packet;
pub mod policy;
mod rebinding;
mod server;
pub mod sources;
mod tcp_listener;
mod udp_batch;
mod udp_listener;
mod upstream_sockets;
mod upstreams;

pub use config::DnsServerConfig;
pub use counters::DnsCounters;
pub use error::DnsError;
pub use events::{ForwardEvent, ForwardFailure, ForwardObserver, Transport};
pub use policy::{PendingDecision, QueryOrigin, QueryPolicy, Verdict};
pub use server::{DnsServer, DnsServerBuilder};
pub use sources::{Admission, AllowedSources, SourceClass, SourceGate, SourceMap};
pub use upstreams::parse_upstream;
