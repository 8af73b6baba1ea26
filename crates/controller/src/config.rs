//! The controller's HCL configuration, in Boundary's layout:
//!
//! ```hcl
//! disable_mlock = true                      # accepted and ignored
//! controller {
//!   name        = "controller-1"
//!   description = "..."
//!   database { url = "sqlite:///var/lib/boundary/controller.db" }   # or postgres://, env://VAR, file://path
//! }
//! listener "tcp" { purpose = "api"     address = "0.0.0.0:9200" tls_cert_file = "..." tls_key_file = "..." }
//! listener "tcp" { purpose = "cluster" address = "0.0.0.0:9201" tls_disable = true }
//! kms "aead" { purpose = "root"        aead_type = "aes-gcm" key = "<base64 32 bytes>" key_id = "root" }
//! kms "aead" { purpose = "worker-auth" aead_type = "aes-gcm" key = "<base64 32 bytes>" key_id = "wa" }
//! ```
//!
//! Several blocks share a label (`listener "tcp"`), which serde's map shape cannot hold, so
//! the body is walked with `hcl::parse`. Unknown keys and bad values are errors naming the
//! key. Defaults: API on 127.0.0.1:9200 and cluster on 127.0.0.1:9201 without TLS, SQLite in
//! memory. A root key is required unless the database is in memory (sealed session keys and
//! credentials must open after a restart); the worker-auth key is always required.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use boundary_wire::api::Secret;
use hcl::{Block, Body, Expression, Structure};
use std::path::{Path, PathBuf};

pub const DEFAULT_API_ADDRESS: &str = "127.0.0.1:9200";
pub const DEFAULT_CLUSTER_ADDRESS: &str = "127.0.0.1:9201";
/// SQLite in memory: state lives as long as the process.
pub const IN_MEMORY_DATABASE_URL: &str = "sqlite::memory:";

#[derive(Clone, Debug)]
pub struct ControllerConfig {
    pub name: String,
    pub description: String,
    pub database_url: Secret,
    pub api: ListenerConfig,
    pub cluster: ListenerConfig,
    /// Seals session keys and credential secrets; `None` only with an in-memory database
    /// (a random key is made at start).
    pub root_key: Option<KmsKey>,
    pub worker_auth_key: KmsKey,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerConfig {
    /// `host:port`; port 0 picks a free port.
    pub address: String,
    /// `None` when `tls_disable = true`.
    pub tls: Option<TlsFiles>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Clone)]
pub struct KmsKey {
    pub key: [u8; 32],
    pub key_id: String,
}

impl std::fmt::Debug for KmsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration is not valid HCL: {0}")]
    Syntax(String),
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    #[error("{key}: {reason}")]
    BadValue { key: String, reason: String },
    #[error("{0}")]
    Missing(String),
}

