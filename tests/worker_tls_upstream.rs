//! A worker talking to a controller whose cluster listener is HTTPS with a private CA:
//! `boundary controller -config` with a TLS cluster listener, and `boundary worker -config`
//! with an `https://` upstream and `upstream_ca_file`. The worker registers, and a session
//! authorized at that controller is served through it.

mod worker_support;

use base64::Engine;
use futures_util::SinkExt;
use rand::Rng;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio_tungstenite::tungstenite::Message;
use worker_support::raw_client::{Answer, client_handshake, handshake, open_v1, read_bytes};
use worker_support::{Dev, echo_server, eventually, tofu};

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
/// a private CA (written to `ca.pem` in the controller's directory).
async fn tls_controller() -> Dev {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, cert_pem, key_pem) = cluster_tls();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("ca.pem"), &ca_pem).unwrap();
    std::fs::write(path("cluster.crt"), &cert_pem).unwrap();
    std::fs::write(path("cluster.key"), &key_pem).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let worker_auth_key = b64.encode(rand::rng().random::<[u8; 32]>());
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
  key       = "{worker_auth_key}"
}}
"#,
        db = path("controller.db"),
        cert = path("cluster.crt"),
        key = path("cluster.key"),
        root = b64.encode(rand::rng().random::<[u8; 32]>()),
    );
    let controller = Dev::controller(&config, &worker_auth_key, dir).await;
    assert!(
        controller.cluster.starts_with("https://"),
        "{}",
        controller.cluster
    );
    controller
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_registers_over_https_with_a_private_ca_and_serves() {
    let controller = tls_controller().await;
    let ca_file = controller.dir.path().join("ca.pem");
    let (worker, worker_addr) = controller.start_worker(
        "tls-worker",
        &format!("upstream_ca_file = \"{}\"", ca_file.display()),
    );
    let echo = echo_server().await;
    let target = controller.create_target("echo", echo, None, None).await;
    // authorize-session succeeds once the worker has registered over HTTPS.
    let authorize = format!("/v1/targets/{target}:authorize-session");
    let response = eventually("the worker to register", || async {
        worker.assert_running();
        controller
            .post(&authorize, serde_json::json!({}))
            .await
            .ok()
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
    let (worker, _) = controller.start_worker("untrusting-worker", "");
    // It keeps retrying and says why; the controller never sees it.
    eventually("the worker to report the TLS failure", || async {
        worker.assert_running();
        let log = worker.log_text();
        (log.contains("cannot register") && log.contains("certificate")).then_some(())
    })
    .await;
    let target = controller.create_target("echo", 1, None, None).await;
    let refused = controller
        .post(
            &format!("/v1/targets/{target}:authorize-session"),
            serde_json::json!({}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.0, 400, "{refused:?}");
}
