//! Harness for the worker tests: a real `boundary dev` (controller and its worker) on free
//! local ports, a standalone `boundary worker -config`, an echo server, and the admin REST
//! calls the tests need, written as plain JSON so nothing of ours sits between the test
//! and the wire.
#![allow(dead_code)]

pub mod raw_client;

use base64::Engine;
use rand::Rng;
use raw_client::SessionGrant;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const AUTH_METHOD_ID: &str = "ampw_1234567890";
pub const PROJECT_ID: &str = "p_1234567890";
pub const DEV_TARGET_ID: &str = "ttcp_1234567890";

/// Only stops a hung test; never an assertion about speed.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// Polls `check` until it returns `Some`, failing the test at [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A 20-character base62 tofu token.
pub fn tofu() -> Vec<u8> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
        .collect()
}

/// A child process killed (by its own pid) when dropped; its output is kept in a file.
pub struct Process {
    child: std::sync::Mutex<Child>,
    log: PathBuf,
}

impl Process {
    fn spawn(command: &mut Command, log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("start boundary");
        Process {
            child: std::sync::Mutex::new(child),
            log,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.lock().unwrap().id()).expect("pid")
    }

    pub fn assert_running(&self) {
        if let Ok(Some(status)) = self.child.lock().unwrap().try_wait() {
            panic!(
                "process exited early ({status}); output:\n{}",
                self.log_text()
            );
        }
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn terminate(&self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid()),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("SIGTERM");
    }