fn bad(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::BadValue {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

impl ControllerConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let body: Body = hcl::parse(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        let mut cfg = Draft::default();
        for structure in body.into_inner() {
            match structure {
                Structure::Attribute(attr) => match attr.key.as_str() {
                    "disable_mlock" => {
                        bool_value("disable_mlock", &attr.expr)?;
                    }
                    other => return Err(ConfigError::UnknownKey(other.to_owned())),
                },
                Structure::Block(block) => match block.identifier() {
                    "controller" => cfg.controller(&block)?,
                    "listener" => cfg.listener(&block)?,
                    "kms" => cfg.kms(&block)?,
                    other => return Err(ConfigError::UnknownKey(other.to_owned())),
                },
            }
        }
        cfg.finish()
    }

    pub fn database_is_in_memory(&self) -> bool {
        is_in_memory(self.database_url.expose())
    }
}

pub fn is_in_memory(url: &str) -> bool {
    url == IN_MEMORY_DATABASE_URL
        || url.starts_with("sqlite::memory:")
        || url.contains("mode=memory")
}

#[derive(Default)]
struct Draft {
    name: String,
    description: String,
    database_url: Option<String>,
    api: Option<ListenerConfig>,
    cluster: Option<ListenerConfig>,
    root: Option<KmsKey>,
    worker_auth: Option<KmsKey>,
}

impl Draft {
    fn controller(&mut self, block: &Block) -> Result<(), ConfigError> {
        for s in block.body().iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "name" => self.name = string_value("controller.name", &a.expr)?,
                    "description" => {
                        self.description = string_value("controller.description", &a.expr)?
                    }
                    other => return Err(ConfigError::UnknownKey(format!("controller.{other}"))),
                },
                Structure::Block(b) if b.identifier() == "database" => {
                    for s in b.body().iter() {
                        match s {
                            Structure::Attribute(a) if a.key.as_str() == "url" => {
                                let raw = string_value("controller.database.url", &a.expr)?;
                                self.database_url = Some(resolve_url(&raw)?);
                            }
                            Structure::Attribute(a) => {
                                return Err(ConfigError::UnknownKey(format!(
                                    "controller.database.{}",
                                    a.key.as_str()
                                )));
                            }
                            Structure::Block(inner) => {
                                return Err(ConfigError::UnknownKey(format!(
                                    "controller.database.{}",
                                    inner.identifier()
                                )));
                            }
                        }
                    }
                }
                Structure::Block(b) => {
                    return Err(ConfigError::UnknownKey(format!(
                        "controller.{}",
                        b.identifier()
                    )));
                }
            }
        }
        Ok(())
    }

    fn listener(&mut self, block: &Block) -> Result<(), ConfigError> {
        let label = single_label(block, "listener")?;
        if label != "tcp" {
            return Err(bad(
                "listener",
                format!("type {label:?} is not supported; use \"tcp\""),
            ));
        }
        let (mut purpose, mut address, mut tls_disable) = (None, None, false);
        let (mut cert, mut key) = (None, None);
        for attr in attributes(block, "listener")? {
            let k = format!("listener.{}", attr.key.as_str());
            match attr.key.as_str() {
                "purpose" => purpose = Some(string_value(&k, &attr.expr)?),
                "address" => address = Some(string_value(&k, &attr.expr)?),
                "tls_disable" => tls_disable = bool_value(&k, &attr.expr)?,
                "tls_cert_file" => cert = Some(PathBuf::from(string_value(&k, &attr.expr)?)),
                "tls_key_file" => key = Some(PathBuf::from(string_value(&k, &attr.expr)?)),
                _ => return Err(ConfigError::UnknownKey(k)),
            }
        }
        let purpose =
            purpose.ok_or_else(|| bad("listener.purpose", "missing (\"api\" or \"cluster\")"))?;
        let (slot, default) = match purpose.as_str() {
            "api" => (&mut self.api, DEFAULT_API_ADDRESS),
            "cluster" => (&mut self.cluster, DEFAULT_CLUSTER_ADDRESS),
            other => {
                return Err(bad(
                    "listener.purpose",
                    format!("{other:?} is not \"api\" or \"cluster\""),
                ));
            }
        };
        if slot.is_some() {
            return Err(bad(
                "listener.purpose",
                format!("a second {purpose:?} listener"),
            ));
        }
        let address = with_default_port(address.as_deref().unwrap_or(default), default)
            .map_err(|reason| bad("listener.address", reason))?;
        let tls = match (tls_disable, cert, key) {
            (true, _, _) => None,
            (false, Some(cert_file), Some(key_file)) => Some(TlsFiles {
                cert_file,
                key_file,
            }),
            (false, _, _) => {
                return Err(bad(
                    "listener.tls_cert_file",
                    format!(
                        "the {purpose} listener needs tls_cert_file and tls_key_file, or tls_disable = true"
                    ),
                ));
            }
        };
        *slot = Some(ListenerConfig { address, tls });
        Ok(())
    }

    fn kms(&mut self, block: &Block) -> Result<(), ConfigError> {
        let label = single_label(block, "kms")?;
        if label != "aead" {
            return Err(bad(
                "kms",
                format!("type {label:?} is not supported; use \"aead\""),
            ));
        }
        let (mut purposes, mut key, mut key_id) = (vec![], None, String::new());
        for attr in attributes(block, "kms")? {
            let k = format!("kms.{}", attr.key.as_str());
            match attr.key.as_str() {
                "purpose" => purposes = string_list_value(&k, &attr.expr)?,
                "aead_type" => {
                    let t = string_value(&k, &attr.expr)?;
                    if t != "aes-gcm" {
                        return Err(bad(&k, format!("{t:?} is not supported; use \"aes-gcm\"")));
                    }
                }
                "key" => {
                    let text = Secret::new(string_value(&k, &attr.expr)?);
                    let bytes = STANDARD
                        .decode(text.expose().trim())
                        .map_err(|_| bad(&k, "is not valid base64"))?;
                    key = Some(<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                        bad(
                            &k,
                            format!("must be 32 bytes (base64), got {}", bytes.len()),
                        )
                    })?);
                }
                "key_id" => key_id = string_value(&k, &attr.expr)?,
                _ => return Err(ConfigError::UnknownKey(k)),
            }
        }
        let key = key.ok_or_else(|| bad("kms.key", "missing"))?;
        if purposes.is_empty() {
            return Err(bad("kms.purpose", "missing (\"root\" or \"worker-auth\")"));
        }
        for purpose in purposes {
            let slot = match purpose.as_str() {
                "root" => &mut self.root,
                "worker-auth" => &mut self.worker_auth,
                other => {
                    return Err(bad(
                        "kms.purpose",
                        format!("{other:?} is not \"root\" or \"worker-auth\""),
                    ));
                }
            };
            if slot.is_some() {
                return Err(bad("kms.purpose", format!("a second {purpose:?} key")));
            }
            *slot = Some(KmsKey {
                key,
                key_id: key_id.clone(),
            });
        }
        Ok(())
    }

    fn finish(self) -> Result<ControllerConfig, ConfigError> {
        let database_url = self
            .database_url
            .unwrap_or_else(|| IN_MEMORY_DATABASE_URL.to_owned());
        if self.root.is_none() && !is_in_memory(&database_url) {
            return Err(ConfigError::Missing(
                "a kms \"aead\" block with purpose = \"root\" is required with a persistent database: \
                 session keys and credentials are sealed with it and must open after a restart"
                    .into(),
            ));
        }
        let worker_auth_key = self.worker_auth.ok_or_else(|| {
            ConfigError::Missing(
                "a kms \"aead\" block with purpose = \"worker-auth\" is required: workers authenticate with it"
                    .into(),
            )
        })?;
        let plain = |address: &str| ListenerConfig {
            address: address.to_owned(),
            tls: None,
        };
        Ok(ControllerConfig {
            name: self.name,
            description: self.description,
            database_url: Secret::new(database_url),
            api: self.api.unwrap_or_else(|| plain(DEFAULT_API_ADDRESS)),
            cluster: self
                .cluster
                .unwrap_or_else(|| plain(DEFAULT_CLUSTER_ADDRESS)),
            root_key: self.root,
            worker_auth_key,
        })
    }
}

