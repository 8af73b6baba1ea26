//! The controller's persistent state behind one trait, with a SQLite and a PostgreSQL
//! implementation that share their SQL (see `sql/`), opened by [`open_store`].
//!
//! Contract shared by both backends (the suite in `tests/store_suite.rs` checks it):
//! - `create_*` inserts the record as given (ids and times are the caller's) and returns
//!   [`StoreError::AlreadyExists`] on a uniqueness clash.
//! - `update_*` takes the new record and the version the caller read; it writes every
//!   mutable column, stores `version + 1` and returns the stored record, or
//!   [`StoreError::VersionMismatch`] / [`StoreError::NotFound`].
//! - `list_*` return records ordered by `created` descending, then `id` descending.
//! - A write that references a missing row (scope, auth method, user, account, target,
//!   credential store) fails with [`StoreError::Precondition`].
//! - Case-insensitive means SQL `lower()`, which both backends apply to ASCII letters;
//!   alias values and login names are ASCII by validation.
//! - A session is expired when `now >= expiration`.
//! - Operations marked atomic are single transactions that stay correct with concurrent
//!   callers on the same or another controller sharing the database.

mod error;
mod open;
pub mod postgres;
mod records;
mod rows;
mod schema;
mod sql;
pub mod sqlite;

pub use error::{ActivateError, ConnectionRefused, StoreError, StoreResult};
pub use open::{ACCEPTED_URLS, open_store, redact_url};
pub use postgres::PostgresStore;
pub use records::*;
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use boundary_wire::api::Timestamp;

