//! What a test writes for `boundary controller -config`: the HCL (database, API and
//! cluster listeners with or without TLS, root and worker-auth keys), and TLS material
//! (a private CA and a server certificate it signed) for its listeners.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

use super::builder::{base64, random_key};

/// The configuration of one `boundary controller` (listeners on 127.0.0.1, port 0).
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    name: String,
    database_url: String,
    api_tls: Option<(PathBuf, PathBuf)>,
    cluster_tls: Option<(PathBuf, PathBuf)>,
    root_key: [u8; 32],
    pub worker_auth_key: [u8; 32],
    top_level: Vec<String>,
}

impl ControllerConfig {
    /// Plain HTTP listeners, a random root key and a random worker-auth key.
    pub fn new(name: &str, database_url: &str) -> ControllerConfig {
        ControllerConfig {
            name: name.to_owned(),
            database_url: database_url.to_owned(),
            api_tls: None,
            cluster_tls: None,
            root_key: random_key(),
            worker_auth_key: random_key(),
            top_level: Vec::new(),
        }
    }

    /// The API listener serves HTTPS with `tls`'s certificate.
    pub fn api_tls(mut self, tls: &TestTls) -> ControllerConfig {
        self.api_tls = Some((tls.cert_file.clone(), tls.key_file.clone()));
        self
    }

    /// The cluster listener serves HTTPS with `tls`'s certificate.
    pub fn cluster_tls(mut self, tls: &TestTls) -> ControllerConfig {
        self.cluster_tls = Some((tls.cert_file.clone(), tls.key_file.clone()));
        self
    }

    /// Another top-level line, as given (e.g. `disable_mlock = true`).
    pub fn top_level(mut self, line: &str) -> ControllerConfig {
        self.top_level.push(line.to_owned());
        self
    }

    pub fn hcl(&self) -> String {
        let mut hcl = String::new();
        for line in &self.top_level {
            let _ = writeln!(hcl, "{line}");
        }
        let _ = write!(
            hcl,
            "controller {{\n  name = \"{}\"\n  database {{\n    url = \"{}\"\n  }}\n}}\n",
            self.name, self.database_url
        );
        for (purpose, tls) in [("api", &self.api_tls), ("cluster", &self.cluster_tls)] {
            let tls = match tls {
                Some((cert, key)) => format!(
                    "  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n",
                    cert.display(),
                    key.display()
                ),
                None => "  tls_disable = true\n".to_owned(),
            };
            let _ = write!(
                hcl,
                "listener \"tcp\" {{\n  purpose = \"{purpose}\"\n  address = \"127.0.0.1:0\"\n{tls}}}\n"
            );
        }
        for (purpose, key) in [
            ("root", &self.root_key),
            ("worker-auth", &self.worker_auth_key),
        ] {
            let _ = write!(
                hcl,
                "kms \"aead\" {{\n  purpose = \"{purpose}\"\n  aead_type = \"aes-gcm\"\n  \
                 key = \"{}\"\n  key_id = \"{purpose}\"\n}}\n",
                base64(key)
            );
        }
        hcl
    }

    /// Writes the HCL to `path`.
    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.hcl())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// A private CA and a server certificate it signed, written as PEM files.
pub struct TestTls {
    pub ca_der: Vec<u8>,
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestTls {
    /// A new CA and a certificate for `names` (DNS names or IP addresses) signed by it, in
    /// `<dir>/<stem>-ca.pem`, `<dir>/<stem>.crt` and `<dir>/<stem>.key`.
    pub fn write(dir: &Path, stem: &str, names: &[&str]) -> TestTls {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let key = KeyPair::generate().expect("server key");
        let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cert = CertificateParams::new(names)
            .expect("server certificate parameters")
            .signed_by(&key, &Issuer::new(ca, ca_key))
            .expect("server certificate");
        let tls = TestTls {
            ca_der: ca_cert.der().to_vec(),
            ca_file: dir.join(format!("{stem}-ca.pem")),
            cert_file: dir.join(format!("{stem}.crt")),
            key_file: dir.join(format!("{stem}.key")),
        };
        for (path, pem) in [
            (&tls.ca_file, ca_cert.pem()),
            (&tls.cert_file, cert.pem()),
            (&tls.key_file, key.serialize_pem()),
        ] {
            std::fs::write(path, pem).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
        tls
    }

    /// An HTTP client trusting this CA only.
    pub fn https_client(&self) -> reqwest::Client {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(self.ca_der.clone()))
            .expect("the test CA");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .build()
            .expect("HTTPS client")
    }
}
