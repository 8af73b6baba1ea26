//! The client against the scripted worker peer (`crate::tunnel::test_worker`).

use tokio::net::TcpListener;

use super::*;
use crate::tunnel::SpliceEnd;
use crate::tunnel::test_worker::*;
use boundary_wire::proto::{subprotocol, to_timestamp};

#[tokio::test]
async fn connect_pins_tls_negotiates_v2_and_carries_bytes() {
    let cert = session_cert("s_1234567890");
    let (worker, mut seen) =
        scripted_worker(worker_tls_config(&cert, &cert), vec![accept_v2(2)]).await;
    let session = TunnelSession::new(session_data(&cert, &[worker])).unwrap();
    assert_eq!(session.connections_left(), None);

    let tunnel = within("connect", session.connect()).await.unwrap();
    assert_eq!(tunnel.mode(), SpliceMode::V2);
    assert_eq!(tunnel.connections_left(), 2);
    assert_eq!(session.connections_left(), Some(2));

    let seen = next_seen(&mut seen).await;
    assert_eq!(seen.sni, None, "no SNI for an IP literal");
    assert_eq!(seen.alpn, [b"http/1.1".to_vec(), b"s_1234567890".to_vec()]);
    assert_eq!(seen.offered, "boundary-tcp-proxy-v2, boundary-tcp-proxy-v1");
    let handshake = seen.handshake.unwrap();
    assert_eq!(handshake.command, HandshakeCommand::Unspecified as i32);
    assert_eq!(handshake.tofu_token.len(), TOFU_TOKEN_LEN);
    assert!(
        handshake
            .tofu_token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    );

    // Half-close: the echo only answers after our EOF, and the answer still arrives.
    let payload = vec![42u8; 200_000];
    let (back, report) = echo_through(tunnel, &payload).await;
    assert_eq!(back, payload);
    assert_eq!(report.end, SpliceEnd::Normal);
    assert_eq!((report.to_ws, report.from_ws), (200_000, 200_000));
}

#[tokio::test]
async fn one_tofu_token_for_every_connection_and_the_cancel() {
    let cert = session_cert("s_1234567890");
    let scripts = vec![accept_v2(2), accept_v2(1), Script::Close(1000, "")];
    let (worker, mut seen) = scripted_worker(worker_tls_config(&cert, &cert), scripts).await;
    let session = TunnelSession::new(session_data(&cert, &[worker])).unwrap();

    let first = session.connect().await.unwrap();
    let second = session.connect().await.unwrap();
    assert_eq!(session.connections_left(), Some(1));
    drop((first, second));
    within("cancel", session.cancel()).await.unwrap();

    let tofus: Vec<_> = [
        next_seen(&mut seen).await,
        next_seen(&mut seen).await,
        next_seen(&mut seen).await,
    ]
    .into_iter()
    .map(|s| s.handshake.unwrap())
    .collect();
    assert_eq!(tofus[0].tofu_token, tofus[1].tofu_token);
    assert_eq!(tofus[1].tofu_token, tofus[2].tofu_token);
    assert_eq!(tofus[2].command, HandshakeCommand::SessionCancel as i32);

    // Another session gets another token.
    let other = TunnelSession::new(session_data(&cert, &["127.0.0.1:1".into()])).unwrap();
    assert_ne!(other.tofu.expose(), session.tofu.expose());
}

#[tokio::test]
async fn a_stock_worker_answering_v1_gets_v1() {
    let cert = session_cert("s_1234567890");
    let script = Script::Accept {
        subprotocol: subprotocol::V1,
        connections_left: -1,
    };
    let (worker, _seen) = scripted_worker(worker_tls_config(&cert, &cert), vec![script]).await;
    let session = TunnelSession::new(session_data(&cert, &[worker])).unwrap();
    let tunnel = session.connect().await.unwrap();
    assert_eq!(tunnel.mode(), SpliceMode::V1);
    assert_eq!(session.connections_left(), Some(-1));
}

#[tokio::test]
async fn a_v1_only_offer_is_sent_when_asked() {
    let cert = session_cert("s_1234567890");
    let script = Script::Accept {
        subprotocol: subprotocol::V1,
        connections_left: -1,
    };
    let (worker, mut seen) = scripted_worker(worker_tls_config(&cert, &cert), vec![script]).await;
    let session = TunnelSession::new(session_data(&cert, &[worker]))
        .unwrap()
        .with_protocol_offer(ProtocolOffer::V1Only);
    session.connect().await.unwrap();
    assert_eq!(next_seen(&mut seen).await.offered, subprotocol::V1);
}

