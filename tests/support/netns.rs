//! Network namespaces for tests: created per test with a unique name, wired with veth
//! pairs, and always removed (also when the test panics: `Drop` runs while unwinding).
//!
//! Two ways to run code inside a namespace:
//! - **Processes**: [`Netns::command`] / [`Netns::exec_ok`] / [`Netns::spawn`] go through
//!   `ip netns exec`, which also bind-mounts `/etc/netns/<name>/resolv.conf` over
//!   `/etc/resolv.conf` for that process (see [`Netns::write_resolv_conf`]). Commands
//!   bounded by a timeout and run as another user (`run`, `run_as`, `command_as`) are in
//!   `process.rs`; readiness polling (`wait_tcp`, `wait_dns`, `wait_resolves`) in
//!   `wait.rs`.
//! - **Library code in this test process**: [`Netns::block_on`] runs a future on a
//!   dedicated thread that has `setns`'d into the namespace, with its own current-thread
//!   tokio runtime ([`Netns::run_on_thread`] runs plain code there; [`Netns::spawn_thread`]
//!   starts a thread that outlives the call); these are in `netns_threads.rs`.
//!
//! Per-thread pitfall: `setns(CLONE_NEWNET)` moves only the calling thread. The libtest
//! harness and tokio's multi-thread runtime run code on other threads, which stay in the
//! host namespace, so sockets must be created on the `block_on` thread (netlink sockets
//! bind to the namespace they are created in; an rtnetlink or sock_diag connection opened
//! elsewhere manages the host). Threads spawned from that thread (`spawn_blocking`)
//! inherit its namespace. The thread does *not* see `/etc/netns/<name>/resolv.conf` at
//! `/etc/resolv.conf` (that is a mount-namespace trick of `ip netns exec`): pass paths
//! explicitly.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::wait::poll;

static NAMESPACES: AtomicU32 = AtomicU32::new(0);
static LINKS: AtomicU32 = AtomicU32::new(0);

/// A network namespace `<prefix>-<pid>-<n>` that is deleted on drop, together with every
/// process still running in it (started through [`Netns::spawn`] or not: a server's
/// forked children, an sshd session) and its `/etc/netns/<name>` directory.
pub struct Netns {
    name: String,
    processes: Mutex<Vec<Child>>,
}

/// A process started with [`Netns::spawn`]; its pipes, if the command asked for them.
pub struct Spawned {
    pub pid: u32,
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<ChildStdout>,
    pub stderr: Option<ChildStderr>,
}

/// Both ends of a veth pair between two namespaces, with addresses from 198.18.0.0/15
/// (/24) and fd00:198:18::/48 (/64, no DAD).
#[derive(Clone, Debug)]
pub struct Link {
    pub a_interface: String,
    pub b_interface: String,
    pub a_v4: Ipv4Addr,
    pub b_v4: Ipv4Addr,
    pub a_v6: Ipv6Addr,
    pub b_v6: Ipv6Addr,
}

