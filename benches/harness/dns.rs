//! The DNS rows: warm alias answers against dnsmasq answering the same names from
//! `address=` lines, and forwarding of unique names against dnsmasq forwarding (cache
//! off) to the same upstream. Both dnsmasq peers run in the client namespace beside the
//! agent, on loopback addresses of their own; dnsperf runs there as alice (the user whose
//! token the agent holds).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::Load;
use crate::agent::DNS_V4;
use crate::dnsperf::{dnsperf, dnsperf_latencies, dnsperf_with_cpu, query_file};
use crate::report::{Row, Table};
use crate::scenario::{ALIAS, SECOND_ALIAS, Scenario};
use crate::support::dnsmasq::DnsmasqConfig;
use crate::support::topology::UPSTREAM_V4;
use crate::support::wait::READY_TIMEOUT;

/// Where the peer dnsmasq of each row listens in the client namespace.
const ALIAS_PEER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const FORWARDING_PEER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
/// The fixed query rate of the latency rows: a tenth of what either server answers at
/// most here, so the percentiles are the answer path's, not a queue's.
const LATENCY_RATE: u32 = 5_000;
/// Unique names per forwarding run (more than dnsperf sends in a run of this machine).
const UNIQUE_NAMES: usize = 1_000_000;

/// Warm alias answers: both aliases have a live session for alice before the runs.
pub fn alias_answers(scenario: &Scenario, load: Load, table: &mut Table) {
    let alice = &scenario.topology.alice;
    let mut lines = Vec::new();
    let mut peer = DnsmasqConfig::new().listen(ALIAS_PEER.into());
    for alias in [ALIAS, SECOND_ALIAS] {
        let address = scenario.alias_v4(alice, alias);
        lines.push(format!("{alias} A"));
        peer = peer.option(&format!("address=/{alias}/{address}"));
    }
    let file = query_file(scenario.topology.dir(), "alias-queries.txt", lines);
    let (peer_addr, peer_pid) =
        start_dnsmasq(scenario, "bench-alias-dnsmasq", &peer, ALIAS_PEER, ALIAS);
    let client = &scenario.topology.client;
    let agent_pid = scenario.agent().pid;
    let peer = dnsperf_with_cpu(client, alice, peer_addr, peer_pid, &file, load);
    let ours = dnsperf_with_cpu(client, alice, (DNS_V4, 53).into(), agent_pid, &file, load);
    table.push(compared(
        "DNS answers for aliases (warm)",
        ours.summary(),
        "dnsmasq `address=`",
        peer.summary(),
        ours.qps / peer.qps,
        "≥ 1.2× dnsmasq",
    ));
    let peer = dnsperf_latencies(client, alice, peer_addr, &file, load, LATENCY_RATE);
    let ours = dnsperf_latencies(
        client,
        alice,
        (DNS_V4, 53).into(),
        &file,
        load,
        LATENCY_RATE,
    );
    table.push(compared(
        "DNS answers for aliases (warm), latency at 5 000 q/s",
        ours.summary(),
        "dnsmasq `address=`",
        peer.summary(),
        peer.p99_ms / ours.p99_ms,
        "p99 ≤ 1 ms",
    ));
}

/// Forwarding: every query a name nobody asked before (the upstream answers NXDOMAIN for
/// `.test` names it does not know).
pub fn forwarding(scenario: &Scenario, load: Load, table: &mut Table) {
    let alice = &scenario.topology.alice;
    let names = |run: &'static str| (0..UNIQUE_NAMES).map(move |i| format!("n{i}.{run}.test A"));
    let ours_file = query_file(scenario.topology.dir(), "forward-ours.txt", names("ours"));
    let peer_file = query_file(scenario.topology.dir(), "forward-peer.txt", names("peer"));
    let peer = DnsmasqConfig::new()
        .listen(FORWARDING_PEER.into())
        .option(&format!("server={UPSTREAM_V4}"))
        .option("cache-size=0");
    let (peer_addr, peer_pid) = start_dnsmasq(
        scenario,
        "bench-forwarding-dnsmasq",
        &peer,
        FORWARDING_PEER,
        "ordinary.test",
    );
    let client = &scenario.topology.client;
    let agent_pid = scenario.agent().pid;
    let peer = dnsperf_with_cpu(client, alice, peer_addr, peer_pid, &peer_file, load);
    let ours = dnsperf_with_cpu(
        client,
        alice,
        (DNS_V4, 53).into(),
        agent_pid,
        &ours_file,
        load,
    );
    // What both forwarders are up against: the upstream asked directly, same load.
    let upstream_file = query_file(scenario.topology.dir(), "upstream.txt", names("direct"));
    let upstream = dnsperf(
        client,
        alice,
        (UPSTREAM_V4, 53).into(),
        &upstream_file,
        load,
    );
    table.push(compared(
        "DNS forwarding (unique names)",
        ours.summary(),
        "dnsmasq `--server`, cache off",
        format!(
            "{}; the upstream asked directly: {:.0} q/s",
            peer.summary(),
            upstream.qps
        ),
        ours.qps / peer.qps,
        "≥ 1.2×",
    ));
}

/// A row comparing `ours` with `peer` (their summaries), `ratio` in the direction where
/// more is better.
fn compared(
    what: &'static str,
    ours: String,
    peer_name: &str,
    peer: String,
    ratio: f64,
    target: &'static str,
) -> Row {
    Row {
        what,
        ours,
        peer: format!("{peer_name}: {peer}"),
        ratio: Some(ratio),
        target,
    }
}

/// Starts dnsmasq with `config` in the client namespace and waits until it answers
/// `probe`; returns where it listens and its pid.
fn start_dnsmasq(
    scenario: &Scenario,
    log_name: &str,
    config: &DnsmasqConfig,
    listen: Ipv4Addr,
    probe: &str,
) -> (SocketAddr, u32) {
    let topology = &scenario.topology;
    let client = &topology.client;
    // 127.0.0.0/8 routes to lo, but dnsmasq only binds addresses an interface holds.
    client.exec_ok(&["ip", "addr", "add", &format!("{listen}/32"), "dev", "lo"]);
    let path = topology.dir().join(format!("{log_name}.conf"));
    let args = config.write(&path);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pid = topology.spawn(client, log_name, &args);
    let addr = SocketAddr::new(IpAddr::V4(listen), 53);
    client.wait_dns(addr, probe, "A", READY_TIMEOUT);
    (addr, pid)
}
