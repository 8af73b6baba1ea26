//! Runs the real `boundary dev` (or `boundary controller`) binary on free ports and talks to
//! it over HTTP. The process is killed on drop; its stderr goes to a temporary file whose
//! tail is shown when a start fails.

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: a debug build hashes the admin password and migrates the database first.
const START_TIMEOUT: Duration = Duration::from_secs(120);
pub const WORKER_AUTH_KEY: [u8; 32] = [7u8; 32];

pub struct DevController {
    child: Child,
    pub api: String,
    pub cluster: String,
    /// Lines printed on stdout (banner, initial credentials).
    pub stdout: Vec<String>,
    pub http: reqwest::Client,
    stderr_path: tempfile::TempPath,
}

impl DevController {
    /// `boundary dev -controller-only` on free ports with [`WORKER_AUTH_KEY`], plus `extra`
    /// flags. The tests register the workers they need through the worker API.
    pub async fn start(extra: &[&str]) -> Result<Self> {
        let key = base64::engine::general_purpose::STANDARD.encode(WORKER_AUTH_KEY);
        let mut args = vec![
            "dev",
            "-api-listen-address",
            "127.0.0.1:0",
            "-cluster-listen-address",
            "127.0.0.1:0",
            "-controller-only",
            "-worker-auth-key",
            &key,
        ];
        args.extend_from_slice(extra);
        Self::spawn(&args).await
    }

    /// Any `boundary` command that prints `API address:` and `Cluster address:` lines.
    pub async fn spawn(args: &[&str]) -> Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Self::spawn_with_client(args, http).await
    }

    /// Like [`Self::spawn`], talking to the API with `http` (for a TLS listener).
    pub async fn spawn_with_client(args: &[&str], http: reqwest::Client) -> Result<Self> {
        let stderr_file = tempfile::NamedTempFile::new()?;
        let (stderr, stderr_path) = stderr_file.into_parts();
        let mut child = Command::new(env!("CARGO_BIN_EXE_boundary"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .context("starting boundary")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The receiver may be gone; keep draining so the child never blocks.
                let _ = tx.send(line);
            }
        });
        let mut this = Self {
            child,
            api: String::new(),
            cluster: String::new(),
            stdout: vec![],
            http,
            stderr_path,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while this.api.is_empty() || this.cluster.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => bail!(
                    "boundary did not print its addresses; stderr:\n{}",
                    this.stderr_tail()
                ),
            };
            if let Some(a) = line.trim().strip_prefix("API address: ") {
                this.api = a.to_owned();
            }
            if let Some(a) = line.trim().strip_prefix("Cluster address: ") {
                this.cluster = a.to_owned();
            }
            this.stdout.push(line);
        }
        // Ready when the API answers.
        loop {
            if let Ok(r) = this
                .http
                .get(format!("{}/v1/scopes", this.api))
                .send()
                .await
                && r.status() == StatusCode::OK
            {
                return Ok(this);
            }
            if Instant::now() > deadline {
                bail!("the API never answered; stderr:\n{}", this.stderr_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns its status.
    pub async fn terminate(&mut self) -> Result<std::process::ExitStatus> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id())?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("still running 30 s after SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `Authorization` value for the worker API.
    pub fn worker_bearer(&self) -> String {
        format!(
            "Bearer {}",
            boundary::controller::worker_auth::derive_credential(&WORKER_AUTH_KEY).expose()
        )
    }

    /// A REST call; returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await?).await
    }

    /// A worker API call with the worker-auth credential.
    pub async fn worker(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.cluster))
            .header("Authorization", self.worker_bearer());
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await?).await
    }

    /// Logs in with the password auth method and returns the token.
    pub async fn login(
        &self,
        auth_method_id: &str,
        login_name: &str,
        password: &str,
    ) -> Result<String> {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/v1/auth-methods/{auth_method_id}:authenticate"),
                None,
                Some(serde_json::json!({"command": "login", "attributes": {"login_name": login_name, "password": password}})),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("login as {login_name} failed: {status} {body}");
        }
        body["attributes"]["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no token in {body}"))
    }

    /// Registers a worker and returns its id.
    pub async fn register_worker(&self, name: &str, address: &str) -> Result<String> {
        let (status, body) = self
            .worker(
                Method::POST,
                "/v1/worker/register",
                Some(serde_json::json!({"name": name, "address": address})),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("register failed: {status} {body}");
        }
        Ok(body["worker_id"].as_str().unwrap_or_default().to_owned())
    }
}

async fn read(resp: reqwest::Response) -> Result<(StatusCode, Value)> {
    let status = resp.status();
    let bytes = resp.bytes().await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{status}: body is not JSON: {:?}",
                String::from_utf8_lossy(&bytes)
            )
        })?
    };
    Ok((status, body))
}

impl Drop for DevController {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
