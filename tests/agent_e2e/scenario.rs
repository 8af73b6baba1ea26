//! The common start of every test, so each reads like its scenario: a topology,
//! `boundary dev` in `infra` with its worker registered, two aliases for the seeded
//! target (the sshd in `target`), a Boundary user for the OS user alice with the grants
//! an agent user needs, the agent running in `client`, and alice's token registered.

use std::cell::{Ref, RefCell};
use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::admin::{AGENT_USER_GRANTS, Admin, BoundaryUser, Login, log_in};
use crate::agent::{
    Agent, AgentFiles, DNS_V4, DNS_V6, Expect, V4_PREFIX, V6_PREFIX, register_with_curl,
};
use crate::controller::{Controller, TARGET_ID};
use crate::support::ip_addresses::interface_addresses;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::support::process::{HANG_TIMEOUT, run_with_timeout};
use crate::support::topology::Topology;
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// The alias alice uses; under `.test`, so that dnsmasq (the upstream) answers it with
/// NXDOMAIN whenever the agent does not intercept it.
pub const ALIAS: &str = "db.prod.test";
/// A second alias for the same target.
pub const SECOND_ALIAS: &str = "web.prod.test";
pub const ALICE_LOGIN: &str = "alice";
pub const ALICE_PASSWORD: &str = "alice-password-e2e";
/// The first agent run's log name.
pub const AGENT_LOG: &str = "agent";

pub struct Scenario {
    /// Declared first: dropping it stops every process and removes everything.
    pub topology: Topology,
    pub controller: Controller,
    pub admin: Admin,
    /// alice's Boundary identity (the OS user is `topology.alice`).
    pub alice: BoundaryUser,
    pub files: AgentFiles,
    /// The agent's current run (replaced by [`Scenario::restart_agent`]).
    agent: RefCell<Agent>,
    /// The client's resolv.conf and addresses just before the agent started.
    pub before: Snapshot,
}

impl Scenario {
    /// Everything up to a running agent with alice's token registered (with curl).
    pub fn start() -> Scenario {
        let scenario = Scenario::start_unregistered();
        scenario.register_alice_with_curl();
        scenario
    }

    /// [`Scenario::start`] with more lines in the agent's configuration.
    pub fn start_with(extra_config: &str) -> Scenario {
        let scenario = Scenario::start_unregistered_with(extra_config);
        scenario.register_alice_with_curl();
        scenario
    }

    /// Everything up to a running agent; no token registered yet.
    pub fn start_unregistered() -> Scenario {
        Scenario::start_unregistered_with("")
    }

    /// [`Scenario::start_unregistered`] with more lines in the agent's configuration.
    pub fn start_unregistered_with(extra_config: &str) -> Scenario {
        Scenario::start_unregistered_with_controller(&[], extra_config)
    }

    /// [`Scenario::start_unregistered_with`] with more `boundary dev` flags (a database
    /// file, say).
    pub fn start_unregistered_with_controller(
        controller_args: &[&str],
        extra_config: &str,
    ) -> Scenario {
        let topology = Topology::new();
        let controller = Controller::start_with(&topology, controller_args);
        let admin = Admin::log_in(&topology);
        admin.wait_for_worker(&topology, &controller);
        for alias in [ALIAS, SECOND_ALIAS] {
            admin.create_alias(&topology, alias, TARGET_ID);
        }
        let alice = admin.create_user(&topology, ALICE_LOGIN, ALICE_PASSWORD, &AGENT_USER_GRANTS);
        let files = AgentFiles::write_with(&topology, extra_config);
        let before = Snapshot::settled(&topology);
        let agent = Agent::start(&topology, &files, AGENT_LOG);
        Scenario {
            topology,
            controller,
            admin,
            alice,
            files,
            agent: RefCell::new(agent),
            before,
        }
    }

