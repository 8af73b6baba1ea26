//! The worker's TLS side of the proxy protocol (docs/wire-contract.md §3, steps 1–2).
//!
//! Every session has its own self-signed certificate, presented by both ends, so the
//! server configuration is chosen per connection: the ClientHello is read first
//! (`LazyConfigAcceptor`), the session id taken from SNI or ALPN, the session's certificate
//! and key fetched from the controller (cached), and the handshake finished with a config
//! that presents that certificate and accepts exactly that certificate from the client.

use super::session_cache::{SessionCache, SessionTls};
use base64::Engine;
use boundary_net::tls::{PinnedCertificate, ring_provider};
use boundary_wire::api::worker::WorkerSessionTls;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;

/// The only application protocol the worker speaks inside TLS.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Longest session id accepted from a ClientHello; real ones are `s_` + 10 characters.
const MAX_SESSION_ID_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TlsAcceptError {
    #[error("TLS handshake failed: {0}")]
    Handshake(#[source] std::io::Error),
    #[error("the ClientHello names no session (no SNI or ALPN entry starting with s_)")]
    NoSession,
    #[error("session {session_id} cannot be served: {reason}")]
    Session { session_id: String, reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SessionTlsError {
    #[error("the session certificate is not valid base64")]
    Certificate,
    #[error("the session private key is not 64 bytes of base64 (seed and public key)")]
    PrivateKey,
    #[error("cannot build a TLS configuration from the session certificate and key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Completes the server side of the TLS handshake for one proxied connection.
pub async fn accept(
    tcp: TcpStream,
    sessions: &SessionCache,
) -> Result<(TlsStream<TcpStream>, Arc<SessionTls>), TlsAcceptError> {
    let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp)
        .await
        .map_err(TlsAcceptError::Handshake)?;
    let hello = start.client_hello();
    let alpn: Vec<&[u8]> = hello.alpn().map(Iterator::collect).unwrap_or_default();
    let session_id =
        session_id_from_hello(hello.server_name(), &alpn).ok_or(TlsAcceptError::NoSession)?;
    let session = sessions
        .get(&session_id)
        .await
        .map_err(|e| TlsAcceptError::Session {
            session_id: session_id.clone(),
            reason: e.to_string(),
        })?;
    let stream = start
        .into_stream(Arc::clone(&session.server_config))
        .await
        .map_err(TlsAcceptError::Handshake)?;
    Ok((stream, session))
}

/// The session a ClientHello asks for: the SNI when it starts with `s_`, else the first
/// ALPN entry that does. rustls lowercases SNI while session ids are mixed-case base62,
/// so an ALPN entry equal to the SNI up to case supplies the exact spelling.
pub fn session_id_from_hello(server_name: Option<&str>, alpn: &[&[u8]]) -> Option<String> {
    let alpn_ids: Vec<&str> = alpn
        .iter()
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter(|p| p.starts_with("s_"))
        .collect();
    let chosen = match server_name.filter(|n| n.starts_with("s_")) {
        Some(sni) => alpn_ids
            .iter()
            .find(|id| id.eq_ignore_ascii_case(sni))
            .copied()
            .unwrap_or(sni),
        None => alpn_ids.first().copied()?,
    };
    is_session_id(chosen).then(|| chosen.to_owned())
}

fn is_session_id(id: &str) -> bool {
    id.len() <= MAX_SESSION_ID_LEN
        && id
            .strip_prefix("s_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// TLS 1.3 only, presenting the session certificate, requiring the very same certificate
/// from the client ([`PinnedCertificate`]), ALPN `http/1.1`, no resumption (each
/// connection proves the key again).
pub fn session_server_config(session: &WorkerSessionTls) -> Result<ServerConfig, SessionTlsError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let certificate = b64
        .decode(session.certificate.trim())
        .map_err(|_| SessionTlsError::Certificate)?;
    let key = b64
        .decode(session.private_key.expose().trim())
        .map_err(|_| SessionTlsError::PrivateKey)?;
    if key.len() != 64 || certificate.is_empty() {
        return Err(if certificate.is_empty() {
            SessionTlsError::Certificate
        } else {
            SessionTlsError::PrivateKey
        });
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        boundary_wire::proto::ed25519_pkcs8_v1(&key[..32]),
    ));
    let certificate = CertificateDer::from(certificate);
    let provider = ring_provider();
    let verifier = Arc::new(PinnedCertificate::new(certificate.clone(), &provider));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![certificate], key)?;
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_is_preferred_and_alpn_restores_its_case() {
        let alpn: [&[u8]; 2] = [b"http/1.1", b"s_AbCdEfGhIj"];
        assert_eq!(
            session_id_from_hello(Some("s_abcdefghij"), &alpn).as_deref(),
            Some("s_AbCdEfGhIj")
        );
        assert_eq!(
            session_id_from_hello(Some("s_other12345"), &alpn).as_deref(),
            Some("s_other12345")
        );
        assert_eq!(
            session_id_from_hello(Some("worker.example"), &alpn).as_deref(),
            Some("s_AbCdEfGhIj")
        );
        assert_eq!(
            session_id_from_hello(None, &alpn).as_deref(),
            Some("s_AbCdEfGhIj")
        );
    }

    #[test]
    fn hellos_without_a_usable_session_id_are_refused() {
        let none: [&[u8]; 1] = [b"http/1.1"];
        assert_eq!(session_id_from_hello(Some("worker.example"), &none), None);
        assert_eq!(session_id_from_hello(None, &[]), None);
        let bad: [&[u8]; 3] = [b"s_", b"s_../x", &[b's', b'_', 0xff]];
        assert_eq!(session_id_from_hello(None, &bad), None);
        let long = format!("s_{}", "a".repeat(100));
        assert_eq!(session_id_from_hello(Some(&long), &[]), None);
    }

    /// Real rustls on both ends over an in-memory pipe: the worker's configuration accepts
    /// the session certificate from the client and nothing else.
    #[tokio::test]
    async fn only_the_session_certificate_is_accepted_from_the_client() {
        use boundary_session_cert as session_cert;
        use boundary_wire::api::Secret;
        use rustls::pki_types::ServerName;

        let now = time::OffsetDateTime::now_utc();
        let issue = |id: &str| {
            session_cert::issue(
                id,
                &["127.0.0.1:9202".into()],
                now,
                now + time::Duration::hours(1),
            )
            .unwrap()
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let session_cert = issue("s_1234567890");
        let other_cert = issue("s_0987654321");
        let session = WorkerSessionTls {
            session_id: "s_1234567890".into(),
            expiration: now + time::Duration::hours(1),
            certificate: b64.encode(&session_cert.der),
            private_key: Secret::new(b64.encode(session_cert.private_key())),
        };
        let server = Arc::new(session_server_config(&session).unwrap());

        let identity = |c: &session_cert::SessionCertificate| {
            (
                vec![CertificateDer::from(c.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                    boundary_wire::proto::ed25519_pkcs8_v1(&c.private_key()[..32]),
                )),
            )
        };
        let cases = [
            (Some(identity(&session_cert)), true),
            (None, false),
            (Some(identity(&other_cert)), false),
        ];
        for (client_identity, accepted) in cases {
            let provider = ring_provider();
            let worker_certificate = CertificateDer::from(session_cert.der.clone());
            let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedCertificate::new(
                    worker_certificate,
                    &provider,
                )));
            let mut client = match client_identity {
                Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
                None => builder.with_no_client_auth(),
            };
            client.alpn_protocols = vec![ALPN_HTTP11.to_vec(), b"s_1234567890".to_vec()];
            let (server_io, client_io) = tokio::io::duplex(64 * 1024);
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&server));
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let (served, _) = tokio::join!(
                acceptor.accept(server_io),
                connector.connect(name, client_io)
            );
            assert_eq!(served.is_ok(), accepted);
            if let Ok(stream) = served {
                assert_eq!(stream.get_ref().1.alpn_protocol(), Some(ALPN_HTTP11));
                assert_eq!(
                    stream.get_ref().1.protocol_version(),
                    Some(rustls::ProtocolVersion::TLSv1_3)
                );
            }
        }
    }
}
