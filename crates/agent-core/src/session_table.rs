//! Sessions keyed by (alias, uid), and the connections tunnelled through them.
//!
//! A key is pending while its authorization is in flight, active once the controller
//! authorized it, or failed for a short while after an authorization failed (so DNS
//! fails open without asking the controller again for every query). An ended session is
//! removed from the table; [`SessionTable::remove`] hands back what it held so the caller
//! can cancel it at the worker when the reason calls for it.

use super::clock::Moment;
use boundary_wire::api::session::SessionAuthorization;
use std::collections::BTreeMap;
use std::fmt;

/// Which local user's session to which alias. `alias` is normalised (lower case, no
/// final dot).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionKey {
    pub alias: String,
    pub uid: u32,
}

/// Names one tunnelled connection, from [`SessionTable::open_connection`] to its close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// Why a session ended (docs/architecture.md "Tokens, users and sessions").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndReason {
    /// Its expiration passed.
    Expired,
    /// Its connection limit is used up; the next use authorizes a new session.
    ConnectionLimit,
    /// The token that authorized it expired or the controller stopped accepting it.
    TokenExpired,
    /// Its user registered another token.
    TokenReplaced,
    /// A token for another controller was registered.
    ControllerSwitched,
    /// No connection for `session_idle_timeout`.
    IdleTimeout,
    Paused,
    Shutdown,
    /// The worker refused a connection for it (canceled, expired or unknown there).
    RejectedByWorker,
    /// None of its alias's addresses could be added or listened on.
    ListenFailed,
    /// Authorized after nothing needed it any more (paused meanwhile, token replaced).
    Superseded,
}

impl EndReason {
    /// Whether the worker should be told to cancel the session. Not when it is over there
    /// anyway (expired, limit used up, refused by the worker).
    pub fn cancels_at_worker(self) -> bool {
        !matches!(
            self,
            EndReason::Expired | EndReason::ConnectionLimit | EndReason::RejectedByWorker
        )
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndReason::Expired => "expired",
            EndReason::ConnectionLimit => "connection limit reached",
            EndReason::TokenExpired => "auth token expired or no longer accepted",
            EndReason::TokenReplaced => "auth token replaced",
            EndReason::ControllerSwitched => "switched to another controller",
            EndReason::IdleTimeout => "idle timeout",
            EndReason::Paused => "agent paused",
            EndReason::Shutdown => "agent shutting down",
            EndReason::RejectedByWorker => "refused by the worker",
            EndReason::ListenFailed => "its local address could not be used",
            EndReason::Superseded => "no longer needed",
        })
    }
}

/// An authorized session.
#[derive(Clone, Debug)]
pub struct ActiveSession<T> {
    pub session_id: String,
    /// The token that authorized it.
    pub token_id: String,
    /// The alias as the controller lists it (for `sessions`).
    pub alias_value: String,
    /// Local port: `default_client_port`, else `endpoint_port`.
    pub port: u16,
    pub expires_at: Moment,
    /// -1 = unlimited.
    pub connection_limit: i32,
    /// `None` = unlimited.
    pub connections_left: Option<u32>,
    pub open_connections: u32,
    pub last_activity: Moment,
    /// The controller's answer, shown by `sessions` to its owner.
    pub authorization: SessionAuthorization,
    /// Whatever the shell's tunnel needs (decoded token, tofu token…); opaque here.
    pub tunnel: T,
}

impl<T> ActiveSession<T> {
    pub fn is_expired(&self, now: Moment) -> bool {
        self.expires_at <= now
    }

    pub fn is_exhausted(&self) -> bool {
        self.connections_left == Some(0)
    }
}

#[derive(Clone, Debug)]
pub enum SessionState<T> {
    /// An `Authorize` command is out for it.
    Authorizing {
        token_id: String,
        since: Moment,
    },
    Active(Box<ActiveSession<T>>),
    /// Authorization failed; not retried before `retry_at`.
    Failed {
        error: String,
        retry_at: Moment,
    },
}

/// What [`SessionTable::remove`] took out.
#[derive(Clone, Debug)]
pub enum Removed<T> {
    Authorizing,
    Active(Box<ActiveSession<T>>),
    Failed,
}

/// A connection handed to the tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelGrant<T> {
    pub connection: ConnectionId,
    pub key: SessionKey,
    pub session_id: String,
    pub tunnel: T,
}

#[derive(Clone, Debug)]
struct OpenConnection {
    key: SessionKey,
    session_id: String,
}

#[derive(Clone, Debug)]
pub struct SessionTable<T> {
    /// alias → uid → state. Ordered, so sweeps produce commands in a stable order.
    by_alias: BTreeMap<String, BTreeMap<u32, SessionState<T>>>,
    connections: BTreeMap<ConnectionId, OpenConnection>,
    next_connection: u64,
}

impl<T> Default for SessionTable<T> {
    fn default() -> Self {
        Self {
            by_alias: BTreeMap::new(),
            connections: BTreeMap::new(),
            next_connection: 0,
        }
    }
}

