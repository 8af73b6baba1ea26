//! [`AgentCore`]: the client agent's decisions, tying the alias caches, address pool,
//! session table, token map and pause state together.
//!
//! The shell feeds it inputs (`handle_*`, with the time passed in as a
//! [`Now`](super::clock::Now)) and carries out the [`Command`]s it returns, in order.
//!
//! Two inputs can need an authorization before they can be answered: a DNS question for
//! an alias ([`DnsResolution::AwaitAuthorization`]) and an accepted connection
//! ([`ConnectionDecision::AuthorizeThenTunnel`]). The shell parks them on the
//! [`SessionKey`] and, when a [`Command::SessionSettled`] for that key comes out, asks
//! again with the same input. The second answer is normally final (an address, or
//! `Forward` when the authorization failed; a tunnel or a refusal), but it may park again
//! when something changed meanwhile (the user registered another token), so the shell
//! must simply handle whatever comes back, within its own request timeout.
//!
//! `T` is the shell's per-session tunnel data (decoded authorization token, tofu token…),
//! handed in with [`Authorized`] and handed back in [`TunnelGrant`] and
//! [`Command::CancelSession`]; the core never looks inside.

mod addresses;
mod connections;
mod dns;
mod fast_view;
mod lifecycle;
mod session_flow;
mod tokens;

#[cfg(test)]
mod tests;

use super::address_pool::{AddressPool, AliasAddresses, SeedError};
use super::alias_cache::AliasCache;
use super::clock::Moment;
use super::command::Command;
use super::config::{CoreConfig, CoreConfigError};
use super::dns_decision::DnsDecision;
use super::error_log::ErrorLog;
use super::pause::{PauseState, RunState};
use super::session_table::{SessionKey, SessionTable, TunnelGrant};
use super::users::{Users, same_controller};
use boundary_wire::api::agent::{AgentSession, AgentSessions, AgentStatus, status};
use boundary_wire::api::session::SessionAuthorization;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

pub use fast_view::{AliasNames, FastView};

/// The core's answer to a DNS question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsResolution {
    /// Answer now.
    Decided(DnsDecision),
    /// Park the question; ask again after `Command::SessionSettled(key)`.
    AwaitAuthorization(SessionKey),
}

/// The core's answer to an accepted connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionDecision<T> {
    /// Tunnel it through this session; report its end with `handle_connection_closed`.
    Tunnel(TunnelGrant<T>),
    /// Hold it; ask again after `Command::SessionSettled(key)`.
    AuthorizeThenTunnel(SessionKey),
    /// Reset it; log the reason.
    Refuse(RefuseReason),
}

/// Why a connection was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefuseReason {
    Paused,
    /// No local user owns the peer socket (another host, or the lookup failed).
    NoLocalOwner,
    /// The local address is not an alias address.
    UnknownAddress,
    /// The agent does not listen on that address and port (any more).
    NotListening,
    /// The user has no registered token that may use the alias.
    NotPermitted {
        uid: u32,
    },
    /// The user's session for the alias listens on another port.
    PortMismatch {
        uid: u32,
        session_port: u16,
    },
    /// Authorizing a session for the user failed recently.
    AuthorizationFailed {
        uid: u32,
        error: String,
    },
}

impl fmt::Display for RefuseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefuseReason::Paused => f.write_str("the agent is paused"),
            RefuseReason::NoLocalOwner => {
                f.write_str("no local user owns the peer socket (remote or unknown peer)")
            }
            RefuseReason::UnknownAddress => f.write_str("not an alias address"),
            RefuseReason::NotListening => f.write_str("no listener for this address and port"),
            RefuseReason::NotPermitted { uid } => {
                write!(
                    f,
                    "uid {uid} has no registered token that may use this alias"
                )
            }
            RefuseReason::PortMismatch { uid, session_port } => {
                write!(
                    f,
                    "uid {uid}'s session for this alias uses port {session_port}"
                )
            }
            RefuseReason::AuthorizationFailed { uid, error } => {
                write!(f, "authorizing a session for uid {uid} failed: {error}")
            }
        }
    }
}

/// A successful authorize-session answer, for `handle_authorized`.
#[derive(Clone, Debug)]
pub struct Authorized<T> {
    /// The `token_id` of the `Authorize` command this answers.
    pub token_id: String,
    /// The controller's answer, shown by `sessions`.
    pub authorization: SessionAuthorization,
    /// `default_client_port` from the decoded authorization token (0 = unset).
    pub default_client_port: u32,
    pub tunnel: T,
}

/// A failed controller call (authorize or list aliases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerFailure {
    pub kind: FailureKind,
    /// What went wrong, for `status` errors. Must not contain the token.
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// No answer (connect, TLS, timeout): counts towards the failure breaker.
    Network,
    /// 401: the controller no longer accepts the token; it is dropped.
    Unauthenticated,
    /// 400 `invalid list token` (alias listing): start a full listing.
    InvalidListToken,
    /// Any other answer (403, 404, 400, 5xx…).
    Rejected,
}

/// What the state file needs from the core.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateSnapshot {
    /// Every alias → addresses assignment, by alias; seed them back after a restart.
    pub assignments: Vec<(String, AliasAddresses)>,
    /// Addresses currently on the interface; remove leftovers at the next start.
    pub installed: Vec<IpAddr>,
}

