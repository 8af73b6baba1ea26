//! The real `boundary-client-agent` binary in the end-to-end topology's client namespace,
//! with real dnsmasq upstream: what it does to the machine at start, pause, resume, stop
//! and after a crash, and that ordinary names keep resolving through it. (Sessions
//! through aliases are the end-to-end suite's business.) Needs root.
#![cfg(target_os = "linux")]

#[path = "../support/mod.rs"]
mod support;

mod lifecycle;
mod refusals;
mod upstream_loops;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use support::cli::{Cli, Run, parse_json};
use support::dig::run_dig;
use support::executable::agent_binary;
use support::netns::Netns;
use support::topology::{CLIENT_INTERFACE, Topology};
use support::wait::{READY_TIMEOUT, poll_until};

/// Stops a hung agent; never an expectation about speed.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
const READY_LINE: &str = "the client agent is ready";

/// The topology, the agent's configuration file and what the client namespace looked
/// like before the agent ever ran.
pub struct Fixture {
    pub topology: Topology,
    pub config: PathBuf,
    pub state_file: PathBuf,
    pub operational_state_file: PathBuf,
    pub resolv_conf_before: Vec<u8>,
    pub addresses_before: BTreeSet<String>,
    runs: usize,
}

/// One started agent process.
pub struct Agent {
    pub pid: u32,
    pub log: String,
}

impl Fixture {
    pub fn in_topology() -> Fixture {
        let topology = Topology::new();
        let dir = topology.dir().join("agent");
        std::fs::create_dir_all(&dir).unwrap();
        let state_file = dir.join("state.json");
        let operational_state_file = dir.join("operational-state.json");
        let config = dir.join("client-agent.hcl");
        std::fs::write(
            &config,
            format!(
                "state_file = \"{}\"\noperational_state_file = \"{}\"\nlog_level = \"debug\"\n",
                state_file.display(),
                operational_state_file.display()
            ),
        )
        .unwrap();
        let resolv_conf_before = std::fs::read(topology.client.resolv_conf_path()).unwrap();
        let addresses_before = addresses(&topology.client);
        Fixture {
            topology,
            config,
            state_file,
            operational_state_file,
            resolv_conf_before,
            addresses_before,
            runs: 0,
        }
    }

    pub fn client(&self) -> &Netns {
        &self.topology.client
    }

    /// Starts the agent and waits until it says it is ready.
    pub fn start(&mut self) -> Agent {
        let agent = self.spawn();
        self.topology
            .wait_for_log(&agent.log, READY_LINE, READY_TIMEOUT);
        agent
    }

    /// Starts the agent without waiting.
    pub fn spawn(&mut self) -> Agent {
        self.runs += 1;
        let log = format!("agent-{}", self.runs);
        let config = self.config.display().to_string();
        let pid = self.topology.spawn(
            &self.topology.client,
            &log,
            &[agent_binary(), "-config", &config],
        );
        Agent { pid, log }
    }

    /// SIGTERM, and the agent's exit status.
    pub fn stop(&self, agent: &Agent) -> std::process::ExitStatus {
        self.client().signal(agent.pid, Signal::SIGTERM);
        self.client()
            .wait_exit(agent.pid, EXIT_TIMEOUT)
            .unwrap_or_else(|| panic!("the agent did not exit after SIGTERM"))
    }

    pub fn resolv_conf(&self) -> Vec<u8> {
        std::fs::read(self.client().resolv_conf_path()).unwrap()
    }

    /// The nameservers the client's resolv.conf names now.
    pub fn nameservers(&self) -> Vec<IpAddr> {
        String::from_utf8_lossy(&self.resolv_conf())
            .lines()
            .filter_map(|line| line.strip_prefix("nameserver "))
            .filter_map(|address| address.trim().parse().ok())
            .collect()
    }

    /// Asserts the client namespace is exactly as before the agent: resolv.conf byte for
    /// byte, the same addresses, no crash-recovery state left.
    pub fn assert_untouched(&self) {
        assert_eq!(
            String::from_utf8_lossy(&self.resolv_conf()),
            String::from_utf8_lossy(&self.resolv_conf_before),
            "resolv.conf is back byte for byte"
        );
        assert_eq!(self.resolv_conf(), self.resolv_conf_before);
        assert_eq!(addresses(self.client()), self.addresses_before);
        assert!(
            !self.state_file.exists(),
            "the crash-recovery state file is removed"
        );
    }

    /// Waits until the agent is the client's resolver (its DNS addresses on the
    /// interface, resolv.conf naming them).
    pub fn wait_taken_over(&self) -> Vec<IpAddr> {
        poll_until("the agent to be the resolver", READY_TIMEOUT, || {
            let ours = self.nameservers();
            let on_interface = addresses(self.client());
            let all_ours = !ours.is_empty()
                && ours.iter().all(|ip| {
                    on_interface
                        .iter()
                        .any(|a| a.starts_with(&format!("{CLIENT_INTERFACE} {ip}/")))
                });
            if all_ours {
                Ok(ours)
            } else {
                Err(format!("nameservers {ours:?}, addresses {on_interface:?}"))
            }
        })
    }

    /// `boundary client-agent <verb>` as root in the client namespace.
    pub fn cli(&self, args: &[&str]) -> Run {
        let mut full = vec!["client-agent"];
        full.extend_from_slice(args);
        Cli::in_netns(self.client(), None).run(&full)
    }

    pub fn cli_ok(&self, args: &[&str]) -> String {
        self.cli(args).ok()
    }
}

/// `<interface> <address>/<prefix>` for every address in the namespace.
pub fn addresses(netns: &Netns) -> BTreeSet<String> {
    netns
        .addresses()
        .iter()
        .map(|a| format!("{} {}/{}", a.interface, a.address, a.prefix_len))
        .collect()
}

/// `dig +short name type` through the namespace's resolv.conf.
pub fn dig(netns: &Netns, name: &str, record_type: &str) -> Vec<String> {
    let reply = run_dig(
        netns,
        None,
        &["+short", "+time=2", "+tries=2", name, record_type],
    );
    assert!(
        reply.success,
        "dig {name} {record_type}: {}{}",
        reply.text, reply.stderr
    );
    reply.text.lines().map(str::to_owned).collect()
}
