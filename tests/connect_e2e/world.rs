//! The harness of the connect tests: a `boundary dev` with an admin token, commands with
//! its environment, and `boundary connect` running in the background.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;

use super::support::cli::Cli;
use super::support::dev::{Dev, PROJECT_ID};
use super::support::names::unique_alias;
use super::support::process::HANG_TIMEOUT;
use super::support::wait::{READY_TIMEOUT, poll_until};

/// A `boundary dev` with an admin token, and the environment every `boundary` run gets.
pub struct World {
    dev: Dev,
    token: String,
}

impl World {
    pub fn start() -> World {
        let dev = Dev::start();
        let token = dev.admin_token_blocking();
        World { dev, token }
    }

    /// `boundary` with a clean environment pointing at this controller and token.
    pub fn command(&self) -> Command {
        self.cli().command(&[])
    }

    /// Any program with that environment (ssh passes it on to its ProxyCommand).
    pub fn program(&self, program: &str) -> Command {
        self.cli().program(program)
    }

    pub fn cli(&self) -> Cli<'static> {
        self.dev
            .cli()
            .env("BOUNDARY_TOKEN", &self.token)
            .env("BOUNDARY_KEYRING_TYPE", "none")
    }

    /// A tcp target on 127.0.0.1:`port`.
    pub fn target(&self, port: u16, connection_limit: i32) -> String {
        let doc = self
            .cli()
            .run(&[
                "targets",
                "create",
                "tcp",
                "-scope-id",
                PROJECT_ID,
                "-name",
                &unique_alias("target"),
                "-address",
                "127.0.0.1",
                "-default-port",
                &port.to_string(),
                "-session-connection-limit",
                &connection_limit.to_string(),
                "-format",
                "json",
            ])
            .json();
        doc["item"]["id"].as_str().expect("target id").to_string()
    }

    pub fn alias(&self, target_id: &str) -> String {
        let value = unique_alias("ssh");
        self.cli()
            .run(&[
                "aliases",
                "create",
                "target",
                "-value",
                &value,
                "-destination-id",
                target_id,
                "-format",
                "json",
            ])
            .json();
        value
    }

    /// `targets authorize-session`: (session id, authorization token).
    pub fn authorize(&self, target_id: &str) -> (String, String) {
        let doc = self
            .cli()
            .run(&[
                "targets",
                "authorize-session",
                "-id",
                target_id,
                "-format",
                "json",
            ])
            .json();
        let item = &doc["item"];
        (
            item["session_id"].as_str().expect("session id").to_string(),
            item["authorization_token"]
                .as_str()
                .expect("authorization token")
                .to_string(),
        )
    }

    pub fn session_status(&self, session_id: &str) -> String {
        let doc = self
            .cli()
            .run(&["sessions", "read", "-id", session_id, "-format", "json"])
            .json();
        doc["item"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The target's sessions that are not terminated (the listing leaves those out).
    pub fn sessions_of(&self, target_id: &str) -> Vec<Value> {
        let doc = self
            .cli()
            .run(&[
                "sessions",
                "list",
                "-scope-id",
                PROJECT_ID,
                "-format",
                "json",
            ])
            .json();
        doc["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s["target_id"] == target_id)
            .collect()
    }

    /// Polls until no session of the target is pending or active any more.
    pub fn wait_target_sessions_ended(&self, target_id: &str) {
        poll_until("the target's sessions to end", READY_TIMEOUT, || {
            let live: Vec<_> = self
                .sessions_of(target_id)
                .into_iter()
                .filter(|s| s["status"] == "pending" || s["status"] == "active")
                .collect();
            if live.is_empty() {
                Ok(())
            } else {
                Err(format!("sessions still live: {live:?}"))
            }
        });
    }

    /// Polls until the session is no longer usable (canceling or terminated).
    pub fn wait_session_ended(&self, session_id: &str) {
        poll_until(
            &format!("session {session_id} to end"),
            READY_TIMEOUT,
            || {
                let status = self.session_status(session_id);
                if status == "canceling" || status == "terminated" {
                    Ok(())
                } else {
                    Err(format!("session {session_id} is still {status:?}"))
                }
            },
        );
    }
}

pub fn wait_output(child: Child, what: &str) -> std::process::Output {
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A `boundary connect -format json` running in the background, its stdout lines
/// collected by a thread.
pub struct BackgroundConnect {
    child: Child,
    lines: mpsc::Receiver<String>,
    info: Value,
}

impl BackgroundConnect {
    pub fn start(world: &World, args: &[&str]) -> BackgroundConnect {
        let mut child = world
            .command()
            .arg("connect")
            .args(args)
            .args(["-format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start boundary connect");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut connect = BackgroundConnect {
            child,
            lines,
            info: Value::Null,
        };
        connect.info = connect.next_json();
        connect
    }

    pub fn next_json(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(HANG_TIMEOUT)
            .expect("boundary connect printed a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    pub fn address(&self) -> String {
        format!(
            "{}:{}",
            self.info["address"].as_str().unwrap(),
            self.info["port"]
        )
    }

    pub fn session_id(&self) -> String {
        self.info["session_id"].as_str().unwrap().to_string()
    }

    /// Ctrl-C, then the exit status.
    pub fn interrupt(&mut self) -> ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
        poll_until(
            "boundary connect to exit after SIGINT",
            HANG_TIMEOUT,
            || self.child.try_wait().expect("try_wait"),
        )
    }
}

impl Drop for BackgroundConnect {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
