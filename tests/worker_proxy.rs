//! The worker's proxy protocol (docs/wire-contract.md §3, docs/proxy-protocol-v2.md) against the real
//! controller in `boundary dev`, driven by an independent client (`worker_support::raw_client`)
//! that shares no code with our tunnel. Every refusal is followed by a good connection, to
//! show the worker keeps serving others.

mod support;
mod worker_support;

use futures_util::{SinkExt, StreamExt};
use support::dev::{Dev, free_port};
use support::process::HANG_TIMEOUT;
use support::tcp_servers::echo_server;
use support::wait::poll_until_async;
use tokio_tungstenite::tungstenite::Message;
use worker_support::raw_client::{
    self, Answer, ClientCert, SessionGrant, client_handshake, default_alpn, handshake, next_answer,
    open_v1, read_bytes, tls_connect, upgrade, wait_close,
};
use worker_support::{close_normally, connect, echo_round_trip, echo_session, start_dev, tofu};

/// The close the real Boundary v0.21.3 worker sent in a captured probe
/// (tests/fixtures/boundary-0.21.3/worker-ws-*.json, see its README).
fn boundary_closed(fixture: &str) -> Answer {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/boundary-0.21.3")
        .join(fixture);
    let probe: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let frame = &probe["received_frames"][0];
    closed(
        frame["close_code"].as_u64().unwrap() as u16,
        frame["close_reason"].as_str().unwrap(),
    )
}

fn closed(code: u16, reason: &str) -> Answer {
    Answer::Closed {
        code,
        reason: reason.to_owned(),
    }
}

