//! Workers are bound to their identity: a real `boundary dev` (its dev worker is worker A)
//! and a real `boundary worker` (worker B), with the worker API then called directly as a
//! malicious worker B would, holding its own credential. The controller's records are read
//! through the store (the dev controller runs on a SQLite file), so what a refused call did
//! not change is checked where it would have changed.

mod support;
mod worker_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boundary_controller::store::{Store, WorkerRecord, open_store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use support::dev::Dev;
use support::process::HANG_TIMEOUT;
use support::server_process::ServerProcess;
use support::tcp_servers::echo_server;
use support::wait::poll_until_async;
use worker_support::raw_client::{Answer, ClientCert, default_alpn, tls_connect};
use worker_support::{close_normally, connect, echo_round_trip, tofu};

/// The dev worker's name (worker A).
const WORKER_A: &str = "dev-worker";
const WORKER_B: &str = "worker-b";
/// A well-formed tofu token no client sent.
const WRONG_TOFU: &str = "WRONGwrongWRONG01234";

/// `boundary dev` on a SQLite file, and the same database opened by the test.
struct Controller {
    dev: Dev,
    store: Arc<dyn Store>,
    /// Declared last: removed after the controller is gone.
    _database: tempfile::TempDir,
}

impl Controller {
    async fn start() -> Controller {
        let database = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", database.path().join("boundary.db").display());
        let dev = Dev::builder().args(&["-database-url", &url]).start();
        dev.wait_for_worker().await;
        let store = open_store(&url)
            .await
            .expect("open the dev controller's database");
        Controller {
            dev,
            store,
            _database: database,
        }
    }

    /// Starts worker B and waits until it has registered.
    async fn start_worker_b(&self) -> (ServerProcess, SocketAddr, WorkerRecord) {
        let (process, address) = self.dev.start_worker(WORKER_B, "");
        let record = poll_until_async("worker B to register", HANG_TIMEOUT, || async {
            process.assert_running();
            self.store.get_worker_by_name(WORKER_B).await
        })
        .await;
        (process, address, record)
    }

    async fn worker_record(&self, name: &str) -> WorkerRecord {
        self.store.get_worker_by_name(name).await.unwrap()
    }

    /// A worker API call as `worker` (with its own credential).
    async fn call_as(
        &self,
        worker: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let body = (method != Method::GET).then_some(body);
        self.dev.worker(worker, method, path, body).await.unwrap()
    }

    async fn connections_used(&self, session_id: &str) -> i32 {
        self.store
            .get_session(session_id)
            .await
            .unwrap()
            .connections_used
    }
}

fn kind(body: &Value) -> &str {
    body["kind"].as_str().unwrap_or_default()
}

/// The one shared credential every worker used to send.
fn retired_shared_credential(key: &[u8; 32]) -> String {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        b"boundary worker-auth v1",
    );
    format!("Bearer {}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_cannot_register_or_heartbeat_as_another() {
    let c = Controller::start().await;
    let (_b, _, b) = c.start_worker_b().await;
    let a = c.worker_record(WORKER_A).await;
    assert_ne!(a.id, b.id);

    // No credential, and the retired credential shared by all workers: refused everywhere.
    let retired = retired_shared_credential(&c.dev.worker_auth_key());
    for authorization in ["", retired.as_str()] {
        for (method, path) in [
            (Method::POST, "/v1/worker/register".to_owned()),
            (Method::POST, "/v1/worker/heartbeat".to_owned()),
            (Method::GET, "/v1/worker/sessions/s_1234567890".to_owned()),
        ] {
            let body = json!({"name": WORKER_A, "worker_id": a.id, "address": "203.0.113.9:9202"});
            let (status, e) = c
                .dev
                .worker_with(authorization, method.clone(), &path, Some(body))
                .await
                .unwrap();
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {authorization:?}: {e}"
            );
        }
    }

