//! A network namespace owned by one test: created empty with `lo` up, deleted on drop
//! (also when the test panics). Minimal on purpose; a shared helper lives on another
//! branch.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `<prefix>-<pid>-<n>` and brings its loopback up.
    pub fn new(prefix: &str) -> Netns {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]));
        let netns = Netns { name };
        run(&mut netns.command("ip", &["link", "set", "lo", "up"]));
        netns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec <ns> <program> <args>`.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        command
    }

    /// Runs a command in the namespace and insists it succeeds.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        run(&mut self.command(program, args))
    }

    /// Moves the calling thread (only it) into the namespace.
    pub fn enter_current_thread(&self) {
        let file = File::open(format!("/var/run/netns/{}", self.name)).expect("open netns");
        // SAFETY: setns on a valid namespace fd affects only the calling thread's network
        // namespace; the fd stays open for the duration of the call.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let status = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "could not delete network namespace {}: {status:?}",
                self.name
            );
        }
    }
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("spawn");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
