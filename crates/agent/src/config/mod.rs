//! The client agent's HCL configuration (`boundary-client-agent -config PATH`):
//! Boundary's documented keys (docs/wire-contract.md §5) plus this project's (docs/architecture.md).
//!
//! Every key is a top-level attribute and every key is optional; see
//! `config/client-agent.hcl` for a commented example with all defaults. Startup is
//! strict: an unknown key, a block, a key set twice or a bad value is an error naming the
//! file, the line and the key (and the value: nothing in this file is secret), so a typo
//! never silently falls back to a default. The file is read with `boundary-config`, as the
//! controller's and the worker's are.
//!
//! Reload (SIGHUP or a change of the file, both delivered by [`ReloadTriggers`]) parses
//! the whole file again; [`plan_reload`] splits the differences into what applies at
//! once and what needs a restart.
//!
//! Ranges, and why:
//! - `v4_prefix`: /8 to /16 (Boundary's rule), unicast space (not `0/8`, `127/8`, or
//!   `224/3`). Default `100.64.0.0/10` (CGNAT space, rarely routed on a LAN).
//! - `v6_prefix`: inside the unique-local range `fc00::/7`, /48 to /112. A /48 is one ULA
//!   site, so anything shorter would reach into other sites' space; /112 still leaves
//!   65 536 addresses, as many as the smallest allowed `v4_prefix`.
//! - Durations are strings such as `"1m"`, `"5s"`, `"1h30m"` or `"2 days"`
//!   ([`boundary_config::parse_duration`]); a bare number is an error. Each has a range that rules out values no one means, such as `"1M"` (a month,
//!   not a minute) for `alias_refresh_interval`.
//! - `session_idle_timeout` defaults to 30 minutes: long enough that a shell left open
//!   over lunch keeps its session, short enough that forgotten sessions end at the
//!   worker the same day. `"0s"` turns it off (sessions then last until they expire).

mod controller_addresses;
mod key;
mod parse;
mod reload;
#[cfg(target_os = "linux")]
mod watch;

#[cfg(test)]
mod tests;

pub use boundary_config::ConfigError;
pub use controller_addresses::{ControllerAddress, ControllerPin};
pub use key::ConfigKey;
pub use reload::{ReloadPlan, ReloadableChange, plan_reload};
#[cfg(target_os = "linux")]
pub use watch::{FILE_DEBOUNCE, ReloadTrigger, ReloadTriggers, WatchError, reload};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use ipnet::{Ipv4Net, Ipv6Net};

use crate::dns::AllowedSources;
use crate::os::ResolverMode;

/// Where the packaged systemd unit points `-config`.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/boundary/client-agent.hcl";
/// Default `state_file` (systemd `StateDirectory=boundary-client-agent`).
pub const DEFAULT_STATE_FILE: &str = "/var/lib/boundary-client-agent/state.json";
/// Default `operational_state_file`.
pub const DEFAULT_OPERATIONAL_STATE_FILE: &str =
    "/var/lib/boundary-client-agent/operational-state.json";
/// Default `v4_prefix`: `100.64.0.0/10`.
pub const DEFAULT_V4_PREFIX: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10);
/// Default `v6_prefix` (ours): `fd00:a20a::/48`.
pub const DEFAULT_V6_PREFIX: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0xfd00, 0xa20a, 0, 0, 0, 0, 0, 0), 48);
/// Default `api_listen_address` (ours): what the stock CLI and Desktop call.
pub const DEFAULT_API_LISTEN_ADDRESS: SocketAddr = SocketAddr::new(
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    boundary_wire::api::agent::DEFAULT_PORT,
);

