//! The worker's own value kinds: upstream addresses and CA certificate files.

use super::DEFAULT_CLUSTER_PORT;
use boundary_config::{ConfigError, Value, with_default_port};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The PEM certificates in the file `value` names.
pub(super) fn load_ca_file(value: &Value) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let path = value.string()?;
    let certs = CertificateDer::pem_file_iter(&path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| value.invalid(format!("cannot read certificates from {path}: {e}")))?;
    if certs.is_empty() {
        return Err(value.invalid(format!("{path} holds no PEM certificate")));
    }
    Ok(certs)
}

/// An `http(s)://` URL (without a trailing `/`) or `host[:port]` (the cluster port added).
/// The error is the reason.
pub(super) fn upstream_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("holds an empty address".to_owned());
    }
    if text.contains("://") {
        return if text.starts_with("http://") || text.starts_with("https://") {
            Ok(text.trim_end_matches('/').to_owned())
        } else {
            Err(format!("\"{text}\" must be host:port or an http(s):// URL"))
        };
    }
    with_default_port(text, DEFAULT_CLUSTER_PORT).map_err(|reason| format!("\"{text}\" {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_get_the_cluster_port_or_stay_urls() {
        assert_eq!(upstream_address("c").unwrap(), "c:9201");
        assert_eq!(upstream_address(" c:2 ").unwrap(), "c:2");
        assert_eq!(upstream_address("::1").unwrap(), "[::1]:9201");
        assert_eq!(upstream_address("http://c:1/").unwrap(), "http://c:1");
        assert!(upstream_address("ftp://c").is_err());
        assert!(upstream_address("c:http").is_err());
        assert!(upstream_address(" ").is_err());
    }
}
