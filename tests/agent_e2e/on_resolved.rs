//! The agent on a machine whose DNS belongs to systemd-resolved (Ubuntu's and Fedora's
//! shape): the topology's client namespace runs a real resolved with its own system bus
//! (see `tests/support/resolved_lab`), told about the uplink's DNS server the way
//! NetworkManager does, plus a VPN-like link with a routing domain of its own. The agent
//! runs in `auto` with no `interface_to_use`, as a packaged install would, and everything
//! a user does goes through glibc and resolved's stub (127.0.0.53).

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::admin::{AGENT_USER_GRANTS, Admin, log_in};
use crate::agent::{API_URL, DNS_V4, V4_PREFIX, register_with_curl};
use crate::controller::{Controller, TARGET_ID};
use crate::scenario::{ALIAS, ALICE_LOGIN, ALICE_PASSWORD};
use crate::support::cli::parse_json;
use crate::support::dnsmasq::DnsmasqConfig;
use crate::support::netns::connect_with;
use crate::support::os_user::OsUser;
use crate::support::process::{HANG_TIMEOUT, run_with_timeout};
use crate::support::resolved_lab::{ResolvConfShape, ResolvedLab, ResolvedSnapshot};
use crate::support::topology::{CLIENT_UPSTREAM_INTERFACE, Topology, UPSTREAM_V4, UPSTREAM_V6};
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// The agent's link in systemd-resolved mode.
pub const AGENT_LINK: &str = "boundary0";
/// The VPN-like link: its server answers names under [`VPN_DOMAIN`] only.
pub const VPN_LINK: &str = "vpn0";
pub const VPN_DOMAIN: &str = "corp.test";
pub const VPN_NAME: &str = "host.corp.test";
pub const VPN_ANSWER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 77);
/// Subnet of the VPN link (`connect_with`'s numbering; the topology uses 1 to 3).
const VPN_SUBNET: u16 = 7;
const AGENT: &str = env!("CARGO_BIN_EXE_boundary-client-agent");
const BOUNDARY: &str = env!("CARGO_BIN_EXE_boundary");

pub struct OnResolved {
    /// Declared first: dropping it kills the agent and resolved before the topology goes.
    pub lab: ResolvedLab,
    pub topology: Topology,
    /// Held for its lifetime (`boundary dev` in infra).
    _controller: Controller,
    pub admin: Admin,
    pub config: PathBuf,
    /// resolved's configuration, the resolv.conf and the addresses before the agent.
    pub before: MachineState,
    agent_pid: Cell<u32>,
    runs: Cell<usize>,
}

/// What the agent may change and must put back.
#[derive(Debug, PartialEq)]
pub struct MachineState {
    pub resolved: ResolvedSnapshot,
    pub resolv_conf: String,
    pub addresses: Value,
}

impl OnResolved {
    /// Topology, controller, alice, resolved with `shape`, the VPN link, and the agent
    /// running (no token registered yet).
    pub fn start(shape: ResolvConfShape) -> OnResolved {
        let topology = Topology::new();
        let controller = Controller::start(&topology);
        let admin = Admin::log_in(&topology);
        admin.wait_for_worker(&topology, &controller);
        admin.create_alias(&topology, ALIAS, TARGET_ID);
        admin.create_user(&topology, ALICE_LOGIN, ALICE_PASSWORD, &AGENT_USER_GRANTS);
        let lab = ResolvedLab::start(&topology.client, &topology.dir().join("resolved"), shape);
        lab.uplink_dns(
            CLIENT_UPSTREAM_INTERFACE,
            &[UPSTREAM_V4.into(), UPSTREAM_V6.into()],
        );
        add_vpn_link(&topology, &lab);
        let config = write_config(&topology);
        let mut scenario = OnResolved {
            before: MachineState {
                resolved: lab.snapshot(),
                resolv_conf: String::new(),
                addresses: Value::Null,
            },
            lab,
            topology,
            _controller: controller,
            admin,
            config,
            agent_pid: Cell::new(0),
            runs: Cell::new(0),
        };
        scenario.before = scenario.settled_machine_state();
        scenario.start_agent();
        scenario
    }

