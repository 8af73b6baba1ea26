//! A real systemd-resolved (Debian 12's, unpacked by `scripts/install-test-deps`, never
//! installed) inside a test's network namespace, with its own system D-Bus, behind a
//! private mount namespace so that nothing of it reaches the host: the host keeps its
//! `/etc/resolv.conf`, `/run` and bus. See `docs/notes/systemd-resolved-measurements.md`
//! for what was learned with it.
//!
//! ```text
//! test process ── nsenter -t <holder> -m -n ──► [ network namespace of the Netns      ]
//!                                               [ + private mount namespace:          ]
//!                                               [   /run  tmpfs (bus socket, resolved)]
//!                                               [   /etc  tmpfs of symlinks to host's ]
//!                                               [   holder (sleep), dbus-daemon,      ]
//!                                               [   systemd-resolved (stub 127.0.0.53)]
//! ```
//!
//! Programs run through [`ResolvedLab::command`] and friends see the private `/run` and
//! `/etc` (glibc and `dig` go through resolved's stub). The test plays NetworkManager with
//! `resolvectl` ([`ResolvedLab::uplink_dns`], [`ResolvedLab::link_domains`]), which makes
//! the same D-Bus calls. Dropping the lab kills every process in its mount namespace (the
//! namespace and its mounts vanish with the last one); when the test is failing, the logs
//! of the holder, the bus, resolved and every spawned process are printed first.

mod daemons;
mod holder;
mod snapshot;

use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::dig::DigReply;
use super::netns::Netns;
use super::os_user::OsUser;
use super::process::{HANG_TIMEOUT, expect_success, run_with_timeout};
use super::server_process::{TAIL_LINES, read_lossy, tail};
use super::wait::{READY_TIMEOUT, poll, poll_until};

pub use holder::ResolvConfShape;
#[allow(unused_imports)]
pub use snapshot::{LinkConfig, ResolvedSnapshot};

/// Where `scripts/install-test-deps` unpacks the systemd-resolved package (and the
/// libsystemd-shared of the same version); `BOUNDARY_TEST_RESOLVED_ROOT` overrides it.
pub const DEFAULT_PACKAGE_ROOT: &str = "/var/cache/boundary-tests/systemd-resolved-root";

/// The system bus socket, as processes inside the lab see it (the standard path, so
/// every D-Bus client finds it without configuration).
pub const SYSTEM_BUS_SOCKET: &str = "/run/dbus/system_bus_socket";

/// Resolved's stub listener, named by the lab's `/etc/resolv.conf`.
pub const STUB_ADDRESS: &str = "127.0.0.53";

/// One network namespace's systemd-resolved; see the module documentation.
pub struct ResolvedLab {
    netns: String,
    dir: PathBuf,
    package_root: PathBuf,
    holder: Mutex<Child>,
    holder_pid: u32,
    /// Identity (device, inode) of the private mount namespace.
    mount_namespace: (u64, u64),
    /// An open handle on that namespace until every process in it is gone: it keeps the
    /// namespace, and so its inode number, alive. Otherwise, once the lab's last process
    /// died, a namespace made meanwhile (every `ip netns exec` of a concurrent test makes
    /// one) could get the freed number, and the kill loop would SIGKILL its process.
    mount_namespace_handle: Mutex<Option<fs::File>>,
    /// Long-running processes with a log `<dir>/logs/<name>.log` (the bus, tun holders,
    /// anything from [`ResolvedLab::spawn`]); resolved itself is in `resolved`.
    processes: Mutex<Vec<(String, Child)>>,
    resolved: Mutex<Option<Child>>,
}

