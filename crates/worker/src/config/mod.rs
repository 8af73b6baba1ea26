//! The worker's HCL configuration file, in Boundary's shape:
//!
//! ```hcl
//! worker {
//!   name              = "worker-1"
//!   description       = "first worker"
//!   public_addr       = "worker-1.example:9202"
//!   initial_upstreams = ["10.0.0.1:9201"]   # or "https://controller.example:9201"
//!   upstream_ca_file  = "/etc/boundary/cluster-ca.pem"   # ours, optional
//! }
//! listener "tcp" {
//!   purpose = "proxy"
//!   address = "0.0.0.0:9202"
//! }
//! kms "aead" {
//!   purpose   = "worker-auth"
//!   aead_type = "aes-gcm"
//!   key       = "<base64 of a 32-byte key>"
//!   key_id    = "global_worker-auth"
//! }
//! ```
//!
//! `upstream_ca_file` (ours) names PEM certificates trusted for `https://` upstreams, for a
//! cluster listener whose certificate is not from a public CA; without it the public web
//! roots are trusted. A `host:port` upstream is plain HTTP.
//!
//! `name`, `description`, `public_addr` and `kms.key` may also be written `env://NAME` or
//! `file://path`, as in Boundary, so the key need not sit in the file.
//!
//! The file is walked as an HCL body rather than through serde so that every error names
//! the offending key (`listener.address`, `kms.key`...), repeated blocks behave the same as
//! single ones, and a key we do not understand is an error instead of being ignored.

use base64::Engine;
mod values;

use hcl::{Block, Body};
use rustls_pki_types::CertificateDer;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
pub(crate) use values::with_default_port;
use values::{
    bool_value, indirect_value, load_ca_file, purpose_value, string_list, string_value,
    upstream_address,
};

/// The proxy port Boundary workers use when an address names none.
pub const DEFAULT_PROXY_PORT: u16 = 9202;
/// The controller cluster port Boundary uses when an upstream names none.
pub const DEFAULT_CLUSTER_PORT: u16 = 9201;

/// A validated worker configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerConfig {
    /// Stable name; re-registering with it keeps the worker's id at the controller. The
    /// worker's credential is derived for it, so it is who the worker is to the controller.
    pub name: String,
    pub description: String,
    /// What clients dial (goes into the `worker_info` of authorization tokens): `host:port`,
    /// or a host alone (the bound proxy port is added). `None`: the bound proxy address,
    /// which also covers a listener on port 0.
    pub public_addr: Option<String>,
    /// Controller cluster addresses (`host:port` or an `http(s)://` URL), tried in order.
    pub initial_upstreams: Vec<String>,
    /// Trust anchors for `https://` upstreams; empty means the public web roots.
    pub upstream_ca_certs: Vec<CertificateDer<'static>>,
    /// Where the proxy listener binds.
    pub proxy_listen_addr: SocketAddr,
    /// The shared worker-auth key the controller also holds.
    pub worker_auth_key: WorkerAuthKey,
}

/// The raw bytes of the `worker-auth` KMS key. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerAuthKey(Vec<u8>);

impl WorkerAuthKey {
    /// The key length of Boundary's aead KMS (AES-256-GCM), which the controller also expects.
    pub const LEN: usize = 32;

    pub fn new(bytes: Vec<u8>) -> Result<Self, ConfigError> {
        if bytes.len() == Self::LEN {
            Ok(Self(bytes))
        } else {
            Err(ConfigError::invalid(
                "kms.key",
                format!(
                    "decodes to {} bytes; the worker-auth key is {} bytes",
                    bytes.len(),
                    Self::LEN
                ),
            ))
        }
    }

