//! The verifier both ends of a session connection use (docs/wire-contract.md §2–3).

use super::HandshakeSignatures;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

/// Accepts exactly one certificate, compared by DER bytes, and TLS 1.3 handshake
/// signatures made with its key. The client pins the worker's certificate with it and the
/// worker the client's: both are the session certificate.
///
/// Boundary's session certificate is self-signed with `CA:TRUE`, which webpki's verifiers
/// refuse as an end-entity certificate, so no path is validated: the peer must show the
/// expected DER bytes with no chain (the certificate is its own issuer), and its handshake
/// signature proves it holds the session's private key. Sessions are TLS 1.3 only, so a
/// TLS 1.2 signature is refused even though the configurations never offer TLS 1.2.
#[derive(Debug)]
pub struct PinnedCertificate {
    expected: CertificateDer<'static>,
    signatures: HandshakeSignatures,
}

impl PinnedCertificate {
    pub fn new(expected: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        Self {
            expected,
            signatures: HandshakeSignatures::new(provider),
        }
    }

    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> Result<(), Error> {
        if end_entity.as_ref() == self.expected.as_ref() && intermediates.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

/// The handshake-signature methods, the same in both verifier traits so the two ends of a
/// session cannot drift apart: TLS 1.3 signatures checked against the certificate's key,
/// TLS 1.2 signatures refused.
macro_rules! session_signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            Err(Error::General(
                "TLS 1.2 is not allowed for Boundary sessions".into(),
            ))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.signatures.verify_tls13(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.signatures.schemes()
        }
    };
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.check(end_entity, intermediates)
            .map(|()| ServerCertVerified::assertion())
    }

    session_signature_checks!();
}

impl ClientCertVerifier for PinnedCertificate {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        self.check(end_entity, intermediates)
            .map(|()| ClientCertVerified::assertion())
    }

    session_signature_checks!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::ring_provider;
    use boundary_session_cert::{self as session_cert, SessionCertificate};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::sign::{CertifiedKey, SingleCertAndKey};
    use std::sync::Arc;

    fn issue(session_id: &str) -> SessionCertificate {
        let now = time::OffsetDateTime::now_utc();
        session_cert::issue(
            session_id,
            &["127.0.0.1:9202".into()],
            now,
            now + time::Duration::hours(1),
        )
        .unwrap()
    }

    fn key_of(cert: &SessionCertificate) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            boundary_wire::proto::ed25519_pkcs8_v1(&cert.private_key()[..32]),
        ))
    }

    /// Whether `verifier` accepts `end_entity` with `chain` as (the server's certificate,
    /// the client's certificate).
    fn verdicts(
        verifier: &PinnedCertificate,
        end_entity: &[u8],
        chain: &[CertificateDer<'_>],
    ) -> (bool, bool) {
        let end_entity = CertificateDer::from(end_entity.to_vec());
        let name = ServerName::try_from("s_1234567890").unwrap();
        let now = UnixTime::now();
        (
            verifier
                .verify_server_cert(&end_entity, chain, &name, &[], now)
                .is_ok(),
            verifier.verify_client_cert(&end_entity, chain, now).is_ok(),
        )
    }

    #[test]
    fn only_the_pinned_certificate_without_a_chain_is_accepted() {
        let pinned = issue("s_1234567890");
        let other = issue("s_0987654321");
        let verifier = PinnedCertificate::new(pinned.der.clone().into(), &ring_provider());
        assert_eq!(verdicts(&verifier, &pinned.der, &[]), (true, true));
        assert_eq!(verdicts(&verifier, &other.der, &[]), (false, false));
        let chain = [CertificateDer::from(other.der.clone())];
        assert_eq!(verdicts(&verifier, &pinned.der, &chain), (false, false));
        assert!(verifier.client_auth_mandatory());
    }

    /// The server shows the pinned certificate but signs with another key: only the
    /// handshake signature check can tell, and it must.
    #[tokio::test]
    async fn the_handshake_signature_must_come_from_the_pinned_key() {
        let pinned = issue("s_1234567890");
        let other = issue("s_0987654321");
        let provider = ring_provider();
        for (signing, accepted) in [(&pinned, true), (&other, false)] {
            let signing_key = provider.key_provider.load_private_key(key_of(signing));
            let certified =
                CertifiedKey::new(vec![pinned.der.clone().into()], signing_key.unwrap());
            let server = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .with_no_client_auth()
                .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
            let verifier = PinnedCertificate::new(pinned.der.clone().into(), &provider);
            let client = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            let (server_io, client_io) = tokio::io::duplex(64 * 1024);
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
            let name = ServerName::try_from("s_1234567890").unwrap();
            let handshakes = async {
                tokio::join!(
                    acceptor.accept(server_io),
                    connector.connect(name, client_io)
                )
            };
            let (_, connected) =
                tokio::time::timeout(std::time::Duration::from_secs(30), handshakes)
                    .await
                    .expect("handshake hung");
            assert_eq!(connected.is_ok(), accepted, "{connected:?}");
        }
    }
}
