//! The fixture of `tests/resolved_lab.rs`: a client namespace with a [`ResolvedLab`] whose
//! uplink leads to an upstream namespace running dnsmasq (told to resolved the way
//! NetworkManager does), and helpers for a tun link with a dnsmasq on its own address.
//!
//! ```text
//!  ┌ client (lab) ──────────────────────┐   198.18.3.0/24     ┌ upstream ─────────┐
//!  │ resolved, stub 127.0.0.53          │ uplink ──── to-lab  │ dnsmasq .3.2 / ::2│
//!  │ boundary0 (tun) 100.64.0.1/32,     │ .3.1/::1   .3.2/::2 │ ordinary.test,    │
//!  │   fd00:a20a::1/128, dnsmasq on it  │                     │ db.alias.test     │
//!  └────────────────────────────────────┘                     └───────────────────┘
//! ```
//!
//! Both dnsmasqs know `db.alias.test`, with different addresses, so an answer says which
//! one was asked; their query logs say who asked what.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::process::{Output, Stdio};

use crate::support::dnsmasq::DnsmasqConfig;
use crate::support::netns::{Netns, connect_with};
use crate::support::resolved_lab::{ResolvConfShape, ResolvedLab};
use crate::support::server_process::read_lossy;
use crate::support::wait::{READY_TIMEOUT, poll_until};

pub const UPLINK: &str = "uplink";
pub const TUN: &str = "boundary0";
pub const UPSTREAM_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 2);
pub const UPSTREAM_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 3, 0, 0, 0, 2);
pub const LAB_UPLINK_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 1);
pub const TUN_V4: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
pub const TUN_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xa20a, 0, 0, 0, 0, 0, 1);

/// Answered by the upstream only.
pub const ORDINARY_NAME: &str = "ordinary.test";
pub const ORDINARY_V4: &str = "198.51.100.7";
pub const ORDINARY_V6: &str = "2001:db8::7";
/// Answered by both: the tun-side dnsmasq with [`ALIAS_V4`]/[`ALIAS_V6`], the upstream
/// with [`LEAKED_V4`]/[`LEAKED_V6`] (an answer from there means the name leaked).
pub const ALIAS_NAME: &str = "db.alias.test";
pub const ALIAS_V4: &str = "100.64.1.5";
pub const ALIAS_V6: &str = "fd00:a20a::5";
pub const LEAKED_V4: &str = "203.0.113.99";
pub const LEAKED_V6: &str = "2001:db8::99";
/// Every name under it is answered by the tun-side dnsmasq (for the measurements).
pub const BENCH_SUFFIX: &str = "bench.alias.test";
pub const BENCH_V4: &str = "100.64.1.6";

pub struct Fixture {
    /// Declared first: dropped (everything in it killed) before the namespaces.
    pub lab: ResolvedLab,
    /// Held for their lifetime: the lab's namespace and the upstream's.
    _upstream: Netns,
    _client: Netns,
    dir: tempfile::TempDir,
}

