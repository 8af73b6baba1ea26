//! The lab's daemons (the system bus, resolved, tun holders) and the `resolvectl` calls
//! with which a test plays NetworkManager.

use std::fs;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::super::process::{HANG_TIMEOUT, expect_success, run_with_timeout};
use super::super::wait::{READY_TIMEOUT, poll_until};
use super::{ResolvedLab, STUB_ADDRESS, holder, spawn_logged, stop};

/// Log level of resolved (`SYSTEMD_LOG_LEVEL`): debug shows every transaction and bus
/// message, which is what a failing test needs. `resolvectl log-level info` lowers it at
/// run time (the measurements do).
const RESOLVED_LOG_LEVEL: &str = "debug";

impl ResolvedLab {
    /// Starts the lab's `dbus-daemon` (log `dbus`) and waits until it answers.
    pub(super) fn start_bus(&self) {
        let config = self.dir.join("system-bus.conf");
        holder::write_bus_config(&config, &self.package_root);
        let mut command = self.command("dbus-daemon");
        command
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile"]);
        let pid = self.spawn("dbus", command);
        poll_until("the lab's system bus to answer", READY_TIMEOUT, || {
            self.assert_alive(pid, "dbus");
            let output = self.run(&[
                "busctl",
                "call",
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "ListNames",
            ]);
            output.status.success().then_some(())
        });
    }

    /// Starts systemd-resolved (log `resolved`, appended across restarts) and waits until
    /// it owns `org.freedesktop.resolve1` and its stub answers. Panics if it is running.
    pub fn start_resolved(&self) {
        let mut resolved = self.resolved.lock().unwrap();
        assert!(resolved.is_none(), "resolved is already running in the lab");
        let mut command = self.command(
            &self
                .package_root
                .join("lib/systemd/systemd-resolved")
                .to_string_lossy(),
        );
        self.with_package_libraries(&mut command)
            .env("SYSTEMD_LOG_LEVEL", RESOLVED_LOG_LEVEL);
        let child = spawn_logged(command, &self.log_path("resolved"), true);
        let pid = child.id();
        *resolved = Some(child);
        drop(resolved);
        poll_until(
            "resolved to own its bus name and answer on its stub",
            READY_TIMEOUT,
            || {
                if let Some(status) = self.resolved_exit_status() {
                    panic!(
                        "resolved exited ({status}); its log:\n{}",
                        self.log("resolved")
                    );
                }
                let owner = self.run(&[
                    "busctl",
                    "call",
                    "org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus",
                    "GetNameOwner",
                    "s",
                    "org.freedesktop.resolve1",
                ]);
                if !owner.status.success() {
                    return Err(format!(
                        "no owner of org.freedesktop.resolve1 (resolved {pid})"
                    ));
                }
                let reply = self.dig(&["+time=1", &format!("@{STUB_ADDRESS}"), "localhost", "A"]);
                if reply.status() == "NOERROR" {
                    Ok(())
                } else {
                    Err(format!("stub: {}{}", reply.text, reply.stderr))
                }
            },
        );
    }

    /// SIGTERMs resolved and waits for it to exit (what `systemctl stop` does).
    pub fn stop_resolved(&self) {
        let mut resolved = self.resolved.lock().unwrap();
        let mut child = resolved.take().expect("resolved is not running in the lab");
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let pid = child.id();
        poll_until(
            &format!("resolved {pid} to exit after SIGTERM"),
            HANG_TIMEOUT,
            || child.try_wait().ok().flatten(),
        );
    }

    /// SIGKILLs resolved (a crash: no chance to clean up) and reaps it.
    pub fn kill_resolved(&self) {
        let mut resolved = self.resolved.lock().unwrap();
        let mut child = resolved.take().expect("resolved is not running in the lab");
        stop(&mut child);
    }

    /// [`ResolvedLab::stop_resolved`] then [`ResolvedLab::start_resolved`] (resolved 252
    /// has no reload: SIGHUP would end it). Per-link settings made over D-Bus survive:
    /// resolved saves them in `/run/systemd/resolve/netif/<ifindex>` and reads them back.
    pub fn restart_resolved(&self) {
        self.stop_resolved();
        self.start_resolved();
    }

    /// Resolved's pid while it runs.
    pub fn resolved_pid(&self) -> Option<u32> {
        let resolved = self.resolved.lock().unwrap();
        resolved.as_ref().map(|child| child.id())
    }

    /// Resolved's resident set size in KiB (`VmRSS`).
    pub fn resolved_rss_kib(&self) -> u64 {
        let pid = self
            .resolved_pid()
            .expect("resolved is not running in the lab");
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS for resolved {pid}"))
    }