#[tokio::test]
async fn a_worker_answering_another_subprotocol_is_refused() {
    let cert = session_cert("s_1234567890");
    let scripts = vec![Script::Subprotocol(None), Script::Subprotocol(Some("chat"))];
    let (worker, _seen) = scripted_worker(worker_tls_config(&cert, &cert), scripts).await;
    let session = TunnelSession::new(session_data(&cert, &[worker])).unwrap();
    for _ in 0..2 {
        let err = session.connect().await.unwrap_err();
        assert!(matches!(err, TunnelError::Subprotocol { .. }), "{err}");
    }
}

#[tokio::test]
async fn a_worker_with_another_certificate_is_refused() {
    let cert = session_cert("s_1234567890");
    let impostor = session_cert("s_1234567890");
    let (worker, _seen) =
        scripted_worker(worker_tls_config(&impostor, &cert), vec![accept_v2(-1)]).await;
    let session = TunnelSession::new(session_data(&cert, &[worker])).unwrap();
    let err = session.connect().await.unwrap_err();
    assert!(matches!(err, TunnelError::Tls { .. }), "{err}");
}

#[tokio::test]
async fn handshake_close_codes_become_typed_errors() {
    let cert = session_cert("s_1234567890");
    let scripts = vec![
        Script::Close(1003, close::INVALID_TOFU),
        Script::Close(1008, close::TOFU_NOT_ALLOWED),
        Script::Close(3000, "dial tcp 127.0.0.1:22: connection refused"),
        Script::Close(1011, close::UNABLE_TO_AUTHORIZE),
    ];
    let (worker, _seen) = scripted_worker(worker_tls_config(&cert, &cert), scripts).await;
    let session = TunnelSession::new(session_data(&cert, &[worker])).unwrap();
    let mut errors = vec![];
    for _ in 0..4 {
        errors.push(within("connect", session.connect()).await.unwrap_err());
    }
    assert!(
        matches!(&errors[0], TunnelError::InvalidTofu { reason } if reason == close::INVALID_TOFU)
    );
    assert!(matches!(&errors[1], TunnelError::TofuNotAllowed { .. }));
    assert!(matches!(&errors[2], TunnelError::DialFailed { reason } if reason.contains("refused")));
    assert!(
        matches!(&errors[3], TunnelError::Refused { reason } if reason == close::UNABLE_TO_AUTHORIZE)
    );
    assert_eq!(session.connections_left(), Some(0));
}

#[tokio::test]
async fn the_next_worker_is_tried_when_the_first_is_unreachable() {
    let cert = session_cert("s_1234567890");
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let (worker, _seen) =
        scripted_worker(worker_tls_config(&cert, &cert), vec![accept_v2(-1)]).await;
    let session =
        TunnelSession::new(session_data(&cert, &[closed_address, worker.clone()])).unwrap();
    let tunnel = session.connect().await.unwrap();
    assert_eq!(tunnel.worker(), worker);
}

#[tokio::test]
async fn an_unreachable_worker_is_a_connect_error() {
    let cert = session_cert("s_1234567890");
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let session = TunnelSession::new(session_data(&cert, &[closed_address])).unwrap();
    let err = session.connect().await.unwrap_err();
    assert!(matches!(err, TunnelError::Connect { .. }), "{err}");
}

#[tokio::test]
async fn an_expired_session_is_not_dialed() {
    let cert = session_cert("s_1234567890");
    let mut data = session_data(&cert, &["127.0.0.1:1".into()]);
    data.expiration = Some(to_timestamp(
        OffsetDateTime::now_utc() - time::Duration::seconds(5),
    ));
    let session = TunnelSession::new(data).unwrap();
    let err = session.connect().await.unwrap_err();
    assert!(matches!(err, TunnelError::Expired(_)), "{err}");
    assert!(err.session_unusable());
}

/// A session with spare tunnels kept `max_idle`, against a scripted worker.
async fn session_with_spares(
    scripts: Vec<Script>,
    max_idle: Duration,
) -> (
    Arc<TunnelSession>,
    tokio::sync::mpsc::UnboundedReceiver<Seen>,
) {
    let cert = session_cert("s_1234567890");
    let (worker, seen) = scripted_worker(worker_tls_config(&cert, &cert), scripts).await;
    let session = TunnelSession::new(session_data(&cert, &[worker]))
        .unwrap()
        .with_spare_tunnels(max_idle);
    (Arc::new(session), seen)
}

