//! Test harness: a real `boundary dev` on free local ports, and the real `boundary` CLI
//! run against it as a user would.

#![allow(dead_code)]

use boundary::client::{ClientOptions, ControllerClient};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What `boundary dev` seeds (Boundary's well-known dev ids and credentials).
pub const AUTH_METHOD_ID: &str = "ampw_1234567890";
pub const LOGIN_NAME: &str = "admin";
pub const PASSWORD: &str = "password";
pub const PROJECT_ID: &str = "p_1234567890";

pub fn boundary_bin() -> &'static str {
    env!("CARGO_BIN_EXE_boundary")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A running `boundary dev`, killed (by its pid) when dropped. Its output goes to a log
/// file that is printed if the controller never becomes ready.
pub struct Dev {
    child: Child,
    pub addr: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Dev {
    pub fn start() -> Dev {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("dev.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let api = free_port();
        let cluster = free_port();
        let proxy = free_port();
        let child = Command::new(boundary_bin())
            .args([
                "dev",
                "-api-listen-address",
                &format!("127.0.0.1:{api}"),
                "-cluster-listen-address",
                &format!("127.0.0.1:{cluster}"),
                "-proxy-listen-address",
                &format!("127.0.0.1:{proxy}"),
            ])
            .env_remove("BOUNDARY_ADDR")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .expect("start boundary dev");
        let mut dev = Dev {
            child,
            addr: format!("http://127.0.0.1:{api}"),
            log,
            _dir: dir,
        };
        dev.wait_ready();
        dev
    }

    /// Polls the API until it answers (any HTTP status), with a deadline that only stops a
    /// hung test.
    fn wait_ready(&mut self) {
        let client = self.client();
        let runtime = runtime();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "boundary dev exited early ({status}); its output:\n{}",
                    self.log_text()
                );
            }
            match runtime.block_on(client.list_auth_methods("global")) {
                Ok(_) => return,
                Err(e) if !e.is_transport() => return,
                Err(_) if Instant::now() > deadline => panic!(
                    "boundary dev did not answer on {} in time; its output:\n{}",
                    self.addr,
                    self.log_text()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A library client for the dev controller (anonymous).
    pub fn client(&self) -> ControllerClient {
        ControllerClient::new(&self.addr, ClientOptions::default()).expect("client")
    }

    /// Logs in as the seeded admin through the library client and returns the token.
    pub fn admin_token(&self) -> String {
        let response = runtime()
            .block_on(self.client().authenticate_password(
                AUTH_METHOD_ID,
                LOGIN_NAME,
                &PASSWORD.into(),
            ))
            .expect("admin login");
        response
            .attributes
            .token
            .expect("login answer has a token")
            .into_inner()
    }

    /// The `boundary` CLI against this controller.
    pub fn cli(&self) -> Cli {
        Cli::new(&self.addr)
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// One `boundary` invocation: a clean environment (no BOUNDARY_* from the developer's
/// shell) plus what the test sets.
pub struct Cli {
    envs: Vec<(String, String)>,
}

impl Cli {
    pub fn new(addr: &str) -> Cli {
        Cli {
            envs: vec![("BOUNDARY_ADDR".into(), addr.into())],
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Cli {
        self.envs.push((key.into(), value.into()));
        self
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(boundary_bin());
        cmd.args(args).stdin(Stdio::null());
        for (key, _) in std::env::vars() {
            if key.starts_with("BOUNDARY_") {
                cmd.env_remove(key);
            }
        }
        for (key, value) in &self.envs {
            cmd.env(key, value);
        }
        let output = cmd.output().expect("run boundary");
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            output,
        }
    }
}

pub struct Run {
    args: Vec<String>,
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> String {
        assert_eq!(
            self.code(),
            0,
            "boundary {:?} failed\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts success and parses stdout as the single JSON document.
    pub fn json(&self) -> serde_json::Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!("boundary {:?}: stdout is not JSON ({e}):\n{out}", self.args)
        })
    }

    /// Parses stdout as JSON whatever the exit code.
    pub fn json_any(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout()).unwrap_or_else(|e| {
            panic!(
                "boundary {:?}: stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.args,
                self.stdout(),
                self.stderr()
            )
        })
    }
}

/// A unique DNS-like alias value for this run.
pub fn unique_alias(prefix: &str) -> String {
    format!(
        "{prefix}-{}.test",
        boundary::api::ids::random_base62(8).to_lowercase()
    )
}
