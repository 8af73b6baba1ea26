//! A long-running program a test starts on the host (a controller, a worker, sshd): its
//! stdout and stderr go to files, it is killed when the handle drops, and when the test is
//! failing the tail of what it printed is shown first.
//!
//! Programs inside a network namespace are started with `Netns::spawn` or
//! `Topology::spawn` instead (the namespace kills them).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::wait::poll_until;

/// How many lines of each output a failing test prints.
pub const TAIL_LINES: usize = 40;

pub struct ServerProcess {
    name: String,
    child: Mutex<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl ServerProcess {
    /// Starts `command` (stdin empty) with its output in `<dir>/<name>.stdout` and
    /// `<dir>/<name>.stderr`; `dir` must outlive the process.
    pub fn spawn(name: &str, mut command: Command, dir: &Path) -> ServerProcess {
        let stdout = dir.join(format!("{name}.stdout"));
        let stderr = dir.join(format!("{name}.stderr"));
        let create = |path: &Path| {
            File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()))
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(create(&stdout))
            .stderr(create(&stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        ServerProcess {
            name: name.to_owned(),
            child: Mutex::new(child),
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child().id()
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout)
    }

    /// Everything it printed so far: stdout, then stderr.
    pub fn output(&self) -> String {
        format!("{}{}", read_lossy(&self.stdout), read_lossy(&self.stderr))
    }

    /// The last lines of stdout and of stderr, for failure messages.
    pub fn tail(&self) -> String {
        format!(
            "----- last {TAIL_LINES} lines of {name}'s stdout -----\n{}\n\
             ----- last {TAIL_LINES} lines of {name}'s stderr -----\n{}",
            tail(&read_lossy(&self.stdout)),
            tail(&read_lossy(&self.stderr)),
            name = self.name,
        )
    }

    /// The exit status, once the process has ended.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.child().try_wait().ok().flatten()
    }

    pub fn is_running(&self) -> bool {
        self.exit_status().is_none()
    }

    /// Panics with the tail of its output if the process has exited.
    pub fn assert_running(&self) {
        if let Some(status) = self.exit_status() {
            panic!("{} exited early ({status});\n{}", self.name, self.tail());
        }
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.pid()).expect("a pid"));
        kill(pid, signal).unwrap_or_else(|e| panic!("cannot send {signal} to {}: {e}", self.name));
    }

    /// SIGTERM, then waits (up to `timeout`, which only stops a hung test) for the exit.
    pub fn terminate(&self, timeout: Duration) -> ExitStatus {
        self.signal(Signal::SIGTERM);
        self.wait_exit(timeout)
    }

    /// Waits (up to `timeout`) for the process to exit by itself; returns how it exited.
    pub fn wait_exit(&self, timeout: Duration) -> ExitStatus {
        poll_until(&format!("{} to exit", self.name), timeout, || {
            self.exit_status().ok_or_else(|| "still running".to_owned())
        })
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.tail());
        }
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The file's text (lossy UTF-8; empty if it cannot be read yet).
pub fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The last [`TAIL_LINES`] lines of `text`.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}
