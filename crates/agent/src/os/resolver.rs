//! Making the system use the agent as its DNS resolver, and giving it back.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use async_trait::async_trait;

use crate::state::{StateError, StateFile};

/// Points the system resolver at the agent and restores it.
///
/// The previous configuration is saved in the state file *before* anything changes, so a
/// crash at any point can be undone at the next start ([`ResolverTakeover::restore`]).
/// File IO is small and synchronous (it includes fsync) and D-Bus calls go to a local
/// daemon: both are quick enough to run on the agent's actor task.
#[async_trait]
pub trait ResolverTakeover: Send + Sync {
    /// Makes the system use `ours` (the agent's DNS addresses) and returns the resolvers
    /// it used before. Idempotent: call it again periodically or when the configuration
    /// changes on disk; if something else (DHCP, NetworkManager) rewrote it, the new
    /// content becomes the "previous" configuration and the agent takes over again.
    async fn take_over(
        &self,
        ours: &[IpAddr],
        state: &mut StateFile,
    ) -> Result<Takeover, ResolverError>;

    /// Gives back the configuration saved in `state` (on pause, exit and crash recovery)
    /// and forgets it. Also restores a configuration saved under another mode, but never
    /// writes a file other than the one this takeover manages (a record naming another
    /// path is dropped with [`ResolverError::SavedForOtherPath`]).
    async fn restore(&self, state: &mut StateFile) -> Result<Restored, ResolverError>;

    /// The resolvers the system had before the agent (the saved configuration if the
    /// agent has taken over, else the current one), without the agent's own addresses.
    async fn upstreams(
        &self,
        ours: &[IpAddr],
        state: &StateFile,
    ) -> Result<Vec<SocketAddr>, ResolverError>;

    /// The alias names the system should send to the agent: every one some registered
    /// token may resolve. Only a resolver that routes by name uses it (systemd-resolved's
    /// routing domains); applied at once while taken over, else at the next takeover.
    /// When names stop being routed, the resolver's cache is flushed so their answers go.
    async fn route_names(&self, _names: &[String]) -> Result<(), ResolverError> {
        Ok(())
    }

    /// Where the agent stands with the system resolver, for `status`.
    fn details(&self) -> ResolverDetails {
        ResolverDetails::default()
    }

    /// Whether this takeover puts the DNS server's addresses on a link of its own (then
    /// the host leaves them to it: they exist only while the agent is taken over).
    fn owns_dns_addresses(&self) -> bool {
        false
    }

    /// The interface alias addresses go on when `interface_to_use` is not set; `None`:
    /// the default route's.
    fn alias_interface(&self) -> Option<String> {
        None
    }

    /// A file other programs rewrite, to watch so that a rewrite is taken over again at
    /// once (resolv-conf mode).
    fn watches_file(&self) -> Option<PathBuf> {
        None
    }
}

/// What `status` shows about the system resolver beyond the mode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolverDetails {
    /// The agent's own link (systemd-resolved mode).
    pub link: Option<String>,
    /// How names reach the agent: `per-alias (N routing domains)` or `~.` (everything).
    pub routing: Option<String>,
    /// The program that manages the resolver configuration, when it can be told.
    pub managed_by: Option<String>,
}

/// What [`ResolverTakeover::take_over`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Takeover {
    pub change: TakeoverChange,
    /// The previous resolvers (port 53), without the agent's own addresses.
    pub upstreams: Vec<SocketAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TakeoverChange {
    /// The system used other resolvers; it now uses the agent.
    TookOver,
    /// Already pointing at the agent with the given addresses: nothing written.
    AlreadyOurs,
    /// Ours, but written for other agent addresses: rewritten.
    Refreshed,
    /// Something else rewrote the configuration while the agent had it: the new content
    /// was adopted as the previous configuration and the agent took over again.
    AdoptedExternalChange,
    /// Mode `none`: nothing is touched.
    Untouched,
}

/// What [`ResolverTakeover::restore`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restored {
    /// Nothing was saved: the agent had not taken over.
    NothingSaved,
    /// The saved configuration was written back byte for byte.
    Restored { path: PathBuf },
    /// The file no longer held the agent's configuration (someone else rewrote it since);
    /// that newer content was left in place and the saved copy dropped.
    KeptNewerContent { path: PathBuf },
    /// systemd-resolved: the agent's link was reverted and removed.
    RemovedLink { link: String },
}

/// `resolver_mode` in the agent configuration (this project's key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResolverMode {
    /// `systemd-resolved` when it manages `/etc/resolv.conf` (its stub, by symlink or by
    /// a file naming 127.0.0.53) and answers on D-Bus; else `resolv-conf` for a file of
    /// its own; `none` (with a warning) when resolved owns the file but does not answer.
    #[default]
    Auto,
    /// Rewrite `/etc/resolv.conf` in place.
    ResolvConf,
    /// Configure systemd-resolved over D-Bus, on a link of the agent's own.
    SystemdResolved,
    /// Touch nothing; the administrator points the system at the agent.
    None,
}

impl ResolverMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResolverMode::Auto => "auto",
            ResolverMode::ResolvConf => "resolv-conf",
            ResolverMode::SystemdResolved => "systemd-resolved",
            ResolverMode::None => "none",
        }
    }
}

impl fmt::Display for ResolverMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResolverMode {
    type Err = ResolverError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ResolverMode::Auto),
            "resolv-conf" => Ok(ResolverMode::ResolvConf),
            "systemd-resolved" => Ok(ResolverMode::SystemdResolved),
            "none" => Ok(ResolverMode::None),
            other => Err(ResolverError::UnknownMode(other.to_string())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolverError {
    #[error(
        "unknown resolver_mode {0:?}; use \"auto\", \"resolv-conf\", \"systemd-resolved\" \
         or \"none\""
    )]
    UnknownMode(String),
    #[error("systemd-resolved: {0}")]
    Resolved(String),
    #[error("the agent's link {name}: {message}")]
    AgentLink { name: String, message: String },
    #[error("the agent has no DNS address to put in {path}")]
    NoAgentAddresses { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} was written by the agent but the state file holds no saved copy of the \
         previous content (state file lost?); restore {path} by hand (or restart the \
         network manager) and start the agent again"
    )]
    OursWithoutSavedCopy { path: PathBuf },
    #[error(
        "the state file names {saved} as the resolver configuration to restore, but this \
         agent manages {path}: the record is not trusted, {saved} is left untouched and the \
         record is dropped"
    )]
    SavedForOtherPath { saved: PathBuf, path: PathBuf },
    #[error("cannot record the previous resolver configuration: {0}")]
    State(#[from] StateError),
}
