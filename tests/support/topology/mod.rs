//! The end-to-end test topology: four network namespaces with real servers and real OS
//! users, built by [`Topology::new`] and torn down when the guard drops (also when the
//! test panics: every process in the namespaces is killed, users deleted, namespaces,
//! `/etc/netns/<ns>` and the temporary directory removed; logs are printed first).
//!
//! ```text
//!              198.18.1.0/24  fd00:198:18:1::/64             198.18.2.0/24  fd00:198:18:2::/64
//!  ┌──────────────┐ to-infra       to-client ┌──────────────┐ to-target       to-infra ┌──────────────┐
//!  │ client       │ .1.1 ─────────────── .1.2│ infra        │ .2.1 ─────────────── .2.2│ target       │
//!  │ default route│  ::1                  ::2│ no forwarding│  ::1                  ::2│ sshd :22     │
//!  │  via .1.2/::2│                          │ (controller, │                          │ http :80     │
//!  │ (agent, users│                          │  worker)     │                          │ echo :7      │
//!  │  alice, bob) │                          └──────────────┘                          │ no route back│
//!  └──────┬───────┘                                                                    └──────────────┘
//!         │ to-upstream .3.1 / ::1     198.18.3.0/24  fd00:198:18:3::/64
//!         │ to-client   .3.2 / ::2
//!  ┌──────┴───────┐
//!  │ upstream     │ dnsmasq :53 (ordinary names under .test)
//!  └──────────────┘
//! ```
//!
//! - The client's default route (v4 and v6) leaves through [`CLIENT_INTERFACE`], the
//!   interface the agent adds its alias addresses to. Its resolv.conf
//!   (`/etc/netns/<client>/resolv.conf`) names dnsmasq ([`UPSTREAM_V4`], [`UPSTREAM_V6`]).
//! - The target is reachable from `infra` only: infra does not forward and the target has
//!   no route to the client, so a client reaching it proves the path went through the
//!   worker ([`Topology::assert_target_isolated_from_client`]).
//! - Every topology uses the same addresses (namespaces are isolated from each other);
//!   namespace names, user names and the directory are unique per topology.
//! - `target`'s sshd runs in its own UTS namespace named [`Topology::target_hostname`],
//!   so `ssh <target> hostname` prints the target's own name. Infra's `/etc/hosts` maps
//!   that name to the target.
//! - `alice` and `bob` are real login users with ed25519 keys and an ssh client config
//!   trusting the target's host key; only alice is authorised on the target's sshd.
//!
//! Run commands with the [`Netns`] helpers (`topology.infra.run_as(&topology.alice,
//! &["ssh", …])`, which time out instead of hanging), start long-running programs with
//! [`Topology::spawn`] (logs in the topology's directory, printed when a test fails).

mod directory;
mod logs;
mod services;
mod ssh_user;

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use super::netns::{Link, Netns, connect_with};
use super::os_user::OsUser;
use super::wait::READY_TIMEOUT;
use directory::TopologyDir;
use logs::ProcessLogs;
// Re-exported for the test crates; each uses only some (see `dead_code` in support/mod.rs).
#[allow(unused_imports)]
pub use services::{
    BIG_TXT_LENGTH, BIG_TXT_NAME, BIG_TXT_RECORDS, MISSING_NAME, ORDINARY_NAME, ORDINARY_V4,
    ORDINARY_V6, REBIND_INSIDE_V4, REBIND_INSIDE_V6, REBIND_NAME, REBIND_OUTSIDE_V4, Sshd,
    WWW_NAME, WWW_V4, WWW_V6, big_txt,
};
#[allow(unused_imports)]
pub use ssh_user::PRIVATE_KEY;

/// The client's interface toward infra: its default route, where the agent adds aliases.
pub const CLIENT_INTERFACE: &str = "to-infra";
/// The client's interface toward the upstream DNS server.
pub const CLIENT_UPSTREAM_INTERFACE: &str = "to-upstream";
/// Infra's interfaces toward the client and toward the target.
pub const INFRA_CLIENT_INTERFACE: &str = "to-client";
pub const INFRA_TARGET_INTERFACE: &str = "to-target";

/// The client's address on [`CLIENT_INTERFACE`].
pub const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
pub const CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 1, 0, 0, 0, 1);
/// Infra's address toward the client (the default gateway; where controller and worker
/// listen for the agent).
pub const INFRA_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
pub const INFRA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 1, 0, 0, 0, 2);
/// Infra's address toward the target (the source of the worker's connections).
pub const INFRA_TARGET_SIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 1);
pub const INFRA_TARGET_SIDE_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 2, 0, 0, 0, 1);
/// The target's address (reachable from infra only).
pub const TARGET_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 2);
pub const TARGET_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 2, 0, 0, 0, 2);
/// The client's address toward the upstream.
pub const CLIENT_UPSTREAM_SIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 1);
pub const CLIENT_UPSTREAM_SIDE_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 3, 0, 0, 0, 1);
/// dnsmasq's addresses (port 53), reachable from the client only.
pub const UPSTREAM_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 2);
pub const UPSTREAM_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 3, 0, 0, 0, 2);

