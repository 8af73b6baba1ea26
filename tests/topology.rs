//! The end-to-end topology itself, proven with the real programs later tests rely on:
//! dig and glibc against dnsmasq, ssh against sshd, curl and socat against the target's
//! servers, and a clean host after the guard drops (also after a panic). Needs root.
#![cfg(target_os = "linux")]

#[path = "support/mod.rs"]
mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::signal::Signal;
use support::process::{HANG_TIMEOUT, expect_success, run_with_timeout};
use support::topology::*;
use support::wait::{READY_TIMEOUT, poll_until};

fn dig(topology: &Topology, args: &[&str]) -> String {
    let mut all = vec!["dig", "+time=2", "+tries=1"];
    all.extend_from_slice(args);
    topology.client.exec_ok(&all)
}

#[test]
fn the_client_resolves_ordinary_names_through_dnsmasq_before_any_agent() {
    let topology = Topology::new();
    let v4 = dig(
        &topology,
        &["+short", &format!("@{UPSTREAM_V4}"), ORDINARY_NAME, "A"],
    );
    assert_eq!(v4.trim(), ORDINARY_V4.to_string());
    let v6 = dig(
        &topology,
        &["+short", &format!("@{UPSTREAM_V6}"), WWW_NAME, "AAAA"],
    );
    assert_eq!(v6.trim(), WWW_V6.to_string());
    let missing = dig(&topology, &[&format!("@{UPSTREAM_V4}"), MISSING_NAME, "A"]);
    assert!(missing.contains("status: NXDOMAIN"), "{missing}");

    // glibc in the client reads the namespace's resolv.conf, not the host's.
    let resolv_conf = topology.client.exec_ok(&["cat", "/etc/resolv.conf"]);
    assert_eq!(
        resolv_conf,
        format!("nameserver {UPSTREAM_V4}\nnameserver {UPSTREAM_V6}\n")
    );
    let hosts = topology.client.exec_ok(&["getent", "ahostsv4", WWW_NAME]);
    assert!(hosts.starts_with(&format!("{WWW_V4} ")), "{hosts}");
    // Only glibc asked for www's A record, and it did so from the client's address.
    topology.wait_for_log(
        "dnsmasq",
        &format!("query[A] {WWW_NAME} from {CLIENT_UPSTREAM_SIDE_V4}"),
        READY_TIMEOUT,
    );
    let addresses = topology.client.wait_resolves(ORDINARY_NAME, READY_TIMEOUT);
    assert!(addresses.contains(&ORDINARY_V4.into()), "{addresses:?}");
    assert!(addresses.contains(&ORDINARY_V6.into()), "{addresses:?}");
}

#[test]
fn the_big_txt_name_is_truncated_over_udp_and_whole_over_tcp() {
    let topology = Topology::new();
    let server = format!("@{UPSTREAM_V4}");
    let udp = dig(
        &topology,
        &["+notcp", "+ignore", &server, BIG_TXT_NAME, "TXT"],
    );
    assert!(udp.contains(" tc "), "no TC flag over UDP: {udp}");
    let tcp = dig(&topology, &["+tcp", "+short", &server, BIG_TXT_NAME, "TXT"]);
    let mut records: Vec<String> = tcp
        .lines()
        .map(|l| l.trim_matches('"').to_owned())
        .collect();
    records.sort();
    let expected: Vec<String> = (0..BIG_TXT_RECORDS).map(big_txt).collect();
    assert_eq!(records, expected);
    assert!(expected.iter().all(|r| r.len() == BIG_TXT_LENGTH));
}

#[test]
fn alice_on_infra_logs_in_to_the_target_and_sees_its_own_hostname() {
    let topology = Topology::new();
    let alice = &topology.alice;
    for host in [
        TARGET_V4.to_string(),
        TARGET_V6.to_string(),
        topology.target_hostname.clone(),
    ] {
        let out = topology
            .infra
            .run_as_ok(alice, &["ssh", &host, "hostname; id -un"]);
        assert_eq!(
            out,
            format!("{}\n{}\n", topology.target_hostname, alice.name),
            "{host}"
        );
    }
    let own = topology.infra.exec_ok(&["hostname"]);
    assert_ne!(
        own.trim(),
        topology.target_hostname,
        "the target's name is its own"
    );
    assert!(
        topology
            .log("sshd")
            .contains(&format!("Accepted publickey for {}", alice.name))
    );
}