impl Fixture {
    /// The namespaces, the upstream dnsmasq, the lab with `shape`, and the uplink's DNS
    /// server given to resolved.
    pub fn start(shape: ResolvConfShape) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("resolved-lab-")
            .tempdir()
            .expect("temporary directory");
        let client = Netns::new("rlab-client");
        let upstream = Netns::new("rlab-upstream");
        let link = connect_with(&client, &upstream, UPLINK, "to-lab", 3);
        assert_eq!(
            (link.a_v4, link.b_v4, link.b_v6),
            (LAB_UPLINK_V4, UPSTREAM_V4, UPSTREAM_V6)
        );
        let config = DnsmasqConfig::new()
            .listen(UPSTREAM_V4.into())
            .listen(UPSTREAM_V6.into())
            .option("log-queries")
            .host_record(ORDINARY_NAME, &addresses(ORDINARY_V4, ORDINARY_V6))
            .host_record(ALIAS_NAME, &addresses(LEAKED_V4, LEAKED_V6));
        let args = config.write(&dir.path().join("upstream-dnsmasq.conf"));
        let mut command = upstream.command(&args[0]);
        let log = log_file(&dir.path().join("upstream-dnsmasq.log"));
        let log_for_stderr = log.try_clone().expect("duplicate the log file descriptor");
        command
            .args(&args[1..])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr);
        upstream.spawn(command);
        client.wait_dns(
            SocketAddr::new(UPSTREAM_V4.into(), 53),
            ORDINARY_NAME,
            "A",
            READY_TIMEOUT,
        );
        let lab = ResolvedLab::start(&client, &dir.path().join("lab"), shape);
        lab.uplink_dns(UPLINK, &[UPSTREAM_V4.into()]);
        Fixture {
            lab,
            _upstream: upstream,
            _client: client,
            dir,
        }
    }

    /// The upstream dnsmasq's log (queries and answers).
    pub fn upstream_log(&self) -> String {
        read_lossy(&self.dir.path().join("upstream-dnsmasq.log"))
    }

    /// How many `name` queries (any type) the upstream has seen.
    pub fn upstream_queries(&self, name: &str) -> usize {
        count_queries(&self.upstream_log(), name)
    }

    /// How many `name` queries (any type) the tun-side dnsmasq has seen.
    pub fn tun_queries(&self, name: &str) -> usize {
        count_queries(&self.lab.log("tun-dnsmasq"), name)
    }

    /// A tun link [`TUN`] held open by socat, with [`TUN_V4`]/32 and [`TUN_V6`]/128 (no
    /// DAD), up, and a dnsmasq listening on those two addresses only that answers
    /// [`ALIAS_NAME`] and every name under [`BENCH_SUFFIX`] (log `tun-dnsmasq`). `persistent`: created with `ip tuntap add`
    /// first (survives its holder, without carrier), else created by the holder (vanishes
    /// with it). Returns the holder's pid.
    pub fn add_tun_with_dnsmasq(&self, persistent: bool) -> u32 {
        let holder = self.add_tun(TUN, persistent);
        let config = DnsmasqConfig::new()
            .listen(TUN_V4.into())
            .listen(TUN_V6.into())
            .option("log-queries")
            .option("local=/test/")
            .option(&format!("address=/{BENCH_SUFFIX}/{BENCH_V4}"))
            .host_record(ALIAS_NAME, &addresses(ALIAS_V4, ALIAS_V6));
        let args = config.write(&self.dir.path().join("tun-dnsmasq.conf"));
        let mut command = self.lab.command(&args[0]);
        command.args(&args[1..]);
        self.lab.spawn("tun-dnsmasq", command);
        poll_until("the tun-side dnsmasq to answer", READY_TIMEOUT, || {
            let reply = self
                .lab
                .dig(&["+time=1", &format!("@{TUN_V4}"), ALIAS_NAME, "A"]);
            (reply.answer_data() == [ALIAS_V4]).then_some(())
        });
        holder
    }

    /// Tun link `name` with the addresses of [`TUN`] (see [`Fixture::add_tun_with_dnsmasq`]).
    pub fn add_tun(&self, name: &str, persistent: bool) -> u32 {
        if persistent {
            self.lab
                .exec_ok(&["ip", "tuntap", "add", name, "mode", "tun"]);
        }
        let holder = self.lab.hold_tun(name);
        self.lab
            .exec_ok(&["ip", "addr", "add", &format!("{TUN_V4}/32"), "dev", name]);
        let v6 = format!("{TUN_V6}/128");
        self.lab
            .exec_ok(&["ip", "addr", "add", &v6, "dev", name, "nodad"]);
        self.lab.exec_ok(&["ip", "link", "set", name, "up"]);
        holder
    }

    /// Resolves `name` with glibc in the lab; panics (with `resolvectl status`) unless it
    /// does.
    pub fn getent(&self, name: &str) -> Vec<String> {
        self.lab
            .getent_hosts(name)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.lab.status()))
    }

    /// `SetLinkDomains(ifindex, [(name, route_only = true)…])` through busctl, whatever
    /// it answers.
    pub fn set_link_domains(&self, ifindex: u32, names: &[String]) -> Output {
        let (ifindex, count) = (ifindex.to_string(), names.len().to_string());
        let mut args = vec![
            "busctl",
            "call",
            "org.freedesktop.resolve1",
            "/org/freedesktop/resolve1",
            "org.freedesktop.resolve1.Manager",
            "SetLinkDomains",
            "ia(sb)",
            &ifindex,
            &count,
        ];
        for name in names {
            args.extend([name.as_str(), "true"]);
        }
        self.lab.run(&args)
    }

    /// What the Boundary agent would tell resolved about its tun link: its DNS server,
    /// `domains` (routing-only as `~name`), and whether it is a default route.
    pub fn configure_tun(&self, server: IpAddr, domains: &[&str], default_route: bool) {
        self.lab.resolvectl(&["dns", TUN, &server.to_string()]);
        self.lab.link_domains(TUN, domains);
        self.lab.link_default_route(TUN, default_route);
        self.lab.resolvectl(&["flush-caches"]);
    }
}

/// `<prefix><i>.alias.test` for i in 0..count.
pub fn routing_names(prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("{prefix}{i}.alias.test"))
        .collect()
}

/// The host's /etc/resolv.conf: whether it is a symlink, and what it says.
pub fn host_resolv_conf() -> (bool, String) {
    let path = "/etc/resolv.conf";
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    (is_link, fs::read_to_string(path).unwrap_or_default())
}

/// The mount points of this test process's mount namespace (the host's), without the
/// namespaces of tests running in parallel.
pub fn host_mounts() -> Vec<String> {
    let mut mounts: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_whitespace().nth(4).map(str::to_owned))
        .filter(|mount| !mount.starts_with("/run/netns/"))
        .collect();
    mounts.sort();
    mounts
}

/// Queries for `name` in a dnsmasq log (`query[A] name from …`).
pub fn count_queries(log: &str, name: &str) -> usize {
    let needle = format!("] {name} from ");
    log.lines()
        .filter(|line| line.contains("query[") && line.contains(&needle))
        .count()
}

fn addresses(v4: &str, v6: &str) -> [IpAddr; 2] {
    [v4.parse().unwrap(), v6.parse().unwrap()]
}

fn log_file(path: &Path) -> fs::File {
    fs::File::create(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
}
