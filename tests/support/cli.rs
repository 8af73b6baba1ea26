//! The real `boundary` binary run as a user or a script runs it: a clean environment (no
//! `BOUNDARY_*` from the developer's shell) plus what the test sets, on the host or inside
//! a network namespace as some user, bounded by a timeout; and what it printed, with
//! stdout parsed as the one JSON document `-format json` prints.

use std::process::{Command, ExitStatus, Output};

use serde_json::Value;

use super::executable::runnable_by_anyone;
use super::netns::Netns;
use super::os_user::OsUser;
use super::process::{HANG_TIMEOUT, run_with_timeout, run_with_timeout_async};

pub const BOUNDARY: &str = env!("CARGO_BIN_EXE_boundary");

/// How to run `boundary`: where (host, or a namespace as root or a user) and with which
/// environment variables.
#[derive(Clone)]
pub struct Cli<'a> {
    netns: Option<(&'a Netns, Option<&'a OsUser>)>,
    envs: Vec<(String, String)>,
}

impl Cli<'static> {
    /// On the host, talking to the controller at `addr` (`BOUNDARY_ADDR`).
    pub fn new(addr: &str) -> Cli<'static> {
        Cli::host().env("BOUNDARY_ADDR", addr)
    }

    /// On the host, with nothing set.
    pub fn host() -> Cli<'static> {
        Cli {
            netns: None,
            envs: Vec::new(),
        }
    }
}

impl<'a> Cli<'a> {
    /// In `netns` as `user` (root when `None`).
    pub fn in_netns(netns: &'a Netns, user: Option<&'a OsUser>) -> Cli<'a> {
        Cli {
            netns: Some((netns, user)),
            envs: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Cli<'a> {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// `program` where and with the environment this runs `boundary` (ssh passes it on
    /// to a `ProxyCommand`).
    pub fn program(&self, program: &str) -> Command {
        let mut command = match self.netns {
            Some((netns, user)) => netns.command_for(user, program),
            None => Command::new(program),
        };
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("BOUNDARY_") {
                command.env_remove(key);
            }
        }
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        command
    }

    /// `boundary <args>`, to run or spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let binary = match self.netns {
            Some((_, Some(_))) => runnable_by_anyone(BOUNDARY),
            _ => BOUNDARY.into(),
        };
        let mut command = self.program(&binary.to_string_lossy());
        command.args(args);
        command
    }

    /// Runs `boundary <args>` to completion (bounded by [`HANG_TIMEOUT`]).
    pub fn run(&self, args: &[&str]) -> Run {
        let output = run_with_timeout(&mut self.command(args), None, HANG_TIMEOUT);
        Run::new(args, output)
    }

    /// [`Cli::run`] for async code (the runtime keeps serving meanwhile, e.g. a server in
    /// this process that the command talks to).
    pub async fn run_async(&self, args: &[&str]) -> Run {
        let output = run_with_timeout_async(self.command(args), None, HANG_TIMEOUT).await;
        Run::new(args, output)
    }
}

/// What one finished `boundary` run printed.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn new(args: &[&str], output: Output) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The exit code (`None` when a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> String {
        assert!(
            self.success(),
            "boundary {:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.status,
            self.stdout,
            self.stderr
        );
        self.stdout.clone()
    }

    /// Asserts success and parses stdout as the one JSON document.
    pub fn json(&self) -> Value {
        parse_json(&self.ok())
    }

    /// Parses stdout as JSON whatever the exit code.
    pub fn json_any(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "boundary {:?}: stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }
}

/// `text` as one JSON document; panics showing the text otherwise.
pub fn parse_json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
