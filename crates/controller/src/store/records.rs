//! Rows as the store keeps them. Times are [`Timestamp`]s with microsecond precision
//! (both backends store integer microseconds since the epoch). Secrets arrive here already
//! hashed or encrypted: the store never sees a token secret, a password or a session key
//! in the clear.

use boundary_wire::api::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Global,
    Org,
    Project,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Global => "global",
            ScopeKind::Org => "org",
            ScopeKind::Project => "project",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "global" => Some(ScopeKind::Global),
            "org" => Some(ScopeKind::Org),
            "project" => Some(ScopeKind::Project),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScopeRecord {
    pub id: String,
    /// `None` only for `global`.
    pub parent_id: Option<String>,
    pub kind: ScopeKind,
    pub name: String,
    pub description: String,
    pub primary_auth_method_id: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuthMethodRecord {
    pub id: String,
    pub scope_id: String,
    pub name: String,
    pub description: String,
    pub min_login_name_length: u32,
    pub min_password_length: u32,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

/// A password account. `login_name` is unique per auth method, case-insensitively.
#[derive(Clone, PartialEq)]
pub struct AccountRecord {
    pub id: String,
    pub auth_method_id: String,
    pub scope_id: String,
    pub login_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The user this account belongs to (an account belongs to at most one user).
    pub user_id: Option<String>,
    pub name: String,
    pub description: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecord")
            .field("id", &self.id)
            .field("login_name", &self.login_name)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub id: String,
    pub scope_id: String,
    pub name: String,
    pub description: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

#[derive(Clone, PartialEq)]
pub struct AuthTokenRecord {
    pub id: String,
    /// SHA-256 of the token's secret part, hex.
    pub secret_hash: String,
    pub scope_id: String,
    pub user_id: String,
    pub auth_method_id: String,
    pub account_id: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub approximate_last_used: Timestamp,
    pub expiration: Timestamp,
}

impl std::fmt::Debug for AuthTokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthTokenRecord")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// A role. Lists are kept in order as given; the version moves on every change to any
/// of them (list tokens fingerprint role versions to notice grant changes).
#[derive(Clone, Debug, PartialEq)]
pub struct RoleRecord {
    pub id: String,
    pub scope_id: String,
    pub name: String,
    pub description: String,
    /// `this`, `children`, `descendants` or scope ids.
    pub grant_scope_ids: Vec<String>,
    pub grant_strings: Vec<String>,
    /// User ids, `u_anon`, `u_auth`.
    pub principal_ids: Vec<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TargetRecord {
    pub id: String,
    /// A project.
    pub scope_id: String,
    /// `tcp`.
    pub kind: String,
    /// Unique per scope when not empty.
    pub name: String,
    pub description: String,
    pub address: String,
    pub default_port: Option<u32>,
    pub default_client_port: Option<u32>,
    pub session_max_seconds: u32,
    pub session_connection_limit: i32,
    pub worker_filter: String,
    /// Brokered credential ids, in the order they were added.
    pub credential_source_ids: Vec<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

/// An alias. `change_seq` is assigned by the store on every insert and update (and on the
/// tombstone of a delete) from one counter whose row lock serialises writers, so a reader
/// who saw high-water mark `n` has seen every change `<= n`. List tokens of
/// `:list-resolvable-aliases` are built on it.
#[derive(Clone, Debug, PartialEq)]
pub struct AliasRecord {
    pub id: String,
    /// Always `global`.
    pub scope_id: String,
    /// As given (case kept); unique case-insensitively.
    pub value: String,
    pub destination_id: Option<String>,
    pub host_id: Option<String>,
    pub name: String,
    pub description: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
    /// Ignored on insert/update (the store assigns it); filled on read.
    pub change_seq: i64,
}

/// Aliases changed after a given high-water mark.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AliasChanges {
    /// Inserted or updated since, current state.
    pub changed: Vec<AliasRecord>,
    /// Ids of aliases deleted since.
    pub deleted_ids: Vec<String>,
    /// The counter's value when the read started; pass it next time.
    pub high_water: i64,
}

/// See [`super::Store::alias_listing_start`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AliasListingStart {
    pub high_water: i64,
    pub with_destination: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CredentialStoreRecord {
    pub id: String,
    pub scope_id: String,
    pub name: String,
    pub description: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

#[derive(Clone, PartialEq)]
pub struct CredentialRecord {
    pub id: String,
    pub store_id: String,
    /// `username_password` or `ssh_private_key`.
    pub kind: String,
    pub name: String,
    pub description: String,
    pub username: String,
    /// The secret fields as JSON, sealed with the controller's root key.
    pub encrypted_secret: Vec<u8>,
    /// HMAC of the secret (shown instead of it), hex.
    pub secret_hmac: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

impl std::fmt::Debug for CredentialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRecord")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub target_id: String,
    /// The target's project.
    pub scope_id: String,
    pub user_id: String,
    pub auth_token_id: String,
    pub host_id: String,
    pub host_set_id: String,
    /// `tcp`.
    pub kind: String,
    /// `tcp://host:port`.
    pub endpoint: String,
    pub certificate: Vec<u8>,
    /// The 64-byte Ed25519 key, sealed with the controller's root key.
    pub encrypted_private_key: Vec<u8>,
    /// SHA-256 of the tofu token bound at activation, hex; `None` until activated.
    pub tofu_hash: Option<String>,
    /// Ids of the workers the session was offered to (its token's `worker_info`): the
    /// only workers that may fetch its TLS material or act on it. Fixed at creation.
    pub offered_worker_ids: Vec<String>,
    pub connection_limit: i32,
    /// Connections authorized so far (counts against the limit).
    pub connections_used: i32,
    pub expiration: Timestamp,
    /// `pending`, `active`, `canceling`, `terminated`.
    pub status: String,
    pub termination_reason: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub version: u32,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("id", &self.id)
            .field("target_id", &self.target_id)
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .field("connections_used", &self.connections_used)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SessionStateRecord {
    pub status: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionRecord {
    pub id: String,
    pub session_id: String,
    pub worker_id: String,
    pub client_tcp_address: String,
    pub client_tcp_port: u32,
    pub endpoint_tcp_address: String,
    pub endpoint_tcp_port: u32,
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// `authorized`, `connected`, `closed`.
    pub status: String,
    pub closed_reason: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkerRecord {
    pub id: String,
    /// Unique.
    pub name: String,
    pub address: String,
    pub description: String,
    pub last_heartbeat: Timestamp,
    pub created: Timestamp,
    pub updated: Timestamp,
}