    /// The agent's current run.
    pub fn agent(&self) -> Ref<'_, Agent> {
        self.agent.borrow()
    }

    /// Starts the agent again (after the current run ended) with the same files, as a
    /// service manager restarts it; the new run's log is `log_name`.
    pub fn restart_agent(&self, log_name: &str, expect: Expect) {
        let agent = Agent::start_expecting(&self.topology, &self.files, log_name, expect);
        *self.agent.borrow_mut() = agent;
    }

    /// alice logs in (elsewhere) and registers her token with curl; returns the login.
    pub fn register_alice_with_curl(&self) -> Login {
        let login = log_in(&self.topology, ALICE_LOGIN, ALICE_PASSWORD);
        let (code, body) = register_with_curl(&self.topology, &self.topology.alice, &login.token);
        assert!(
            (200..300).contains(&code),
            "registering alice's token answered {code}: {body}"
        );
        login
    }

    /// Asks the agent's DNS server for `name` (`A` or `AAAA`) as `user` until it answers
    /// with an address (the user's alias list may still be loading); returns it.
    pub fn resolve_as(&self, user: &OsUser, name: &str, record_type: &str) -> IpAddr {
        self.agent()
            .resolve_as(&self.topology, user, name, record_type)
    }

    /// The user's IPv4 address for `name`, checked to lie in the agent's `v4_prefix` and
    /// not to be its DNS server.
    pub fn alias_v4(&self, user: &OsUser, name: &str) -> IpAddr {
        self.alias_address(user, name, "A")
    }

    /// Like [`Scenario::alias_v4`] for `AAAA` and `v6_prefix`.
    pub fn alias_v6(&self, user: &OsUser, name: &str) -> IpAddr {
        self.alias_address(user, name, "AAAA")
    }

    /// Both addresses of the alias for the user, IPv4 first.
    pub fn alias_addresses(&self, user: &OsUser, name: &str) -> [IpAddr; 2] {
        [self.alias_v4(user, name), self.alias_v6(user, name)]
    }

    fn alias_address(&self, user: &OsUser, name: &str, record_type: &str) -> IpAddr {
        let address = self.resolve_as(user, name, record_type);
        let (in_prefix, prefix, dns_server) = match address {
            IpAddr::V4(v4) if record_type == "A" => (
                V4_PREFIX.contains(&v4),
                V4_PREFIX.to_string(),
                IpAddr::V4(DNS_V4),
            ),
            IpAddr::V6(v6) if record_type == "AAAA" => (
                V6_PREFIX.contains(&v6),
                V6_PREFIX.to_string(),
                IpAddr::V6(DNS_V6),
            ),
            _ => panic!("an {record_type} answer holds {address}"),
        };
        assert!(
            in_prefix && address != dns_server,
            "{name} → {address}, outside {prefix} or the DNS server's address"
        );
        address
    }

    /// `ssh <options> <user>@<host> <command…>` as `user` in `client`, with the user's
    /// ssh config (batch mode, the target's host key trusted for every name).
    pub fn ssh(&self, user: &OsUser, options: &[&str], host: &str, command: &[&str]) -> Output {
        let destination = format!("{}@{host}", user.name);
        let mut ssh = self.topology.client.command_as(user, "ssh");
        ssh.args(["-o", "ConnectTimeout=30"])
            .args(options)
            .arg(&destination)
            .args(command);
        run_with_timeout(&mut ssh, None, HANG_TIMEOUT)
    }

    /// Panics unless `ssh … hostname` as `user` printed the target's hostname.
    pub fn assert_ssh_reaches_target(&self, user: &OsUser, options: &[&str], host: &str) {
        let output = self.ssh(user, options, host, &["hostname"]);
        assert!(
            output.status.success(),
            "ssh {options:?} {host} as {} failed ({}): {}{}",
            user.name,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            self.topology.target_hostname,
            "ssh {options:?} {host} as {}",
            user.name
        );
    }

    /// Whether `address` is currently assigned to an interface of `client`.
    pub fn client_has_address(&self, address: IpAddr) -> bool {
        self.topology
            .client
            .addresses()
            .iter()
            .any(|a| a.address == address)
    }

    /// Addresses on the client now that were not there before the agent started.
    pub fn added_addresses(&self) -> Vec<(String, IpAddr)> {
        let before = interface_addresses(&self.before.addresses);
        self.topology
            .client
            .addresses()
            .into_iter()
            .filter(|now| {
                !before
                    .iter()
                    .any(|b| (&b.interface, b.address) == (&now.interface, now.address))
            })
            .map(|a| (a.interface, a.address))
            .collect()
    }

    /// Polls until the client's resolv.conf and addresses are exactly as before the agent
    /// started (the agent may restore them just after answering).
    pub fn assert_client_restored(&self, when: &str) {
        poll_until(
            &format!("the client's DNS and addresses to be restored {when}"),
            READY_TIMEOUT,
            || {
                let now = Snapshot::take(&self.topology);
                if now == self.before {
                    Ok(())
                } else {
                    Err(self.before.difference(&now))
                }
            },
        );
    }
}

/// What the agent changes on the client: the namespace's resolv.conf (bytes) and every
/// interface's addresses (`ip -j addr`).
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub resolv_conf: Vec<u8>,
    pub addresses: Value,
}

impl Snapshot {
    /// The snapshot once the kernel has finished duplicate address detection for the
    /// links' own IPv6 link-local addresses (a `tentative` flag would otherwise differ
    /// from a later snapshot for reasons that have nothing to do with the agent).
    pub fn settled(topology: &Topology) -> Snapshot {
        poll_until(
            "the client's link-local addresses to leave DAD",
            READY_TIMEOUT,
            || {
                let snapshot = Snapshot::take(topology);
                let tentative = snapshot
                    .addresses
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|link| link["addr_info"].as_array().into_iter().flatten())
                    .any(|info| info["tentative"] == true);
                if tentative {
                    Err(format!("addresses: {}", snapshot.addresses))
                } else {
                    Ok(snapshot)
                }
            },
        )
    }

    pub fn take(topology: &Topology) -> Snapshot {
        let path = topology.client.resolv_conf_path();
        let resolv_conf =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Snapshot {
            resolv_conf,
            addresses: topology.client.ip_addr_json(),
        }
    }

    /// A readable account of how `now` differs from `self`.
    pub fn difference(&self, now: &Snapshot) -> String {
        let mut out = String::new();
        if self.resolv_conf != now.resolv_conf {
            out.push_str(&format!(
                "resolv.conf was {:?}, is {:?}; ",
                String::from_utf8_lossy(&self.resolv_conf),
                String::from_utf8_lossy(&now.resolv_conf)
            ));
        }
        if self.addresses != now.addresses {
            out.push_str(&format!(
                "addresses were {}, are {}",
                self.addresses, now.addresses
            ));
        }
        out
    }
}

/// Panics with the log of the process started as `log_name` if it has exited: a program
/// that is not built yet (or crashed) fails the test at once, saying so.
pub fn fail_if_exited(topology: &Topology, netns: &Netns, pid: u32, log_name: &str) {
    if let Some(status) = netns.wait_exit(pid, Duration::ZERO) {
        panic!(
            "{log_name} (pid {pid}) exited ({status}) although the test needs it running; its \
             output:\n{}",
            topology.log(log_name)
        );
    }
}

/// The socket an ssh to `address` reaches.
pub fn ssh_socket(address: IpAddr) -> SocketAddr {
    SocketAddr::new(address, 22)
}