/// One user's alias cache and its refresh schedule.
#[derive(Debug, Clone)]
struct UserAliases {
    token_id: String,
    cache: AliasCache,
    next_refresh_at: Moment,
}

/// An alias whose addresses are on the interface.
#[derive(Debug, Clone)]
struct InstalledAlias {
    addrs: AliasAddresses,
    v4_usable: bool,
    v6_usable: bool,
    /// Ports listened on, on every usable address.
    ports: BTreeSet<u16>,
    /// Last DNS answer, connection or session end.
    last_used: Moment,
}

/// The client agent's pure core. See the module documentation for the protocol.
#[derive(Clone, Debug)]
pub struct AgentCore<T> {
    config: CoreConfig,
    run: PauseState,
    users: Users,
    aliases: BTreeMap<u32, UserAliases>,
    pool: AddressPool,
    installed: BTreeMap<String, InstalledAlias>,
    sessions: SessionTable<T>,
    errors: ErrorLog,
    /// The fast view's name set and the cache generations it was built from.
    alias_names: Arc<AliasNames>,
    alias_names_key: Vec<(u32, u64)>,
}

impl<T: Clone> AgentCore<T> {
    /// A core with no tokens, running or (from the operational state file) paused. The
    /// shell takes over the resolver at start only when `!is_paused()`.
    pub fn new(config: CoreConfig, start_paused: bool) -> Result<Self, CoreConfigError> {
        let pool = config.address_pool()?;
        Ok(Self {
            run: PauseState::new(config.breaker, start_paused),
            errors: ErrorLog::new(config.error_history),
            users: Users::new(),
            aliases: BTreeMap::new(),
            pool,
            installed: BTreeMap::new(),
            sessions: SessionTable::new(),
            alias_names: Arc::default(),
            alias_names_key: Vec::new(),
            config,
        })
    }

    /// Takes over an assignment from the state file (before any input), so the alias
    /// keeps its addresses. A rejected one (prefix changed, conflict) is reported and the
    /// alias gets a fresh address when next needed.
    pub fn seed_assignment(&mut self, alias: &str, addrs: AliasAddresses) -> Result<(), SeedError> {
        self.pool.seed(alias, addrs)
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// Paused or shut down: DNS is forwarded, nothing is opened.
    pub fn is_paused(&self) -> bool {
        !self.run.is_running()
    }

    pub fn run_state(&self) -> &RunState {
        self.run.state()
    }

    /// The DNS server's own addresses (one per prefix), never given to an alias.
    pub fn dns_server_addresses(&self) -> AliasAddresses {
        self.pool.dns_server_addresses()
    }

    /// The alias's addresses if it has been assigned some.
    pub fn alias_addresses(&self, alias: &str) -> Option<AliasAddresses> {
        self.pool.get(alias)
    }

    pub fn state_snapshot(&self) -> StateSnapshot {
        let mut installed: Vec<IpAddr> = self
            .installed
            .values()
            .flat_map(|i| i.addrs.both())
            .collect();
        installed.sort();
        StateSnapshot {
            assignments: self.pool.assignments(),
            installed,
        }
    }

    /// The controller the registered tokens are for (still the last one once they are all
    /// gone), if any.
    pub fn controller(&self) -> Option<&str> {
        self.users.controller()
    }

    /// The controller that a token of `controller_addr` registered by `uid` would switch
    /// the agent away from, dropping other users' tokens and ending their sessions; `None`
    /// when the registration would drop no one else's. The local API lets only root do
    /// that: otherwise any user could cut everyone off with a made-up controller.
    pub fn controller_switch_conflict(&self, uid: u32, controller_addr: &str) -> Option<String> {
        let current = self.users.controller()?;
        if same_controller(current, controller_addr) {
            return None;
        }
        self.users
            .uids()
            .any(|other| other != uid)
            .then(|| current.to_owned())
    }

    /// `GET /v1/status` for the calling uid: its own token, its own errors plus the
    /// agent-wide ones. `warnings` is left for the shell (config reload).
    pub fn status(&self, uid: u32) -> AgentStatus {
        let token = self.users.get(uid);
        AgentStatus {
            boundary_addr: self.users.controller().unwrap_or_default().to_owned(),
            auth_token_id: token.map(|t| t.token_id.clone()).unwrap_or_default(),
            auth_token_expiry: token.and_then(|t| t.expiration),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            status: if self.run.is_running() {
                status::RUNNING
            } else {
                status::PAUSED
            }
            .to_owned(),
            errors: self.errors.visible_to(uid),
            warnings: Vec::new(),
            resolver: None,
        }
    }

    /// `GET /v1/sessions` for the calling uid: only its own active sessions, by alias.
    pub fn sessions(&self, uid: u32) -> AgentSessions {
        AgentSessions {
            items: self
                .sessions
                .active_of(uid)
                .into_iter()
                .map(|s| AgentSession {
                    alias: s.alias_value.clone(),
                    session_authorization: s.authorization.clone(),
                })
                .collect(),
        }
    }
}

/// Runs `f` with a fresh outbox and returns what it collected.
fn collect<T>(f: impl FnOnce(&mut super::command::Outbox<T>)) -> Vec<Command<T>> {
    let mut out = super::command::Outbox::default();
    f(&mut out);
    out.finish()
}
