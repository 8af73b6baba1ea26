//! The real `boundary-client-agent` as root in `client`, its HCL config (docs/wire-contract.md §5
//! and this project's keys), and what users do with it: `boundary client-agent …` and
//! registering a token, either through the stock CLI's push after `authenticate` or
//! directly with curl against the local API (docs/wire-contract.md §4).

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use ipnet::{Ipv4Net, Ipv6Net};
use nix::sys::signal::Signal;
use serde_json::{Value, json};

use crate::admin::{Login, authenticate};
use crate::controller::CONTROLLER_URL;
use crate::scenario::fail_if_exited;
use crate::support::cli::{Cli, Run, parse_json};
use crate::support::curl::curl;
use crate::support::dig::dig;
use crate::support::executable::agent_binary;
use crate::support::os_user::OsUser;
use crate::support::topology::{CLIENT_INTERFACE, ORDINARY_NAME, ORDINARY_V4, Topology};
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// The agent's prefixes (the defaults, written out so the test does not depend on them).
pub const V4_PREFIX: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10);
pub const V6_PREFIX: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0xfd00, 0xa20a, 0, 0, 0, 0, 0, 0), 48);
/// The agent's DNS server: the first host address of each prefix
/// (`AddressPool::dns_server_addresses`, slot 1).
pub const DNS_V4: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
pub const DNS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xa20a, 0, 0, 0, 0, 0, 1);
/// The local API (the default `api_listen_address`).
pub const API_URL: &str = "http://127.0.0.1:9300";
/// Stops a hung shutdown; not a speed expectation.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// What a starting agent should come up as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Running,
    Paused,
}

/// One run of the agent.
pub struct Agent {
    pub pid: u32,
    pub log_name: String,
}

/// Where the agent's files live in the topology's directory.
pub struct AgentFiles {
    pub config: PathBuf,
    pub state_file: PathBuf,
    pub operational_state_file: PathBuf,
}

impl AgentFiles {
    /// Writes the config (every run of a scenario uses the same files, as a restarted
    /// service does).
    pub fn write(topology: &Topology) -> AgentFiles {
        AgentFiles::write_with(topology, "")
    }

    /// [`AgentFiles::write`] with more configuration lines at the end.
    pub fn write_with(topology: &Topology, extra_config: &str) -> AgentFiles {
        let dir = topology.dir().join("agent");
        fs::create_dir_all(&dir).expect("create the agent's directory");
        let files = AgentFiles {
            config: dir.join("client-agent.hcl"),
            state_file: dir.join("state.json"),
            operational_state_file: dir.join("operational-state.json"),
        };
        let config = format!(
            "v4_prefix = \"{V4_PREFIX}\"\n\
             v6_prefix = \"{V6_PREFIX}\"\n\
             resolver_mode = \"resolv-conf\"\n\
             interface_to_use = \"{CLIENT_INTERFACE}\"\n\
             api_listen_address = \"127.0.0.1:9300\"\n\
             dns_ttl = \"5s\"\n\
             session_idle_timeout = \"30m\"\n\
             state_file = \"{}\"\n\
             operational_state_file = \"{}\"\n\
             log_to_stdout = true\n\
             log_level = \"debug\"\n\
             {extra_config}",
            files.state_file.display(),
            files.operational_state_file.display(),
        );
        fs::write(&files.config, config).expect("write the agent's config");
        files
    }
}

impl Agent {
    /// Starts the agent as root in `client` (log `log_name`) and returns once it is
    /// ready: its DNS server forwards an ordinary name, its local API answers and the
    /// namespace's resolv.conf names it. Fails at once with the log if it exits.
    pub fn start(topology: &Topology, files: &AgentFiles, log_name: &str) -> Agent {
        Agent::start_expecting(topology, files, log_name, Expect::Running)
    }