/// Ports of the target's servers and of dnsmasq.
pub const SSH_PORT: u16 = 22;
pub const HTTP_PORT: u16 = 80;
pub const ECHO_PORT: u16 = 7;
pub const DNS_PORT: u16 = 53;

/// Bounds the client's attempt to reach the target directly; the attempt must fail, and
/// silently dropped packets only fail by timing out.
const ISOLATION_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

static STALE_CLEANUP: Once = Once::new();

/// Name prefixes of the client, infra, target and upstream namespaces.
const NETNS_PREFIXES: [&str; 4] = ["topo-client", "topo-infra", "topo-target", "topo-upstream"];

pub struct Topology {
    pub client: Netns,
    pub infra: Netns,
    pub target: Netns,
    pub upstream: Netns,
    /// `a` = client ([`CLIENT_INTERFACE`]), `b` = infra.
    pub client_infra: Link,
    /// `a` = infra, `b` = target.
    pub infra_target: Link,
    /// `a` = client, `b` = upstream.
    pub client_upstream: Link,
    /// Login users (names `alice<pid>x<n>`, `bob<pid>x<n>`; homes in the topology's
    /// directory). alice may log in to the target's sshd as herself, bob may not.
    pub alice: OsUser,
    pub bob: OsUser,
    /// What `hostname` prints in the target's sshd sessions (the target namespace's name).
    pub target_hostname: String,
    logs: ProcessLogs,
    /// Declared last: removed after the namespaces and users.
    dir: TopologyDir,
}

impl Topology {
    /// Builds the topology and returns once sshd, the HTTP and echo servers answer from
    /// infra and dnsmasq answers the client.
    pub fn new() -> Topology {
        STALE_CLEANUP.call_once(directory::remove_stale);
        let dir = TopologyDir::create();
        let [client, infra, target, upstream] = NETNS_PREFIXES.map(Netns::new);
        let [client_infra, infra_target, client_upstream] =
            wire(&client, &infra, &target, &upstream);
        client.write_resolv_conf(
            format!("nameserver {UPSTREAM_V4}\nnameserver {UPSTREAM_V6}\n").as_bytes(),
        );
        let target_hostname = target.name().to_owned();
        infra.write_etc_file(
            "hosts",
            format!(
                "127.0.0.1 localhost\n::1 localhost\n{TARGET_V4} {target_hostname}\n\
                 {TARGET_V6} {target_hostname}\n"
            )
            .as_bytes(),
        );
        let homes = dir.path().join("home");
        services::make_dir(&homes);
        services::make_dir(&dir.path().join("target"));
        services::make_dir(&dir.path().join("upstream"));
        let alice = OsUser::create_login("alice", &homes);
        let bob = OsUser::create_login("bob", &homes);
        let topology = Topology {
            client,
            infra,
            target,
            upstream,
            client_infra,
            infra_target,
            client_upstream,
            alice,
            bob,
            target_hostname,
            logs: ProcessLogs::new(dir.path().join("logs")),
            dir,
        };
        topology.start_sshd();
        topology.start_http();
        topology.start_echo();
        topology.start_dnsmasq();
        let host_key = topology.target_host_key();
        ssh_user::prepare(&topology.alice, &host_key);
        ssh_user::prepare(&topology.bob, &host_key);
        topology.authorize_on_target(&topology.alice);
        for address in [
            SocketAddr::new(TARGET_V4.into(), SSH_PORT),
            SocketAddr::new(TARGET_V6.into(), SSH_PORT),
            SocketAddr::new(TARGET_V4.into(), HTTP_PORT),
            SocketAddr::new(TARGET_V4.into(), ECHO_PORT),
        ] {
            topology.infra.wait_tcp(address, READY_TIMEOUT);
        }
        let dns = SocketAddr::new(UPSTREAM_V4.into(), DNS_PORT);
        topology
            .client
            .wait_dns(dns, ORDINARY_NAME, "A", READY_TIMEOUT);
        topology
    }

    /// The topology's own directory (unique per topology; every server's command line
    /// names a file in it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The four namespaces, client first.
    pub fn namespaces(&self) -> [&Netns; 4] {
        [&self.client, &self.infra, &self.target, &self.upstream]
    }

