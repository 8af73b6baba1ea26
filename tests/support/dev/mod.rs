//! A real `boundary dev` (or `boundary controller -config`) on the host for the tests that
//! drive a controller: started from a [`DevBuilder`], ready once it printed its addresses
//! and its API accepts connections, killed when dropped (the tail of its output printed
//! when the test is failing). REST calls as plain JSON are in `rest.rs`, so nothing of
//! ours sits between a test and the wire.
//!
//! Starting is synchronous (it only polls), so sync and async tests use the same
//! [`DevBuilder::start`]; REST calls are async, with blocking forms for sync tests.

mod builder;
mod config;
mod rest;

// Re-exported for the test crates; each uses only some (see `dead_code` in support/mod.rs).
#[allow(unused_imports)]
pub use builder::{DevBuilder, DevPorts, base64, free_port, random_key};
#[allow(unused_imports)]
pub use config::{ControllerConfig, TestTls};

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::Duration;

use boundary_net::client::{ClientOptions, ControllerClient};
use boundary_wire::api::Secret;

use super::cli::Cli;
use super::runtime::block_on_thread;
use super::server_process::ServerProcess;
use super::wait::{poll_until, tcp_accepts};

/// What `boundary dev` seeds (Boundary's well-known dev ids and credentials).
pub const AUTH_METHOD_ID: &str = "ampw_1234567890";
pub const LOGIN_NAME: &str = "admin";
pub const PASSWORD: &str = "password";
pub const PROJECT_ID: &str = "p_1234567890";
pub const TARGET_ID: &str = "ttcp_1234567890";

/// Stops a hung start (a debug build hashes the admin password and migrates the database
/// first); not a speed expectation.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Stops a hung shutdown.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Dev {
    /// The API's URL as it printed it (`http://127.0.0.1:<port>`, `https://…` with TLS).
    pub api: String,
    /// The cluster listener's URL as it printed it.
    pub cluster: String,
    /// The client of [`Dev::call`] and the other REST helpers.
    pub http: reqwest::Client,
    proxy: Option<SocketAddr>,
    worker_auth_key: [u8; 32],
    admin_token: OnceLock<String>,
    process: ServerProcess,
    /// Declared last: the output files outlive the process.
    dir: tempfile::TempDir,
}

impl Dev {
    /// `boundary dev` on free ports of 127.0.0.1 with a random worker-auth key.
    pub fn builder() -> DevBuilder {
        DevBuilder::dev()
    }

    /// `boundary controller -config <path>` with `config` (written there first).
    pub fn controller(path: &Path, config: &ControllerConfig) -> DevBuilder {
        config.write(path);
        DevBuilder::controller(path, config.worker_auth_key)
    }

    /// `Dev::builder().start()`.
    pub fn start() -> Dev {
        Dev::builder().start()
    }

    /// Where clients reach the dev worker (panics for a controller without one).
    pub fn proxy(&self) -> SocketAddr {
        self.proxy.expect(
            "this controller runs no dev worker (-controller-only or `boundary controller`)",
        )
    }

