//! A worker talking to a controller whose cluster listener is HTTPS with a private CA:
//! `boundary controller -config` with a TLS cluster listener, and `boundary worker -config`
//! with an `https://` upstream and `upstream_ca_file`. The worker registers, and a session
//! authorized at that controller is served through it.

mod support;
mod worker_support;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::json;
use std::path::PathBuf;
use support::dev::{Dev, base64, random_worker_auth_key};
use support::process::HANG_TIMEOUT;
use support::tcp_servers::echo_server;
use support::wait::poll_until_async;
use tokio_tungstenite::tungstenite::Message;
use futures_util::SinkExt;
use worker_support::raw_client::{Answer, client_handshake, handshake, open_v1, read_bytes};
use worker_support::tofu;

/// A controller without a worker of its own, logged in as the admin it printed, with an
/// org and a project made for the test.
struct TlsController {
    dev: Dev,
    project_id: String,
    /// The CA the cluster listener's certificate comes from.
    ca_file: PathBuf,
    /// Declared last: the config and certificates outlive the controller.
    _dir: tempfile::TempDir,
}

/// A CA, and a cluster certificate for 127.0.0.1 signed by it (PEM).
fn cluster_tls() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &Issuer::new(ca, ca_key))
        .unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// `boundary controller -config` with a TLS cluster listener whose certificate comes from
/// a private CA.
async fn tls_controller() -> TlsController {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, cert_pem, key_pem) = cluster_tls();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("ca.pem"), &ca_pem).unwrap();
    std::fs::write(path("cluster.crt"), &cert_pem).unwrap();
    std::fs::write(path("cluster.key"), &key_pem).unwrap();
    let worker_auth_key = random_worker_auth_key();
    let config = format!(
        r#"
controller {{
  name = "tls-controller"
  database {{
    url = "sqlite://{db}"
  }}
}}
listener "tcp" {{
  purpose     = "api"
  address     = "127.0.0.1:0"
  tls_disable = true
}}
listener "tcp" {{
  purpose       = "cluster"
  address       = "127.0.0.1:0"
  tls_cert_file = "{cert}"
  tls_key_file  = "{key}"
}}
kms "aead" {{
  purpose   = "root"
  aead_type = "aes-gcm"
  key       = "{root}"
}}
kms "aead" {{
  purpose   = "worker-auth"
  aead_type = "aes-gcm"
  key       = "{worker_auth_key_base64}"
}}
"#,
        db = path("controller.db"),
        cert = path("cluster.crt"),
        key = path("cluster.key"),
        root = base64(&random_worker_auth_key()),
        worker_auth_key_base64 = base64(&worker_auth_key),
    );
    let config_path = dir.path().join("controller.hcl");
    std::fs::write(&config_path, config).expect("write controller config");
    let dev = Dev::controller(&config_path, worker_auth_key).start();
    assert!(dev.cluster.starts_with("https://"), "{}", dev.cluster);
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
    TlsController {
        dev,
        project_id: project["id"].as_str().expect("project id").to_owned(),
        ca_file: dir.path().join("ca.pem"),
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_registers_over_https_with_a_private_ca_and_serves() {
    let controller = tls_controller().await;
    let (worker, worker_addr) = controller.dev.start_worker(
        "tls-worker",
        &format!("upstream_ca_file = \"{}\"", controller.ca_file.display()),
    );
    let echo = echo_server();
    let target = controller
        .dev
        .create_target_in(&controller.project_id, "echo", echo, None, None)
        .await;
    // authorize-session succeeds once the worker has registered over HTTPS.
    let authorize = format!("/v1/targets/{target}:authorize-session");
    let response = poll_until_async("the worker to register", HANG_TIMEOUT, || async {
        worker.assert_running();
        controller.dev.post(&authorize, json!({})).await.ok()
    })
    .await;
    let grant = worker_support::raw_client::SessionGrant::from_token(
        response["authorization_token"].as_str().unwrap(),
    );
    assert_eq!(grant.worker_addresses, vec![worker_addr.to_string()]);

    let mut ws = open_v1(worker_addr, &grant).await;
    let answer = handshake(
        &mut ws,
        Message::Binary(client_handshake(&tofu(), false).into()),
    )
    .await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    ws.send(Message::Binary(b"over https".to_vec().into()))
        .await
        .unwrap();
    assert_eq!(read_bytes(&mut ws, 10).await, b"over https");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_the_ca_does_not_trust_the_cluster_listener() {
    let controller = tls_controller().await;
    let (worker, _) = controller.dev.start_worker("untrusting-worker", "");
    // It keeps retrying and says why; the controller never sees it.
    poll_until_async("the worker to report the TLS failure", HANG_TIMEOUT, || async {
        worker.assert_running();
        let log = worker.output();
        (log.contains("cannot register") && log.contains("certificate")).then_some(())
    })
    .await;
    let target = controller
        .dev
        .create_target_in(&controller.project_id, "echo", 1, None, None)
        .await;
    let refused = controller
        .dev
        .post(
            &format!("/v1/targets/{target}:authorize-session"),
            json!({}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.0, 400, "{refused:?}");
}
