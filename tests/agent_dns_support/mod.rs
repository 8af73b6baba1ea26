//! Test fixture for the agent's DNS server: a fresh network namespace, a real dnsmasq as
//! the upstream, and the server on 127.0.0.53 and fd00:53::53 with a test policy.

#![allow(dead_code)]

pub mod dnsmasq;
pub mod server_thread;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boundary_agent::dns::{DnsServer, DnsServerConfig, ForwardEvent, QueryOrigin, Verdict};
use boundary_agent_core::dns_decision::{AliasAddress, DnsDecision, DnsQuestion, rtype};

use crate::support::dig::{DigReply, run_dig};
use crate::support::netns::Netns;
use dnsmasq::Dnsmasq;
use server_thread::ServerThread;

pub const SERVER_V4: &str = "127.0.0.53";
pub const SERVER_V6: &str = "fd00:53::53";
pub const UPSTREAM: &str = "127.0.0.2";
pub const ALIAS: &str = "db.alias.test";
pub const ALIAS_V4: &str = "100.64.0.7";
pub const ALIAS_V6: &str = "fd00:a20a::7";
pub const WHOAMI: &str = "whoami.alias.test";
pub const SLOW_ALIAS: &str = "slow.alias.test";
pub const DENIED: &str = "denied.test";
pub const ATTRIBUTED_UID: u32 = 7;

/// What the test policy and hooks saw.
#[derive(Default)]
pub struct Seen {
    pub questions: Mutex<Vec<DnsQuestion>>,
    pub origins: Mutex<Vec<QueryOrigin>>,
    pub events: Mutex<Vec<ForwardEvent>>,
}

// Field order is drop order: the server stops, then dnsmasq, then the namespace goes.
pub struct Fixture {
    pub server: ServerThread,
    pub dnsmasq: Dnsmasq,
    pub seen: Arc<Seen>,
    pub netns: Netns,
}

impl Fixture {
    pub fn start() -> Fixture {
        let netns = Netns::new("agent-dns");
        netns.exec_ok(&[
            "ip",
            "-6",
            "addr",
            "add",
            "fd00:53::53/128",
            "dev",
            "lo",
            "nodad",
        ]);
        let dnsmasq = Dnsmasq::start(&netns, UPSTREAM);
        let seen = Arc::new(Seen::default());
        let config = DnsServerConfig {
            request_timeout: Duration::from_millis(800),
            tcp_idle_timeout: Duration::from_secs(1),
            ..DnsServerConfig::default()
        };
        let events_seen = Arc::clone(&seen);
        let builder = DnsServer::builder(config, policy(Arc::clone(&seen)))
            .upstreams(vec![dnsmasq.addr])
            .forward_observer(Arc::new(move |event: &ForwardEvent| {
                events_seen.events.lock().unwrap().push(*event);
            }));
        let server = ServerThread::start(&netns, builder);
        server
            .run(|server| async move {
                server.listen(SocketAddr::new(SERVER_V4.parse().unwrap(), 53))?;
                server.listen(SocketAddr::new(SERVER_V6.parse().unwrap(), 53))
            })
            .expect("the DNS server listens");
        Fixture {
            server,
            dnsmasq,
            seen,
            netns,
        }
    }

    /// Whether the server reported `event` to its forward observer so far.
    pub fn saw(&self, event: ForwardEvent) -> bool {
        self.seen.events.lock().unwrap().contains(&event)
    }

    /// dig at the server's IPv4 address, whatever it printed.
    pub fn dig(&self, args: &[&str]) -> DigReply {
        self.dig_at(SERVER_V4, args)
    }

    pub fn dig_at(&self, server: &str, args: &[&str]) -> DigReply {
        let mut all = vec![format!("@{server}")];
        all.extend(args.iter().map(|a| a.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run_dig(&self.netns, None, &all)
    }
}

/// `db.alias.test` is an alias (v4 + v6), `whoami.alias.test` answers with the uid it
/// attributes from the query's origin (loopback clients: [`ATTRIBUTED_UID`]) in the last
/// octet, `slow.alias.test` needs async work first, `denied.test` fails
/// authorization (forwarded), `use-application-dns.net` is NXDOMAIN, all else forwarded.
fn policy(
    seen: Arc<Seen>,
) -> impl Fn(&DnsQuestion, &QueryOrigin) -> Verdict + Send + Sync + 'static {
    move |q: &DnsQuestion, origin: &QueryOrigin| {
        seen.questions.lock().unwrap().push(q.clone());
        seen.origins.lock().unwrap().push(*origin);
        let v4 = |ip: &str| DnsDecision::Address(AliasAddress::V4(ip.parse().unwrap()));
        match q.name.as_str() {
            ALIAS => match q.qtype {
                rtype::A => v4(ALIAS_V4).into(),
                rtype::AAAA => {
                    DnsDecision::Address(AliasAddress::V6(ALIAS_V6.parse().unwrap())).into()
                }
                _ => DnsDecision::NoData.into(),
            },
            WHOAMI if q.qtype == rtype::A => {
                let uid = origin.client.ip().is_loopback().then_some(ATTRIBUTED_UID);
                let last = uid.map_or(0, |uid| uid as u8);
                DnsDecision::Address(AliasAddress::V4(Ipv4Addr::new(100, 64, 1, last))).into()
            }
            SLOW_ALIAS => Verdict::Pending(Box::pin(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                DnsDecision::Address(AliasAddress::V4("100.64.0.8".parse().unwrap()))
            })),
            DENIED => Verdict::Pending(Box::pin(async {
                tokio::task::yield_now().await;
                DnsDecision::Forward // authorization failed: fail open
            })),
            "use-application-dns.net" => DnsDecision::NxDomain.into(),
            _ => DnsDecision::Forward.into(),
        }
    }
}

pub fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse::<Ipv4Addr>().unwrap())
}

pub fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap())
}