    /// Writes `/etc/systemd/resolved.conf.d/<name>.conf` inside the lab (a private
    /// directory); it takes effect at the next [`ResolvedLab::restart_resolved`].
    pub fn write_resolved_dropin(&self, name: &str, text: &str) {
        let path = self.inside(&format!("/etc/systemd/resolved.conf.d/{name}.conf"));
        fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// The unpacked package's `resolvectl` (as a [`ResolvedLab::command`]).
    pub fn resolvectl_command(&self) -> Command {
        let mut command = self.command(
            &self
                .package_root
                .join("usr/bin/resolvectl")
                .to_string_lossy(),
        );
        self.with_package_libraries(&mut command);
        command
    }

    /// Runs `resolvectl <args>` in the lab, whatever happens.
    pub fn resolvectl_output(&self, args: &[&str]) -> Output {
        let mut command = self.resolvectl_command();
        command.args(args);
        run_with_timeout(&mut command, None, HANG_TIMEOUT)
    }

    /// Runs `resolvectl <args>` in the lab; panics unless it succeeds; returns stdout.
    pub fn resolvectl(&self, args: &[&str]) -> String {
        expect_success(
            &format!("resolvectl {args:?}"),
            &self.resolvectl_output(args),
        )
    }

    /// `resolvectl status` (everything resolved is configured with, as text).
    pub fn status(&self) -> String {
        self.resolvectl(&["status", "--no-pager"])
    }

    /// `busctl <args>` on the lab's bus; panics unless it succeeds; returns stdout.
    pub fn busctl(&self, args: &[&str]) -> String {
        let mut all = vec!["busctl"];
        all.extend_from_slice(args);
        self.exec_ok(&all)
    }

    /// What NetworkManager does for the link with the default route: its DNS servers
    /// (`SetLinkDNS`) and `SetLinkDefaultRoute(true)`.
    pub fn uplink_dns(&self, interface: &str, servers: &[IpAddr]) {
        let servers: Vec<String> = servers.iter().map(IpAddr::to_string).collect();
        let mut args = vec!["dns", interface];
        args.extend(servers.iter().map(String::as_str));
        self.resolvectl(&args);
        self.link_default_route(interface, true);
    }

    /// `SetLinkDomains`: `domains` as resolvectl spells them (`~name` is routing-only,
    /// `~.` routes everything); empty clears them.
    pub fn link_domains(&self, interface: &str, domains: &[&str]) {
        let mut args = vec!["domain", interface];
        if domains.is_empty() {
            args.push("");
        }
        args.extend_from_slice(domains);
        self.resolvectl(&args);
    }

    /// `SetLinkDefaultRoute`.
    pub fn link_default_route(&self, interface: &str, enabled: bool) {
        self.resolvectl(&[
            "default-route",
            interface,
            if enabled { "yes" } else { "no" },
        ]);
    }

    /// `RevertLink`: drops everything set on the link over D-Bus.
    pub fn revert_link(&self, interface: &str) {
        self.resolvectl(&["revert", interface]);
    }

    /// Holds tun device `name` open with socat (log `tun-<name>`), which gives it carrier:
    /// attaches to an existing (persistent, `ip tuntap add`) device, or creates a
    /// non-persistent one that vanishes when the holder dies. Returns once the link is
    /// up with carrier; the pid is for [`ResolvedLab::kill`].
    pub fn hold_tun(&self, name: &str) -> u32 {
        let mut command = self.command("socat");
        command.args([
            "-u",
            &format!("TUN,tun-name={name},tun-type=tun,iff-no-pi,iff-up"),
            "OPEN:/dev/null,wronly",
        ]);
        let log_name = format!("tun-{name}");
        let pid = self.spawn(&log_name, command);
        poll_until(
            &format!("tun {name} to have carrier"),
            READY_TIMEOUT,
            || {
                self.assert_alive(pid, &log_name);
                let link = self.run(&["ip", "-o", "link", "show", name]);
                String::from_utf8_lossy(&link.stdout)
                    .contains("LOWER_UP")
                    .then_some(())
            },
        );
        pid
    }

    /// The interface's index inside the lab.
    pub fn ifindex(&self, interface: &str) -> u32 {
        let path = self.inside(&format!("/sys/class/net/{interface}/ifindex"));
        let text = fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "no interface {interface} in the lab ({}): {e}",
                path.display()
            )
        });
        text.trim().parse().expect("an interface index")
    }

    /// Whether `interface` exists in the lab.
    pub fn has_interface(&self, interface: &str) -> bool {
        self.run(&["ip", "link", "show", interface])
            .status
            .success()
    }

    fn resolved_exit_status(&self) -> Option<std::process::ExitStatus> {
        let mut resolved = self.resolved.lock().unwrap();
        resolved
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// Panics with its log if the spawned process `pid` has exited.
    fn assert_alive(&self, pid: u32, log_name: &str) {
        let mut processes = self.processes.lock().unwrap();
        let child = processes.iter_mut().find(|(_, c)| c.id() == pid);
        if let Some((_, child)) = child
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!("{log_name} exited ({status}):\n{}", self.log(log_name));
        }
    }

    /// Points the dynamic loader at the package's own libsystemd-shared (the host's may
    /// be another point release), when the package root has one.
    fn with_package_libraries<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        if let Some(dir) = package_library_dir(&self.package_root) {
            command.env("LD_LIBRARY_PATH", dir);
        }
        command
    }
}

/// `<root>/usr/lib/<triplet>/systemd`, if it holds a libsystemd-shared.
fn package_library_dir(root: &std::path::Path) -> Option<PathBuf> {
    let lib = root.join("usr/lib");
    fs::read_dir(lib).ok()?.flatten().find_map(|entry| {
        let dir = entry.path().join("systemd");
        let has_shared = fs::read_dir(&dir).ok()?.flatten().any(|file| {
            file.file_name()
                .to_string_lossy()
                .starts_with("libsystemd-shared-")
        });
        has_shared.then_some(dir)
    })
}
