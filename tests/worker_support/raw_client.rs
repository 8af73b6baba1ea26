//! A second client of the worker proxy protocol, written from docs/wire-contract.md §2–3 alone and
//! sharing no code with `src/tunnel` or `src/proto`: its own token decoder, its own pinning
//! verifier, raw rustls and tungstenite, and protobuf bytes encoded and decoded by hand.
//! A misreading of the protocol shared by our client and our worker shows up here.

use futures_util::{SinkExt, StreamExt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

pub type Ws = WebSocketStream<TlsStream<TcpStream>>;

/// Bounds every wait of the test client so a hung worker fails the test instead of
/// hanging it.
pub const STEP: Duration = Duration::from_secs(20);

/// What a test needs from an authorization token (docs/wire-contract.md §2).
#[derive(Clone, Debug)]
pub struct SessionGrant {
    pub session_id: String,
    pub certificate: Vec<u8>,
    pub seed: [u8; 32],
    pub worker_addresses: Vec<String>,
}

/// One protobuf field: tag, and either a varint or length-delimited bytes.
enum Field<'a> {
    Varint(u32, u64),
    Bytes(u32, &'a [u8]),
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn fields(bytes: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = vec![];
    let mut at = 0;
    while at < bytes.len() {
        let key = varint(bytes, &mut at)?;
        let tag = u32::try_from(key >> 3).ok()?;
        match key & 7 {
            0 => out.push(Field::Varint(tag, varint(bytes, &mut at)?)),
            2 => {
                let len = usize::try_from(varint(bytes, &mut at)?).ok()?;
                let value = bytes.get(at..at + len)?;
                at += len;
                out.push(Field::Bytes(tag, value));
            }
            _ => return None,
        }
    }
    Some(out)
}

impl SessionGrant {
    /// `base58(SessionAuthorizationData)`: 10 session_id, 120 certificate, 130 private
    /// key (seed ‖ public), 150 worker_info { 10 address }.
    pub fn from_token(token: &str) -> Self {
        let bytes = bs58::decode(token).into_vec().expect("token is base58");
        let mut grant = SessionGrant {
            session_id: String::new(),
            certificate: vec![],
            seed: [0; 32],
            worker_addresses: vec![],
        };
        for field in fields(&bytes).expect("token is a protobuf message") {
            match field {
                Field::Bytes(10, v) => grant.session_id = String::from_utf8(v.to_vec()).unwrap(),
                Field::Bytes(120, v) => grant.certificate = v.to_vec(),
                Field::Bytes(130, v) => {
                    assert_eq!(v.len(), 64, "private key is seed ‖ public key");
                    grant.seed.copy_from_slice(&v[..32]);
                }
                Field::Bytes(150, v) => {
                    for inner in fields(v).expect("worker_info") {
                        if let Field::Bytes(10, a) = inner {
                            grant
                                .worker_addresses
                                .push(String::from_utf8(a.to_vec()).unwrap());
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(grant.session_id.starts_with("s_"));
        assert!(!grant.certificate.is_empty());
        grant
    }

    /// PKCS#8 v1 of the seed, built from the bytes docs/wire-contract.md §2 gives.
    pub fn pkcs8(&self) -> Vec<u8> {
        let mut der = hex_bytes("302e020100300506032b657004220420");
        der.extend_from_slice(&self.seed);
        der
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Which certificate the test client presents.
pub enum ClientCert {
    Session,
    None,
    /// Another certificate and its PKCS#8 key.
    Other(Vec<u8>, Vec<u8>),
}

/// Trusts exactly one server certificate (by DER) and checks the TLS 1.3 signature.
#[derive(Debug)]
struct PinServer {
    der: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "worker presented another certificate".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("TLS 1.2 is not allowed".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// TLS 1.3 to the worker: no SNI (IP literal), ALPN `["http/1.1", session_id]`.
pub async fn tls_connect(
    worker: SocketAddr,
    grant: &SessionGrant,
    cert: ClientCert,
    alpn: Vec<Vec<u8>>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinServer {
            der: grant.certificate.clone(),
            provider,
        }));
    let key = |der: Vec<u8>| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der));
    let mut config = match cert {
        ClientCert::Session => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(grant.certificate.clone())],
                key(grant.pkcs8()),
            )
            .unwrap(),
        ClientCert::None => builder.with_no_client_auth(),
        ClientCert::Other(cert, pkcs8) => builder
            .with_client_auth_cert(vec![CertificateDer::from(cert)], key(pkcs8))
            .unwrap(),
    };
    config.alpn_protocols = alpn;
    let tcp = tokio::time::timeout(STEP, TcpStream::connect(worker)).await??;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::IpAddress(worker.ip().into());
    tokio::time::timeout(STEP, connector.connect(name, tcp)).await?
}

pub fn default_alpn(grant: &SessionGrant) -> Vec<Vec<u8>> {
    vec![b"http/1.1".to_vec(), grant.session_id.as_bytes().to_vec()]
}

/// `GET ws://<worker>/v1/proxy` offering `subprotocols`; returns the echoed subprotocol.
pub async fn upgrade(
    tls: TlsStream<TcpStream>,
    worker: SocketAddr,
    path: &str,
    subprotocols: &str,
) -> Result<(Ws, Option<String>), String> {
    let mut request = format!("ws://{worker}{path}")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    if !subprotocols.is_empty() {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(subprotocols).unwrap(),
        );
    }
    let (ws, response) = tokio::time::timeout(
        STEP,
        tokio_tungstenite::client_async_with_config(request, tls, None),
    )
    .await
    .map_err(|_| "upgrade timed out".to_string())?
    .map_err(|e| e.to_string())?;
    let echoed = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((ws, echoed))
}

/// Full setup with the session certificate and v1, as the stock client does.
pub async fn open_v1(worker: SocketAddr, grant: &SessionGrant) -> Ws {
    let tls = tls_connect(worker, grant, ClientCert::Session, default_alpn(grant))
        .await
        .expect("TLS with the session certificate");
    let (ws, echoed) = upgrade(tls, worker, "/v1/proxy", "boundary-tcp-proxy-v1")
        .await
        .expect("upgrade");
    assert_eq!(echoed.as_deref(), Some("boundary-tcp-proxy-v1"));
    ws
}

/// `ClientHandshake { tofu_token = 10; command = 20 }` by hand.
pub fn client_handshake(tofu: &[u8], cancel: bool) -> Vec<u8> {
    let mut bytes = vec![0x52, u8::try_from(tofu.len()).unwrap()];
    bytes.extend_from_slice(tofu);
    if cancel {
        bytes.extend_from_slice(&[0xa0, 0x01, 0x01]);
    }
    bytes
}

/// `HandshakeResult { Timestamp expiration = 10; int32 connection_limit = 20;
/// int32 connections_left = 30 }` as decoded by hand.
#[derive(Debug, PartialEq)]
pub struct HandshakeResult {
    pub expiration_seconds: i64,
    pub connection_limit: i32,
    pub connections_left: i32,
}

fn decode_handshake_result(bytes: &[u8]) -> HandshakeResult {
    let mut result = HandshakeResult {
        expiration_seconds: 0,
        connection_limit: 0,
        connections_left: 0,
    };
    for field in fields(bytes).expect("HandshakeResult is a protobuf message") {
        match field {
            Field::Bytes(10, ts) => {
                for f in fields(ts).expect("Timestamp") {
                    if let Field::Varint(1, s) = f {
                        result.expiration_seconds = s as i64;
                    }
                }
            }
            // int32 is sign-extended to 64 bits on the wire.
            Field::Varint(20, v) => result.connection_limit = v as i64 as i32,
            Field::Varint(30, v) => result.connections_left = v as i64 as i32,
            _ => panic!("unexpected field in HandshakeResult"),
        }
    }
    result
}

/// How the worker answered a handshake.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Result(HandshakeResult),
    Closed { code: u16, reason: String },
}

/// Sends one binary message and reads the worker's answer.
pub async fn handshake(ws: &mut Ws, message: Message) -> Answer {
    ws.send(message).await.expect("send handshake");
    next_answer(ws).await
}

pub async fn next_answer(ws: &mut Ws) -> Answer {
    loop {
        let message = tokio::time::timeout(STEP, ws.next())
            .await
            .expect("the worker answers in time");
        match message {
            Some(Ok(Message::Binary(b))) => return Answer::Result(decode_handshake_result(&b)),
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                return Answer::Closed { code, reason };
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("unexpected answer from the worker: {other:?}"),
        }
    }
}

/// Reads binary messages until `want` bytes arrived.
pub async fn read_bytes(ws: &mut Ws, want: usize) -> Vec<u8> {
    let mut got = vec![];
    while got.len() < want {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("data in time")
        {
            Some(Ok(Message::Binary(b))) => got.extend_from_slice(&b),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected data, got {other:?}"),
        }
    }
    got
}

/// Skips data until the worker closes the WebSocket; returns the close code and reason.
pub async fn wait_close(ws: &mut Ws) -> (u16, String) {
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a close in time")
        {
            Some(Ok(Message::Close(frame))) => {
                return frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
            }
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
