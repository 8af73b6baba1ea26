//! A scripted worker peer for unit tests: the smallest thing that speaks the worker's side
//! of the proxy protocol over real TCP, TLS and WebSocket on 127.0.0.1, so the client's
//! pinning, ALPN/SNI, subprotocol negotiation, handshake and close-code mapping (and the
//! CLI's proxy loop) can be tested without the real worker. The end-to-end tests in
//! `tests/connect_e2e.rs` run the real worker.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::LazyConfigAcceptor;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::tls::{PinnedCertificate, ring_provider};
use crate::tunnel::{SpliceMode, SpliceReport, Tunnel, splice};
use boundary_wire::proto::{
    ClientHandshake, HandshakeCommand, HandshakeResult, SessionAuthorizationData, WorkerInfo,
    close, subprotocol, to_timestamp,
};

pub async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

/// A session certificate as docs/wire-contract.md §2 describes it: Ed25519, self-signed, CA:TRUE.
pub struct SessionCert {
    pub der: Vec<u8>,
    /// Boundary's 64-byte form: seed ‖ public key.
    pub private_key: Vec<u8>,
}

/// A fresh one from the controller's own issuer, valid for an hour.
pub fn session_cert(session_id: &str) -> SessionCert {
    let now = OffsetDateTime::now_utc();
    let issued =
        boundary_session_cert::issue(session_id, &[], now, now + time::Duration::hours(1)).unwrap();
    let (der, private_key) = issued.into_parts();
    SessionCert { der, private_key }
}

pub fn session_data(cert: &SessionCert, workers: &[String]) -> SessionAuthorizationData {
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
pub fn worker_tls_config(
    presented: &SessionCert,
    expected_client: &SessionCert,
) -> Arc<ServerConfig> {
    let provider = ring_provider();
    let verifier = Arc::new(PinnedCertificate::new(
        CertificateDer::from(expected_client.der.clone()),
        &provider,
    ));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        boundary_wire::proto::ed25519_pkcs8_v1(&presented.private_key[..32]),
    ));
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
pub enum Script {
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
    /// Echo v2, then close with this code and reason without waiting for the handshake (a
    /// worker giving up on an idle connection).
    CloseAtOnce(u16, &'static str),
}

/// What the worker saw on one connection.
#[derive(Debug)]
pub struct Seen {
    pub sni: Option<String>,
    pub alpn: Vec<Vec<u8>>,
    pub offered: String,
    pub handshake: Option<ClientHandshake>,
}

/// Serves connections on 127.0.0.1, one script entry per connection, in order.
pub async fn scripted_worker(
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
        Script::Close(..) | Script::CloseAtOnce(..) => Some(subprotocol::V2),
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
    if let Script::CloseAtOnce(code, reason) = script {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = ws.send(Message::Close(Some(frame))).await;
        let _ = seen_tx.send(Seen {
            sni,
            alpn,
            offered,
            handshake: None,
        });
        while let Some(Ok(_)) = ws.next().await {}
        return;
    }
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
        Script::Subprotocol(_) | Script::CloseAtOnce(..) => {}
    }
}

pub fn accept_v2(connections_left: i32) -> Script {
    Script::Accept {
        subprotocol: subprotocol::V2,
        connections_left,
    }
}

pub async fn next_seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    within("worker observation", rx.recv())
        .await
        .expect("the worker saw a connection")
}

/// Sends `data` through a fresh tunnel, half-closes, and returns what came back.
pub async fn echo_through(tunnel: Tunnel, data: &[u8]) -> (Vec<u8>, SpliceReport) {
    let (mut app, inner) = tokio::io::duplex(64 * 1024);
    let splice = tokio::spawn(tunnel.splice(inner, std::future::pending()));
    app.write_all(data).await.unwrap();
    app.shutdown().await.unwrap();
    let mut back = Vec::new();
    within("echo", app.read_to_end(&mut back)).await.unwrap();
    (back, within("splice", splice).await.unwrap())
}