impl Netns {
    /// Creates the namespace with `lo` up. `prefix` identifies the test suite (short,
    /// `[a-z-]`); namespaces of the same prefix left by a killed run (whose pid is gone)
    /// are removed first.
    pub fn new(prefix: &str) -> Netns {
        remove_stale(prefix);
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            NAMESPACES.fetch_add(1, Ordering::Relaxed)
        );
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let netns = Netns {
            name,
            processes: Mutex::new(Vec::new()),
        };
        netns.exec_ok(&["ip", "link", "set", "lo", "up"]);
        netns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec <name> <program>`: add arguments and run or spawn it.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Runs `args` in the namespace; panics (with its output) unless it succeeds.
    /// Returns stdout.
    pub fn exec_ok(&self, args: &[&str]) -> String {
        let mut command = self.command(args[0]);
        command.args(&args[1..]);
        run_ok(&mut command)
    }

    /// Starts a long-running process (from [`Netns::command`]) in its own process group;
    /// the group is killed when the namespace is dropped, or earlier with [`Netns::kill`].
    pub fn spawn(&self, mut command: Command) -> Spawned {
        command.process_group(0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let spawned = Spawned {
            pid: child.id(),
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: child.stderr.take(),
        };
        self.processes.lock().unwrap().push(child);
        spawned
    }

    /// Sends `signal` to a spawned process's group (e.g. SIGTERM to test a clean shutdown;
    /// follow with [`Netns::wait_exit`]). Panics if `pid` was not spawned here.
    pub fn signal(&self, pid: u32, signal: Signal) {
        let processes = self.processes.lock().unwrap();
        assert!(
            processes.iter().any(|c| c.id() == pid),
            "process {pid} was not spawned in {}",
            self.name
        );
        killpg(Pid::from_raw(pid as i32), signal)
            .unwrap_or_else(|e| panic!("cannot send {signal} to process group {pid}: {e}"));
    }

    /// Kills every process in the namespace: the spawned process groups (reaped), then
    /// anything else whose network namespace is this one (e.g. children that left their
    /// process group with `setsid`, as sshd's per-connection processes do). Returns once
    /// none is left, or warns after 10 s.
    pub fn kill_all_processes(&self) {
        let processes =
            std::mem::take(&mut *self.processes.lock().unwrap_or_else(|p| p.into_inner()));
        for mut child in processes {
            stop(&mut child);
        }
        kill_processes_in(&self.name);
    }

    /// Processes (other than this test process) whose network namespace is this one, like
    /// `ip netns pids`. Exited processes are not listed even before they are reaped.
    pub fn pids(&self) -> Vec<u32> {
        pids_in(&self.name)
    }

    /// Kills a spawned process group and reaps the process.
    pub fn kill(&self, pid: u32) {
        let mut processes = self.processes.lock().unwrap();
        if let Some(position) = processes.iter().position(|c| c.id() == pid) {
            stop(&mut processes.remove(position));
        }
    }

    /// Waits (polling, up to `timeout`) for a spawned process to exit by itself; `None`
    /// if it is still running then (or was not spawned here).
    pub fn wait_exit(&self, pid: u32, timeout: Duration) -> Option<ExitStatus> {
        let exited = poll(timeout, || {
            let mut processes = self.processes.lock().unwrap();
            match processes.iter_mut().find(|c| c.id() == pid) {
                None => Ok(None),
                Some(child) => match child.try_wait() {
                    Ok(Some(status)) => Ok(Some(status)),
                    _ => Err("still running"),
                },
            }
        });
        exited.ok().flatten()
    }

    /// `/etc/netns/<name>/resolv.conf`: what processes started through `ip netns exec`
    /// see as `/etc/resolv.conf` (bind-mounted, so it must be rewritten in place).
    pub fn resolv_conf_path(&self) -> PathBuf {
        Path::new("/etc/netns").join(&self.name).join("resolv.conf")
    }

    /// Writes the namespace's resolv.conf (must exist before `ip netns exec` starts the
    /// process that should see it).
    pub fn write_resolv_conf(&self, content: &[u8]) -> PathBuf {
        self.write_etc_file("resolv.conf", content)
    }

    /// Writes `/etc/netns/<name>/<file>`, which `ip netns exec` bind-mounts over
    /// `/etc/<file>` (which must exist on the host) for the processes it starts.
    pub fn write_etc_file(&self, file: &str, content: &[u8]) -> PathBuf {
        let path = Path::new("/etc/netns").join(&self.name).join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        path
    }

    /// Adds a default route (IPv4 or IPv6 by the gateway's family).
    pub fn add_default_route(&self, via: IpAddr) {
        let family = if via.is_ipv4() { "-4" } else { "-6" };
        self.exec_ok(&[
            "ip",
            family,
            "route",
            "add",
            "default",
            "via",
            &via.to_string(),
        ]);
    }

    /// Makes the namespace route between its links.
    pub fn enable_forwarding(&self) {
        self.exec_ok(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        self.exec_ok(&["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
    }

    /// `/run/netns/<name>`, the handle `setns` opens.
    pub(super) fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.kill_all_processes();
        delete_namespace(&self.name);
    }
}

/// Connects two namespaces with a veth pair and gives both ends addresses; interface
/// names and subnet come from a per-process counter.
pub fn connect(a: &Netns, b: &Netns) -> Link {
    let n = LINKS.fetch_add(1, Ordering::Relaxed);
    connect_with(a, b, &format!("veth{n}a"), &format!("veth{n}b"), n as u16)
}

/// Connects two namespaces with a veth pair named `a_interface` (in `a`) and
/// `b_interface` (in `b`; created there directly, so no name ever exists on the host).
/// Subnet `n` (< 512) is 198.(18 + n/256).(n%256).0/24 and fd00:198:18:n::/64; `a` gets
/// host 1, `b` host 2.
pub fn connect_with(a: &Netns, b: &Netns, a_interface: &str, b_interface: &str, n: u16) -> Link {
    assert!(n < 512, "subnet {n} is outside 198.18.0.0/15");
    let (third, fourth) = (18 + (n / 256) as u8, (n % 256) as u8);
    let subnet = n;
    let link = Link {
        a_interface: a_interface.to_owned(),
        b_interface: b_interface.to_owned(),
        a_v4: Ipv4Addr::new(198, third, fourth, 1),
        b_v4: Ipv4Addr::new(198, third, fourth, 2),
        a_v6: Ipv6Addr::new(0xfd00, 0x198, 0x18, subnet, 0, 0, 0, 1),
        b_v6: Ipv6Addr::new(0xfd00, 0x198, 0x18, subnet, 0, 0, 0, 2),
    };
    run_ok(Command::new("ip").args([
        "-n",
        a.name(),
        "link",
        "add",
        &link.a_interface,
        "type",
        "veth",
        "peer",
        "name",
        &link.b_interface,
        "netns",
        b.name(),
    ]));
    for (netns, interface, v4, v6) in [
        (a, &link.a_interface, link.a_v4, link.a_v6),
        (b, &link.b_interface, link.b_v4, link.b_v6),
    ] {
        netns.exec_ok(&["ip", "addr", "add", &format!("{v4}/24"), "dev", interface]);
        netns.exec_ok(&[
            "ip",
            "addr",
            "add",
            &format!("{v6}/64"),
            "dev",
            interface,
            "nodad",
        ]);
        netns.exec_ok(&["ip", "link", "set", interface, "up"]);
    }
    link
}

/// Runs a command; panics with its output unless it succeeds. Returns stdout.
pub fn run_ok(command: &mut Command) -> String {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stop(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    }
    let _ = child.wait();
}

fn delete_namespace(name: &str) {
    let deleted = Command::new("ip")
        .args(["netns", "del", name])
        .stdin(Stdio::null())
        .output();
    if !matches!(&deleted, Ok(output) if output.status.success()) {
        eprintln!("warning: could not delete network namespace {name}: {deleted:?}");
    }
    let _ = fs::remove_dir_all(Path::new("/etc/netns").join(name));
}

/// Deletes `<prefix>-<pid>-<n>` namespaces whose creating process no longer exists, and
/// the processes still running in them.
pub fn remove_stale(prefix: &str) {
    let Ok(entries) = fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
            continue;
        };
        let Some((pid, counter)) = rest.split_once('-') else {
            continue;
        };
        let ours = pid.parse::<u32>().is_ok() && counter.parse::<u32>().is_ok();
        if ours && !Path::new("/proc").join(pid).exists() {
            kill_processes_in(&name);
            delete_namespace(&name);
        }
    }
}

/// SIGKILLs every process in namespace `name` until none is left (warns after 10 s).
fn kill_processes_in(name: &str) {
    let killed = poll(Duration::from_secs(10), || {
        let pids = pids_in(name);
        for &pid in &pids {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        if pids.is_empty() {
            Ok(())
        } else {
            Err(format!("{pids:?}"))
        }
    });
    if let Err(pids) = killed {
        eprintln!("warning: processes {pids} are still running in network namespace {name}");
    }
}

fn pids_in(name: &str) -> Vec<u32> {
    let Ok(namespace) = fs::metadata(Path::new("/run/netns").join(name)) else {
        return Vec::new();
    };
    let own = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            fs::metadata(format!("/proc/{pid}/ns/net"))
                .is_ok_and(|net| net.dev() == namespace.dev() && net.ino() == namespace.ino())
        })
        .collect()
}