    /// A directory for the test's files, removed with the controller.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn process(&self) -> &ServerProcess {
        &self.process
    }

    pub fn worker_auth_key(&self) -> [u8; 32] {
        self.worker_auth_key
    }

    /// The lines it printed on stdout (banner, initial credentials).
    pub fn stdout_lines(&self) -> Vec<String> {
        self.process.stdout().lines().map(str::to_owned).collect()
    }

    /// The value of the banner line `<name> <value>` (`name` with its colon, e.g.
    /// `"Password:"`).
    pub fn banner(&self, name: &str) -> Option<String> {
        banner_field(&self.process.stdout(), name)
    }

    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }

    /// The tail of what it printed, for failure messages.
    pub fn output_tail(&self) -> String {
        self.process.tail()
    }

    /// SIGTERM, and how it exited (panics if it does not).
    pub fn terminate(&self) -> ExitStatus {
        self.process.terminate(EXIT_TIMEOUT)
    }

    /// A library client for this controller (anonymous).
    pub fn client(&self) -> ControllerClient {
        ControllerClient::new(&self.api, ClientOptions::default()).expect("client")
    }

    /// A library client for this controller with the initial admin's token (for sync
    /// tests: it logs in first if need be).
    pub fn admin_client_blocking(&self) -> ControllerClient {
        self.client()
            .with_token(Some(Secret::new(self.admin_token_blocking())))
    }

    /// The `boundary` CLI on the host against this controller.
    pub fn cli(&self) -> Cli<'static> {
        Cli::new(&self.api)
    }

    /// A token of the initial admin (the credentials it printed at start), logged in once
    /// and then reused.
    pub async fn admin_token(&self) -> String {
        if let Some(token) = self.admin_token.get() {
            return token.clone();
        }
        let (auth_method, login_name, password) = self.initial_admin();
        let token = self
            .login(&auth_method, &login_name, &password)
            .await
            .unwrap_or_else(|e| panic!("admin login: {e:#}"));
        self.admin_token.get_or_init(|| token).clone()
    }

    /// [`Dev::admin_token`] for sync code.
    pub fn admin_token_blocking(&self) -> String {
        if let Some(token) = self.admin_token.get() {
            return token.clone();
        }
        let (auth_method, login_name, password) = self.initial_admin();
        // Its own client: connections pooled on another thread's runtime die with it.
        let http = rest::http_client();
        let token = block_on_thread(rest::login_with(
            &http,
            &self.api,
            &auth_method,
            &login_name,
            &password,
        ))
        .unwrap_or_else(|e| panic!("admin login: {e:#}"));
        self.admin_token.get_or_init(|| token).clone()
    }

    /// The initial admin's auth method, login name and password, from the banner.
    fn initial_admin(&self) -> (String, String, String) {
        let field = |name: &str| {
            self.banner(name).unwrap_or_else(|| {
                panic!(
                    "no {name:?} in the banner (a restart prints no credentials):\n{}",
                    self.process.stdout()
                )
            })
        };
        (
            field("Auth Method ID:"),
            field("Login Name:"),
            field("Password:"),
        )
    }
}

impl DevBuilder {
    /// Starts it and returns once it printed its API and cluster addresses and its API
    /// accepts connections; fails at once with its output if it exits.
    pub fn start(mut self) -> Dev {
        let _ = rustls::crypto::ring::default_provider().install_default();
        for attempt in 1..=PORT_ATTEMPTS {
            match self.start_once() {
                Ok(dev) => return dev,
                Err(process) if attempt < PORT_ATTEMPTS && self.repick_taken_ports(&process) => {}
                Err(process) => panic!("boundary exited while starting:\n{}", process.tail()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// One start; `Err` with the process when it exited before it was ready.
    fn start_once(&self) -> Result<Dev, ServerProcess> {
        let dir = tempfile::tempdir().expect("tempdir");
        let cli = self
            .envs
            .iter()
            .fold(Cli::host(), |cli, (key, value)| cli.env(key, value));
        let args = self.command_line();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let process = ServerProcess::spawn("boundary", cli.command(&args), dir.path());
        let printed = poll_until("boundary to print its addresses", START_TIMEOUT, || {
            if !process.is_running() {
                return Ok(None);
            }
            let stdout = process.stdout();
            match printed_addresses(&stdout) {
                Some(addresses) => Ok(Some(addresses)),
                None => Err(format!("stdout so far:\n{stdout}")),
            }
        });
        let Some((api, cluster)) = printed else {
            return Err(process);
        };
        let api_socket = socket_address(&api);
        let accepting = poll_until("its API to accept connections", START_TIMEOUT, || {
            if !process.is_running() {
                return Ok(false);
            }
            tcp_accepts(api_socket).map(|()| true)
        });
        if !accepting {
            return Err(process);
        }
        Ok(Dev {
            api,
            cluster,
            http: self.http.clone().unwrap_or_else(rest::http_client),
            proxy: self.proxy_address(),
            worker_auth_key: self.worker_auth_key,
            admin_token: OnceLock::new(),
            process,
            dir,
        })
    }
}

/// Starts of a `boundary dev` whose free ports another process took first.
const PORT_ATTEMPTS: usize = 3;

/// The API and cluster URLs from what `boundary dev` or `boundary controller` printed
/// (`API address: …`, `Cluster address: …`), once both are there.
pub fn printed_addresses(stdout: &str) -> Option<(String, String)> {
    Some((
        banner_field(stdout, "API address:")?,
        banner_field(stdout, "Cluster address:")?,
    ))
}

fn banner_field(stdout: &str, name: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
}

/// `http://127.0.0.1:9200` → `127.0.0.1:9200`.
fn socket_address(url: &str) -> SocketAddr {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|url| url.socket_addrs(|| None).ok())
        .and_then(|addresses| addresses.into_iter().next())
        .unwrap_or_else(|| panic!("not a URL with an IP address and port: {url}"))
}
