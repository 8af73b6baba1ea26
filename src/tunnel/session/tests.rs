//! The client against a scripted worker peer over real TCP, TLS and WebSocket on
//! 127.0.0.1. The peer is the smallest thing that speaks the worker's side of the protocol
//! so the client's pinning, ALPN/SNI, subprotocol negotiation, handshake and close-code
//! mapping can be checked before the real worker exists; the end-to-end tests in
//! `tests/connect_e2e.rs` run the real worker.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::LazyConfigAcceptor;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::*;
use crate::proto::{WorkerInfo, subprotocol, to_timestamp};
use crate::tunnel::{PinnedServerCertVerifier, SpliceEnd};

async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

/// A session certificate as PROTOCOL.md §2 describes it: Ed25519, self-signed, CA:TRUE.
struct SessionCert {
    der: Vec<u8>,
    /// Boundary's 64-byte form: seed ‖ public key.
    private_key: Vec<u8>,
}

fn session_cert(session_id: &str) -> SessionCert {
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, PKCS_ED25519,
    };
    let key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let mut params = CertificateParams::new(vec![session_id.to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.not_before = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    params.not_after = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let cert = params.self_signed(&key).unwrap();
    // ring's PKCS#8 v2 holds the seed at bytes 16..48.
    let mut private_key = key.serialize_der()[16..48].to_vec();
    private_key.extend_from_slice(key.public_key_raw());
    SessionCert {
        der: cert.der().to_vec(),
        private_key,
    }
}

fn session_data(cert: &SessionCert, workers: &[String]) -> SessionAuthorizationData {
    SessionAuthorizationData {
        session_id: "s_1234567890".into(),
        target_id: "ttcp_1234567890".into(),
        r#type: "tcp".into(),
        connection_limit: 3,
        endpoint_port: 22,
        expiration: Some(to_timestamp(
            OffsetDateTime::now_utc() + time::Duration::hours(1),
        )),
        certificate: cert.der.clone(),
        private_key: cert.private_key.clone(),
        endpoint: "tcp://127.0.0.1:22".into(),
        worker_info: workers
            .iter()
            .map(|address| WorkerInfo {
                address: address.clone(),
            })
            .collect(),
        ..Default::default()
    }
}

/// The worker's side requires the client to present exactly the session certificate.
#[derive(Debug)]
struct PinnedClientCertVerifier {
    pinned: Vec<u8>,
    inner: PinnedServerCertVerifier,
}

impl ClientCertVerifier for PinnedClientCertVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General("not the session certificate".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn worker_tls_config(presented: &SessionCert, expected_client: &SessionCert) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedClientCertVerifier {
        pinned: expected_client.der.clone(),
        inner: PinnedServerCertVerifier::new(expected_client.der.clone(), &provider),
    });
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(crate::proto::ed25519_pkcs8_v1(
        &presented.private_key[..32],
    )));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(presented.der.clone())], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// What the scripted worker does with one connection after reading `ClientHandshake`.
#[derive(Clone, Copy)]
enum Script {
    /// Echo this subprotocol, answer a `HandshakeResult`, then echo the bytes back through
    /// the real splice (so half-close works in v2).
    Accept {
        subprotocol: &'static str,
        connections_left: i32,
    },
    /// Echo the subprotocol, then close with this code and reason.
    Close(u16, &'static str),
    /// Answer the upgrade with this subprotocol (or none) and stop.
    Subprotocol(Option<&'static str>),
}

/// What the worker saw on one connection.
#[derive(Debug)]
struct Seen {
    sni: Option<String>,
    alpn: Vec<Vec<u8>>,
    offered: String,
    handshake: Option<ClientHandshake>,
}

/// Serves connections on 127.0.0.1, one script entry per connection, in order.
async fn scripted_worker(
    tls: Arc<ServerConfig>,
    scripts: Vec<Script>,
) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for script in scripts {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let seen_tx = seen_tx.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let acceptor = rustls::server::Acceptor::default();
                let Ok(start) = LazyConfigAcceptor::new(acceptor, tcp).await else {
                    return;
                };
                let hello = start.client_hello();
                let sni = hello.server_name().map(str::to_string);
                let alpn = hello
                    .alpn()
                    .map(|protocols| protocols.map(<[u8]>::to_vec).collect())
                    .unwrap_or_default();
                let Ok(stream) = start.into_stream(tls).await else {
                    let _ = seen_tx.send(Seen {
                        sni,
                        alpn,
                        offered: String::new(),
                        handshake: None,
                    });
                    return;
                };
                serve(stream, script, sni, alpn, seen_tx).await;
            });
        }
    });
    (address, seen_rx)
}