    /// Decodes the base64 form used in config files.
    pub fn from_base64(text: &str) -> Result<Self, ConfigError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| ConfigError::invalid("kms.key", "is not valid base64"))?;
        Self::new(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WorkerAuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WorkerAuthKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read worker config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("worker config is not valid HCL: {0}")]
    Syntax(#[from] hcl::Error),
    #[error("unknown key `{0}` in worker config")]
    UnknownKey(String),
    #[error("missing `{0}` in worker config")]
    Missing(&'static str),
    #[error("`{key}` in worker config {reason}")]
    Invalid { key: String, reason: String },
}

impl ConfigError {
    fn invalid(key: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

impl WorkerConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let body: Body = hcl::parse(text)?;
        let mut worker = None;
        let mut proxy_listen_addr = None;
        let mut worker_auth_key = None;
        for attribute in body.attributes() {
            match attribute.key() {
                // Accepted for compatibility with Boundary configs; we never lock memory.
                "disable_mlock" => {
                    bool_value("disable_mlock", attribute.expr())?;
                }
                other => return Err(ConfigError::UnknownKey(other.to_owned())),
            }
        }
        for block in body.blocks() {
            match block.identifier() {
                "worker" => {
                    if worker.is_some() {
                        return Err(ConfigError::invalid("worker", "appears more than once"));
                    }
                    worker = Some(WorkerBlock::parse(block)?);
                }
                "listener" => {
                    if let Some(addr) = parse_listener(block)? {
                        if proxy_listen_addr.is_some() {
                            return Err(ConfigError::invalid(
                                "listener",
                                "has more than one block with purpose \"proxy\"",
                            ));
                        }
                        proxy_listen_addr = Some(addr);
                    }
                }
                "kms" => {
                    if let Some(key) = parse_kms(block)? {
                        if worker_auth_key.is_some() {
                            return Err(ConfigError::invalid(
                                "kms",
                                "has more than one block with purpose \"worker-auth\"",
                            ));
                        }
                        worker_auth_key = Some(key);
                    }
                }
                other => return Err(ConfigError::UnknownKey(other.to_owned())),
            }
        }
        let worker = worker.ok_or(ConfigError::Missing("worker"))?;
        let proxy_listen_addr = proxy_listen_addr.ok_or(ConfigError::Missing(
            "listener \"tcp\" { purpose = \"proxy\" }",
        ))?;
        let worker_auth_key = worker_auth_key.ok_or(ConfigError::Missing(
            "kms \"aead\" { purpose = \"worker-auth\" }",
        ))?;
        if worker.public_addr.is_none() && proxy_listen_addr.ip().is_unspecified() {
            return Err(ConfigError::invalid(
                "worker.public_addr",
                format!(
                    "is required when the proxy listener binds the unspecified address {}",
                    proxy_listen_addr.ip()
                ),
            ));
        }
        Ok(Self {
            name: worker.name,
            description: worker.description,
            public_addr: worker.public_addr,
            initial_upstreams: worker.initial_upstreams,
            upstream_ca_certs: worker.upstream_ca_certs,
            proxy_listen_addr,
            worker_auth_key,
        })
    }
}

struct WorkerBlock {
    name: String,
    description: String,
    public_addr: Option<String>,
    initial_upstreams: Vec<String>,
    upstream_ca_certs: Vec<CertificateDer<'static>>,
}

impl WorkerBlock {
    fn parse(block: &Block) -> Result<Self, ConfigError> {
        no_labels(block, "worker")?;
        no_nested_blocks(block, "worker")?;
        let mut name = None;
        let mut description = String::new();
        let mut public_addr = None;
        let mut initial_upstreams = None;
        let mut upstream_ca_certs = vec![];
        for attribute in block.body().attributes() {
            let key = format!("worker.{}", attribute.key());
            match attribute.key() {
                "name" => name = Some(indirect_value(&key, attribute.expr())?),
                "description" => description = indirect_value(&key, attribute.expr())?,
                "public_addr" => public_addr = Some(indirect_value(&key, attribute.expr())?),
                "initial_upstreams" => {
                    initial_upstreams = Some(string_list(&key, attribute.expr())?);
                }
                "upstream_ca_file" => {
                    upstream_ca_certs = load_ca_file(&key, &string_value(&key, attribute.expr())?)?;
                }
                _ => return Err(ConfigError::UnknownKey(key)),
            }
        }
        let name = name.ok_or(ConfigError::Missing("worker.name"))?;
        // The name is what the worker's credential is derived for (and what the controller
        // then knows it by), so it must be usable byte for byte.
        if let Some(problem) = boundary_net::worker_auth::worker_name_problem(&name) {
            return Err(ConfigError::invalid("worker.name", problem));
        }
        let initial_upstreams: Vec<String> = initial_upstreams
            .ok_or(ConfigError::Missing("worker.initial_upstreams"))?
            .iter()
            .map(|u| upstream_address(u))
            .collect::<Result<_, _>>()?;
        if initial_upstreams.is_empty() {
            return Err(ConfigError::invalid(
                "worker.initial_upstreams",
                "is empty; list at least one controller cluster address",
            ));
        }
        if let Some(addr) = &public_addr
            && addr.trim().is_empty()
        {
            return Err(ConfigError::invalid("worker.public_addr", "is empty"));
        }
        Ok(Self {
            name,
            description,
            public_addr,
            initial_upstreams,
            upstream_ca_certs,
        })
    }
}

/// Returns the bind address of a `purpose = "proxy"` listener, `None` for other purposes
/// this worker has no use for (a shared Boundary config may carry them).
fn parse_listener(block: &Block) -> Result<Option<SocketAddr>, ConfigError> {
    match block.labels() {
        [label] if label.as_str() == "tcp" => {}
        _ => {
            return Err(ConfigError::invalid(
                "listener",
                "must be written `listener \"tcp\" { ... }`",
            ));
        }
    }
    no_nested_blocks(block, "listener")?;
    let mut purpose = None;
    let mut address = None;
    for attribute in block.body().attributes() {
        let key = format!("listener.{}", attribute.key());
        match attribute.key() {
            "purpose" => purpose = Some(purpose_value(&key, attribute.expr())?),
            "address" => address = Some(string_value(&key, attribute.expr())?),
            _ => return Err(ConfigError::UnknownKey(key)),
        }
    }
    match purpose.as_deref() {
        Some("proxy") => {}
        Some("api" | "cluster" | "ops") => return Ok(None),
        Some(other) => {
            return Err(ConfigError::invalid(
                "listener.purpose",
                format!("is \"{other}\"; expected \"proxy\""),
            ));
        }
        None => return Err(ConfigError::Missing("listener.purpose")),
    }
    let address = address.unwrap_or_else(|| format!("0.0.0.0:{DEFAULT_PROXY_PORT}"));
    let address = with_default_port(&address, DEFAULT_PROXY_PORT);
    address.parse().map(Some).map_err(|_| {
        ConfigError::invalid(
            "listener.address",
            format!("\"{address}\" is not an IP address and port"),
        )
    })
}

/// Returns the key of a `purpose = "worker-auth"` block, `None` for other purposes.
fn parse_kms(block: &Block) -> Result<Option<WorkerAuthKey>, ConfigError> {
    match block.labels() {
        [label] if label.as_str() == "aead" => {}
        [label] => {
            return Err(ConfigError::invalid(
                "kms",
                format!(
                    "type \"{}\" is not supported; use kms \"aead\"",
                    label.as_str()
                ),
            ));
        }
        _ => {
            return Err(ConfigError::invalid(
                "kms",
                "must be written `kms \"aead\" { ... }`",
            ));
        }
    }
    no_nested_blocks(block, "kms")?;
    let mut purpose = None;
    let mut key = None;
    for attribute in block.body().attributes() {
        let name = format!("kms.{}", attribute.key());
        match attribute.key() {
            "purpose" => purpose = Some(purpose_value(&name, attribute.expr())?),
            "aead_type" => {
                let kind = string_value(&name, attribute.expr())?;
                if kind != "aes-gcm" {
                    return Err(ConfigError::invalid(
                        "kms.aead_type",
                        format!("is \"{kind}\"; only \"aes-gcm\" is supported"),
                    ));
                }
            }
            "key" => key = Some(indirect_value(&name, attribute.expr())?),
            "key_id" => {
                string_value(&name, attribute.expr())?;
            }
            _ => return Err(ConfigError::UnknownKey(name)),
        }
    }
    match purpose.as_deref() {
        Some("worker-auth") => {}
        Some(_) => return Ok(None),
        None => return Err(ConfigError::Missing("kms.purpose")),
    }
    let key = key.ok_or(ConfigError::Missing("kms.key"))?;
    WorkerAuthKey::from_base64(&key).map(Some)
}

fn no_labels(block: &Block, name: &str) -> Result<(), ConfigError> {
    if block.labels().is_empty() {
        Ok(())
    } else {
        Err(ConfigError::invalid(name, "takes no label"))
    }
}

fn no_nested_blocks(block: &Block, parent: &str) -> Result<(), ConfigError> {
    match block.body().blocks().next() {
        Some(nested) => Err(ConfigError::UnknownKey(format!(
            "{parent}.{}",
            nested.identifier()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=";

    fn config(worker: &str, listener: &str, kms: &str) -> String {
        format!(
            "worker {{\n{worker}\n}}\nlistener \"tcp\" {{\n{listener}\n}}\nkms \"aead\" {{\n{kms}\n}}\n"
        )
    }

    fn good() -> String {
        config(
            "name = \"w1\"\ndescription = \"d\"\npublic_addr = \"w1.example\"\ninitial_upstreams = [\"127.0.0.1\"]",
            "purpose = \"proxy\"\naddress = \"0.0.0.0:9300\"",
            &format!(
                "purpose = \"worker-auth\"\naead_type = \"aes-gcm\"\nkey = \"{KEY}\"\nkey_id = \"global_worker-auth\""
            ),
        )
    }

    #[test]
    fn a_boundary_style_config_parses_with_defaults_filled_in() {
        let c = WorkerConfig::parse(&good()).unwrap();
        assert_eq!(c.name, "w1");
        assert_eq!(c.description, "d");
        assert_eq!(c.public_addr.as_deref(), Some("w1.example"));
        assert_eq!(c.initial_upstreams, vec!["127.0.0.1:9201"]);
        assert_eq!(c.proxy_listen_addr, "0.0.0.0:9300".parse().unwrap());
        assert_eq!(c.worker_auth_key.expose().len(), 32);
        assert!(!format!("{c:?}").contains(KEY));
    }

    #[test]
    fn other_purposes_and_disable_mlock_are_tolerated() {
        let text = format!(
            "disable_mlock = true\n{}\nlistener \"tcp\" {{\npurpose = \"ops\"\naddress = \"127.0.0.1:9203\"\n}}\nkms \"aead\" {{\npurpose = \"root\"\naead_type = \"aes-gcm\"\nkey = \"{KEY}\"\n}}",
            good()
        );
        assert!(WorkerConfig::parse(&text).is_ok());
    }

    /// `config/worker.hcl` stays valid; its CA file does not exist here, so it is dropped.
    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../../../../config/worker.hcl")
            .replace("upstream_ca_file = \"/etc/boundary/cluster-ca.pem\"", "");
        let c = WorkerConfig::parse(&text).unwrap();
        assert_eq!(c.name, "worker-1");
        assert_eq!(c.public_addr.as_deref(), Some("worker-1.example.com:9202"));
        assert_eq!(
            c.initial_upstreams,
            vec!["https://controller-1.example.com:9201"]
        );
        assert_eq!(c.proxy_listen_addr, "0.0.0.0:9202".parse().unwrap());
        let e = WorkerConfig::parse(include_str!("../../../../config/worker.hcl"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("worker.upstream_ca_file"), "{e}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let bad = good().replace("description", "descripton");
        let e = WorkerConfig::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("worker.descripton"), "{e}");
        let bad = good().replace("address =", "adress =");
        let e = WorkerConfig::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("listener.adress"), "{e}");
        let e = WorkerConfig::parse(&format!("{}\ncontroller {{}}", good()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`controller`"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (good().replace(KEY, "not base64!"), "kms.key"),
            (good().replace(KEY, "AAAA"), "kms.key"),
            (good().replace("aes-gcm", "chacha"), "kms.aead_type"),
            (
                good().replace("0.0.0.0:9300", "nowhere:x"),
                "listener.address",
            ),
            (
                good().replace("public_addr = \"w1.example\"", ""),
                "worker.public_addr",
            ),
            (
                good().replace("[\"127.0.0.1\"]", "\"127.0.0.1\""),
                "worker.initial_upstreams",
            ),
            (
                good().replace("[\"127.0.0.1\"]", "[]"),
                "worker.initial_upstreams",
            ),
            (good().replace("name = \"w1\"", "name = 3"), "worker.name"),
            (good().replace("name = \"w1\"", ""), "worker.name"),
            // The credential is derived for the name byte for byte: no padding, no blanks.
            (
                good().replace("name = \"w1\"", "name = \"w1 \""),
                "worker.name",
            ),
            (
                good().replace("name = \"w1\"", "name = \"  \""),
                "worker.name",
            ),
            (good().replace("\"proxy\"", "\"proxi\""), "listener.purpose"),
        ];
        for (text, key) in cases {
            let e = WorkerConfig::parse(&text).unwrap_err().to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
    }

    #[test]
    fn missing_blocks_are_named() {
        let no_kms = good().split("kms").next().unwrap().to_owned();
        let e = WorkerConfig::parse(&no_kms).unwrap_err().to_string();
        assert!(e.contains("worker-auth"), "{e}");
        assert!(WorkerConfig::parse("this is { not hcl").is_err());
    }

    #[test]
    fn values_can_come_from_files_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
        let text = good().replace(KEY, &format!("file://{}", key_file.display()));
        assert_eq!(
            WorkerConfig::parse(&text).unwrap().worker_auth_key,
            WorkerConfig::parse(&good()).unwrap().worker_auth_key
        );
        let missing = good().replace("\"w1\"", "\"env://BOUNDARY_TEST_NO_SUCH_VAR_41c\"");
        let e = WorkerConfig::parse(&missing).unwrap_err().to_string();
        assert!(
            e.contains("worker.name") && e.contains("BOUNDARY_TEST_NO_SUCH_VAR_41c"),
            "{e}"
        );
        let e = WorkerConfig::parse(&good().replace(KEY, "file:///nonexistent/key"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("kms.key") && e.contains("/nonexistent/key"),
            "{e}"
        );
    }
}
