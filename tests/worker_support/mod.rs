//! Harness for the worker tests: a real `boundary dev` (`support::dev`) with its worker
//! registered, a standalone `boundary worker -config`, and the admin REST calls the tests
//! need as plain JSON, so nothing of ours sits between the test and the wire. The proxy
//! protocol itself is spoken by `raw_client`, which shares no code with `src/tunnel`.
#![allow(dead_code)]

pub mod raw_client;

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use raw_client::{Answer, SessionGrant, Ws, client_handshake, handshake, open_v1, read_bytes};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::support::cli::Cli;
use crate::support::dev::{Dev, DevPorts, PROJECT_ID, base64, free_port, random_key};
use crate::support::process::HANG_TIMEOUT;
use crate::support::server_process::ServerProcess;
use crate::support::tcp_servers::echo_server;
use crate::support::wait::poll_until_async;

/// A 20-character base62 tofu token.
pub fn tofu() -> Vec<u8> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
        .collect()
}

/// A v1 connection to `worker` for `grant`, and the worker's answer to the client
/// handshake with `tofu`.
pub async fn connect(worker: SocketAddr, grant: &SessionGrant, tofu: &[u8]) -> (Ws, Answer) {
    let mut ws = open_v1(worker, grant).await;
    let answer = handshake(
        &mut ws,
        Message::Binary(client_handshake(tofu, false).into()),
    )
    .await;
    (ws, answer)
}

/// Sends `payload` and reads it back from the echo server.
pub async fn echo_round_trip(ws: &mut Ws, payload: &[u8]) {
    ws.send(Message::Binary(payload.to_vec().into()))
        .await
        .expect("send data");
    assert_eq!(read_bytes(ws, payload.len()).await, payload);
}

/// Ends a connection the way a client does: a close frame, then the worker's answer.
pub async fn close_normally(mut ws: Ws) {
    ws.send(Message::Close(Some(CloseFrame {
        code: 1000.into(),
        reason: "".into(),
    })))
    .await
    .expect("send close");
    while let Ok(Some(Ok(_))) = tokio::time::timeout(raw_client::STEP, ws.next()).await {}
}

/// `boundary dev` (controller and its worker) on free ports, once its worker registered.
pub async fn start_dev() -> Dev {
    start_dev_on(DevPorts::free(), random_key()).await
}

/// [`start_dev`], a target at a new echo server, and a session authorized on it.
pub async fn echo_session() -> (Dev, String, SessionGrant) {
    let dev = start_dev().await;
    let target = dev.create_target("echo", echo_server(), None, None).await;
    let (grant, _) = dev.authorize(&target).await;
    (dev, target, grant)
}

/// [`start_dev`] on `ports` with `worker_auth_key` (a worker may already point at it).
pub async fn start_dev_on(ports: DevPorts, worker_auth_key: [u8; 32]) -> Dev {
    let dev = Dev::builder()
        .ports(ports)
        .worker_auth_key(worker_auth_key)
        .start();
    dev.wait_for_worker().await;
    dev
}

/// The admin calls of the worker tests, as the seeded or initial admin.
impl Dev {
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, (u16, Value)> {
        let token = self.admin_token().await;
        let (status, value) = self
            .call(Method::POST, path, Some(&token), Some(body))
            .await
            .expect("controller reachable");
        if status.is_success() {
            Ok(value)
        } else {
            Err((status.as_u16(), value))
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let token = self.admin_token().await;
        let (status, value) = self
            .call(Method::GET, path, Some(&token), None)
            .await
            .expect("controller reachable");
        assert_eq!(status, StatusCode::OK, "GET {path}: {value}");
        value
    }

    /// A tcp target on 127.0.0.1:`port` in the dev project.
    pub async fn create_target(
        &self,
        name: &str,
        port: u16,
        session_max_seconds: Option<u32>,
        connection_limit: Option<i32>,
    ) -> String {
        self.create_target_in(
            PROJECT_ID,
            name,
            port,
            session_max_seconds,
            connection_limit,
        )
        .await
    }

    /// A tcp target on 127.0.0.1:`port` in `project_id`.
    pub async fn create_target_in(
        &self,
        project_id: &str,
        name: &str,
        port: u16,
        session_max_seconds: Option<u32>,
        connection_limit: Option<i32>,
    ) -> String {
        let mut body = json!({
            "type": "tcp",
            "scope_id": project_id,
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
        poll_until_async(
            "connections to be reported closed",
            HANG_TIMEOUT,
            || async {
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
            },
        )
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
    pub fn start_worker(&self, name: &str, extra: &str) -> (ServerProcess, SocketAddr) {
        start_worker(
            self.dir(),
            &self.cluster,
            &self.worker_auth_key(),
            name,
            extra,
        )
    }
}

/// `boundary worker -config` for the controller cluster listener `cluster`, with its
/// config and output in `dir`; `extra` is added to its `worker` block.
pub fn start_worker(
    dir: &Path,
    cluster: &str,
    worker_auth_key: &[u8; 32],
    name: &str,
    extra: &str,
) -> (ServerProcess, SocketAddr) {
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
        key = base64(worker_auth_key),
    );
    let path = dir.join(format!("{name}.hcl"));
    std::fs::write(&path, config).expect("write worker config");
    let command = Cli::host()
        .env("RUST_LOG", "info,boundary_worker=debug")
        .command(&["worker", "-config", &path.display().to_string()]);
    let process = ServerProcess::spawn(name, command, dir);
    (process, format!("127.0.0.1:{port}").parse().unwrap())
}
