//! Reading HCL values: strings (with Boundary's `env://` / `file://` indirection), lists,
//! certificates, and addresses with default ports. Every error names the key.

use super::{ConfigError, DEFAULT_CLUSTER_PORT};
use hcl::Expression;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::net::{IpAddr, SocketAddr};

pub(super) fn load_ca_file(
    key: &str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ConfigError::invalid(key, format!("cannot read certificates from {path}: {e}"))
        })?;
    if certs.is_empty() {
        return Err(ConfigError::invalid(
            key,
            format!("{path} holds no PEM certificate"),
        ));
    }
    Ok(certs)
}

pub(super) fn string_value(key: &str, expr: &Expression) -> Result<String, ConfigError> {
    match expr {
        Expression::String(s) => Ok(s.clone()),
        Expression::TemplateExpr(_) => Err(ConfigError::invalid(
            key,
            "uses template interpolation, which is not supported",
        )),
        _ => Err(ConfigError::invalid(key, "must be a string")),
    }
}

/// A string, or the content of `env://NAME` / `file://path` (trimmed).
pub(super) fn indirect_value(key: &str, expr: &Expression) -> Result<String, ConfigError> {
    let raw = string_value(key, expr)?;
    if let Some(var) = raw.strip_prefix("env://") {
        return std::env::var(var)
            .map_err(|_| ConfigError::invalid(key, format!("names {var}, which is not set")));
    }
    if let Some(path) = raw.strip_prefix("file://") {
        return std::fs::read_to_string(path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| ConfigError::invalid(key, format!("cannot read {path}: {e}")));
    }
    Ok(raw)
}

pub(super) fn bool_value(key: &str, expr: &Expression) -> Result<bool, ConfigError> {
    match expr {
        Expression::Bool(b) => Ok(*b),
        _ => Err(ConfigError::invalid(key, "must be true or false")),
    }
}

pub(super) fn string_list(key: &str, expr: &Expression) -> Result<Vec<String>, ConfigError> {
    match expr {
        Expression::Array(items) => items.iter().map(|item| string_value(key, item)).collect(),
        _ => Err(ConfigError::invalid(key, "must be a list of strings")),
    }
}

/// `purpose` may be a string or, as Boundary also allows, a list of strings; we serve one.
pub(super) fn purpose_value(key: &str, expr: &Expression) -> Result<String, ConfigError> {
    match expr {
        Expression::Array(items) if items.len() == 1 => string_value(key, &items[0]),
        Expression::Array(_) => Err(ConfigError::invalid(
            key,
            "lists several purposes; write one block per purpose",
        )),
        other => string_value(key, other),
    }
}

pub(super) fn upstream_address(text: &str) -> Result<String, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ConfigError::invalid(
            "worker.initial_upstreams",
            "holds an empty address",
        ));
    }
    if text.contains("://") {
        return if text.starts_with("http://") || text.starts_with("https://") {
            Ok(text.trim_end_matches('/').to_owned())
        } else {
            Err(ConfigError::invalid(
                "worker.initial_upstreams",
                format!("\"{text}\" must be host:port or an http(s):// URL"),
            ))
        };
    }
    Ok(with_default_port(text, DEFAULT_CLUSTER_PORT))
}

/// Appends `:port` to a host that names none (`host`, `1.2.3.4`, `::1`, `[::1]`).
pub(crate) fn with_default_port(address: &str, port: u16) -> String {
    let address = address.trim();
    if address.parse::<SocketAddr>().is_ok() {
        return address.to_owned();
    }
    if let Ok(ip) = address.parse::<IpAddr>() {
        return SocketAddr::new(ip, port).to_string();
    }
    if address.starts_with('[') && address.ends_with(']') {
        return format!("{address}:{port}");
    }
    match address.rsplit_once(':') {
        Some((_, p)) if p.parse::<u16>().is_ok() => address.to_owned(),
        _ => format!("{address}:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_are_added_only_when_missing() {
        assert_eq!(with_default_port("h", 1), "h:1");
        assert_eq!(with_default_port("h:2", 1), "h:2");
        assert_eq!(with_default_port("::1", 1), "[::1]:1");
        assert_eq!(with_default_port("[::1]", 1), "[::1]:1");
        assert_eq!(with_default_port("[::1]:2", 1), "[::1]:2");
        assert_eq!(upstream_address("http://c:1/").unwrap(), "http://c:1");
        assert!(upstream_address("ftp://c").is_err());
    }
}