    /// The exit status, once the process has ended.
    pub fn try_exit(&self) -> Option<std::process::ExitStatus> {
        self.child.lock().unwrap().try_wait().ok().flatten()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `boundary dev` with its worker, logged in as the seeded admin.
pub struct Dev {
    pub process: Process,
    pub api: String,
    pub cluster: String,
    pub proxy: SocketAddr,
    pub worker_auth_key: String,
    /// The project targets are created in.
    pub project_id: String,
    token: String,
    http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("HTTP client")
}

/// Where a `boundary dev` listens and the worker-auth key it shares, chosen before it
/// starts (so a worker can be pointed at it first, or a second dev can take its place).
#[derive(Clone, Debug)]
pub struct DevPorts {
    pub api: u16,
    pub cluster: u16,
    pub proxy: u16,
    pub worker_auth_key: String,
}

impl DevPorts {
    pub fn new() -> DevPorts {
        let key: [u8; 32] = rand::rng().random();
        DevPorts {
            api: free_port(),
            cluster: free_port(),
            proxy: free_port(),
            worker_auth_key: base64::engine::general_purpose::STANDARD.encode(key),
        }
    }
}

impl Dev {
    pub async fn start() -> Dev {
        Dev::start_on(DevPorts::new()).await
    }

    pub async fn start_on(ports: DevPorts) -> Dev {
        let dir = tempfile::tempdir().expect("tempdir");
        let DevPorts {
            api,
            cluster,
            proxy,
            worker_auth_key,
        } = ports;
        let process = Process::spawn(
            Command::new(env!("CARGO_BIN_EXE_boundary"))
                .args(["dev", "-api-listen-address"])
                .arg(format!("127.0.0.1:{api}"))
                .arg("-cluster-listen-address")
                .arg(format!("127.0.0.1:{cluster}"))
                .arg("-proxy-listen-address")
                .arg(format!("127.0.0.1:{proxy}"))
                .arg("-worker-auth-key")
                .arg(&worker_auth_key)
                .env("RUST_LOG", "info,boundary::worker=debug"),
            dir.path().join("dev.log"),
        );
        let mut dev = Dev {
            process,
            api: format!("http://127.0.0.1:{api}"),
            cluster: format!("127.0.0.1:{cluster}"),
            proxy: format!("127.0.0.1:{proxy}").parse().unwrap(),
            worker_auth_key,
            project_id: PROJECT_ID.to_owned(),
            token: String::new(),
            http: http_client(),
            dir,
        };
        dev.token = dev.login(AUTH_METHOD_ID, "password").await;
        // The dev worker registers asynchronously; authorize-session answers "no workers"
        // until it has.
        let probe = dev.create_target("probe", 1, None, None).await;
        eventually("the dev worker to register", || async {
            dev.process.assert_running();
            let r = dev
                .post(&format!("/v1/targets/{probe}:authorize-session"), json!({}))
                .await;
            r.ok()
        })
        .await;
        dev
    }

    /// `boundary controller -config` (no worker of its own) from `config`, whose
    /// worker-auth key is `worker_auth_key`; logged in as the admin it prints on first
    /// start, with an org and a project made for the test.
    pub async fn controller(config: &str, worker_auth_key: &str, dir: tempfile::TempDir) -> Dev {
        let path = dir.path().join("controller.hcl");
        std::fs::write(&path, config).expect("write controller config");
        let log = dir.path().join("controller.log");
        let process = Process::spawn(
            Command::new(env!("CARGO_BIN_EXE_boundary"))
                .args(["controller", "-config"])
                .arg(&path),
            log,
        );
        let field = |text: &str, name: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
        };
        let text = eventually("the controller to start", || async {
            process.assert_running();
            let text = process.log_text();
            field(&text, "Cluster address:").map(|_| text)
        })
        .await;
        let mut dev = Dev {
            api: field(&text, "API address:").expect("API address"),
            cluster: field(&text, "Cluster address:").expect("cluster address"),
            proxy: "127.0.0.1:0".parse().unwrap(),
            worker_auth_key: worker_auth_key.to_owned(),
            project_id: String::new(),
            token: String::new(),
            http: http_client(),
            process,
            dir,
        };
        let auth_method = field(&text, "Auth Method ID:").expect("auth method");
        let password = field(&text, "Password:").expect("password");
        dev.token = dev.login(&auth_method, &password).await;
        let org = dev
            .post("/v1/scopes", json!({"scope_id": "global", "name": "org"}))
            .await
            .expect("create org");
        let project = dev
            .post(
                "/v1/scopes",
                json!({"scope_id": org["id"], "name": "project"}),
            )
            .await
            .expect("create project");
        dev.project_id = project["id"].as_str().expect("project id").to_owned();
        dev
    }

    async fn login(&self, auth_method: &str, password: &str) -> String {
        let body = json!({"attributes": {"login_name": "admin", "password": password}});
        let url = format!("{}/v1/auth-methods/{auth_method}:authenticate", self.api);
        let response = eventually("boundary dev to answer", || async {
            self.process.assert_running();
            self.http.post(&url).json(&body).send().await.ok()
        })
        .await;
        assert!(
            response.status().is_success(),
            "admin login: {}",
            response.status()
        );
        let value: Value = response.json().await.expect("login JSON");
        value["attributes"]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value, (u16, Value)> {
        let response = self
            .http
            .post(format!("{}{path}", self.api))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("controller reachable");
        let status = response.status().as_u16();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            Err((status, value))
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.api))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("controller reachable");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    /// A tcp target on 127.0.0.1:`port` in the dev project.
    pub async fn create_target(
        &self,
        name: &str,
        port: u16,
        session_max_seconds: Option<u32>,
        connection_limit: Option<i32>,
    ) -> String {
        let mut body = json!({
            "type": "tcp",
            "scope_id": self.project_id,
            "name": format!("{name}-{}", free_port()),
            "address": "127.0.0.1",
            "attributes": {"default_port": port},
        });
        if let Some(s) = session_max_seconds {
            body["session_max_seconds"] = json!(s);
        }
        if let Some(l) = connection_limit {
            body["session_connection_limit"] = json!(l);
        }
        let target = self.post("/v1/targets", body).await.expect("create target");
        target["id"].as_str().expect("target id").to_owned()
    }

    /// Authorizes a session; returns what a client reads from the token and the response.
    pub async fn authorize(&self, target_id: &str) -> (SessionGrant, Value) {
        let response = self
            .post(
                &format!("/v1/targets/{target_id}:authorize-session"),
                json!({}),
            )
            .await
            .expect("authorize-session");
        let grant = SessionGrant::from_token(
            response["authorization_token"]
                .as_str()
                .expect("authorization_token"),
        );
        assert_eq!(grant.session_id, response["session_id"].as_str().unwrap());
        (grant, response)
    }

    pub async fn session(&self, session_id: &str) -> Value {
        self.get(&format!("/v1/sessions/{session_id}")).await
    }

    /// Waits until every connection of the session has a close reason; returns them.
    pub async fn closed_connections(&self, session_id: &str, count: usize) -> Vec<Value> {
        eventually("connections to be reported closed", || async {
            let session = self.session(session_id).await;
            let connections = session["connections"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let closed = connections
                .iter()
                .filter(|c| c["closed_reason"].as_str().is_some_and(|r| !r.is_empty()))
                .count();
            (connections.len() == count && closed == count).then_some(connections)
        })
        .await
    }

    /// Cancels through the admin API, as an operator would.
    pub async fn cancel_session(&self, session_id: &str) {
        let version = self.session(session_id).await["version"]
            .as_u64()
            .expect("version");
        self.post(
            &format!("/v1/sessions/{session_id}:cancel"),
            json!({ "version": version }),
        )
        .await
        .expect("cancel session");
    }

    /// A second worker process, `boundary worker -config`, registered with this controller.
    /// `extra` is added to its `worker` block.
    pub fn start_worker(&self, name: &str, extra: &str) -> (Process, SocketAddr) {
        start_worker(
            self.dir.path(),
            &self.cluster,
            &self.worker_auth_key,
            name,
            extra,
        )
    }
}

/// `boundary worker -config` for the controller cluster listener `cluster`, with its
/// config and log in `dir`; `extra` is added to its `worker` block.
pub fn start_worker(
    dir: &std::path::Path,
    cluster: &str,
    worker_auth_key: &str,
    name: &str,
    extra: &str,
) -> (Process, SocketAddr) {
    let port = free_port();
    let config = format!(
        r#"
worker {{
  name              = "{name}"
  description       = "test worker"
  public_addr       = "127.0.0.1:{port}"
  initial_upstreams = ["{cluster}"]
  {extra}
}}
listener "tcp" {{
  purpose = "proxy"
  address = "127.0.0.1:{port}"
}}
kms "aead" {{
  purpose   = "worker-auth"
  aead_type = "aes-gcm"
  key       = "{key}"
  key_id    = "global_worker-auth"
}}
"#,
        key = worker_auth_key,
    );
    let path = dir.join(format!("{name}.hcl"));
    std::fs::write(&path, config).expect("write worker config");
    let process = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_boundary"))
            .args(["worker", "-config"])
            .arg(&path)
            .env("RUST_LOG", "info,boundary::worker=debug"),
        dir.join(format!("{name}.log")),
    );
    (process, format!("127.0.0.1:{port}").parse().unwrap())
}

/// An echo server on 127.0.0.1; it echoes until EOF, then shuts its writing half down.
pub async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    port
}