/// Polls until the session's spare tunnel is (or is no longer) open and waiting.
async fn until_spare(session: &TunnelSession, ready: bool) {
    let slot = session.spare.as_ref().expect("spares are on");
    within("the spare tunnel", async {
        while slot.is_ready() != ready {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn the_next_connection_goes_through_the_spare_and_a_closed_spare_is_replaced() {
    let scripts = vec![
        accept_v2(3),
        accept_v2(2),
        Script::CloseAtOnce(1008, "idle"),
        accept_v2(1),
    ];
    let (session, mut seen) = session_with_spares(scripts, Duration::from_secs(60)).await;

    let first = within("connect", session.connect_with_spare())
        .await
        .unwrap();
    assert_eq!(first.connections_left(), 3);
    assert!(next_seen(&mut seen).await.handshake.is_some());
    // The second connection is already open at the worker, waiting for its handshake.
    until_spare(&session, true).await;
    let second = within("connect", session.connect_with_spare())
        .await
        .unwrap();
    assert_eq!(second.connections_left(), 2);
    let through_spare = next_seen(&mut seen).await;
    assert_eq!(
        through_spare.handshake.unwrap().command,
        HandshakeCommand::Unspecified as i32
    );
    let (back, _) = echo_through(second, b"through the spare").await;
    assert_eq!(back, b"through the spare");

    // The worker closes the next spare before any handshake: the connection still opens,
    // on a fresh tunnel, and the refusal-looking close is not taken as the answer.
    until_spare(&session, true).await;
    assert_eq!(next_seen(&mut seen).await.handshake, None);
    let third = within("connect", session.connect_with_spare())
        .await
        .unwrap();
    assert_eq!(third.connections_left(), 1);
    assert!(next_seen(&mut seen).await.handshake.is_some());
    drop((first, third));
}

#[tokio::test]
async fn an_unused_spare_is_closed_after_its_idle_time() {
    let scripts = vec![accept_v2(2), accept_v2(1)];
    let (session, mut seen) = session_with_spares(scripts, Duration::from_millis(200)).await;
    let first = within("connect", session.connect_with_spare())
        .await
        .unwrap();
    assert!(next_seen(&mut seen).await.handshake.is_some());
    until_spare(&session, true).await;
    until_spare(&session, false).await;
    // The worker sees the spare end without a handshake: nothing was counted for it.
    assert_eq!(next_seen(&mut seen).await.handshake, None);
    drop(first);
}

#[tokio::test]
async fn without_spares_connect_with_spare_opens_no_extra_connection() {
    let cert = session_cert("s_1234567890");
    let (worker, mut seen) =
        scripted_worker(worker_tls_config(&cert, &cert), vec![accept_v2(1)]).await;
    let session = Arc::new(TunnelSession::new(session_data(&cert, &[worker])).unwrap());
    let tunnel = within("connect", session.connect_with_spare())
        .await
        .unwrap();
    assert!(next_seen(&mut seen).await.handshake.is_some());
    let (back, _) = echo_through(tunnel, b"plain").await;
    assert_eq!(back, b"plain");
    assert!(session.spare.is_none());
}

#[test]
fn unusable_authorization_data_is_an_error() {
    let cert = session_cert("s_1234567890");
    assert!(matches!(
        TunnelSession::new(session_data(&cert, &[])),
        Err(TunnelError::NoWorker)
    ));
    // A key that does not belong to the certificate.
    let mut data = session_data(&cert, &["127.0.0.1:1".into()]);
    data.private_key = session_cert("s_other").private_key;
    assert!(matches!(
        TunnelSession::new(data),
        Err(TunnelError::Credentials(_))
    ));
    assert!(TunnelSession::from_token("not base58 0OIl").is_err());
}

#[test]
fn debug_never_shows_the_tofu_token_or_key() {
    let cert = session_cert("s_1234567890");
    let session = TunnelSession::new(session_data(&cert, &["127.0.0.1:1".into()])).unwrap();
    let text = format!("{session:?}");
    assert!(!text.contains(session.tofu.expose()));
    assert!(text.contains("s_1234567890"));
}
