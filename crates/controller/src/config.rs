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
//! Read with `boundary-config`: unknown keys and bad values are errors naming the file,
//! line and key. Defaults: API on 127.0.0.1:9200 and cluster on 127.0.0.1:9201 without
//! TLS, SQLite in memory. A root key is required unless the database is in memory (sealed
//! session keys and credentials must open after a restart); the worker-auth key is always
//! required.

use boundary_config::{Block, Kms, Section};
use boundary_wire::api::Secret;
use std::path::{Path, PathBuf};

pub use boundary_config::{ConfigError, KmsKey};

pub const DEFAULT_API_PORT: u16 = 9200;
pub const DEFAULT_CLUSTER_PORT: u16 = 9201;
pub const DEFAULT_API_ADDRESS: &str = "127.0.0.1:9200";
pub const DEFAULT_CLUSTER_ADDRESS: &str = "127.0.0.1:9201";
/// SQLite in memory: state lives as long as the process.
pub const IN_MEMORY_DATABASE_URL: &str = "sqlite::memory:";

const LISTENER_KEYS: &[&str] = &[
    "purpose",
    "address",
    "tls_disable",
    "tls_cert_file",
    "tls_key_file",
];

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

impl ControllerConfig {
    /// Reads the file at `path`; errors name the file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        boundary_config::load(path, Self::read)
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        boundary_config::parse(text, Self::read)
    }

    fn read(root: Block<'_>) -> Result<Self, ConfigError> {
        let root = root.section(&["disable_mlock"], &["controller", "listener", "kms"])?;
        // Accepted for compatibility with Boundary configs; we never lock memory.
        if let Some(value) = root.get("disable_mlock") {
            value.bool()?;
        }
        let controller = match root.block("controller")? {
            Some(block) => ControllerBlock::read(&block)?,
            None => ControllerBlock::default(),
        };
        let database_url = controller
            .database_url
            .unwrap_or_else(|| IN_MEMORY_DATABASE_URL.to_owned());
        let (api, cluster) = listeners(&root)?;
        let (root_key, worker_auth_key) = kms_keys(&root, is_in_memory(&database_url))?;
        Ok(ControllerConfig {
            name: controller.name,
            description: controller.description,
            database_url: Secret::new(database_url),
            api,
            cluster,
            root_key,
            worker_auth_key,
        })
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

/// The `controller` block: a name, a description and the database.
#[derive(Default)]
struct ControllerBlock {
    name: String,
    description: String,
    database_url: Option<String>,
}

impl ControllerBlock {
    fn read(block: &Block<'_>) -> Result<Self, ConfigError> {
        let section = block.section(&["name", "description"], &["database"])?;
        let string = |key| section.get(key).map(|v| v.string()).transpose();
        Ok(ControllerBlock {
            name: string("name")?.unwrap_or_default(),
            description: string("description")?.unwrap_or_default(),
            database_url: match section.block("database")? {
                Some(database) => database_url(&database)?,
                None => None,
            },
        })
    }
}

/// `database { url = ... }`: a secret (it may hold a password), also through `env://`
/// or `file://`.
fn database_url(block: &Block<'_>) -> Result<Option<String>, ConfigError> {
    let Some(url) = block.section(&["url"], &[])?.secret("url") else {
        return Ok(None);
    };
    let text = url.indirect()?;
    if url.string()?.trim().is_empty() {
        return Err(url.invalid("is empty"));
    }
    Ok(Some(text))
}

/// The `api` and `cluster` listeners, each at most once; defaults where absent.
fn listeners(root: &Section<'_>) -> Result<(ListenerConfig, ListenerConfig), ConfigError> {
    let (mut api, mut cluster) = (None, None);
    for block in root.blocks("listener") {
        block.label(&["tcp"])?;
        let listener = block.section(LISTENER_KEYS, &[])?;
        let purpose = listener.require("purpose", "\"api\" or \"cluster\"")?;
        let name = purpose.string()?;
        let (slot, port, default) = match name.as_str() {
            "api" => (&mut api, DEFAULT_API_PORT, DEFAULT_API_ADDRESS),
            "cluster" => (&mut cluster, DEFAULT_CLUSTER_PORT, DEFAULT_CLUSTER_ADDRESS),
            _ => return Err(purpose.invalid("expected \"api\" or \"cluster\"")),
        };
        if let Some((_, first)) = slot {
            return Err(purpose.invalid(format!(
                "a second {name:?} listener; the first is at line {first}"
            )));
        }
        let config = ListenerConfig {
            address: match listener.get("address") {
                Some(address) => address.address(port)?,
                None => default.to_owned(),
            },
            tls: tls_files(&listener, &name)?,
        };
        *slot = Some((config, block.line().unwrap_or(0)));
    }
    let or_default = |listener: Option<(ListenerConfig, usize)>, address: &str| {
        listener.map_or_else(
            || ListenerConfig {
                address: address.to_owned(),
                tls: None,
            },
            |(listener, _)| listener,
        )
    };
    Ok((
        or_default(api, DEFAULT_API_ADDRESS),
        or_default(cluster, DEFAULT_CLUSTER_ADDRESS),
    ))
}

/// A listener serves TLS with both files, or plain HTTP with `tls_disable = true`.
fn tls_files(listener: &Section<'_>, purpose: &str) -> Result<Option<TlsFiles>, ConfigError> {
    let path = |key| -> Result<Option<PathBuf>, ConfigError> {
        Ok(listener
            .get(key)
            .map(|v| v.string())
            .transpose()?
            .map(PathBuf::from))
    };
    let disabled = match listener.get("tls_disable") {
        Some(value) => value.bool()?,
        None => false,
    };
    match (disabled, path("tls_cert_file")?, path("tls_key_file")?) {
        (true, _, _) => Ok(None),
        (false, Some(cert_file), Some(key_file)) => Ok(Some(TlsFiles {
            cert_file,
            key_file,
        })),
        (false, _, _) => Err(listener.invalid(
            "tls_cert_file",
            format!(
                "the {purpose} listener needs tls_cert_file and tls_key_file, or tls_disable = true"
            ),
        )),
    }
}

/// The root and worker-auth keys; the root key may be left out only with an in-memory
/// database.
fn kms_keys(root: &Section<'_>, in_memory: bool) -> Result<(Option<KmsKey>, KmsKey), ConfigError> {
    let kms = Kms::read(root)?;
    for block in kms.blocks() {
        if let Some(other) = block
            .purposes()
            .iter()
            .find(|p| !["root", "worker-auth"].contains(&p.as_str()))
        {
            return Err(
                block.purpose_error(format!("{other:?} is not \"root\" or \"worker-auth\""))
            );
        }
    }
    let root_key = kms.key("root")?;
    if root_key.is_none() && !in_memory {
        return Err(root.missing(
            "kms \"aead\"",
            "a kms \"aead\" block with purpose = \"root\", required with a persistent \
             database: session keys and credentials are sealed with it and must open after a \
             restart",
        ));
    }
    let worker_auth_key = kms.key("worker-auth")?.ok_or_else(|| {
        root.missing(
            "kms \"aead\"",
            "a kms \"aead\" block with purpose = \"worker-auth\": workers authenticate with it",
        )
    })?;
    Ok((root_key, worker_auth_key))
}

#[cfg(test)]
mod tests;