    /// Like [`Agent::start`]; `Expect::Paused` (the operational state file says paused)
    /// only waits for the local API to report `paused`: a paused agent leaves DNS alone.
    pub fn start_expecting(
        topology: &Topology,
        files: &AgentFiles,
        log_name: &str,
        expect: Expect,
    ) -> Agent {
        let config = files.config.to_string_lossy();
        let pid = topology.spawn(
            &topology.client,
            log_name,
            &[agent_binary(), "-config", &config],
        );
        let agent = Agent {
            pid,
            log_name: log_name.to_owned(),
        };
        match expect {
            Expect::Running => agent.wait_running(topology),
            Expect::Paused => agent.wait_paused(topology),
        }
        agent
    }

    fn wait_running(&self, topology: &Topology) {
        let server = format!("@{DNS_V4}");
        poll_until("the client agent to be ready", READY_TIMEOUT, || {
            self.fail_if_exited(topology);
            let reply = dig(
                &topology.client,
                None,
                &["+time=1", &server, ORDINARY_NAME, "A"],
            )?;
            if !reply.addresses().contains(&IpAddr::V4(ORDINARY_V4)) {
                return Err(format!("the agent's DNS server: {}", reply.text));
            }
            self.api_status(topology)?;
            let resolv_conf = read_resolv_conf(topology);
            if !names_only_the_agent(&resolv_conf) {
                return Err(format!(
                    "resolv.conf does not name the agent: {resolv_conf}"
                ));
            }
            Ok(())
        });
    }

    fn wait_paused(&self, topology: &Topology) {
        poll_until("the client agent to report paused", READY_TIMEOUT, || {
            self.fail_if_exited(topology);
            let status = self.api_status(topology)?;
            if status == "paused" {
                Ok(())
            } else {
                Err(format!("status {status}"))
            }
        });
    }