fn single_label<'a>(block: &'a Block, what: &str) -> Result<&'a str, ConfigError> {
    match block.labels() {
        [label] => Ok(label.as_str()),
        _ => Err(bad(
            what,
            "needs exactly one label, like listener \"tcp\" { ... }",
        )),
    }
}

fn attributes<'a>(block: &'a Block, what: &str) -> Result<Vec<&'a hcl::Attribute>, ConfigError> {
    block
        .body()
        .iter()
        .map(|s| match s {
            Structure::Attribute(a) => Ok(a),
            Structure::Block(b) => Err(ConfigError::UnknownKey(format!(
                "{what}.{}",
                b.identifier()
            ))),
        })
        .collect()
}

fn string_value(key: &str, expr: &Expression) -> Result<String, ConfigError> {
    match expr {
        Expression::String(s) => Ok(s.clone()),
        Expression::TemplateExpr(_) => Err(bad(key, "templates (${...}) are not supported here")),
        other => Err(bad(
            key,
            format!("must be a string, got {}", describe(other)),
        )),
    }
}

fn string_list_value(key: &str, expr: &Expression) -> Result<Vec<String>, ConfigError> {
    match expr {
        Expression::Array(items) => items.iter().map(|e| string_value(key, e)).collect(),
        other => Ok(vec![string_value(key, other)?]),
    }
}

