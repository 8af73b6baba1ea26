//! DNS answers for aliases: the agent's DNS server (in-process, its real listeners and
//! answer path, a policy that looks names up in a hash map as the core's fast view does)
//! against dnsmasq answering the same names from `address=` lines, both on loopback,
//! loaded by `dnsperf` with the same query file in the same run. Prints queries per
//! second and average latency of each, and the ratio; asserts nothing.
//!
//! `cargo bench --bench dns_answers` (needs `dnsperf` and `dnsmasq`; `BENCH_SECONDS`
//! sets the length of each run, default 10; `BENCH_CLIENTS` dnsperf's clients, default 4).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[path = "harness/dnsperf_summary.rs"]
mod dnsperf_summary;

use boundary_agent::dns::{DnsServer, DnsServerConfig, QueryOrigin, Verdict};
use boundary_agent_core::dns_decision::{AliasAddress, DnsDecision, DnsQuestion, rtype};
use dnsperf_summary::summary_field;

const NAMES: u32 = 1000;

fn main() {
    let seconds = env_number("BENCH_SECONDS", 10);
    let clients = env_number("BENCH_CLIENTS", 4);
    let dir = tempfile::tempdir().expect("temporary directory");
    let names: Vec<(String, Ipv4Addr)> = (0..NAMES)
        .map(|i| {
            let [_, _, hi, lo] = (i + 10).to_be_bytes();
            (format!("a{i}.bench.test"), Ipv4Addr::new(100, 64, hi, lo))
        })
        .collect();
    let queries = dir.path().join("queries.txt");
    let mut text = String::new();
    for (name, _) in &names {
        writeln!(text, "{name} A").unwrap();
    }
    std::fs::write(&queries, text).expect("query file");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let ours = runtime.block_on(start_agent_server(&names));
    let dnsmasq = Dnsmasq::start(dir.path(), &names);

    println!(
        "DNS alias answers, {NAMES} names, dnsperf -c {clients}, {seconds} s per run, loopback"
    );
    let peer = dnsperf(dnsmasq.addr, &queries, clients, seconds);
    let agent = dnsperf(ours.1, &queries, clients, seconds);
    println!(
        "   dnsmasq: {:>9.0} q/s  avg {:>6.3} ms  lost {}",
        peer.qps, peer.avg_ms, peer.lost
    );
    println!(
        "     agent: {:>9.0} q/s  avg {:>6.3} ms  lost {}",
        agent.qps, agent.avg_ms, agent.lost
    );
    println!("agent/dnsmasq: {:.2}x", agent.qps / peer.qps);
    drop(dnsmasq);
    runtime.block_on(ours.0.shutdown());
}

/// The agent's server answering every bench name with its address.
async fn start_agent_server(names: &[(String, Ipv4Addr)]) -> (DnsServer, SocketAddr) {
    let answers: HashMap<String, Ipv4Addr> = names.iter().cloned().collect();
    let policy = move |question: &DnsQuestion, _: &QueryOrigin| -> Verdict {
        match answers.get(question.name.as_str()) {
            Some(v4) if question.qtype == rtype::A => {
                Verdict::Now(DnsDecision::Address(AliasAddress::V4(*v4)))
            }
            Some(_) => Verdict::Now(DnsDecision::NoData),
            None => Verdict::Now(DnsDecision::Forward),
        }
    };
    let server = DnsServer::builder(DnsServerConfig::default(), policy).build();
    let addr = server
        .listen("127.0.0.1:0".parse().unwrap())
        .expect("listen on loopback");
    (server, addr)
}

struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Dnsmasq {
    fn start(dir: &std::path::Path, names: &[(String, Ipv4Addr)]) -> Dnsmasq {
        let port = free_port();
        let mut config = String::from("no-resolv\nno-hosts\nbind-interfaces\n");
        writeln!(
            config,
            "listen-address=127.0.0.1\nport={port}\ncache-size=10000"
        )
        .unwrap();
        for (name, address) in names {
            writeln!(config, "address=/{name}/{address}").unwrap();
        }
        let path = dir.join("dnsmasq.conf");
        std::fs::write(&path, config).expect("dnsmasq config");
        let child = Command::new("dnsmasq")
            .arg("--keep-in-foreground")
            .arg(format!("--conf-file={}", path.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq (apt install dnsmasq-base)");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        std::thread::sleep(Duration::from_millis(300));
        Dnsmasq { child, addr }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Run {
    qps: f64,
    avg_ms: f64,
    lost: u64,
}

fn dnsperf(server: SocketAddr, queries: &std::path::Path, clients: u32, seconds: u32) -> Run {
    let output = Command::new("dnsperf")
        .args([
            "-s",
            &server.ip().to_string(),
            "-p",
            &server.port().to_string(),
        ])
        .arg("-d")
        .arg(queries)
        .args([
            "-c",
            &clients.to_string(),
            "-l",
            &seconds.to_string(),
            "-q",
            "200",
        ])
        .output()
        .expect("dnsperf (apt install dnsperf)");
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |label| summary_field(&text, label);
    Run {
        qps: field("Queries per second:"),
        avg_ms: field("Average Latency (s):") * 1000.0,
        lost: field("Queries lost:") as u64,
    }
}

fn free_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("a free port");
    socket.local_addr().unwrap().port()
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
