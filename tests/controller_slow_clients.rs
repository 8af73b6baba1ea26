//! Clients that try to tie the controller up, against a real `boundary dev`: connections
//! that never complete a request (slowloris: silence, one `P`, the h2 preface, a head or
//! a body trickled a byte at a time, an idle keep-alive) are closed on both listeners
//! while others are served, and a burst of logins does not make it allocate an Argon2
//! buffer per login.

mod support;

use boundary_controller::passwords::PasswordWorkers;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::dev::{AUTH_METHOD_ID, Dev, LOGIN_NAME, PASSWORD};
use support::process::HANG_TIMEOUT;
use support::slow_clients::slow_clients;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_silent_and_idle_connections_are_closed_on_both_listeners() {
    let dev = Dev::builder().controller_only().start();
    let mut clients = Vec::new();
    for url in [&dev.api, &dev.cluster] {
        let address = url.trim_start_matches("http://").to_owned();
        // The cluster listener has no authenticate route: it refuses without reading.
        let body_read = url == &dev.api;
        let post = format!("/v1/auth-methods/{AUTH_METHOD_ID}:authenticate");
        for client in slow_clients("x", "/v1/scopes", &post) {
            let address = address.clone();
            clients.push(tokio::spawn(async move {
                let received = client.clone().run(address).await;
                (client, body_read, received)
            }));
        }
    }
    // Meanwhile others are served: the API lists the scopes an anonymous caller may see,
    // the cluster listener answers (refuses) a request without the worker credential.
    for (url, expected) in [
        (&dev.api, StatusCode::OK),
        (&dev.cluster, StatusCode::UNAUTHORIZED),
    ] {
        let answer = dev
            .http
            .get(format!("{url}/v1/scopes"))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, expected, "{url}: {body}");
        if expected == StatusCode::OK {
            assert!(
                body["items"].as_array().is_some_and(|i| !i.is_empty()),
                "{body}"
            );
        } else {
            assert_eq!(body["kind"], "Unauthenticated", "{body}");
        }
    }
    for client in clients {
        let (client, body_read, received) = client.await.unwrap();
        client.check(&received, body_read);
    }
    assert!(dev.is_running(), "{}", dev.output_tail());
}

/// The peak resident memory of a process (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status:\n{status}"))
}

/// Argon2id's default memory cost, per password check.
const ARGON2_KIB: u64 = 19 * 1024;
const LOGINS: usize = 200;
/// What 200 connections, their requests and the answers may add on top of the password
/// memory.
const OVERHEAD_KIB: u64 = 64 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_logins_keeps_the_controller_memory_bounded() {
    let dev = Dev::builder().controller_only().start();
    let pid = dev.process().pid();
    // One login first, so that what every login allocates once is in the baseline.
    dev.login(AUTH_METHOD_ID, LOGIN_NAME, PASSWORD)
        .await
        .unwrap();
    let before = peak_rss_kib(pid);

    let url = format!("{}/v1/auth-methods/{AUTH_METHOD_ID}:authenticate", dev.api);
    let body = json!({
        "command": "login",
        "attributes": {"login_name": LOGIN_NAME, "password": PASSWORD},
    });
    let logins: Vec<_> = (0..LOGINS)
        .map(|_| {
            // A client each: one connection per login, all at once.
            let http = reqwest::Client::builder()
                .timeout(HANG_TIMEOUT)
                .build()
                .unwrap();
            let (url, body) = (url.clone(), body.clone());
            tokio::spawn(async move {
                let response = http.post(url).json(&body).send().await.unwrap();
                let status = response.status();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    let (mut succeeded, mut refused) = (0, 0);
    for login in logins {
        let (status, body) = login.await.unwrap();
        match status {
            StatusCode::OK => {
                assert!(body["attributes"]["token"].is_string(), "{body}");
                succeeded += 1;
            }
            // Beyond what runs and waits: refused at once, with Boundary's error body.
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["kind"], "Unavailable", "{body}");
                assert!(
                    body["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{body}"
                );
                refused += 1;
            }
            other => panic!("a login got {other}: {body}"),
        }
    }
    let after = peak_rss_kib(pid);
    // As many checks at once as the controller has password threads (it runs on this
    // machine), each in its own 19 MiB; without the bound, 200 parallel checks would
    // each hold theirs at the same time (3.8 GiB).
    let threads = PasswordWorkers::default_threads() as u64;
    let bound = threads * ARGON2_KIB + OVERHEAD_KIB;
    eprintln!(
        "{succeeded} logins succeeded, {refused} were refused; peak RSS {before} KiB → {after} KiB"
    );
    assert!(succeeded > 0, "no login succeeded");
    assert!(
        after.saturating_sub(before) < bound,
        "the peak RSS grew by {} KiB (from {before} KiB), over {bound} KiB",
        after - before
    );
    // Still serving logins.
    dev.login(AUTH_METHOD_ID, LOGIN_NAME, PASSWORD)
        .await
        .unwrap();
    assert!(dev.is_running(), "{}", dev.output_tail());
}