impl ResolvedLab {
    /// Builds the lab in `netns`: holder, private mounts, bus, resolved; returns once
    /// resolved owns its bus name and its stub answers. `dir` (created if missing, and
    /// owned by the caller, who removes it after the lab) receives the holder's script,
    /// the bus configuration and the logs.
    pub fn start(netns: &Netns, dir: &Path, shape: ResolvConfShape) -> ResolvedLab {
        let package_root = package_root();
        fs::create_dir_all(dir.join("logs"))
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let script = dir.join("holder.sh");
        holder::write_script(&script, &package_root, shape);
        let mut command = netns.command("unshare");
        command
            .args(["--mount", "--propagation", "private", "sh"])
            .arg(&script);
        let log_path = dir.join("logs/holder.log");
        let holder = spawn_logged(command, &log_path, false);
        let holder_pid = holder.id();
        let mut lab = ResolvedLab {
            netns: netns.name().to_owned(),
            dir: dir.to_owned(),
            package_root,
            holder: Mutex::new(holder),
            holder_pid,
            mount_namespace: (0, 0),
            mount_namespace_handle: Mutex::new(None),
            processes: Mutex::new(Vec::new()),
            resolved: Mutex::new(None),
        };
        // The guard exists from here on: a failure below still cleans up.
        poll_until(
            "the lab's holder to prepare /run and /etc",
            READY_TIMEOUT,
            || {
                if let Ok(Some(status)) = lab.holder.lock().unwrap().try_wait() {
                    panic!("the holder exited ({status}): {}", read_lossy(&log_path));
                }
                read_lossy(&log_path)
                    .contains(holder::READY_LINE)
                    .then_some(())
            },
        );
        let handle = fs::File::open(format!("/proc/{holder_pid}/ns/mnt"))
            .unwrap_or_else(|e| panic!("mount namespace of the holder {holder_pid}: {e}"));
        let namespace = handle
            .metadata()
            .unwrap_or_else(|e| panic!("mount namespace of the holder {holder_pid}: {e}"));
        lab.mount_namespace = (namespace.dev(), namespace.ino());
        *lab.mount_namespace_handle.lock().unwrap() = Some(handle);
        lab.start_bus();
        lab.start_resolved();
        lab
    }

    /// The network namespace's name.
    pub fn netns_name(&self) -> &str {
        &self.netns
    }

    /// The directory given to [`ResolvedLab::start`].
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The unpacked systemd-resolved package this lab runs.
    pub fn package_root(&self) -> &Path {
        &self.package_root
    }

    /// The holder's pid: `nsenter -t <pid> -m -n` enters the lab.
    pub fn holder_pid(&self) -> u32 {
        self.holder_pid
    }

    /// The D-Bus address of the lab's system bus, as seen inside.
    pub fn dbus_address(&self) -> String {
        format!("unix:path={SYSTEM_BUS_SOCKET}")
    }

    /// Where a path inside the lab (`/run/...`, `/etc/...`) can be read or written from
    /// the test process: `/proc/<holder>/root/<path>` (root only).
    pub fn inside(&self, path: &str) -> PathBuf {
        Path::new(&format!("/proc/{}/root", self.holder_pid)).join(path.trim_start_matches('/'))
    }

