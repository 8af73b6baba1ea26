//! [`serve_connection`] over in-memory streams, with short deadlines: a connection must
//! never be closed before its deadline (tokio timers do not fire early) and must be
//! closed within a generous bound after it.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::routing::{get, post};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ConnectionLimits, is_body_timeout, serve_connection};

const LIMITS: ConnectionLimits = ConnectionLimits {
    idle_timeout: Duration::from_millis(1000),
    body_timeout: Duration::from_millis(2000),
};
/// How late a close may come (a loaded test machine), far below "never".
const SLACK: Duration = Duration::from_secs(10);
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const GET_FAST: &[u8] = b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n";

fn router() -> Router {
    Router::new()
        .route("/fast", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(LIMITS.idle_timeout * 3).await;
                "done"
            }),
        )
        .route(
            "/body",
            post(|body: Body| async move {
                match axum::body::to_bytes(body, 1024).await {
                    Ok(bytes) => (StatusCode::OK, bytes.len().to_string()),
                    Err(error) if is_body_timeout(&error) => {
                        (StatusCode::REQUEST_TIMEOUT, error.to_string())
                    }
                    Err(error) => (StatusCode::BAD_REQUEST, error.to_string()),
                }
            }),
        )
}

/// A client stream served by [`serve_connection`] with `shutdown`.
fn connect_with(shutdown: CancellationToken) -> DuplexStream {
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(serve_connection(
        server,
        TowerToHyperService::new(router()),
        LIMITS,
        shutdown,
    ));
    client
}

fn connect() -> DuplexStream {
    connect_with(CancellationToken::new())
}

/// Reads until the server closes (panics if it has not closed within every deadline and
/// [`SLACK`]); what it sent.
async fn read_until_closed(client: &mut DuplexStream) -> Vec<u8> {
    let mut received = Vec::new();
    let bound = LIMITS.idle_timeout + LIMITS.body_timeout + SLACK;
    tokio::time::timeout(bound, client.read_to_end(&mut received))
        .await
        .unwrap_or_else(|_| panic!("still open after {bound:?}"))
        .ok();
    received
}

/// Reads one HTTP/1.1 response whose body ends with `end`.
async fn read_response(client: &mut DuplexStream, end: &str) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&received).ends_with(end) {
        let n = client.read(&mut buffer).await.unwrap();
        assert!(
            n > 0,
            "closed early: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8(received).unwrap()
}

fn assert_closed_at(started: Instant, deadline: Duration, what: &str) {
    let elapsed = started.elapsed();
    assert!(
        elapsed >= deadline && elapsed <= deadline + SLACK,
        "{what}: closed after {elapsed:?}, the deadline is {deadline:?}"
    );
}

#[tokio::test]
async fn silent_and_stalled_clients_are_closed_at_the_idle_timeout() {
    for (what, sent) in [
        ("silent", &b""[..]),
        ("one P", b"P"),
        ("the h2 preface", PREFACE),
        ("half a head", b"GET /fast HTTP/1.1\r\nHost: x\r\n"),
    ] {
        let mut client = connect();
        let started = Instant::now();
        client.write_all(sent).await.unwrap();
        read_until_closed(&mut client).await;
        assert_closed_at(started, LIMITS.idle_timeout, what);
    }
}

#[tokio::test]
async fn trickling_bytes_do_not_extend_the_idle_timeout() {
    let mut client = connect();
    let started = Instant::now();
    let head = b"GET /fast HTTP/1.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for byte in head {
        if client.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(LIMITS.idle_timeout / 10).await;
    }
    read_until_closed(&mut client).await;
    assert_closed_at(started, LIMITS.idle_timeout, "a trickled head");
}

#[tokio::test]
async fn a_keep_alive_connection_serves_requests_then_closes_once_idle() {
    let mut client = connect();
    client.write_all(GET_FAST).await.unwrap();
    assert!(
        read_response(&mut client, "ok")
            .await
            .starts_with("HTTP/1.1 200")
    );
    // Within the idle timeout the connection still takes requests, and each one
    // restarts the wait.
    tokio::time::sleep(LIMITS.idle_timeout / 2).await;
    client.write_all(GET_FAST).await.unwrap();
    assert!(
        read_response(&mut client, "ok")
            .await
            .starts_with("HTTP/1.1 200")
    );
    let idle_since = Instant::now();
    assert!(read_until_closed(&mut client).await.is_empty());
    assert_closed_at(idle_since, LIMITS.idle_timeout, "idle keep-alive");
}

#[tokio::test]
async fn a_slow_body_is_cut_at_the_body_timeout_and_the_connection_closed() {
    let mut client = connect();
    let started = Instant::now();
    client
        .write_all(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let (mut reader, mut writer) = tokio::io::split(client);
    // A byte every tenth of the idle timeout: always more to come, never the whole body
    // in time.
    let trickle = tokio::spawn(async move {
        for _ in 0..99 {
            tokio::time::sleep(LIMITS.idle_timeout / 10).await;
            if writer.write_all(b"x").await.is_err() {
                break;
            }
        }
    });
    let mut received = Vec::new();
    let bound = LIMITS.body_timeout + SLACK;
    tokio::time::timeout(bound, reader.read_to_end(&mut received))
        .await
        .unwrap_or_else(|_| panic!("still open after {bound:?}"))
        .ok();
    let response = String::from_utf8_lossy(&received);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("did not arrive within 2 s"), "{response}");
    assert_closed_at(started, LIMITS.body_timeout, "a slow body");
    trickle.abort();
}

#[tokio::test]
async fn a_body_sent_in_time_is_read_whole() {
    let mut client = connect();
    client
        .write_all(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nab")
        .await
        .unwrap();
    tokio::time::sleep(LIMITS.body_timeout / 2).await;
    client.write_all(b"c").await.unwrap();
    let response = read_response(&mut client, "\r\n\r\n3").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn a_slow_handler_keeps_its_connection_past_the_idle_timeout() {
    let mut client = connect();
    let started = Instant::now();
    client
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut client, "done").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(started.elapsed() >= LIMITS.idle_timeout * 3);
}

#[tokio::test]
async fn an_h2_connection_is_closed_once_idle() {
    let client = connect();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(client),
    )
    .await
    .unwrap();
    let connection = tokio::spawn(connection);
    let request = axum::http::Request::get("http://x/fast")
        .body(Body::empty())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(Body::new(response.into_body()), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], b"ok");
    let idle_since = Instant::now();
    let bound = LIMITS.idle_timeout + SLACK;
    let _ = tokio::time::timeout(bound, connection)
        .await
        .unwrap_or_else(|_| panic!("still open after {bound:?}"));
    assert_closed_at(idle_since, LIMITS.idle_timeout, "idle h2");
}

#[tokio::test]
async fn shutdown_closes_an_idle_connection_at_once() {
    let shutdown = CancellationToken::new();
    let mut client = connect_with(shutdown.clone());
    client.write_all(GET_FAST).await.unwrap();
    assert!(
        read_response(&mut client, "ok")
            .await
            .starts_with("HTTP/1.1 200")
    );
    let started = Instant::now();
    shutdown.cancel();
    assert!(read_until_closed(&mut client).await.is_empty());
    assert!(
        started.elapsed() < LIMITS.idle_timeout,
        "{:?}",
        started.elapsed()
    );
}