async fn serve(
    stream: tokio_rustls::server::TlsStream<TcpStream>,
    script: Script,
    sni: Option<String>,
    alpn: Vec<Vec<u8>>,
    seen_tx: mpsc::UnboundedSender<Seen>,
) {
    let answer = match script {
        Script::Accept { subprotocol, .. } => Some(subprotocol),
        Script::Close(..) => Some(subprotocol::V2),
        Script::Subprotocol(answer) => answer,
    };
    let mut offered = String::new();
    // The error type is tungstenite's `ErrorResponse`, fixed by its `Callback` trait.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, mut response: Response| {
        offered = request
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if let Some(answer) = answer {
            response
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(answer));
        }
        Ok(response)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        let _ = seen_tx.send(Seen {
            sni,
            alpn,
            offered,
            handshake: None,
        });
        return;
    };
    let handshake = match ws.next().await {
        Some(Ok(Message::Binary(bytes))) => ClientHandshake::decode(bytes).ok(),
        _ => None,
    };
    let cancel = handshake
        .as_ref()
        .is_some_and(|h| h.command == HandshakeCommand::SessionCancel as i32);
    let _ = seen_tx.send(Seen {
        sni,
        alpn,
        offered,
        handshake,
    });
    let close_with = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        }))
    };
    if cancel {
        let _ = ws
            .send(close_with(close::NORMAL, close::SESSION_CANCELED))
            .await;
        while let Some(Ok(_)) = ws.next().await {}
        return;
    }
    match script {
        Script::Accept {
            subprotocol,
            connections_left,
        } => {
            let result = HandshakeResult {
                expiration: None,
                connection_limit: 3,
                connections_left,
            };
            if ws
                .send(Message::binary(result.encode_to_vec()))
                .await
                .is_err()
            {
                return;
            }
            let mode = if subprotocol == subprotocol::V2 {
                SpliceMode::V2
            } else {
                SpliceMode::V1
            };
            let (endpoint, echo) = tokio::io::duplex(64 * 1024);
            tokio::spawn(async move {
                let (mut rd, mut wr) = tokio::io::split(echo);
                let _ = tokio::io::copy(&mut rd, &mut wr).await;
                let _ = wr.shutdown().await;
            });
            splice(endpoint, ws, mode, std::future::pending()).await;
        }
        Script::Close(code, reason) => {
            let _ = ws.send(close_with(code, reason)).await;
            while let Some(Ok(_)) = ws.next().await {}
        }
        Script::Subprotocol(_) => {}
    }
}

fn accept_v2(connections_left: i32) -> Script {
    Script::Accept {
        subprotocol: subprotocol::V2,
        connections_left,
    }
}

async fn next_seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    within("worker observation", rx.recv())
        .await
        .expect("the worker saw a connection")
}

/// Sends `data` through a fresh tunnel, half-closes, and returns what came back.
async fn echo_through(tunnel: Tunnel, data: &[u8]) -> (Vec<u8>, SpliceReport) {
    let (mut app, inner) = tokio::io::duplex(64 * 1024);
    let splice = tokio::spawn(tunnel.splice(inner, std::future::pending()));
    app.write_all(data).await.unwrap();
    app.shutdown().await.unwrap();
    let mut back = Vec::new();
    within("echo", app.read_to_end(&mut back)).await.unwrap();
    (back, within("splice", splice).await.unwrap())
}

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