    // B's credential re-registering A's name, or heartbeating under A's id.
    let evil = "203.0.113.9:9202";
    let (status, e) = c
        .call_as(
            WORKER_B,
            Method::POST,
            "/v1/worker/register",
            json!({"name": WORKER_A, "address": evil}),
        )
        .await;
    assert_eq!(
        (status, kind(&e)),
        (StatusCode::FORBIDDEN, "PermissionDenied"),
        "{e}"
    );
    let (status, e) = c
        .call_as(
            WORKER_B,
            Method::POST,
            "/v1/worker/heartbeat",
            json!({"worker_id": a.id, "address": evil}),
        )
        .await;
    assert_eq!(
        (status, kind(&e)),
        (StatusCode::FORBIDDEN, "PermissionDenied"),
        "{e}"
    );
    let after = c.worker_record(WORKER_A).await;
    assert_eq!(
        (after.id.as_str(), after.address.as_str()),
        (a.id.as_str(), a.address.as_str())
    );
    assert_eq!(c.worker_record(WORKER_B).await.address, b.address);
    // What clients are handed still names A's own address, and never B's pick.
    let target = c.dev.create_target("echo", echo_server(), None, None).await;
    let (grant, _) = c.dev.authorize(&target).await;
    assert!(
        grant.worker_addresses.contains(&a.address),
        "{:?}",
        grant.worker_addresses
    );
    assert!(!grant.worker_addresses.iter().any(|w| w == evil));