impl<T: Clone> SessionTable<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, alias: &str, uid: u32) -> Option<&SessionState<T>> {
        self.by_alias.get(alias)?.get(&uid)
    }

    pub fn get_mut(&mut self, alias: &str, uid: u32) -> Option<&mut SessionState<T>> {
        self.by_alias.get_mut(alias)?.get_mut(&uid)
    }

    /// True while any user has a pending or active session for the alias.
    pub fn alias_in_use(&self, alias: &str) -> bool {
        self.by_alias.get(alias).is_some_and(|users| {
            users
                .values()
                .any(|s| !matches!(s, SessionState::Failed { .. }))
        })
    }

    pub fn is_authorizing(&self, key: &SessionKey, token_id: &str) -> bool {
        matches!(
            self.get(&key.alias, key.uid),
            Some(SessionState::Authorizing { token_id: t, .. }) if t == token_id
        )
    }

    /// Sets the key's state, replacing whatever was there (the caller ends it first).
    pub fn set(&mut self, key: SessionKey, state: SessionState<T>) {
        self.by_alias
            .entry(key.alias)
            .or_default()
            .insert(key.uid, state);
    }

    pub fn remove(&mut self, key: &SessionKey) -> Option<Removed<T>> {
        let users = self.by_alias.get_mut(&key.alias)?;
        let state = users.remove(&key.uid)?;
        if users.is_empty() {
            self.by_alias.remove(&key.alias);
        }
        Some(match state {
            SessionState::Authorizing { .. } => Removed::Authorizing,
            SessionState::Active(session) => Removed::Active(session),
            SessionState::Failed { .. } => Removed::Failed,
        })
    }

    /// Keys whose state matches, in (alias, uid) order.
    pub fn keys_where(
        &self,
        mut pred: impl FnMut(&SessionKey, &SessionState<T>) -> bool,
    ) -> Vec<SessionKey> {
        let mut keys = Vec::new();
        for (alias, users) in &self.by_alias {
            for (uid, state) in users {
                let key = SessionKey {
                    alias: alias.clone(),
                    uid: *uid,
                };
                if pred(&key, state) {
                    keys.push(key);
                }
            }
        }
        keys
    }

    /// The uid's active sessions, by alias.
    pub fn active_of(&self, uid: u32) -> Vec<&ActiveSession<T>> {
        self.by_alias
            .values()
            .filter_map(|users| match users.get(&uid) {
                Some(SessionState::Active(s)) => Some(s.as_ref()),
                _ => None,
            })
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (SessionKey, &SessionState<T>)> + '_ {
        self.by_alias.iter().flat_map(|(alias, users)| {
            users.iter().map(|(uid, state)| {
                (
                    SessionKey {
                        alias: alias.clone(),
                        uid: *uid,
                    },
                    state,
                )
            })
        })
    }

    /// Hands a new connection to the key's active session: one fewer connection left,
    /// one more open. `None` when the key has no active session.
    pub fn open_connection(&mut self, key: &SessionKey, now: Moment) -> Option<TunnelGrant<T>> {
        let connection = ConnectionId(self.next_connection);
        let Some(SessionState::Active(session)) = self.get_mut(&key.alias, key.uid) else {
            return None;
        };
        if let Some(left) = session.connections_left.as_mut() {
            *left = left.saturating_sub(1);
        }
        session.open_connections = session.open_connections.saturating_add(1);
        session.last_activity = now;
        let grant = TunnelGrant {
            connection,
            key: key.clone(),
            session_id: session.session_id.clone(),
            tunnel: session.tunnel.clone(),
        };
        self.next_connection += 1;
        self.connections.insert(
            grant.connection,
            OpenConnection {
                key: key.clone(),
                session_id: grant.session_id.clone(),
            },
        );
        Some(grant)
    }

    /// The worker's count of connections left after this one (`HandshakeResult`), which
    /// is authoritative over our own estimate. Returns the session's key when the
    /// connection still belongs to it.
    pub fn record_connections_left(&mut self, id: ConnectionId, left: i32) -> Option<SessionKey> {
        let session = self.session_of(id)?;
        session.connections_left = u32::try_from(left).ok();
        self.connections.get(&id).map(|c| c.key.clone())
    }

    /// Forgets a connection. Returns its session's key when that session still exists
    /// (it may have ended, or been replaced, while the connection was open).
    pub fn close_connection(&mut self, id: ConnectionId, now: Moment) -> Option<SessionKey> {
        if let Some(session) = self.session_of(id) {
            session.open_connections = session.open_connections.saturating_sub(1);
            session.last_activity = now;
        } else {
            self.connections.remove(&id);
            return None;
        }
        self.connections.remove(&id).map(|c| c.key)
    }

    /// The key of an open connection's session, whether or not it still exists.
    pub fn connection_key(&self, id: ConnectionId) -> Option<&SessionKey> {
        self.connections.get(&id).map(|c| &c.key)
    }

    fn session_of(&mut self, id: ConnectionId) -> Option<&mut ActiveSession<T>> {
        let conn = self.connections.get(&id)?;
        match self
            .by_alias
            .get_mut(&conn.key.alias)?
            .get_mut(&conn.key.uid)?
        {
            SessionState::Active(s) if s.session_id == conn.session_id => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "session_table_tests.rs"]
mod tests;