fn bool_value(key: &str, expr: &Expression) -> Result<bool, ConfigError> {
    match expr {
        Expression::Bool(b) => Ok(*b),
        Expression::String(s) if s == "true" => Ok(true),
        Expression::String(s) if s == "false" => Ok(false),
        other => Err(bad(
            key,
            format!("must be true or false, got {}", describe(other)),
        )),
    }
}

fn describe(expr: &Expression) -> &'static str {
    match expr {
        Expression::Null => "null",
        Expression::Bool(_) => "a boolean",
        Expression::Number(_) => "a number",
        Expression::String(_) | Expression::TemplateExpr(_) => "a string",
        Expression::Array(_) => "a list",
        Expression::Object(_) => "an object",
        _ => "an expression",
    }
}

/// Boundary's indirections for secrets in config: `env://NAME` and `file://path`.
fn resolve_url(raw: &str) -> Result<String, ConfigError> {
    const KEY: &str = "controller.database.url";
    if let Some(var) = raw.strip_prefix("env://") {
        return std::env::var(var)
            .map_err(|_| bad(KEY, format!("environment variable {var} is not set")));
    }
    if let Some(path) = raw.strip_prefix("file://") {
        return std::fs::read_to_string(path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| bad(KEY, format!("cannot read {path}: {e}")));
    }
    if raw.trim().is_empty() {
        return Err(bad(KEY, "is empty"));
    }
    Ok(raw.to_owned())
}

