//! A worker talking to a controller whose cluster listener is HTTPS with a private CA:
//! `boundary controller -config` with a TLS cluster listener, and `boundary worker -config`
//! with an `https://` upstream and `upstream_ca_file`. The worker registers, and a session
//! authorized at that controller is served through it.

mod support;
mod worker_support;

use serde_json::json;
use std::path::PathBuf;
use support::dev::{ControllerConfig, Dev, TestTls};
use support::process::HANG_TIMEOUT;
use support::tcp_servers::echo_server;
use support::wait::poll_until_async;
use worker_support::raw_client::Answer;
use worker_support::{connect, echo_round_trip, tofu};

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

/// `boundary controller -config` with a TLS cluster listener whose certificate comes from
/// a private CA.
async fn tls_controller() -> TlsController {
    let dir = tempfile::tempdir().unwrap();
    let tls = TestTls::write(dir.path(), "cluster", &["127.0.0.1"]);
    let database = format!("sqlite://{}", dir.path().join("controller.db").display());
    let config = ControllerConfig::new("tls-controller", &database).cluster_tls(&tls);
    let config_path = dir.path().join("controller.hcl");
    let dev = Dev::controller(&config_path, &config).start();
    assert!(dev.cluster.starts_with("https://"), "{}", dev.cluster);
    let token = dev.admin_token().await;
    let project_id = dev
        .create_org_and_project(&token)
        .await
        .expect("create an org and a project");
    TlsController {
        dev,
        project_id,
        ca_file: tls.ca_file,
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

    let (mut ws, answer) = connect(worker_addr, &grant, &tofu()).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut ws, b"over https").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_the_ca_does_not_trust_the_cluster_listener() {
    let controller = tls_controller().await;
    let (worker, _) = controller.dev.start_worker("untrusting-worker", "");
    // It keeps retrying and says why; the controller never sees it.
    poll_until_async(
        "the worker to report the TLS failure",
        HANG_TIMEOUT,
        || async {
            worker.assert_running();
            let log = worker.output();
            (log.contains("cannot register") && log.contains("certificate")).then_some(())
        },
    )
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