    // B's own record is B's to keep current.
    let (status, e) = c
        .call_as(
            WORKER_B,
            Method::POST,
            "/v1/worker/heartbeat",
            json!({"worker_id": b.id, "address": b.address}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_clients_tofu_a_worker_cannot_use_or_end_a_session_nor_touch_others_connections()
 {
    let c = Controller::start().await;
    let (b_process, b_address, b) = c.start_worker_b().await;
    let a = c.worker_record(WORKER_A).await;
    let target = c
        .dev
        .create_target("echo", echo_server(), None, Some(5))
        .await;
    let (grant, _) = c.dev.authorize(&target).await;
    let sid = grant.session_id.clone();
    assert!(
        grant.worker_addresses.contains(&b_address.to_string()),
        "B was offered the session"
    );

    // The client connects through A with its tofu; the connection stays open.
    let token = tofu();
    let (mut via_a, answer) = connect(c.dev.proxy(), &grant, &token).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut via_a, b"through A").await;
    let used = c.connections_used(&sid).await;
    assert_eq!(used, 1);

    let session = |action: &str| format!("/v1/worker/sessions/{sid}:{action}");
    let refused = [
        (
            session("activate"),
            json!({"worker_id": b.id, "tofu_token": WRONG_TOFU}),
            "TofuMismatch",
        ),
        (
            session("authorize-connection"),
            json!({"worker_id": b.id, "tofu_token": WRONG_TOFU, "client_tcp_address": "10.0.0.9", "client_tcp_port": 4000}),
            "TofuMismatch",
        ),
        (
            session("authorize-connection"),
            json!({"worker_id": b.id, "client_tcp_address": "10.0.0.9", "client_tcp_port": 4000}),
            "InvalidArgument",
        ),
        (
            session("cancel"),
            json!({"worker_id": b.id, "tofu_token": WRONG_TOFU}),
            "TofuMismatch",
        ),
    ];
    for (path, body, expected) in refused {
        let (status, e) = c.call_as(WORKER_B, Method::POST, &path, body.clone()).await;
        assert_eq!(
            (status, kind(&e)),
            (StatusCode::BAD_REQUEST, expected),
            "{path} {body}: {e}"
        );
    }
    // Even with the right tofu, B cannot claim to be A.
    let (status, e) = c
        .call_as(
            WORKER_B,
            Method::POST,
            &session("authorize-connection"),
            json!({"worker_id": a.id, "tofu_token": String::from_utf8(token.clone()).unwrap(), "client_tcp_address": "10.0.0.9", "client_tcp_port": 4000}),
        )
        .await;
    assert_eq!(
        (status, kind(&e)),
        (StatusCode::FORBIDDEN, "PermissionDenied"),
        "{e}"
    );
    assert_eq!(
        c.connections_used(&sid).await,
        used,
        "no connection was spent"
    );
    assert_eq!(c.store.get_session(&sid).await.unwrap().status, "active");

    // A's connection: B can neither record a dial for it nor close it.
    let connections = c.store.session_connections(&sid).await.unwrap();
    let [own_by_a] = connections.as_slice() else {
        panic!("{connections:?}")
    };
    assert_eq!(own_by_a.worker_id, a.id);
    let connection = |action: &str| format!("/v1/worker/connections/{}:{action}", own_by_a.id);
    for (path, body) in [
        (
            connection("close"),
            json!({"bytes_up": 0, "bytes_down": 0, "closed_reason": "canceled"}),
        ),
        (
            connection("connect"),
            json!({"endpoint_tcp_address": "10.0.0.9", "endpoint_tcp_port": 22}),
        ),
    ] {
        let (status, e) = c.call_as(WORKER_B, Method::POST, &path, body).await;
        assert_eq!(
            (status, kind(&e)),
            (StatusCode::NOT_FOUND, "NotFound"),
            "{path}: {e}"
        );
    }
    let untouched = c.store.get_connection(&own_by_a.id).await.unwrap();
    assert_eq!(
        (
            untouched.status.as_str(),
            untouched.closed_reason.as_deref()
        ),
        ("connected", None)
    );
    echo_round_trip(&mut via_a, b"A's connection is still up").await;

    // The real worker B, given the client's tofu, serves the session as it should.
    let (mut via_b, answer) = connect(b_address, &grant, &token).await;
    assert!(
        matches!(answer, Answer::Result(_)),
        "{answer:?}\n{}",
        b_process.output()
    );
    echo_round_trip(&mut via_b, b"through B").await;
    close_normally(via_b).await;
    close_normally(via_a).await;
    assert_eq!(c.connections_used(&sid).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_workers_a_session_was_offered_get_its_key_or_can_activate_it() {
    let c = Controller::start().await;
    let target = c.dev.create_target("echo", echo_server(), None, None).await;
    // Authorized while A was the only worker: B (started next) was never offered it.
    let (grant, _) = c.dev.authorize(&target).await;
    let sid = grant.session_id.clone();
    let (_b_process, b_address, b) = c.start_worker_b().await;

    let lookup = format!("/v1/worker/sessions/{sid}");
    let (status, e) = c.call_as(WORKER_B, Method::GET, &lookup, Value::Null).await;
    assert_eq!(
        (status, kind(&e)),
        (StatusCode::NOT_FOUND, "NotFound"),
        "{e}"
    );
    assert!(e.get("private_key").is_none());
    for action in ["activate", "cancel"] {
        let (status, e) = c
            .call_as(
                WORKER_B,
                Method::POST,
                &format!("{lookup}:{action}"),
                json!({"worker_id": b.id, "tofu_token": WRONG_TOFU}),
            )
            .await;
        assert_eq!(
            (status, kind(&e)),
            (StatusCode::NOT_FOUND, "NotFound"),
            "{action}: {e}"
        );
    }
    let pending = c.store.get_session(&sid).await.unwrap();
    assert_eq!(
        (pending.status.as_str(), pending.tofu_hash.as_deref()),
        ("pending", None)
    );
    // Its heartbeat learns nothing either: the pending session reads as terminated.
    let (status, hb) = c
        .call_as(
            WORKER_B,
            Method::POST,
            "/v1/worker/heartbeat",
            json!({"worker_id": b.id, "address": b.address, "session_ids": [sid]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hb}");
    assert_eq!(hb["sessions"][0]["status"], "terminated");
    // The real worker B cannot even complete the session's TLS.
    let tls = tls_connect(b_address, &grant, ClientCert::Session, default_alpn(&grant)).await;
    assert!(
        tls.is_err(),
        "worker B terminated TLS for a session it was not offered"
    );

    // A, which was offered it, gets exactly the TLS material, and its client's tofu binds.
    let (status, material) = c.call_as(WORKER_A, Method::GET, &lookup, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{material}");
    let mut fields: Vec<&String> = material.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["certificate", "expiration", "private_key", "session_id"]
    );
    let (mut ws, answer) = connect(c.dev.proxy(), &grant, &tofu()).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut ws, b"offered worker").await;
    close_normally(ws).await;
    assert_eq!(c.store.get_session(&sid).await.unwrap().status, "active");
}