#[test]
fn infra_reaches_the_targets_http_and_echo_servers() {
    let topology = Topology::new();
    let url = format!("http://{TARGET_V4}:{HTTP_PORT}/");
    let page = topology
        .infra
        .exec_ok(&["curl", "-sS", "--max-time", "20", &url]);
    assert_eq!(page, format!("{}\n", topology.target_hostname));
    let url = format!("http://[{TARGET_V6}]:{HTTP_PORT}/");
    let page = topology
        .infra
        .exec_ok(&["curl", "-sS", "--max-time", "20", &url]);
    assert_eq!(page, format!("{}\n", topology.target_hostname));

    let input: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for target in [
        format!("TCP:{TARGET_V4}:{ECHO_PORT}"),
        format!("TCP:[{TARGET_V6}]:{ECHO_PORT}"),
    ] {
        let mut socat = topology.infra.command("socat");
        socat.args(["-t", "30", "-", &target]);
        let output = run_with_timeout(&mut socat, Some(&input), HANG_TIMEOUT);
        expect_success("socat to the echo server", &output);
        assert!(
            output.stdout == input,
            "echo of {} bytes came back as {}",
            input.len(),
            output.stdout.len()
        );
    }
}

#[test]
fn bob_is_refused_by_the_targets_sshd_until_authorised() {
    let topology = Topology::new();
    let bob = &topology.bob;
    let target = TARGET_V4.to_string();
    let refused = topology.infra.run_as(bob, &["ssh", &target, "hostname"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("Permission denied (publickey)"), "{stderr}");
    topology.authorize_on_target(bob);
    let out = topology.infra.run_as_ok(bob, &["ssh", &target, "id -un"]);
    assert_eq!(out.trim(), bob.name);
}

#[test]
fn the_client_cannot_reach_the_target_and_routes_through_infra() {
    let topology = Topology::new();
    topology.assert_target_isolated_from_client();
    let alice = &topology.alice;
    let attempt = topology.client.run_as(
        alice,
        &[
            "ssh",
            "-o",
            "ConnectTimeout=2",
            &TARGET_V4.to_string(),
            "hostname",
        ],
    );
    assert!(
        !attempt.status.success(),
        "alice reached the target from the client"
    );
    for (family, destination) in [("-4", "192.0.2.1"), ("-6", "2001:db8::1")] {
        let route = topology
            .client
            .exec_ok(&["ip", family, "route", "get", destination]);
        assert!(
            route.contains(&format!("dev {CLIENT_INTERFACE}")),
            "{route}"
        );
    }
    let addresses =
        topology
            .client
            .exec_ok(&["ip", "-brief", "addr", "show", "dev", CLIENT_INTERFACE]);
    assert!(
        addresses.contains(&format!("{CLIENT_V4}/24")),
        "{addresses}"
    );
    assert!(
        addresses.contains(&format!("{CLIENT_V6}/64")),
        "{addresses}"
    );
}

#[test]
fn spawned_processes_log_to_files_run_as_users_and_stop_on_a_signal() {
    let topology = Topology::new();
    let marker = topology.dir().join("target/www/index.html");
    let mut command = topology.client.command_as(&topology.alice, "sh");
    let script = "id -un; exec tail -f \"$0\"";
    command.args(["-c", script, &marker.to_string_lossy()]);
    let pid = topology.spawn_command(&topology.client, "tail", command);
    let log = topology.wait_for_log("tail", &topology.target_hostname, READY_TIMEOUT);
    assert!(
        log.starts_with(&format!("{}\n", topology.alice.name)),
        "{log}"
    );
    assert_eq!(
        topology.log_path("tail"),
        topology.dir().join("logs/tail.log")
    );
    assert!(!topology.client.pids().is_empty());

    topology.client.signal(pid, Signal::SIGTERM);
    let status = topology.client.wait_exit(pid, READY_TIMEOUT);
    assert!(status.is_some_and(|s| !s.success()), "{status:?}");
    poll_until("the client namespace to be empty", READY_TIMEOUT, || {
        let pids = topology.client.pids();
        if pids.is_empty() {
            Ok(())
        } else {
            Err(format!("{pids:?}"))
        }
    });
}

#[test]
fn dropping_the_topology_leaves_nothing_behind() {
    let topology = Topology::new();
    let footprint = Footprint::of(&topology);
    drop(topology);
    footprint.assert_gone();
}

#[test]
fn a_panicking_test_still_leaves_nothing_behind() {
    let footprint = std::sync::Mutex::new(None);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let topology = Topology::new();
        *footprint.lock().unwrap() = Some(Footprint::of(&topology));
        panic!("deliberate failure with a live topology");
    }));
    assert!(result.is_err());
    footprint
        .into_inner()
        .unwrap()
        .expect("the topology was built")
        .assert_gone();
}

