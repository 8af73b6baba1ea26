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
//! Read with `boundary-config`: errors name the file, line and key (`listener "tcp" >
//! address`), and a key or block we do not understand is an error instead of being
//! ignored. Listeners and kms blocks with purposes of the controller's are tolerated (a
//! shared Boundary config may carry them).

mod values;

use boundary_config::{Block, ConfigError, Kms, Section, Value};
use rustls_pki_types::CertificateDer;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use values::{load_ca_file, upstream_address};

/// The proxy port Boundary workers use when an address names none.
pub const DEFAULT_PROXY_PORT: u16 = 9202;
/// The controller cluster port Boundary uses when an upstream names none.
pub const DEFAULT_CLUSTER_PORT: u16 = 9201;

const ROOT_KEYS: &[&str] = &["disable_mlock"];
const ROOT_BLOCKS: &[&str] = &["worker", "listener", "kms"];
const WORKER_KEYS: &[&str] = &[
    "name",
    "description",
    "public_addr",
    "initial_upstreams",
    "upstream_ca_file",
];
const LISTENER_KEYS: &[&str] = &["purpose", "address"];

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
                "kms \"aead\" > key",
                format!(
                    "decodes to {} bytes; the worker-auth key is {} bytes",
                    bytes.len(),
                    Self::LEN
                ),
            ))
        }
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

impl WorkerConfig {
    /// Reads the file at `path`; errors name the file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        boundary_config::load(path, Self::read)
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        boundary_config::parse(text, Self::read)
    }

    fn read(root: Block<'_>) -> Result<Self, ConfigError> {
        let root = root.section(ROOT_KEYS, ROOT_BLOCKS)?;
        // Accepted for compatibility with Boundary configs; we never lock memory.
        if let Some(value) = root.get("disable_mlock") {
            value.bool()?;
        }
        let block = root
            .block("worker")?
            .ok_or_else(|| root.missing("worker", "a worker { name = ... } block"))?;
        if !block.labels().is_empty() {
            return Err(block.invalid("takes no label"));
        }
        let worker = block.section(WORKER_KEYS, &[])?;
        let config = Self::read_worker(&worker, proxy_listener(&root)?, worker_auth_key(&root)?)?;
        if config.public_addr.is_none() && config.proxy_listen_addr.ip().is_unspecified() {
            return Err(worker.invalid(
                "public_addr",
                format!(
                    "is required when the proxy listener binds the unspecified address {}",
                    config.proxy_listen_addr.ip()
                ),
            ));
        }
        Ok(config)
    }

    fn read_worker(
        worker: &Section<'_>,
        proxy_listen_addr: SocketAddr,
        worker_auth_key: WorkerAuthKey,
    ) -> Result<Self, ConfigError> {
        let name = worker.require("name", "the worker's name")?;
        let upstreams = worker.require(
            "initial_upstreams",
            "a list of controller cluster addresses",
        )?;
        Ok(Self {
            name: worker_name(&name)?,
            description: match worker.get("description") {
                Some(value) => value.indirect()?,
                None => String::new(),
            },
            public_addr: worker
                .get("public_addr")
                .map(|v| public_addr(&v))
                .transpose()?,
            initial_upstreams: initial_upstreams(&upstreams)?,
            upstream_ca_certs: match worker.get("upstream_ca_file") {
                Some(value) => load_ca_file(&value)?,
                None => vec![],
            },
            proxy_listen_addr,
            worker_auth_key,
        })
    }
}

/// The name is what the worker's credential is derived for (and what the controller
/// then knows it by), so it must be usable byte for byte.
fn worker_name(value: &Value) -> Result<String, ConfigError> {
    let name = value.indirect()?;
    match boundary_net::worker_auth::worker_name_problem(&name) {
        Some(problem) => Err(value.invalid(problem)),
        None => Ok(name),
    }
}

/// Kept as written (the bound port is added when it names none), checked here.
fn public_addr(value: &Value) -> Result<String, ConfigError> {
    let addr = value.indirect()?;
    boundary_config::with_default_port(&addr, DEFAULT_PROXY_PORT)
        .map_err(|reason| value.invalid(reason))?;
    Ok(addr)
}

fn initial_upstreams(value: &Value) -> Result<Vec<String>, ConfigError> {
    let upstreams: Vec<String> = value
        .strings()?
        .iter()
        .map(|u| upstream_address(u).map_err(|reason| value.invalid(reason)))
        .collect::<Result<_, _>>()?;
    if upstreams.is_empty() {
        return Err(value.invalid("is empty; list at least one controller cluster address"));
    }
    Ok(upstreams)
}

/// The bind address of the `purpose = "proxy"` listener. Listeners with the controller's
/// purposes are skipped (a shared Boundary config may carry them).
fn proxy_listener(root: &Section<'_>) -> Result<SocketAddr, ConfigError> {
    let mut proxy: Option<(SocketAddr, Block<'_>)> = None;
    for block in root.blocks("listener") {
        block.label(&["tcp"])?;
        let listener = block.section(LISTENER_KEYS, &[])?;
        let purpose = listener.require("purpose", "\"proxy\"")?;
        let address = listener.get("address");
        if let Some(address) = &address {
            address.string()?;
        }
        match purpose.string_or_strings()?.as_slice() {
            [p] if p == "proxy" => {}
            [p] if ["api", "cluster", "ops"].contains(&p.as_str()) => continue,
            [_] => return Err(purpose.invalid("expected \"proxy\"")),
            _ => return Err(purpose.invalid("lists several purposes; write one block per purpose")),
        }
        if let Some((_, first)) = &proxy {
            return Err(block.invalid(format!(
                "a second listener with purpose \"proxy\"; the first is at line {}",
                first.line().unwrap_or(0)
            )));
        }
        let addr = match address {
            Some(address) => address.socket_addr(DEFAULT_PROXY_PORT)?,
            None => SocketAddr::from(([0, 0, 0, 0], DEFAULT_PROXY_PORT)),
        };
        proxy = Some((addr, block));
    }
    proxy.map(|(addr, _)| addr).ok_or_else(|| {
        root.missing(
            "listener \"tcp\"",
            "a listener \"tcp\" block with purpose = \"proxy\"",
        )
    })
}

/// The key of the `purpose = "worker-auth"` kms block; other purposes are the
/// controller's.
fn worker_auth_key(root: &Section<'_>) -> Result<WorkerAuthKey, ConfigError> {
    let key = Kms::read(root)?.key("worker-auth")?.ok_or_else(|| {
        root.missing(
            "kms \"aead\"",
            "a kms \"aead\" block with purpose = \"worker-auth\"",
        )
    })?;
    WorkerAuthKey::new(key.key.to_vec())
}

#[cfg(test)]
mod tests;
