//! The client's TLS configuration for one session (docs/wire-contract.md §2–3): TLS 1.3 only, the
//! session certificate as client certificate, and a server verifier that trusts exactly
//! that certificate ([`PinnedCertificate`], which explains why DER pinning and not webpki).

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::tls::{PinnedCertificate, ring_provider};
use boundary_wire::proto::SessionAuthorizationData;

use super::TunnelError;

/// Builds the session's client configuration; it is made once per session and shared by
/// every connection of that session.
pub fn session_client_config(
    data: &SessionAuthorizationData,
) -> Result<Arc<ClientConfig>, TunnelError> {
    let provider = ring_provider();
    let certificate = CertificateDer::from(data.certificate.clone());
    let verifier = Arc::new(PinnedCertificate::new(certificate.clone(), &provider));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(data.pkcs8_private_key()?));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TunnelError::Credentials)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![certificate], key)
        .map_err(TunnelError::Credentials)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec(), data.session_id.as_bytes().to_vec()];
    Ok(Arc::new(config))
}
