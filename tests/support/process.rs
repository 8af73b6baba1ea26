//! Running a command to completion with a deadline, so a hung client (an ssh waiting for
//! a tunnel that never comes) fails the test with what it printed instead of hanging it.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::netns::Netns;
use super::os_user::OsUser;

/// The default deadline of [`run_with_timeout`] callers in the support code: it only stops
/// a hung test and says nothing about speed.
pub const HANG_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `command` with `stdin` (or an empty stdin) and returns its output. After `timeout`
/// the command's process group is killed and this panics with the output so far.
pub fn run_with_timeout(command: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    let mut child = command
        .process_group(0)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_vec();
        // A writer thread: a large input must not block us while the child's output fills.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => break None,
            Err(e) => panic!("waiting for {command:?}: {e}"),
        }
    };
    if status.is_none() {
        let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
        let _ = child.wait();
    }
    // Output pipes may be held open by a process that left the group; don't wait forever.
    let grace = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
    let stdout = stdout.recv_timeout(grace).unwrap_or_default();
    let stderr = stderr
        .recv_timeout(Duration::from_secs(1))
        .unwrap_or_default();
    match status {
        Some(status) => Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{command:?} did not finish within {timeout:?}; stdout: {}; stderr: {}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

/// [`run_with_timeout`] for async code: the command runs on tokio's blocking pool, so the
/// runtime keeps serving other tasks (e.g. a server the command talks to) meanwhile.
pub async fn run_with_timeout_async(
    mut command: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> Output {
    let run = tokio::task::spawn_blocking(move || {
        run_with_timeout(&mut command, stdin.as_deref(), timeout)
    });
    match run.await {
        Ok(output) => output,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// The command's stdout; panics with everything it printed unless it succeeded.
pub fn expect_success(what: &str, output: &Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        describe(output.status),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

fn read_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            let _ = pipe.read_to_end(&mut buffer);
            let _ = sender.send(buffer);
        });
    }
    receiver
}

impl Netns {
    /// `ip netns exec <name> runuser -u <user> -- <program>`: add arguments and run it
    /// with [`run_with_timeout`] or start it with [`Netns::spawn`]. runuser sets HOME,
    /// USER, LOGNAME and SHELL for the user (no login shell, no PAM session prompts).
    pub fn command_as(&self, user: &OsUser, program: &str) -> Command {
        let mut command = self.command("runuser");
        command.args(["-u", &user.name, "--", program]);
        command
    }

    /// [`Netns::command_as`] for `Some(user)`, [`Netns::command`] (root) for `None`.
    pub fn command_for(&self, user: Option<&OsUser>, program: &str) -> Command {
        match user {
            Some(user) => self.command_as(user, program),
            None => self.command(program),
        }
    }

    /// Runs `args` in the namespace as root (bounded by [`HANG_TIMEOUT`]).
    pub fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args[0]);
        command.args(&args[1..]);
        run_with_timeout(&mut command, None, HANG_TIMEOUT)
    }

    /// Runs `args` in the namespace as `user` (bounded by [`HANG_TIMEOUT`]).
    pub fn run_as(&self, user: &OsUser, args: &[&str]) -> Output {
        let mut command = self.command_as(user, args[0]);
        command.args(&args[1..]);
        run_with_timeout(&mut command, None, HANG_TIMEOUT)
    }

    /// [`Netns::run_as`] that panics unless the command succeeds; returns stdout.
    pub fn run_as_ok(&self, user: &OsUser, args: &[&str]) -> String {
        let output = self.run_as(user, args);
        expect_success(
            &format!("{args:?} as {} in {}", user.name, self.name()),
            &output,
        )
    }
}
