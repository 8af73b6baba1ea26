//! How long the worker's connections live: until the session expires, until the session is
//! canceled at the controller, or until a graceful shutdown has drained them; and any
//! worker a session was offered to serving any of its connections. Real `boundary dev`, a
//! real standalone `boundary worker -config`, and the independent raw client.

mod support;
mod worker_support;

use nix::sys::signal::Signal;
use std::net::SocketAddr;
use support::dev::{Dev, DevPorts, random_key};
use support::process::HANG_TIMEOUT;
use support::tcp_servers::echo_server;
use support::wait::poll_until_async;
use worker_support::raw_client::{Answer, wait_close};
use worker_support::{
    close_normally, connect, echo_round_trip, echo_session, start_dev, start_dev_on, start_worker,
    tofu,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_connection_ends_when_its_session_expires() {
    let dev = start_dev().await;
    let echo = echo_server();
    // Long enough to set the connection up on a slow machine; the test then just waits.
    let target = dev.create_target("expiring", echo, Some(8), None).await;
    let (grant, _) = dev.authorize(&target).await;
    let (mut ws, answer) = connect(dev.proxy(), &grant, &tofu()).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut ws, b"alive").await;

    let (code, _) = tokio::time::timeout(std::time::Duration::from_secs(60), wait_close(&mut ws))
        .await
        .expect("the worker closes the connection at expiry");
    assert_eq!(code, 1000);
    let connections = dev.closed_connections(&grant.session_id, 1).await;
    assert_eq!(connections[0]["closed_reason"], "timed out");
    // The controller's sweep may record the close first, with zero byte counts; the
    // worker's report still brings the real ones ("alive" went up and came back).
    let counted = poll_until_async(
        "the worker's byte counts to be recorded",
        HANG_TIMEOUT,
        || async {
            let session = dev.session(&grant.session_id).await;
            let c = session["connections"][0].clone();
            (c["bytes_up"] == "5" && c["bytes_down"] == "5").then_some(c)
        },
    )
    .await;
    assert_eq!(counted["closed_reason"], "timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_at_the_controller_closes_live_connections() {
    let (dev, _, grant) = echo_session().await;
    let token = tofu();
    let (mut first, answer) = connect(dev.proxy(), &grant, &token).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    let (mut second, answer) = connect(dev.proxy(), &grant, &token).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut first, b"one").await;
    echo_round_trip(&mut second, b"two").await;

    dev.cancel_session(&grant.session_id).await;
    // The worker learns it from its heartbeat and closes both.
    assert_eq!(wait_close(&mut first).await.0, 1000);
    assert_eq!(wait_close(&mut second).await.0, 1000);
    let connections = dev.closed_connections(&grant.session_id, 2).await;
    for connection in &connections {
        assert_eq!(connection["closed_reason"], "canceled");
    }
    poll_until_async("the session to terminate", HANG_TIMEOUT, || async {
        (dev.session(&grant.session_id).await["status"] == "terminated").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_worker_serves_any_connection_and_shutdown_drains_before_exiting() {
    let dev = start_dev().await;
    let echo = echo_server();
    let target = dev.create_target("echo", echo, None, None).await;
    let (worker, worker_addr) = dev.start_worker("second-worker", "");
    // A session is served only by the workers it was offered (live when it was
    // authorized): wait until the second worker is one of them.
    let grant = poll_until_async("the second worker to be offered", HANG_TIMEOUT, || async {
        let (grant, _) = dev.authorize(&target).await;
        grant
            .worker_addresses
            .contains(&worker_addr.to_string())
            .then_some(grant)
    })
    .await;
    let token = tofu();

    // Activated through the dev worker, continued through the standalone one: the tofu
    // binding lives at the controller.
    let (mut via_dev, answer) = connect(dev.proxy(), &grant, &token).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    let (mut via_second, answer) = connect(worker_addr, &grant, &token).await;
    assert!(
        matches!(answer, Answer::Result(_)),
        "{answer:?}\n{}",
        worker.output()
    );
    echo_round_trip(&mut via_dev, b"first worker").await;
    echo_round_trip(&mut via_second, b"second worker").await;
    let (_, answer) = connect(worker_addr, &grant, &tofu()).await;
    assert_eq!(
        answer,
        Answer::Closed {
            code: 1008,
            reason: "tofu token not allowed".into()
        }
    );

    // SIGTERM: no new connections, the live one keeps working until its client ends it,
    // then the worker exits cleanly.
    worker.signal(Signal::SIGTERM);
    poll_until_async("the worker to stop accepting", HANG_TIMEOUT, || async {
        tokio::net::TcpStream::connect(worker_addr).await.err()
    })
    .await;
    worker.assert_running();
    echo_round_trip(&mut via_second, b"during drain").await;
    close_normally(via_second).await;
    let status = poll_until_async("the worker to exit", HANG_TIMEOUT, || async {
        worker.exit_status()
    })
    .await;
    assert!(status.success(), "{status}\n{}", worker.output());

    // Its connection was reported before it left; the dev worker still serves.
    echo_round_trip(&mut via_dev, b"dev worker unaffected").await;
    let session = dev.session(&grant.session_id).await;
    let reasons: Vec<_> = session["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["closed_reason"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        reasons.contains(&"closed by end-user".to_owned()),
        "{reasons:?}"
    );
}

/// Whether the controller hands out `worker` for new sessions (it lists live workers only).
async fn hands_out(dev: &Dev, target: &str, worker: SocketAddr) -> bool {
    let (grant, _) = dev.authorize(target).await;
    grant.worker_addresses.contains(&worker.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_waits_for_its_controller_and_registers_again_with_a_new_one() {
    let ports = DevPorts::free();
    let worker_auth_key = random_key();
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on the cluster port yet: the worker retries with backoff.
    let (worker, worker_addr) = start_worker(
        dir.path(),
        &format!("127.0.0.1:{}", ports.cluster),
        &worker_auth_key,
        "early-worker",
        "",
    );
    poll_until_async("the worker to retry registering", HANG_TIMEOUT, || async {
        worker.assert_running();
        worker.output().contains("cannot register").then_some(())
    })
    .await;

    let echo = echo_server();
    let first = start_dev_on(ports, worker_auth_key).await;
    let target = first.create_target("echo", echo, None, None).await;
    poll_until_async(
        "the first controller to hand out the worker",
        HANG_TIMEOUT,
        || async { hands_out(&first, &target, worker_addr).await.then_some(()) },
    )
    .await;

    // The controller is replaced by one with an empty database on the same addresses:
    // the worker's heartbeat is refused and it registers again.
    drop(first);
    let second = start_dev_on(ports, worker_auth_key).await;
    let target = second.create_target("echo", echo, None, None).await;
    poll_until_async(
        "the new controller to hand out the worker",
        HANG_TIMEOUT,
        || async { hands_out(&second, &target, worker_addr).await.then_some(()) },
    )
    .await;
    let (grant, _) = second.authorize(&target).await;
    let (mut ws, answer) = connect(worker_addr, &grant, &tofu()).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut ws, b"after the controller changed").await;
    worker.assert_running();
}