    /// The agent's `status` (`running`, `paused`) as root sees it, or why there is none.
    fn api_status(&self, topology: &Topology) -> Result<String, String> {
        let run = client_agent(topology, None, &["status", "-format", "json"]);
        if !run.success() {
            return Err(format!("boundary client-agent status: {}", run.stderr));
        }
        let document = run.json();
        Ok(document["item"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Asks the agent's DNS server for `name` (`A` or `AAAA`) as `user` until it answers
    /// with an address (the user's alias list may still be loading); returns it.
    pub fn resolve_as(
        &self,
        topology: &Topology,
        user: &OsUser,
        name: &str,
        record_type: &str,
    ) -> IpAddr {
        let server = format!("@{DNS_V4}");
        poll_until(
            &format!("the agent to answer {name} {record_type} for {}", user.name),
            READY_TIMEOUT,
            || {
                self.fail_if_exited(topology);
                let reply = dig(&topology.client, Some(user), &[&server, name, record_type])?;
                reply
                    .addresses()
                    .first()
                    .copied()
                    .ok_or_else(|| format!("no address yet: {}", reply.text))
            },
        )
    }

    /// Panics with the agent's log if it is no longer running.
    pub fn fail_if_exited(&self, topology: &Topology) {
        fail_if_exited(topology, &topology.client, self.pid, &self.log_name);
    }

    /// SIGTERM, then waits for the agent to exit; returns how it exited.
    pub fn terminate(&self, topology: &Topology) -> ExitStatus {
        topology.client.signal(self.pid, Signal::SIGTERM);
        topology
            .client
            .wait_exit(self.pid, EXIT_TIMEOUT)
            .unwrap_or_else(|| {
                panic!(
                    "the agent did not exit within {EXIT_TIMEOUT:?} of SIGTERM; log:\n{}",
                    topology.log(&self.log_name)
                )
            })
    }

    /// SIGKILL: the agent gets no chance to clean up (a crash).
    pub fn kill(&self, topology: &Topology) {
        topology.client.kill(self.pid);
    }
}

/// `boundary client-agent <args>` in `client` as `user` (root when `None`).
pub fn client_agent(topology: &Topology, user: Option<&OsUser>, args: &[&str]) -> Run {
    let mut all = vec!["client-agent"];
    all.extend_from_slice(args);
    Cli::in_netns(&topology.client, user).run(&all)
}

/// [`client_agent`] that panics unless it succeeds; returns stdout.
pub fn client_agent_ok(topology: &Topology, user: Option<&OsUser>, args: &[&str]) -> String {
    client_agent(topology, user, args).ok()
}

/// `status -format json` as `user`: the item.
pub fn status_json(topology: &Topology, user: Option<&OsUser>) -> Value {
    let document = parse_json(&client_agent_ok(
        topology,
        user,
        &["status", "-format", "json"],
    ));
    assert_eq!(document["status_code"], 200, "{document}");
    document["item"].clone()
}

/// `sessions -format json` as `user`: the items.
pub fn sessions_json(topology: &Topology, user: Option<&OsUser>) -> Vec<Value> {
    let document = parse_json(&client_agent_ok(
        topology,
        user,
        &["sessions", "-format", "json"],
    ));
    assert_eq!(document["status_code"], 200, "{document}");
    document["items"]
        .as_array()
        .unwrap_or_else(|| panic!("sessions without items: {document}"))
        .clone()
}

/// `POST /v1/tokens` with curl as `user` for the scenario's controller (the body on
/// stdin, never on a command line); returns the HTTP status and body.
pub fn register_with_curl(topology: &Topology, user: &OsUser, token: &str) -> (u16, String) {
    post_token(topology, user, CONTROLLER_URL, token, &[])
}

/// `POST /v1/tokens` with curl as `user`: `token` of the controller at `boundary_addr`,
/// with more request headers; returns the HTTP status and body.
pub fn post_token(
    topology: &Topology,
    user: &OsUser,
    boundary_addr: &str,
    token: &str,
    headers: &[&str],
) -> (u16, String) {
    let body = json!({"boundary_addr": boundary_addr, "token": token}).to_string();
    let url = format!("{API_URL}/v1/tokens");
    let mut args = vec!["-X", "POST", "-H", "Content-Type: application/json"];
    for header in headers {
        args.extend(["-H", header]);
    }
    args.extend(["--data-binary", "@-", &url]);
    curl(&topology.client, Some(user), &args, Some(body.as_bytes()))
}

/// Panics unless `status` (a `status -format json` item) shows no token.
pub fn assert_no_token(status: &Value) {
    assert!(
        status["auth_token_id"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{status}"
    );
}

/// `boundary authenticate password` run as `user` in `client`, the way a user logs in:
/// the stock CLI pushes the new token to the agent itself. `-keyring-type none` keeps
/// the token out of the kernel keyring (nothing left behind when the user is deleted).
pub fn register_with_cli(
    topology: &Topology,
    user: &OsUser,
    login_name: &str,
    password: &str,
) -> Login {
    authenticate(
        Cli::in_netns(&topology.client, Some(user)),
        login_name,
        password,
    )
}

/// The namespace's resolv.conf as glibc in `client` reads it.
pub fn read_resolv_conf(topology: &Topology) -> String {
    let path = topology.client.resolv_conf_path();
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Waits until the client's resolv.conf names the agent (and nothing else).
pub fn wait_until_the_agent_is_the_resolver(topology: &Topology) {
    poll_until("resolv.conf to name the agent", READY_TIMEOUT, || {
        let resolv_conf = read_resolv_conf(topology);
        if names_only_the_agent(&resolv_conf) {
            Ok(())
        } else {
            Err(resolv_conf)
        }
    });
}

/// The `nameserver` addresses of a resolv.conf.
pub fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| line.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().parse().ok())
        .collect()
}

/// Whether the resolv.conf sends every query to the agent (and to nothing else).
pub fn names_only_the_agent(resolv_conf: &str) -> bool {
    let servers = nameservers(resolv_conf);
    !servers.is_empty()
        && servers
            .iter()
            .all(|s| *s == IpAddr::V4(DNS_V4) || *s == IpAddr::V6(DNS_V6))
}
