//! The client's TLS configuration for one session (PROTOCOL.md §2–3): TLS 1.3 only, the
//! session certificate as client certificate, and a server verifier that trusts exactly
//! that certificate.
//!
//! Boundary's session certificate is self-signed with `CA:TRUE` and both ends present it.
//! webpki's verifiers reject a CA certificate used as an end-entity certificate, so the
//! worker's certificate is checked by comparing DER bytes with the one in the authorization
//! token; the handshake signature is still verified, which proves the worker holds the
//! session's private key.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::proto::SessionAuthorizationData;

use super::TunnelError;

/// Builds the session's client configuration; it is made once per session and shared by
/// every connection of that session.
pub fn session_client_config(
    data: &SessionAuthorizationData,
) -> Result<Arc<ClientConfig>, TunnelError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedServerCertVerifier::new(
        data.certificate.clone(),
        &provider,
    ));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(data.pkcs8_private_key()?));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TunnelError::Credentials)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![CertificateDer::from(data.certificate.clone())], key)
        .map_err(TunnelError::Credentials)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec(), data.session_id.as_bytes().to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly one server certificate (by DER bytes) and checks TLS 1.3 signatures
/// made with its key.
#[derive(Debug)]
pub struct PinnedServerCertVerifier {
    pinned: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedServerCertVerifier {
    pub fn new(pinned_der: Vec<u8>, provider: &CryptoProvider) -> Self {
        Self {
            pinned: pinned_der,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for PinnedServerCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The session certificate is its own issuer: a chain means it is not ours.
        if end_entity.as_ref() == self.pinned.as_slice() && intermediates.is_empty() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // The configuration only enables TLS 1.3, so rustls never asks; refuse regardless.
        Err(rustls::Error::General(
            "TLS 1.2 is not allowed for Boundary sessions".into(),
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