/// A fresh session on `target`, one connection, one echo: the worker still serves.
async fn assert_serves(dev: &Dev, target: &str) {
    let (grant, _) = dev.authorize(target).await;
    let (mut ws, answer) = connect(dev.proxy(), &grant, &tofu()).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut ws, b"still serving").await;
    close_normally(ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_client_reaches_the_echo_server_and_the_bytes_are_reported() {
    let dev = start_dev().await;
    let echo = echo_server();
    let target = dev.create_target("echo", echo, None, None).await;
    let (grant, authorization) = dev.authorize(&target).await;
    assert_eq!(grant.worker_addresses[0], dev.proxy().to_string());
    let expiration = time::OffsetDateTime::parse(
        authorization["expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();

    let token = tofu();
    let (mut ws, answer) = connect(dev.proxy(), &grant, &token).await;
    let Answer::Result(result) = answer else {
        panic!("expected a HandshakeResult, got {answer:?}");
    };
    assert_eq!(result.connection_limit, -1);
    assert_eq!(result.connections_left, -1);
    assert_eq!(result.expiration_seconds, expiration.unix_timestamp());

    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    echo_round_trip(&mut ws, b"hello").await;
    echo_round_trip(&mut ws, &big).await;
    close_normally(ws).await;

    let connections = dev.closed_connections(&grant.session_id, 1).await;
    let expected = (5 + big.len()) as u64;
    // 64-bit counters are JSON strings, as Boundary sends them.
    assert_eq!(connections[0]["bytes_up"], expected.to_string());
    assert_eq!(connections[0]["bytes_down"], expected.to_string());
    assert_eq!(connections[0]["closed_reason"], "closed by end-user");
    assert_eq!(connections[0]["endpoint_tcp_port"], echo);
    assert_eq!(connections[0]["client_tcp_address"], "127.0.0.1");

    // The same tofu opens further connections of the session.
    let (mut ws, answer) = connect(dev.proxy(), &grant, &token).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut ws, b"again").await;
    close_normally(ws).await;
    assert_eq!(dev.session(&grant.session_id).await["status"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_is_echoed_only_when_offered_and_a_half_close_keeps_the_reply() {
    let (dev, target, grant) = echo_session().await;
    let tls = tls_connect(
        dev.proxy(),
        &grant,
        ClientCert::Session,
        default_alpn(&grant),
    )
    .await
    .unwrap();
    let (mut ws, echoed) = upgrade(
        tls,
        dev.proxy(),
        "/v1/proxy",
        "boundary-tcp-proxy-v2, boundary-tcp-proxy-v1",
    )
    .await
    .unwrap();
    assert_eq!(echoed.as_deref(), Some("boundary-tcp-proxy-v2"));
    let answer = handshake(
        &mut ws,
        Message::Binary(client_handshake(&tofu(), false).into()),
    )
    .await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");

    // Request, then "done sending"; the reply still arrives, then the echo server's EOF.
    ws.send(Message::Binary(b"request".to_vec().into()))
        .await
        .unwrap();
    ws.send(Message::Text("half-close".into())).await.unwrap();
    assert_eq!(read_bytes(&mut ws, 7).await, b"request");
    let next = tokio::time::timeout(raw_client::STEP, ws.next())
        .await
        .unwrap();
    assert!(
        matches!(&next, Some(Ok(Message::Text(t))) if t.as_str() == "half-close"),
        "{next:?}"
    );
    assert_eq!(next_answer(&mut ws).await, closed(1000, ""));

    // Neither subprotocol, or another path: no upgrade.
    for (path, protocols) in [
        ("/v1/proxy", "boundary-tcp-proxy-v3"),
        ("/v1/proxy", ""),
        ("/v1/other", "boundary-tcp-proxy-v1"),
    ] {
        let tls = tls_connect(
            dev.proxy(),
            &grant,
            ClientCert::Session,
            default_alpn(&grant),
        )
        .await
        .unwrap();
        assert!(
            upgrade(tls, dev.proxy(), path, protocols).await.is_err(),
            "{path} {protocols:?} was upgraded"
        );
    }
    assert_serves(&dev, &target).await;
}

/// The TLS handshake (or the first read after it, in TLS 1.3) must fail.
/// How the worker turns a TLS client away.
#[derive(Debug)]
enum Refusal {
    /// The handshake completes on the client's side (TLS 1.3 checks the client's
    /// certificate after the client's last flight) and the first read gets this alert.
    Alert(&'static str),
    /// The worker closes the connection during the handshake: it has no certificate to
    /// present for the session the client names.
    ClosedInHandshake,
}

async fn assert_tls_refused(
    dev: &Dev,
    grant: &SessionGrant,
    cert: ClientCert,
    alpn: Vec<Vec<u8>>,
    expected: Refusal,
) {
    let outcome = match tls_connect(dev.proxy(), grant, cert, alpn).await {
        Err(error) => Err(format!("handshake: {error}")),
        Ok(tls) => upgrade(tls, dev.proxy(), "/v1/proxy", "boundary-tcp-proxy-v1")
            .await
            .map(|_| ())
            .map_err(|error| format!("upgrade: {error}")),
    };
    let refused_as_expected = match (&outcome, &expected) {
        (Err(error), Refusal::Alert(alert)) => {
            error == &format!("upgrade: IO error: received fatal alert: {alert}")
        }
        (Err(error), Refusal::ClosedInHandshake) => error == "handshake: tls handshake eof",
        (Ok(()), _) => false,
    };
    assert!(
        refused_as_expected,
        "expected {expected:?}, got {outcome:?} (Ok: the worker served a client it should have refused)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_refuses_missing_and_foreign_certificates_and_unknown_sessions() {
    let (dev, target, grant) = echo_session().await;

    let required = Refusal::Alert("CertificateRequired");
    assert_tls_refused(
        &dev,
        &grant,
        ClientCert::None,
        default_alpn(&grant),
        required,
    )
    .await;
    assert_serves(&dev, &target).await;

    // Same subject, another key: only the exact DER is trusted.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut params = rcgen::CertificateParams::new(vec![grant.session_id.clone()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let foreign = params.self_signed(&key).unwrap();
    let foreign = ClientCert::Other(foreign.der().to_vec(), key.serialize_der());
    let denied = Refusal::Alert("AccessDenied");
    assert_tls_refused(&dev, &grant, foreign, default_alpn(&grant), denied).await;
    assert_serves(&dev, &target).await;

    // Another session's certificate for this session.
    let (other, _) = dev.authorize(&target).await;
    let other_cert = ClientCert::Other(other.certificate.clone(), other.pkcs8());
    let denied = Refusal::Alert("AccessDenied");
    assert_tls_refused(&dev, &grant, other_cert, default_alpn(&grant), denied).await;
    assert_serves(&dev, &target).await;

    // A session the controller does not know, and a hello naming no session at all.
    let unknown = vec![b"http/1.1".to_vec(), b"s_0000000000".to_vec()];
    let closed = || Refusal::ClosedInHandshake;
    assert_tls_refused(&dev, &grant, ClientCert::Session, unknown, closed()).await;
    let no_session = vec![b"http/1.1".to_vec()];
    assert_tls_refused(&dev, &grant, ClientCert::Session, no_session, closed()).await;
    assert_serves(&dev, &target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_refusals_carry_the_protocol_close_codes() {
    let (dev, target, grant) = echo_session().await;

    let mut ws = open_v1(dev.proxy(), &grant).await;
    let answer = handshake(&mut ws, Message::Text("hello".into())).await;
    assert_eq!(answer, boundary_closed("worker-ws-text-frame.json"));
    assert_eq!(answer, closed(1008, "invalid handshake received"));
    assert_serves(&dev, &target).await;

    let mut ws = open_v1(dev.proxy(), &grant).await;
    let answer = handshake(&mut ws, Message::Binary(vec![0xff, 0xff, 0xff].into())).await;
    assert_eq!(answer, boundary_closed("worker-ws-junk-protobuf.json"));
    assert_serves(&dev, &target).await;

    for length in [0, 19, 21] {
        let mut ws = open_v1(dev.proxy(), &grant).await;
        let short = &tofu().repeat(2)[..length];
        let answer = handshake(
            &mut ws,
            Message::Binary(client_handshake(short, false).into()),
        )
        .await;
        assert_eq!(
            answer,
            closed(1003, "invalid tofu token"),
            "length {length}"
        );
    }
    assert_serves(&dev, &target).await;

    // The first tofu binds the session; another one is refused, the first still works.
    let first = tofu();
    let (ws, answer) = connect(dev.proxy(), &grant, &first).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    close_normally(ws).await;
    let (_, answer) = connect(dev.proxy(), &grant, &tofu()).await;
    assert_eq!(answer, closed(1008, "tofu token not allowed"));
    let (ws, answer) = connect(dev.proxy(), &grant, &first).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    close_normally(ws).await;
    assert_serves(&dev, &target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_exhausted_sessions_are_refused_with_1011() {
    let dev = start_dev().await;
    let echo = echo_server();

    let short = dev.create_target("short", echo, Some(1), None).await;
    let (grant, authorization) = dev.authorize(&short).await;
    let expiration = time::OffsetDateTime::parse(
        authorization["expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    poll_until_async("the session to expire", HANG_TIMEOUT, || async {
        (time::OffsetDateTime::now_utc() > expiration).then_some(())
    })
    .await;
    let (_, answer) = connect(dev.proxy(), &grant, &tofu()).await;
    assert_eq!(answer, closed(1011, "unable to authorize connection"));

    let limited = dev.create_target("limited", echo, None, Some(2)).await;
    let (grant, _) = dev.authorize(&limited).await;
    let token = tofu();
    let (first, answer) = connect(dev.proxy(), &grant, &token).await;
    let Answer::Result(result) = answer else {
        panic!("{answer:?}");
    };
    assert_eq!((result.connection_limit, result.connections_left), (2, 1));
    let (second, answer) = connect(dev.proxy(), &grant, &token).await;
    let Answer::Result(result) = answer else {
        panic!("{answer:?}");
    };
    assert_eq!((result.connection_limit, result.connections_left), (2, 0));
    let (_, answer) = connect(dev.proxy(), &grant, &token).await;
    assert_eq!(answer, closed(1011, "unable to authorize connection"));
    close_normally(first).await;
    close_normally(second).await;
    assert_serves(&dev, &limited).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_target_closes_with_3000_and_the_session_shows_why() {
    let dev = start_dev().await;
    let target = dev.create_target("dead", free_port(), None, None).await;
    let (grant, _) = dev.authorize(&target).await;
    let (_, answer) = connect(dev.proxy(), &grant, &tofu()).await;
    assert!(
        matches!(answer, Answer::Closed { code: 3000, .. }),
        "{answer:?}"
    );
    let connections = dev.closed_connections(&grant.session_id, 1).await;
    assert_eq!(connections[0]["closed_reason"], "network error");
    // Zero counters are left out, as Boundary does.
    assert!(
        connections[0].get("bytes_up").is_none(),
        "{}",
        connections[0]
    );

    let echo = echo_server();
    let alive = dev.create_target("echo", echo, None, None).await;
    assert_serves(&dev, &alive).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cancel_closes_with_1000_and_ends_the_live_connections() {
    let (dev, target, grant) = echo_session().await;
    let token = tofu();
    let (mut live, answer) = connect(dev.proxy(), &grant, &token).await;
    assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    echo_round_trip(&mut live, b"before cancel").await;

    // A cancel with another tofu is refused and changes nothing.
    let mut ws = open_v1(dev.proxy(), &grant).await;
    let answer = handshake(
        &mut ws,
        Message::Binary(client_handshake(&tofu(), true).into()),
    )
    .await;
    assert_eq!(answer, closed(1008, "tofu token not allowed"));
    echo_round_trip(&mut live, b"still live").await;

    let mut ws = open_v1(dev.proxy(), &grant).await;
    let answer = handshake(
        &mut ws,
        Message::Binary(client_handshake(&token, true).into()),
    )
    .await;
    assert_eq!(answer, closed(1000, "session canceled"));

    // The live connection is closed by the worker.
    assert_eq!(wait_close(&mut live).await.0, 1000);
    let connections = dev.closed_connections(&grant.session_id, 1).await;
    assert_eq!(connections[0]["closed_reason"], "canceled");
    let status = dev.session(&grant.session_id).await["status"].clone();
    assert!(status == "canceling" || status == "terminated", "{status}");

    // The same tofu after the cancel: refused as Boundary's worker refuses it.
    let (_, answer) = connect(dev.proxy(), &grant, &token).await;
    assert_eq!(answer, boundary_closed("worker-ws-after-cancel.json"));
    assert_eq!(answer, closed(1011, "unable to authorize connection"));
    assert_serves(&dev, &target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_clients_never_stops_the_worker() {
    use tokio::io::AsyncWriteExt;
    let (dev, target, grant) = echo_session().await;

    // Not TLS at all, and a connection closed at once.
    let mut raw = tokio::net::TcpStream::connect(dev.proxy()).await.unwrap();
    raw.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4])
        .await
        .unwrap();
    drop(raw);
    drop(tokio::net::TcpStream::connect(dev.proxy()).await.unwrap());
    assert_serves(&dev, &target).await;

    // TLS, then something that is not HTTP.
    let mut tls = tls_connect(
        dev.proxy(),
        &grant,
        ClientCert::Session,
        default_alpn(&grant),
    )
    .await
    .unwrap();
    tls.write_all(b"\x00\x01garbage\r\n\r\n").await.unwrap();
    drop(tls);
    assert_serves(&dev, &target).await;

    // A WebSocket that leaves without a handshake, and one whose first message is too big.
    drop(open_v1(dev.proxy(), &grant).await);
    let mut ws = open_v1(dev.proxy(), &grant).await;
    let _ = ws.send(Message::Binary(vec![0x52; 17 << 20].into())).await;
    while let Ok(Some(Ok(_))) = tokio::time::timeout(raw_client::STEP, ws.next()).await {}
    assert_serves(&dev, &target).await;
    dev.process().assert_running();
}