#[test]
fn topologies_built_concurrently_do_not_collide() {
    let hostnames: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let topology = Topology::new();
                    let out = topology.infra.run_as_ok(
                        &topology.alice,
                        &["ssh", &TARGET_V4.to_string(), "hostname"],
                    );
                    assert_eq!(out.trim(), topology.target_hostname);
                    let footprint = Footprint::of(&topology);
                    drop(topology);
                    footprint.assert_gone();
                    out.trim().to_owned()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let mut distinct = hostnames.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), hostnames.len(), "{hostnames:?}");
}

/// What a topology put on the host, recorded while it is alive.
struct Footprint {
    namespaces: Vec<String>,
    /// (pid, network namespace inode) of every process in the namespaces, including an
    /// sshd session (which leaves sshd's process group) started for this purpose.
    processes: Vec<(u32, u64)>,
    users: Vec<String>,
    dir: PathBuf,
}

impl Footprint {
    fn of(topology: &Topology) -> Footprint {
        // A long ssh session: its sshd processes in the target call setsid().
        let mut ssh = topology.infra.command_as(&topology.alice, "ssh");
        ssh.args([&TARGET_V4.to_string(), "echo started; exec sleep 1000"]);
        topology.spawn_command(&topology.infra, "ssh-session", ssh);
        topology.wait_for_log("ssh-session", "started", READY_TIMEOUT);
        let mut processes = Vec::new();
        for netns in topology.namespaces() {
            let inode = fs::metadata(format!("/run/netns/{}", netns.name()))
                .unwrap()
                .ino();
            processes.extend(netns.pids().into_iter().map(|pid| (pid, inode)));
        }
        let dir = topology.dir().to_owned();
        let found = pgrep(&dir);
        assert!(found.len() >= 4, "sshd, http, echo, dnsmasq: {found:?}");
        Footprint {
            namespaces: topology
                .namespaces()
                .iter()
                .map(|n| n.name().to_owned())
                .collect(),
            processes,
            users: vec![topology.alice.name.clone(), topology.bob.name.clone()],
            dir,
        }
    }

    fn assert_gone(&self) {
        let listed = expect_success(
            "ip netns list",
            &run_with_timeout(
                Command::new("ip").args(["netns", "list"]),
                None,
                HANG_TIMEOUT,
            ),
        );
        for name in &self.namespaces {
            assert!(
                !listed
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(name)),
                "{name} left: {listed}"
            );
            assert!(
                !Path::new("/etc/netns").join(name).exists(),
                "/etc/netns/{name} left"
            );
            assert!(
                !Path::new("/run/netns").join(name).exists(),
                "/run/netns/{name} left"
            );
        }
        for (pid, inode) in &self.processes {
            let still_there =
                fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| m.ino() == *inode);
            assert!(
                !still_there,
                "process {pid} still runs in a topology namespace"
            );
        }
        assert_eq!(
            pgrep(&self.dir),
            Vec::<String>::new(),
            "processes naming {}",
            self.dir.display()
        );
        for user in &self.users {
            let passwd = Command::new("getent")
                .args(["passwd", user])
                .output()
                .unwrap();
            assert!(!passwd.status.success(), "user {user} left");
            let group = Command::new("getent")
                .args(["group", user])
                .output()
                .unwrap();
            assert!(!group.status.success(), "group {user} left");
        }
        assert!(!self.dir.exists(), "{} left", self.dir.display());
    }
}

/// `pgrep -a -f <dir>/`: processes whose command line names a file in the directory (the
/// slash keeps `…-1` from matching `…-10`).
fn pgrep(dir: &Path) -> Vec<String> {
    let pattern = format!("{}/", dir.display());
    let output = Command::new("pgrep")
        .args(["-a", "-f", &pattern])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
