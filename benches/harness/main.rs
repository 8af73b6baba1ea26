//! The performance harness: each scenario of the agent against the tool a user would use
//! instead, measured in the same run on the end-to-end topology (network namespaces, the
//! real `boundary dev` and `boundary-client-agent`, real users; see
//! `tests/support/topology`). Prints a table of absolute numbers, the ratio to the peer
//! and the target; asserts nothing.
//!
//! `scripts/bench` (release build, then this harness) reproduces the README's
//! `## Performance` table; `scripts/bench --smoke` runs every scenario for a moment, as
//! `.ci/run` does so that the harness cannot rot. Needs root, `dnsperf` and `dnsmasq`.
//! `BENCH_SECONDS` sets the length of each load run (default 10). `BENCH_ONLY` (a comma
//! list of `dns`, `forwarding`, `tunnel`, `first-byte`, `scale`) runs only those groups.
//! Also needs `iperf3`, `curl`, `socat` and `sshd`.
#![cfg(target_os = "linux")]

#[path = "../../tests/support/mod.rs"]
mod support;

// The end-to-end scenario (controller, agent, alice's token) and what it builds on; the
// harness uses only part of them.
#[allow(dead_code)]
#[path = "../../tests/agent_e2e/admin.rs"]
mod admin;
#[allow(dead_code)]
#[path = "../../tests/agent_e2e/agent.rs"]
mod agent;
#[allow(dead_code)]
#[path = "../../tests/agent_e2e/controller.rs"]
mod controller;
#[allow(dead_code)]
#[path = "../../tests/agent_e2e/scenario.rs"]
mod scenario;

mod cpu;
mod dns;
mod dnsperf;
mod dnsperf_summary;
mod relays;
mod report;
mod scale;
mod tunnel;

use std::time::Duration;

use report::{Machine, Table};
use scenario::Scenario;

/// How long and how hard each scenario runs.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub duration: Duration,
    /// dnsperf's clients (`-c`).
    pub clients: u32,
}

fn main() {
    let smoke = std::env::args().any(|arg| arg == "--smoke");
    let load = if smoke {
        Load {
            duration: Duration::from_secs(1),
            clients: 1,
        }
    } else {
        let seconds = std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10);
        Load {
            duration: Duration::from_secs(seconds),
            clients: 4,
        }
    };
    let only = Only::from_env();
    let machine = Machine::this();
    eprintln!("harness: {machine}; {load:?}; {only:?}");
    let mut table = Table::new(machine, smoke);
    if only.any(&["dns", "forwarding", "tunnel", "first-byte"]) {
        eprintln!("harness: starting the end-to-end scenario");
        let scenario = Scenario::start();
        if only.has("dns") {
            dns::alias_answers(&scenario, load, &mut table);
        }
        if only.has("forwarding") {
            dns::forwarding(&scenario, load, &mut table);
        }
        if only.any(&["tunnel", "first-byte"]) {
            let cold_runs = if smoke { 3 } else { 30 };
            let targets = tunnel::BenchTargets::create(&scenario, cold_runs);
            if only.has("tunnel") {
                tunnel::throughput(&scenario, &targets, load, &mut table);
            }
            if only.has("first-byte") {
                tunnel::first_byte(&scenario, &targets, load, &mut table);
                tunnel::cold_first_byte(&scenario, &targets, &mut table);
            }
        }
    }
    // Its own scenario (a database file, no token yet); the topology's namespaces are
    // fixed names, so the shared scenario must be gone first.
    if only.has("scale") {
        eprintln!("harness: starting the scale scenario");
        scale::aliases(scale::Scale::new(smoke), load, &mut table);
    }
    println!("{table}");
}

/// The groups `BENCH_ONLY` selects (every group when unset or empty).
#[derive(Debug)]
struct Only(Option<Vec<String>>);

impl Only {
    const GROUPS: [&str; 5] = ["dns", "forwarding", "tunnel", "first-byte", "scale"];

    fn from_env() -> Only {
        let groups: Vec<String> = std::env::var("BENCH_ONLY")
            .unwrap_or_default()
            .split(',')
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty())
            .collect();
        for group in &groups {
            assert!(
                Only::GROUPS.contains(&group.as_str()),
                "BENCH_ONLY: unknown group {group:?} (known: {:?})",
                Only::GROUPS
            );
        }
        Only((!groups.is_empty()).then_some(groups))
    }

    fn has(&self, group: &str) -> bool {
        self.0.as_ref().is_none_or(|g| g.iter().any(|x| x == group))
    }

    fn any(&self, groups: &[&str]) -> bool {
        groups.iter().any(|g| self.has(g))
    }
}