    /// `nsenter -t <holder> -m -n -- <program>` (root, the test's environment): add
    /// arguments and run it (e.g. with `run_with_timeout`) or start it with
    /// [`ResolvedLab::spawn`].
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("nsenter");
        command
            .args(["-t", &self.holder_pid.to_string(), "-m", "-n", "--"])
            .arg(program);
        command
    }

    /// [`ResolvedLab::command`] running `program` as `user` through `runuser`.
    pub fn command_as(&self, user: &OsUser, program: &str) -> Command {
        let mut command = self.command("runuser");
        command.args(["-u", &user.name, "--", program]);
        command
    }

    /// Runs `args` in the lab as root, bounded by [`HANG_TIMEOUT`].
    pub fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args[0]);
        command.args(&args[1..]);
        run_with_timeout(&mut command, None, HANG_TIMEOUT)
    }

    /// [`ResolvedLab::run`] that panics unless the command succeeds; returns stdout.
    pub fn exec_ok(&self, args: &[&str]) -> String {
        expect_success(&format!("{args:?} in the resolved lab"), &self.run(args))
    }

    /// Runs `args` in the lab as `user`, bounded by [`HANG_TIMEOUT`].
    pub fn run_as(&self, user: &OsUser, args: &[&str]) -> Output {
        let mut command = self.command_as(user, args[0]);
        command.args(&args[1..]);
        run_with_timeout(&mut command, None, HANG_TIMEOUT)
    }

    /// `dig +time=10 +tries=1 <args>` in the lab (through the stub unless `args` name a
    /// server), whatever it printed.
    pub fn dig(&self, args: &[&str]) -> DigReply {
        let mut command = self.command("dig");
        command.args(["+time=10", "+tries=1"]).args(args);
        let output = run_with_timeout(&mut command, None, HANG_TIMEOUT);
        DigReply {
            text: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            success: output.status.success(),
        }
    }

    /// `getent hosts <name>` in the lab (glibc through `/etc/resolv.conf`, like every
    /// ordinary program): the addresses, or `Err` with the exit status (2: not found).
    pub fn getent_hosts(&self, name: &str) -> Result<Vec<String>, String> {
        let output = self.run(&["getent", "hosts", name]);
        if !output.status.success() {
            return Err(format!("getent hosts {name}: {}", output.status));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_owned)
            .collect())
    }

    /// Starts `command` (from [`ResolvedLab::command`]) in its own process group, stdout
    /// and stderr in the log `log_name` (unique in the lab). It is killed when the lab
    /// drops, or earlier with [`ResolvedLab::kill`]. Returns its pid.
    pub fn spawn(&self, log_name: &str, command: Command) -> u32 {
        let mut processes = self.processes.lock().unwrap();
        assert!(
            !processes.iter().any(|(name, _)| name == log_name)
                && !["holder", "resolved"].contains(&log_name),
            "a process with log name {log_name:?} was already started"
        );
        let child = spawn_logged(command, &self.log_path(log_name), false);
        let pid = child.id();
        processes.push((log_name.to_owned(), child));
        pid
    }

    /// Kills a process started with [`ResolvedLab::spawn`] (its whole process group) and
    /// reaps it. Its log stays.
    pub fn kill(&self, pid: u32) {
        let mut processes = self.processes.lock().unwrap();
        if let Some(position) = processes.iter().position(|(_, c)| c.id() == pid) {
            stop(&mut processes.remove(position).1);
        }
    }

    /// The log `<dir>/logs/<name>.log` (`holder`, `dbus`, `resolved`, or a spawned
    /// process's name).
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }

    /// What the process logging as `name` printed so far.
    pub fn log(&self, name: &str) -> String {
        read_lossy(&self.log_path(name))
    }

    /// Prints the last lines of every log to stderr (done when a test panics).
    pub fn dump_logs(&self) {
        let Ok(entries) = fs::read_dir(self.dir.join("logs")) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            eprintln!(
                "----- last {TAIL_LINES} lines of {} -----\n{}",
                path.display(),
                tail(&read_lossy(&path))
            );
        }
    }

    /// Processes whose mount namespace is the lab's (the holder included).
    pub fn pids(&self) -> Vec<u32> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                fs::metadata(format!("/proc/{pid}/ns/mnt"))
                    .is_ok_and(|ns| (ns.dev(), ns.ino()) == self.mount_namespace)
            })
            .collect()
    }

    /// Kills everything in the lab: spawned processes, resolved, then whatever else runs
    /// in its mount namespace (the bus, the holder, strays), until none is left (warns
    /// after 10 s). The mount namespace and its tmpfs mounts go with the last process.
    fn kill_everything(&self) {
        let processes =
            std::mem::take(&mut *self.processes.lock().unwrap_or_else(|p| p.into_inner()));
        for (_, mut child) in processes {
            stop(&mut child);
        }
        if let Some(mut resolved) = self
            .resolved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            stop(&mut resolved);
        }
        let left = poll(Duration::from_secs(10), || {
            let pids = self.pids();
            for &pid in &pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            if pids.is_empty() {
                Ok(())
            } else {
                Err(format!("{pids:?}"))
            }
        });
        if let Err(pids) = left {
            eprintln!("warning: processes {pids} are still running in the resolved lab");
        }
        let _ = self.holder.lock().unwrap_or_else(|p| p.into_inner()).wait();
        // Only now may the namespace (and its tmpfs mounts) go.
        drop(
            self.mount_namespace_handle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
    }
}

impl Drop for ResolvedLab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- resolved lab in {} failed; logs follow -----",
                self.netns
            );
            self.dump_logs();
        }
        self.kill_everything();
    }
}

/// The unpacked package: [`DEFAULT_PACKAGE_ROOT`] or `BOUNDARY_TEST_RESOLVED_ROOT`.
/// Panics (saying how to get it) when it or the `systemd-resolve` user is missing.
pub fn package_root() -> PathBuf {
    let root = std::env::var_os("BOUNDARY_TEST_RESOLVED_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PACKAGE_ROOT));
    assert!(
        root.join("lib/systemd/systemd-resolved").exists(),
        "no systemd-resolved unpacked in {} (run scripts/install-test-deps as root)",
        root.display()
    );
    let user = Command::new("id").arg("systemd-resolve").output();
    assert!(
        user.is_ok_and(|o| o.status.success()),
        "no systemd-resolve user (run scripts/install-test-deps as root)"
    );
    root
}

/// Starts `command` in its own process group with stdin empty and stdout and stderr in
/// `log` (appended when `append`).
fn spawn_logged(mut command: Command, log: &Path, append: bool) -> Child {
    use std::os::unix::process::CommandExt;
    let file = if append {
        File::options().create(true).append(true).open(log)
    } else {
        File::create(log)
    }
    .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
    let for_stderr = file.try_clone().expect("duplicate the log file descriptor");
    command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(for_stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

/// SIGKILLs a child's process group and reaps the child.
fn stop(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.wait();
}
