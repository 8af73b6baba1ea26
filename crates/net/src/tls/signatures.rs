//! Handshake signature checks for custom certificate verifiers.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::CertificateDer;
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Verifies TLS handshake signatures against the peer's certificate with a provider's
/// algorithms. A verifier that accepts a certificate without validating its path (a pinned
/// one, or any one in insecure mode) delegates its signature methods here, so the peer must
/// still prove it holds the certificate's private key.
#[derive(Clone, Copy, Debug)]
pub struct HandshakeSignatures {
    algorithms: WebPkiSupportedAlgorithms,
}

impl HandshakeSignatures {
    pub fn new(provider: &CryptoProvider) -> Self {
        Self {
            algorithms: provider.signature_verification_algorithms,
        }
    }

    /// `verify_tls12_signature` of the verifier traits.
    pub fn verify_tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    /// `verify_tls13_signature` of the verifier traits.
    pub fn verify_tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    /// `supported_verify_schemes` of the verifier traits.
    pub fn schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