/// Everything the controller persists. `Send + Sync` so it lives in an `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- scopes ----
    async fn create_scope(&self, scope: &ScopeRecord) -> StoreResult<ScopeRecord>;
    async fn get_scope(&self, id: &str) -> StoreResult<ScopeRecord>;
    /// Children of `parent_id`.
    async fn list_scopes(&self, parent_id: &str) -> StoreResult<Vec<ScopeRecord>>;
    async fn update_scope(
        &self,
        scope: &ScopeRecord,
        expected_version: u32,
    ) -> StoreResult<ScopeRecord>;

    // ---- auth methods, accounts, users, tokens ----
    async fn create_auth_method(&self, method: &AuthMethodRecord) -> StoreResult<AuthMethodRecord>;
    async fn get_auth_method(&self, id: &str) -> StoreResult<AuthMethodRecord>;
    async fn list_auth_methods(&self, scope_id: &str) -> StoreResult<Vec<AuthMethodRecord>>;

    /// `AlreadyExists` when the login name is taken in that auth method (case-insensitive).
    async fn create_account(&self, account: &AccountRecord) -> StoreResult<AccountRecord>;
    async fn get_account(&self, id: &str) -> StoreResult<AccountRecord>;
    /// Case-insensitive on `login_name`.
    async fn find_account(
        &self,
        auth_method_id: &str,
        login_name: &str,
    ) -> StoreResult<AccountRecord>;
    async fn list_accounts(&self, auth_method_id: &str) -> StoreResult<Vec<AccountRecord>>;

    async fn create_user(&self, user: &UserRecord) -> StoreResult<UserRecord>;
    async fn get_user(&self, id: &str) -> StoreResult<UserRecord>;
    async fn list_users(&self, scope_id: &str) -> StoreResult<Vec<UserRecord>>;
    /// Atomic: checks the user's version, links each account to the user (an account
    /// already linked to another user, or no such account → `Precondition`, and nothing
    /// changes), bumps the user's version and sets `updated = now`.
    async fn add_user_accounts(
        &self,
        user_id: &str,
        expected_version: u32,
        account_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord>;
    /// Account ids linked to the user, ordered by account creation.
    async fn user_account_ids(&self, user_id: &str) -> StoreResult<Vec<String>>;

    async fn create_auth_token(&self, token: &AuthTokenRecord) -> StoreResult<AuthTokenRecord>;
    async fn get_auth_token(&self, id: &str) -> StoreResult<AuthTokenRecord>;
    async fn list_auth_tokens(&self) -> StoreResult<Vec<AuthTokenRecord>>;
    /// Records a use: sets `approximate_last_used` (no version change).
    async fn touch_auth_token(&self, id: &str, now: Timestamp) -> StoreResult<()>;
    async fn delete_auth_token(&self, id: &str) -> StoreResult<()>;

    // ---- roles ----
    async fn create_role(&self, role: &RoleRecord) -> StoreResult<RoleRecord>;
    async fn get_role(&self, id: &str) -> StoreResult<RoleRecord>;
    /// Every role in every scope (grant evaluation reads them all; there are few).
    async fn list_roles(&self) -> StoreResult<Vec<RoleRecord>>;
    async fn update_role(
        &self,
        role: &RoleRecord,
        expected_version: u32,
    ) -> StoreResult<RoleRecord>;
    async fn delete_role(&self, id: &str) -> StoreResult<()>;

    // ---- targets ----
    /// `AlreadyExists` when another target in the scope has the same non-empty name.
    async fn create_target(&self, target: &TargetRecord) -> StoreResult<TargetRecord>;
    async fn get_target(&self, id: &str) -> StoreResult<TargetRecord>;
    async fn find_target_by_name(&self, scope_id: &str, name: &str) -> StoreResult<TargetRecord>;
    /// All targets, or those of one project.
    async fn list_targets(&self, scope_id: Option<&str>) -> StoreResult<Vec<TargetRecord>>;
    async fn update_target(
        &self,
        target: &TargetRecord,
        expected_version: u32,
    ) -> StoreResult<TargetRecord>;
    /// Atomic: deletes the target and clears `destination_id` (and `host_id`) of its
    /// aliases, each of which gets a new `change_seq` and `updated = now` but keeps its
    /// `version`, as in Boundary (the alias was not edited).
    /// Sessions of the target are kept (they record the id as history).
    async fn delete_target(&self, id: &str, now: Timestamp) -> StoreResult<()>;

    // ---- aliases ----
    /// `AlreadyExists` when the value is taken case-insensitively.
    async fn create_alias(&self, alias: &AliasRecord) -> StoreResult<AliasRecord>;
    async fn get_alias(&self, id: &str) -> StoreResult<AliasRecord>;
    /// Case-insensitive.
    async fn find_alias_by_value(&self, value: &str) -> StoreResult<AliasRecord>;
    async fn list_aliases(&self) -> StoreResult<Vec<AliasRecord>>;
    async fn aliases_for_destination(&self, destination_id: &str) -> StoreResult<Vec<AliasRecord>>;
    async fn update_alias(
        &self,
        alias: &AliasRecord,
        expected_version: u32,
    ) -> StoreResult<AliasRecord>;
    /// Atomic: deletes the alias and records a tombstone with a new `change_seq`.
    async fn delete_alias(&self, id: &str, now: Timestamp) -> StoreResult<()>;
    /// Aliases with `change_seq > since` and tombstones with `change_seq > since`; with
    /// `since = 0` that is every alias (and every tombstone). Read in one snapshot:
    /// `high_water` is the counter in that snapshot, every returned `change_seq` is at most
    /// `high_water`, and no write numbered `<= high_water` can appear later. `changed` is
    /// in `list_*` order, `deleted_ids` in deletion order.
    async fn alias_changes_since(&self, since: i64) -> StoreResult<AliasChanges>;
    /// At most `limit` aliases in listing order (`created` desc, then `id` desc), those
    /// sorted after `after` (its `created` in microseconds and its id), or from the first
    /// when `None`: one keyset page, read through the `(created, id)` index, so paging a
    /// listing costs each page its own size, not the table's.
    async fn aliases_page(
        &self,
        after: Option<(i64, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<AliasRecord>>;
    /// Where a listing starts: the change counter (read before any page, so a change made
    /// while the listing pages is at or above it and comes again in the refresh) and how
    /// many aliases have a destination (an upper bound of what any user may list).
    async fn alias_listing_start(&self) -> StoreResult<AliasListingStart>;

    // ---- credential stores and credentials ----
    async fn create_credential_store(
        &self,
        store: &CredentialStoreRecord,
    ) -> StoreResult<CredentialStoreRecord>;
    async fn get_credential_store(&self, id: &str) -> StoreResult<CredentialStoreRecord>;
    async fn list_credential_stores(
        &self,
        scope_id: &str,
    ) -> StoreResult<Vec<CredentialStoreRecord>>;
    /// Atomic: also deletes the store's credentials, as [`Store::delete_credential`] does.
    async fn delete_credential_store(&self, id: &str) -> StoreResult<()>;
    async fn create_credential(
        &self,
        credential: &CredentialRecord,
    ) -> StoreResult<CredentialRecord>;
    async fn get_credential(&self, id: &str) -> StoreResult<CredentialRecord>;
    async fn list_credentials(&self, store_id: &str) -> StoreResult<Vec<CredentialRecord>>;
    /// Atomic: also removes the id from every target's `credential_source_ids` (each
    /// target changed gets `version + 1`; `updated` is left as is).
    async fn delete_credential(&self, id: &str) -> StoreResult<()>;

    // ---- sessions and connections ----
    /// Inserts the session with status `pending` (whatever `status` says) and its first
    /// state row, starting at `created`.
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<SessionRecord>;
    async fn get_session(&self, id: &str) -> StoreResult<SessionRecord>;
    /// All sessions, or those of one project.
    async fn list_sessions(&self, scope_id: Option<&str>) -> StoreResult<Vec<SessionRecord>>;
    /// State history, oldest first; the current state has `end = None`.
    async fn session_states(&self, session_id: &str) -> StoreResult<Vec<SessionStateRecord>>;
    /// Oldest first (`created`, then `id`).
    async fn session_connections(&self, session_id: &str) -> StoreResult<Vec<ConnectionRecord>>;
    /// One connection by id (its `worker_id` says which worker authorized it).
    async fn get_connection(&self, id: &str) -> StoreResult<ConnectionRecord>;

    /// Atomic trust-on-first-use: a `pending` session not past `expiration` becomes
    /// `active` with `tofu_hash` bound; an `active` session with the same hash is returned
    /// as is; a different hash → `TofuMismatch`; anything else → `NotActivatable`.
    /// Activation bumps `version` and records the `active` state at `now`.
    async fn activate_session(
        &self,
        session_id: &str,
        tofu_hash: &str,
        now: Timestamp,
    ) -> Result<SessionRecord, ActivateError>;

    /// Atomic: for an `active`, unexpired session whose `connections_used` is below its
    /// limit (or the limit is -1), increments `connections_used` and inserts `connection`
    /// (status `authorized`). Returns the stored connection and the connections left after
    /// it (-1 unlimited). Concurrent callers never exceed the limit. The session's
    /// `version` does not change. Refusals are checked in the order `NotFound`,
    /// `NotActive`, `Expired`, `LimitReached`.
    async fn authorize_connection(
        &self,
        connection: &ConnectionRecord,
        now: Timestamp,
    ) -> Result<(ConnectionRecord, i32), ConnectionRefused>;
    /// Marks an `authorized` connection `connected` with the endpoint address it dialled;
    /// a connection in any other status → `Precondition`.
    async fn connect_connection(
        &self,
        connection_id: &str,
        endpoint_address: &str,
        endpoint_port: u32,
        now: Timestamp,
    ) -> StoreResult<ConnectionRecord>;
    /// Marks the connection `closed` with byte counts and reason. A second close keeps the
    /// first reason and takes the larger byte counts: the sweep closes an expired
    /// session's connections with zero counts, and the worker's report with the real
    /// counts may arrive after it.
    async fn close_connection(
        &self,
        connection_id: &str,
        bytes_up: u64,
        bytes_down: u64,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<ConnectionRecord>;

    /// Atomic: a `pending` or `active` session becomes `canceling` with `reason`. The
    /// version check is skipped when `expected_version` is `None` (worker-initiated).
    /// Canceling or terminated sessions are returned unchanged (before any version
    /// check). The change bumps `version` and records the `canceling` state at `now`.
    async fn cancel_session(
        &self,
        session_id: &str,
        expected_version: Option<u32>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<SessionRecord>;

    /// Atomic background sweep; returns the ids of sessions it terminated:
    /// - `pending`/`active`/`canceling` past `expiration` → `terminated`, reason `timed out`
    ///   (unless one was recorded), their open connections closed with `timed out`;
    /// - `canceling` with no open connection → `terminated` (reason kept, else `canceled`);
    /// - `active` with `connections_used >= connection_limit` (limit not -1) and no open
    ///   connection → `terminated`, reason `connection limit`.
    ///
    /// Open connections are those not `closed`. Ids come sorted. Safe to run on several
    /// controllers at once: each session is terminated by exactly one sweep.
    async fn sweep_sessions(&self, now: Timestamp) -> StoreResult<Vec<String>>;

    // ---- workers ----
    /// Inserts or, for an existing name, updates address/description, heartbeat and
    /// `updated`, keeping the stored id and `created`. Another name under an existing id
    /// → `AlreadyExists`.
    async fn upsert_worker(&self, worker: &WorkerRecord) -> StoreResult<WorkerRecord>;
    /// The worker registered under `name` (names are unique).
    async fn get_worker_by_name(&self, name: &str) -> StoreResult<WorkerRecord>;
    /// Sets address, `last_heartbeat` and `updated` to the given values.
    async fn worker_heartbeat(
        &self,
        worker_id: &str,
        address: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Workers whose last heartbeat is at or after `since`, most recent first.
    async fn live_workers(&self, since: Timestamp) -> StoreResult<Vec<WorkerRecord>>;
}