    /// Starts the agent in the lab and waits until resolved sends it alias names (its
    /// link carries the agent's DNS server) and its local API answers.
    pub fn start_agent(&self) {
        self.runs.set(self.runs.get() + 1);
        let mut command = self.lab.command(AGENT);
        command.arg("-config").arg(&self.config);
        let pid = self.lab.spawn(&self.agent_log(), command);
        self.agent_pid.set(pid);
        poll_until(
            "the agent to configure systemd-resolved",
            READY_TIMEOUT,
            || {
                self.fail_if_agent_exited();
                let link = self.lab.snapshot().links.get(AGENT_LINK).cloned();
                match link {
                    Some(link) if link.dns.contains(&DNS_V4.to_string()) => {}
                    other => return Err(format!("{AGENT_LINK}: {other:?}")),
                }
                let status = self.status(None);
                (status["status"] == "running")
                    .then_some(())
                    .ok_or_else(|| status.to_string())
            },
        );
    }

    pub fn agent_log(&self) -> String {
        format!("agent-{}", self.runs.get())
    }

    pub fn fail_if_agent_exited(&self) {
        let pid = self.agent_pid.get();
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            panic!(
                "the agent (pid {pid}) exited; its log:\n{}",
                self.lab.log(&self.agent_log())
            );
        }
    }

    /// SIGTERM, and waits for the agent to be gone.
    pub fn stop_agent(&self, signal: Signal) {
        let pid = self.agent_pid.get();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal)
            .expect("signal the agent");
        poll_until("the agent to exit", READY_TIMEOUT, || {
            let gone = !PathBuf::from(format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|stat| stat.contains(") Z "));
            gone.then_some(()).ok_or("still running")
        });
        self.lab.kill(pid);
    }

    /// alice logs in and registers her token with curl.
    pub fn register_alice(&self) {
        let login = log_in(&self.topology, ALICE_LOGIN, ALICE_PASSWORD);
        let (code, body) = register_with_curl(&self.topology, &self.topology.alice, &login.token);
        assert!((200..300).contains(&code), "registering: {code} {body}");
    }

    /// `getent hosts name` as `user` inside the lab (glibc → resolved's stub): the first
    /// address, or why there is none.
    pub fn getent(&self, user: &OsUser, name: &str) -> Result<IpAddr, String> {
        let output = self.lab.run_as(user, &["getent", "ahostsv4", name]);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.split_whitespace()
            .next()
            .and_then(|first| first.parse().ok())
            .ok_or_else(|| format!("getent {name}: {} {text}", output.status))
    }

    /// Polls until `getent` as `user` answers `name` with an agent address; returns it.
    pub fn alias_address(&self, user: &OsUser, name: &str) -> IpAddr {
        poll_until(
            &format!("{name} to resolve to an alias address for {}", user.name),
            READY_TIMEOUT,
            || {
                self.fail_if_agent_exited();
                match self.getent(user, name)? {
                    IpAddr::V4(v4) if V4_PREFIX.contains(&v4) && v4 != DNS_V4 => Ok(IpAddr::V4(v4)),
                    other => Err(format!("{name} → {other}")),
                }
            },
        )
    }

    /// `ssh alice@host hostname` as `user` inside the lab.
    pub fn ssh_hostname(&self, user: &OsUser, host: &str) -> Result<String, String> {
        let mut ssh = self.lab.command_as(user, "ssh");
        ssh.args(["-o", "ConnectTimeout=30"])
            .arg(format!("{}@{host}", user.name))
            .arg("hostname");
        let output = run_with_timeout(&mut ssh, None, HANG_TIMEOUT);
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(format!(
                "ssh {host} as {} ({}): {}",
                user.name,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// `boundary client-agent status -format json` as `user` (root when `None`): the item.
    pub fn status(&self, user: Option<&OsUser>) -> Value {
        let mut command = match user {
            Some(user) => self.lab.command_as(user, BOUNDARY),
            None => self.lab.command(BOUNDARY),
        };
        command.args(["client-agent", "status", "-format", "json"]);
        let output = run_with_timeout(&mut command, None, HANG_TIMEOUT);
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Value::String(format!(
                "status failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        parse_json(&text)["item"].clone()
    }

    /// `boundary client-agent <verb>` as root; panics unless it succeeds.
    pub fn client_agent(&self, verb: &str) {
        let mut command = self.lab.command(BOUNDARY);
        command.args(["client-agent", verb]);
        let output = run_with_timeout(&mut command, None, HANG_TIMEOUT);
        assert!(
            output.status.success(),
            "client-agent {verb}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// resolved's configuration, `/etc/resolv.conf` as seen in the lab (a symlink's target
    /// and the content) and every interface's addresses.
    pub fn machine_state(&self) -> MachineState {
        let resolv_conf = self.lab.exec_ok(&[
            "sh",
            "-c",
            "readlink /etc/resolv.conf; cat /etc/resolv.conf",
        ]);
        MachineState {
            resolved: self.lab.snapshot(),
            resolv_conf,
            addresses: self.topology.client.ip_addr_json(),
        }
    }

    /// [`OnResolved::machine_state`] once no IPv6 address is still in duplicate address
    /// detection (a `tentative` flag that later clears is not the agent's doing).
    fn settled_machine_state(&self) -> MachineState {
        poll_until("the client's addresses to leave DAD", READY_TIMEOUT, || {
            let state = self.machine_state();
            if state.addresses.to_string().contains("\"tentative\"") {
                Err(state.addresses.to_string())
            } else {
                Ok(state)
            }
        })
    }

    /// Polls until the machine is exactly as before the agent started.
    pub fn assert_machine_restored(&self, when: &str) {
        poll_until(
            &format!("resolved, resolv.conf and the addresses to be as before {when}"),
            READY_TIMEOUT,
            || {
                let now = self.machine_state();
                if now == self.before {
                    Ok(())
                } else {
                    Err(format!("before: {:?}\nnow: {now:?}", self.before))
                }
            },
        );
    }

    /// The routing domains resolved holds for the agent's link (`None`: no such link).
    pub fn agent_link_domains(&self) -> Option<Vec<String>> {
        self.lab
            .snapshot()
            .links
            .get(AGENT_LINK)
            .map(|link| link.domains.clone())
    }
}

/// A second link to the upstream namespace whose own dnsmasq answers [`VPN_DOMAIN`],
/// given to resolved with that routing domain, as a VPN client would.
fn add_vpn_link(topology: &Topology, lab: &ResolvedLab) {
    let link = connect_with(
        &topology.client,
        &topology.upstream,
        VPN_LINK,
        "to-vpn-client",
        VPN_SUBNET,
    );
    let config = DnsmasqConfig::new()
        .listen(link.b_v4.into())
        .option(&format!("local=/{VPN_DOMAIN}/"))
        .host_record(VPN_NAME, &[VPN_ANSWER.into()]);
    let args = config.write(&topology.dir().join("upstream/vpn-dnsmasq.conf"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    topology.spawn(&topology.upstream, "vpn-dnsmasq", &args);
    lab.resolvectl(&["dns", VPN_LINK, &link.b_v4.to_string()]);
    lab.link_domains(VPN_LINK, &[&format!("~{VPN_DOMAIN}")]);
    lab.link_default_route(VPN_LINK, false);
    poll_until("the VPN link's name to resolve", READY_TIMEOUT, || {
        let answer = lab.getent_hosts(VPN_NAME)?;
        answer
            .iter()
            .any(|line| line.starts_with(&VPN_ANSWER.to_string()))
            .then_some(())
            .ok_or_else(|| format!("{answer:?}"))
    });
}

/// The packaged configuration's shape: `resolver_mode` left at `auto`, no
/// `interface_to_use`; short refresh so alias changes show within seconds.
fn write_config(topology: &Topology) -> PathBuf {
    let dir = topology.dir().join("agent");
    std::fs::create_dir_all(&dir).expect("create the agent's directory");
    let config = dir.join("client-agent.hcl");
    let text = format!(
        "api_listen_address = \"{}\"\n\
         alias_refresh_interval = \"2s\"\n\
         dns_ttl = \"1s\"\n\
         state_file = \"{}\"\n\
         operational_state_file = \"{}\"\n\
         log_to_stdout = true\n\
         log_level = \"debug\"\n",
        API_URL.trim_start_matches("http://"),
        dir.join("state.json").display(),
        dir.join("operational-state.json").display(),
    );
    std::fs::write(&config, text).expect("write the agent's config");
    config
}
