//! The performance harness: each scenario of the agent against the tool a user would use
//! instead, measured in the same run on the end-to-end topology (network namespaces, the
//! real `boundary dev` and `boundary-client-agent`, real users; see
//! `tests/support/topology`). Prints a table of absolute numbers, the ratio to the peer
//! and the target; asserts nothing.
//!
//! `scripts/bench` (release build, then this harness) reproduces the README's
//! `## Performance` table; `scripts/bench --smoke` runs every scenario for a moment, as
//! `.ci/run` does so that the harness cannot rot. Needs root, `dnsperf` and `dnsmasq`.
//! `BENCH_SECONDS` sets the length of each load run (default 10); `BENCH_ONLY` picks
//! groups of rows by name (comma-separated: `dns`, `forwarding`, `tunnel`, `first-byte`;
//! default all), to profile one of them. Also needs `iperf3`, `curl`, `socat` and `sshd`.
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

mod dns;
mod dnsperf;
mod relays;
mod report;
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
    let machine = Machine::this();
    eprintln!("harness: {machine}; {load:?}; starting the end-to-end scenario");
    let scenario = Scenario::start();
    let mut table = Table::new(machine, smoke);
    let only = Only::from_env();
    if only.wants("dns") {
        dns::alias_answers(&scenario, load, &mut table);
    }
    if only.wants("forwarding") {
        dns::forwarding(&scenario, load, &mut table);
    }
    if only.wants("tunnel") || only.wants("first-byte") {
        let cold_runs = if smoke { 3 } else { 30 };
        let targets = tunnel::BenchTargets::create(&scenario, cold_runs);
        if only.wants("tunnel") {
            tunnel::throughput(&scenario, &targets, load, &mut table);
        }
        if only.wants("first-byte") {
            tunnel::first_byte(&scenario, &targets, load, &mut table);
            tunnel::cold_first_byte(&scenario, &targets, &mut table);
        }
    }
    println!("{table}");
}

/// The row groups `BENCH_ONLY` selected; all when it is unset or empty.
struct Only(Vec<String>);

impl Only {
    fn from_env() -> Only {
        let names = std::env::var("BENCH_ONLY").unwrap_or_default();
        Only(
            names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    fn wants(&self, group: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|n| n == group)
    }
}