    /// Authorises `user`'s key on the target's sshd for login as the same user.
    pub fn authorize_on_target(&self, user: &OsUser) {
        let path = self.authorized_keys_dir().join(&user.name);
        fs::write(&path, ssh_user::public_key(user))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Starts `args` in `netns`, tied to the topology's lifetime (see
    /// [`Topology::spawn_command`]). Returns the pid (for [`Netns::signal`],
    /// [`Netns::wait_exit`], [`Netns::kill`] on the same namespace).
    pub fn spawn(&self, netns: &Netns, log_name: &str, args: &[&str]) -> u32 {
        let mut command = netns.command(args[0]);
        command.args(&args[1..]);
        self.spawn_command(netns, log_name, command)
    }

    /// Starts `command` (made with `netns.command(…)` or `netns.command_as(…)`, with any
    /// environment it needs) in its own process group; stdout and stderr go to the log
    /// `log_name` (unique within the topology). It is killed when the topology drops.
    pub fn spawn_command(&self, netns: &Netns, log_name: &str, command: Command) -> u32 {
        self.logs.spawn(netns, log_name, command)
    }

    /// What the process started with `log_name` printed so far.
    pub fn log(&self, log_name: &str) -> String {
        self.logs.read(log_name)
    }

    pub fn log_path(&self, log_name: &str) -> PathBuf {
        self.logs.path(log_name)
    }

    /// Waits until the log `log_name` contains `needle`; returns the whole log.
    pub fn wait_for_log(&self, log_name: &str, needle: &str, timeout: Duration) -> String {
        self.logs.wait_for(log_name, needle, timeout)
    }

    /// Prints the tail of every log to stderr (done automatically when a test panics).
    pub fn dump_logs(&self) {
        self.logs.dump();
    }

    /// Panics unless the client cannot reach the target on its own: infra does not
    /// forward (sysctls, and for IPv4 the kernel's route lookup for a packet arriving from
    /// the client), the target has no route back to the client, and a real TCP connection
    /// from the client to the target's sshd (v4 and v6) fails.
    pub fn assert_target_isolated_from_client(&self) {
        for sysctl in ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"] {
            let value = self.infra.exec_ok(&["sysctl", "-n", sysctl]);
            assert_eq!(value.trim(), "0", "{sysctl} in infra");
        }
        // IPv4's route lookup refuses to forward when forwarding is off (IPv6 decides
        // later, in ip6_forward, so only the sysctl and the real attempt cover it).
        let (from, to) = (CLIENT_V4.to_string(), TARGET_V4.to_string());
        let args = [
            "ip",
            "route",
            "get",
            &to,
            "from",
            &from,
            "iif",
            INFRA_CLIENT_INTERFACE,
        ];
        let output = self.infra.run(&args);
        assert!(
            !output.status.success(),
            "infra would forward from the client to the target: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        for to in [CLIENT_V4.to_string(), CLIENT_V6.to_string()] {
            let output = self.target.run(&["ip", "route", "get", &to]);
            assert!(
                !output.status.success(),
                "the target has a route to the client: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        let results = self.client.block_on(|| async {
            let attempt = |ip: IpAddr| {
                tokio::time::timeout(
                    ISOLATION_PROBE_TIMEOUT,
                    tokio::net::TcpStream::connect(SocketAddr::new(ip, SSH_PORT)),
                )
            };
            let (v4, v6) = tokio::join!(attempt(TARGET_V4.into()), attempt(TARGET_V6.into()));
            [v4.is_ok_and(|c| c.is_ok()), v6.is_ok_and(|c| c.is_ok())]
        });
        assert_eq!(
            results,
            [false, false],
            "client connected to the target's sshd (v4, v6)"
        );
    }

    fn authorized_keys_dir(&self) -> PathBuf {
        self.dir.path().join("target/authorized_keys")
    }
}

/// The three veth links of the addressing plan (the constants above).
fn wire(client: &Netns, infra: &Netns, target: &Netns, upstream: &Netns) -> [Link; 3] {
    let links = [
        connect_with(client, infra, CLIENT_INTERFACE, INFRA_CLIENT_INTERFACE, 1),
        connect_with(infra, target, INFRA_TARGET_INTERFACE, "to-infra", 2),
        connect_with(client, upstream, CLIENT_UPSTREAM_INTERFACE, "to-client", 3),
    ];
    let plan = [
        (CLIENT_V4, INFRA_V4, CLIENT_V6, INFRA_V6),
        (
            INFRA_TARGET_SIDE_V4,
            TARGET_V4,
            INFRA_TARGET_SIDE_V6,
            TARGET_V6,
        ),
        (
            CLIENT_UPSTREAM_SIDE_V4,
            UPSTREAM_V4,
            CLIENT_UPSTREAM_SIDE_V6,
            UPSTREAM_V6,
        ),
    ];
    for (link, planned) in links.iter().zip(plan) {
        assert_eq!(
            (link.a_v4, link.b_v4, link.a_v6, link.b_v6),
            planned,
            "addressing plan"
        );
    }
    client.add_default_route(IpAddr::V4(INFRA_V4));
    client.add_default_route(IpAddr::V6(INFRA_V6));
    links
}

impl Drop for Topology {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- topology {} failed; logs follow -----",
                self.dir.path().display()
            );
            self.logs.dump();
        }
        // Processes first: userdel refuses users that still run something. The fields
        // (namespaces, users, then the directory) are dropped after this.
        for netns in self.namespaces() {
            netns.kill_all_processes();
        }
    }
}