/// The agent's configuration, every key with its value (defaults filled in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentConfig {
    /// `alias_refresh_interval`: how often each token's alias cache is refreshed.
    /// Default 1 minute; 1 s to 24 h.
    pub alias_refresh_interval: Duration,
    /// `dns_request_timeout`: bound on one attempt at an upstream DNS server before the
    /// next one is tried. Default 5 s; 100 ms to 10 min.
    pub dns_request_timeout: Duration,
    /// `interface_to_use`: the interface that carries alias addresses. `None` (default):
    /// the interface of the default route.
    pub interface_to_use: Option<String>,
    /// `log_file`: also log to this file (absolute path). `None` (default): no file.
    pub log_file: Option<PathBuf>,
    /// `log_level`: `trace`, `debug`, `info` (default), `warn` or `error`, any case.
    pub log_level: LogLevel,
    /// `log_to_stdout`: with a `log_file`, log to stdout as well. Without a `log_file`
    /// the agent always logs to stdout (journald under systemd). Default false.
    pub log_to_stdout: bool,
    /// `override_upstream_dns_servers`: forward non-alias queries here (in this order of
    /// priority) instead of to the resolvers the system had. `ip` means port 53. Empty
    /// (default): use the system's previous resolvers.
    pub override_upstream_dns_servers: Vec<SocketAddr>,
    /// `state_file`: crash-recovery state (absolute path), removed on clean shutdown.
    pub state_file: PathBuf,
    /// `operational_state_file`: keeps paused/running across restarts (absolute path).
    pub operational_state_file: PathBuf,
    /// `v4_prefix`: where alias IPv4 addresses come from. /8 to /16.
    pub v4_prefix: Ipv4Net,
    /// `v6_prefix` (ours): where alias IPv6 addresses come from. ULA, /48 to /112.
    pub v6_prefix: Ipv6Net,
    /// `resolver_mode` (ours): how the agent becomes the system resolver: `auto`
    /// (default), `resolv-conf`, `systemd-resolved` or `none`.
    pub resolver_mode: ResolverMode,
    /// `api_listen_address` (ours): the local API (docs/wire-contract.md §4), a loopback `ip:port`.
    /// Default `127.0.0.1:9300`.
    pub api_listen_address: SocketAddr,
    /// `dns_ttl` (ours): TTL of alias answers, whole seconds. Default 5 s; 0 to 5 min.
    pub dns_ttl: Duration,
    /// `session_idle_timeout` (ours): a session without connections for this long is
    /// cancelled at the worker. Default 30 min; 10 s to 30 days; `None` (`"0s"`) keeps
    /// sessions until they expire.
    pub session_idle_timeout: Option<Duration>,
    /// `address_idle_timeout` (ours): an alias address unused (no answer, no session) for
    /// this long is removed from the interface. Default 5 min; 30 s to 7 days, and at
    /// least twice `dns_ttl` so that a cached answer never points at a removed address.
    pub address_idle_timeout: Duration,
    /// `controller_ca_file` (ours): PEM certificates trusted for `https://` controllers,
    /// in addition to Mozilla's roots and the system's trust store (absolute path; read
    /// at start: a file that cannot be read, holds no certificate or an unusable one stops
    /// the start). `None` (default): no extra CA.
    pub controller_ca_file: Option<PathBuf>,
    /// `dns_allowed_sources` (ours): which sources other than this host may use the DNS
    /// server, and only for ordinary forwarding: `"virtual"` (host-internal virtual
    /// networks: Docker bridges, VM veth/tap), `"lan"` (hosts on the uplinks) and CIDR
    /// networks. Default `["virtual"]`; `[]` serves this host only.
    pub dns_allowed_sources: AllowedSources,
    /// `controller_addresses` (ours): the only controllers users may register tokens of,
    /// compared as scheme, host and port (see [`ControllerAddress`]). Unset (default): the
    /// first registration picks the controller for every user. Reloadable.
    pub controller_addresses: ControllerPin,
    /// `allow_user_pause` (ours): whether users other than root may pause (and resume)
    /// the agent for everyone. Default false: only root pauses; a user may resume only
    /// from an automatic pause (the failure breaker). Reloadable.
    pub allow_user_pause: bool,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            alias_refresh_interval: Duration::from_secs(60),
            dns_request_timeout: Duration::from_secs(5),
            interface_to_use: None,
            log_file: None,
            log_level: LogLevel::Info,
            log_to_stdout: false,
            override_upstream_dns_servers: Vec::new(),
            state_file: PathBuf::from(DEFAULT_STATE_FILE),
            operational_state_file: PathBuf::from(DEFAULT_OPERATIONAL_STATE_FILE),
            v4_prefix: DEFAULT_V4_PREFIX,
            v6_prefix: DEFAULT_V6_PREFIX,
            resolver_mode: ResolverMode::Auto,
            api_listen_address: DEFAULT_API_LISTEN_ADDRESS,
            dns_ttl: Duration::from_secs(5),
            session_idle_timeout: Some(Duration::from_secs(30 * 60)),
            address_idle_timeout: Duration::from_secs(5 * 60),
            controller_ca_file: None,
            dns_allowed_sources: AllowedSources::default(),
            controller_addresses: ControllerPin::default(),
            allow_user_pause: false,
        }
    }
}

impl AgentConfig {
    /// Reads and checks the file at `path`. Errors name the file, the line and the key.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        boundary_config::load(path, parse::read)
    }

    /// Parses and checks HCL text; keys not present keep their defaults.
    pub fn from_hcl(text: &str) -> Result<AgentConfig, ConfigError> {
        boundary_config::parse(text, parse::read)
    }

    /// The upstream resolvers configured by `override_upstream_dns_servers`, if any.
    pub fn upstream_override(&self) -> Option<&[SocketAddr]> {
        if self.override_upstream_dns_servers.is_empty() {
            None
        } else {
            Some(&self.override_upstream_dns_servers)
        }
    }
}

/// `log_level`, ordered from most to least verbose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The lower-case name, which is also a valid `tracing_subscriber::EnvFilter`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogLevel {
    type Err = String;

    /// Case-insensitive (Boundary's documentation writes `"DEBUG"`); `warning` is
    /// accepted for `warn`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "trace" => Ok(LogLevel::Trace),
            "debug" => Ok(LogLevel::Debug),
            "info" => Ok(LogLevel::Info),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "error" => Ok(LogLevel::Error),
            _ => Err("use trace, debug, info, warn or error".to_owned()),
        }
    }
}
