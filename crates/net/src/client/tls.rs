//! The rustls configuration for `https://` controllers.
//!
//! Built here rather than by reqwest so that the crypto provider is always ring (the
//! project builds rustls without aws-lc) and so that the trust roots are explicit:
//! Mozilla's roots from `webpki-roots`, the operating system's trust store (where
//! organisations install their private CAs; `SSL_CERT_FILE`/`SSL_CERT_DIR` override its
//! location, as for OpenSSL), plus an optional CA bundle (Boundary's `-ca-cert`, the
//! agent's `controller_ca_file`), or no verification at all when the user asked for it
//! (`-tls-insecure`). Mozilla's roots stay in so that a machine without a CA bundle
//! (a minimal container) still reaches public controllers.

use super::ClientError;
use crate::tls::{HandshakeSignatures, ring_provider};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Where extra trusted CA certificates come from.
#[derive(Clone, Debug)]
pub enum CaSource {
    /// A PEM file holding one or more certificates.
    File(PathBuf),
    /// PEM text already in memory.
    Pem(Vec<u8>),
}

/// TLS settings for `https://` controller addresses (ignored for `http://`).
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Trusted in addition to the Mozilla roots and the system's trust store.
    pub extra_ca: Option<CaSource>,
    /// Accept any server certificate. Handshake signatures are still checked, so the peer
    /// must hold the key of the certificate it shows, but nothing ties that certificate to
    /// the controller: use only for testing.
    pub insecure: bool,
}

/// Builds the client configuration: ring provider, TLS 1.2 and 1.3, ALPN h2 + http/1.1.
pub fn build_client_config(options: &TlsOptions) -> Result<ClientConfig, ClientError> {
    let provider = ring_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(format!("no usable TLS versions: {e}")))?;
    let mut config = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert {
                signatures: HandshakeSignatures::new(&provider),
            }))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(trust_roots(options.extra_ca.as_ref())?)
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn trust_roots(extra: Option<&CaSource>) -> Result<RootCertStore, ClientError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(system_roots().iter().cloned());
    let Some(extra) = extra else {
        return Ok(roots);
    };
    let (pem, origin) = match extra {
        CaSource::File(path) => (
            std::fs::read(path).map_err(|e| {
                ClientError::Tls(format!("cannot read CA file {}: {e}", path.display()))
            })?,
            format!("CA file {}", path.display()),
        ),
        CaSource::Pem(pem) => (pem.clone(), "CA PEM".to_owned()),
    };
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| ClientError::Tls(format!("{origin}: bad PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| ClientError::Tls(format!("{origin}: unusable certificate: {e}")))?;
        added += 1;
    }
    if added == 0 {
        return Err(ClientError::Tls(format!(
            "{origin} holds no PEM certificate"
        )));
    }
    Ok(roots)
}

/// The system's trust store, read once per process. Unreadable or unparsable entries are
/// skipped (logged at debug): one bad file in `/etc/ssl/certs` must not cut a user off
/// from a controller that a good root vouches for.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::debug!("system trust store: {error}");
        }
        loaded.certs
    })
}

/// The `-tls-insecure` verifier: any certificate, but a valid handshake signature.
#[derive(Debug)]
struct AcceptAnyServerCert {
    signatures: HandshakeSignatures,
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_trusts_the_mozilla_roots_and_offers_h2() {
        let config = build_client_config(&TlsOptions::default()).unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
    }

    #[test]
    fn a_ca_file_without_certificates_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a pem").unwrap();
        let err = build_client_config(&TlsOptions {
            extra_ca: Some(CaSource::File(path.clone())),
            insecure: false,
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("holds no PEM certificate"),
            "{err}"
        );
        let err = build_client_config(&TlsOptions {
            extra_ca: Some(CaSource::File(dir.path().join("missing.pem"))),
            insecure: false,
        })
        .unwrap_err();
        assert!(err.to_string().contains("cannot read CA file"), "{err}");
    }

    #[test]
    fn a_generated_ca_is_accepted() {
        let cert = rcgen::generate_simple_self_signed(vec!["ctl.test".into()]).unwrap();
        let config = build_client_config(&TlsOptions {
            extra_ca: Some(CaSource::Pem(cert.cert.pem().into_bytes())),
            insecure: false,
        });
        assert!(config.is_ok());
    }
}