/// `host` → `host:<default port>` (`default` is `host:port`); `host:port` and `[v6]:port`
/// are checked.
pub fn with_default_port(address: &str, default: &str) -> Result<String, String> {
    let default_port = default.rsplit_once(':').map_or("0", |(_, p)| p);
    if address.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(address.to_owned());
    }
    if address.parse::<std::net::IpAddr>().is_ok() {
        return Ok(std::net::SocketAddr::new(
            address.parse().map_err(|_| "bad address".to_owned())?,
            default_port.parse().unwrap_or(0),
        )
        .to_string());
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(address.to_owned())
        }
        Some(_) => Err(format!("{address:?} is not host:port")),
        None if !address.is_empty() => Ok(format!("{address}:{default_port}")),
        None => Err("is empty".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn wa() -> String {
        format!(
            "kms \"aead\" {{\n purpose = \"worker-auth\"\n aead_type = \"aes-gcm\"\n key = \"{KEY}\"\n key_id = \"wa\"\n}}\n"
        )
    }

    fn parse_err(text: &str) -> String {
        ControllerConfig::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_with_only_the_worker_auth_key() {
        let c = ControllerConfig::parse(&wa()).unwrap();
        assert_eq!(c.api.address, DEFAULT_API_ADDRESS);
        assert_eq!(c.cluster.address, DEFAULT_CLUSTER_ADDRESS);
        assert!(c.api.tls.is_none());
        assert!(c.database_is_in_memory());
        assert!(c.root_key.is_none());
        assert_eq!(c.worker_auth_key.key[31], 31);
        assert!(!format!("{c:?}").contains(KEY));
    }

    #[test]
    fn full_config() {
        let text = format!(
            r#"
disable_mlock = true
controller {{
  name = "c1"
  description = "first"
  database {{ url = "postgres://u@localhost/db" }}
}}
listener "tcp" {{
  purpose = "api"
  address = "0.0.0.0:9300"
  tls_cert_file = "/etc/cert.pem"
  tls_key_file = "/etc/key.pem"
}}
listener "tcp" {{
  purpose = "cluster"
  address = "10.0.0.1"
  tls_disable = "true"
}}
kms "aead" {{
  purpose = "root"
  aead_type = "aes-gcm"
  key = "{KEY}"
  key_id = "root"
}}
{}"#,
            wa()
        );
        let c = ControllerConfig::parse(&text).unwrap();
        assert_eq!(c.name, "c1");
        assert_eq!(c.database_url.expose(), "postgres://u@localhost/db");
        assert_eq!(c.api.address, "0.0.0.0:9300");
        assert_eq!(
            c.api.tls.as_ref().unwrap().cert_file,
            PathBuf::from("/etc/cert.pem")
        );
        assert_eq!(c.cluster.address, "10.0.0.1:9201");
        assert!(c.cluster.tls.is_none());
        assert_eq!(c.root_key.unwrap().key_id, "root");
    }

    #[test]
    fn purposes_as_a_list() {
        let text = format!(
            "kms \"aead\" {{\n purpose = [\"root\", \"worker-auth\"]\n key = \"{KEY}\"\n}}\n"
        );
        let c = ControllerConfig::parse(&text).unwrap();
        assert!(c.root_key.is_some());
    }

    #[test]
    fn database_url_from_env() {
        // A variable name nothing sets, so the lookup fails and the error names it.
        let text = format!(
            "controller {{\n database {{ url = \"env://BOUNDARY_TEST_NO_SUCH_VAR_9f2\" }}\n}}\n{}",
            wa()
        );
        assert!(parse_err(&text).contains("BOUNDARY_TEST_NO_SUCH_VAR_9f2"));
    }

    #[test]
    fn errors_name_the_key() {
        // `;` stands for a newline (HCL allows one attribute per single-line block).
        let cases = [
            ("controller { nmae = \"x\" }", "controller.nmae"),
            ("bogus = 1", "bogus"),
            (
                "listener \"tcp\" {;purpose = \"api\";adress = \"x\";}",
                "listener.adress",
            ),
            (
                "listener \"tcp\" {;purpose = \"web\";tls_disable = true;}",
                "listener.purpose",
            ),
            (
                "listener \"udp\" { purpose = \"api\" }",
                "\"udp\" is not supported",
            ),
            ("listener \"tcp\" { purpose = \"api\" }", "tls_cert_file"),
            (
                "listener \"tcp\" {;purpose = \"api\";tls_disable = 3;}",
                "listener.tls_disable",
            ),
            (
                "listener \"tcp\" {;purpose = \"api\";address = \"a:b:c\";tls_disable = true;}",
                "listener.address",
            ),
            (
                "kms \"aead\" {;purpose = \"root\";key = \"!!\";}",
                "kms.key",
            ),
            (
                "kms \"aead\" {;purpose = \"root\";key = \"AAAA\";}",
                "32 bytes",
            ),
            (
                "kms \"aead\" {;purpose = \"root\";aead_type = \"chacha\";key = \"AAAA\";}",
                "kms.aead_type",
            ),
            (
                "kms \"aead\" {;purpose = \"other\";key = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\";}",
                "kms.purpose",
            ),
            ("controller { name = 3 }", "controller.name"),
            ("controller { name = \"${x}\" }", "templates"),
            ("", "worker-auth"),
            (
                "controller {;database { url = \"postgres://x\" };};WA",
                "root",
            ),
            (
                "listener \"tcp\" {;purpose = \"api\";tls_disable = true;};listener \"tcp\" {;purpose = \"api\";tls_disable = true;}",
                "second",
            ),
        ];
        for (text, needle) in cases {
            let text = text.replace(';', "\n").replace("WA", &wa());
            let err = parse_err(&text);
            assert!(
                err.contains(needle),
                "{text:?} gave {err:?}, expected {needle:?}"
            );
        }
    }

    #[test]
    fn the_example_config_parses() {
        let c = ControllerConfig::parse(include_str!("../../../config/controller.hcl")).unwrap();
        assert_eq!(c.api.address, "0.0.0.0:9200");
        assert!(c.cluster.tls.is_some() && c.root_key.is_some());
    }

    #[test]
    fn bad_hcl_is_a_syntax_error() {
        for text in [
            "controller {",
            "listener \"tcp\" { purpose = }",
            "= 3",
            "kms \"aead\" { key = \"x\" ",
        ] {
            assert!(
                matches!(ControllerConfig::parse(text), Err(ConfigError::Syntax(_))),
                "{text}"
            );
        }
    }
}
