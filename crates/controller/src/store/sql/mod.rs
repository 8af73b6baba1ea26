//! The SQL both backends run, written once.
//!
//! sqlx has no object-safe way to be generic over "a SQLite or a PostgreSQL transaction"
//! without repeating a dozen trait bounds on every function, so the statements live in
//! `macro_rules!` bodies that are expanded once per concrete pool type: [`impl_store!`]
//! in `sqlite.rs` and `postgres.rs`. The SQL itself is portable: `$n` placeholders (which
//! sqlx-sqlite accepts), `RETURNING`, `ON CONFLICT … DO UPDATE`, `lower()` indexes.
//!
//! What differs per backend is supplied by the store type as inherent methods the macros
//! call:
//! - `pool: sqlx::Pool<DB>` field;
//! - `async fn begin_write(&self) -> Result<sqlx::Transaction<'static, DB>, sqlx::Error>`:
//!   a transaction that will write (SQLite: `BEGIN IMMEDIATE`, so concurrent writers queue
//!   on the database lock instead of failing with `SQLITE_BUSY` when they upgrade);
//! - `async fn begin_snapshot(&self) -> …`: a read-only transaction that sees one
//!   snapshot (PostgreSQL: `REPEATABLE READ`).
//!
//! The area macros (one file per concept: `identity.rs`, `roles.rs`, `targets.rs`,
//! `credentials.rs`, `sessions.rs`, `workers.rs`) expand to free functions
//! named like the trait methods, taking the store as first argument, inside one private
//! module `queries`; [`impl_store!`] then writes the `Store` impl delegating to them (an
//! `#[async_trait]` impl cannot be assembled from macro calls inside it: the attribute
//! runs before they expand).

pub(crate) mod credentials;
pub(crate) mod identity;
pub(crate) mod roles;
pub(crate) mod sessions;
pub(crate) mod targets;
pub(crate) mod workers;

use super::error::StoreError;
use sqlx::error::ErrorKind;

/// Maps a write error: a uniqueness clash becomes `AlreadyExists(unique())`, a missing
/// referenced row `Precondition(missing())`, anything else a database error.
pub(crate) fn write_error(
    e: sqlx::Error,
    unique: impl FnOnce() -> String,
    missing: impl FnOnce() -> String,
) -> StoreError {
    if let Some(db) = e.as_database_error() {
        match db.kind() {
            ErrorKind::UniqueViolation => return StoreError::AlreadyExists(unique()),
            ErrorKind::ForeignKeyViolation => return StoreError::Precondition(missing()),
            _ => {}
        }
    }
    e.into()
}

/// After an `UPDATE … WHERE id = $1 AND version = $2` matched nothing: the row is gone
/// (`NotFound`) or its version moved (`VersionMismatch`). Expands to an expression of
/// type `StoreResult<StoreError>`; `$table` must be a literal.
macro_rules! version_miss {
    ($exec:expr, $table:literal, $id:expr) => {
        sqlx::query(concat!("SELECT version FROM ", $table, " WHERE id = $1"))
            .bind($id)
            .fetch_optional($exec)
            .await
            .map(|found| match found {
                Some(_) => $crate::store::StoreError::VersionMismatch,
                None => $crate::store::StoreError::NotFound,
            })
    };
}
pub(crate) use version_miss;

/// The row of `$table` with primary key `$id`, converted by `$row` (a `rows::…` function),
/// or `NotFound`. Expands to an expression of type `StoreResult<Record>`; `$table` must be
/// a literal.
macro_rules! get_by_id {
    ($exec:expr, $table:literal, $id:expr, $row:path) => {
        match sqlx::query(concat!("SELECT * FROM ", $table, " WHERE id = $1"))
            .bind($id)
            .fetch_optional($exec)
            .await
        {
            Ok(Some(row)) => $row(&row),
            Ok(None) => Err($crate::store::StoreError::NotFound),
            Err(e) => Err(e.into()),
        }
    };
}
pub(crate) use get_by_id;

/// Deletes the row of `$table` with primary key `$id`; `NotFound` when there was none.
/// Expands to an expression of type `StoreResult<()>`; `$table` must be a literal.
macro_rules! delete_by_id {
    ($exec:expr, $table:literal, $id:expr) => {
        match sqlx::query(concat!("DELETE FROM ", $table, " WHERE id = $1"))
            .bind($id)
            .execute($exec)
            .await
        {
            Ok(done) if done.rows_affected() == 0 => Err($crate::store::StoreError::NotFound),
            Ok(_) => Ok(()),
            Err(e) => Err(e.into()),
        }
    };
}
pub(crate) use delete_by_id;

/// Expands the whole `Store` implementation for `$store` (a type in the invoking module
/// with the members listed in the module docs) over database `$db`.
macro_rules! impl_store {
    ($store:ident, $db:ty) => {
        mod queries {
            use super::$store;
            use $crate::store::{
                rows, sql::delete_by_id, sql::get_by_id, sql::version_miss, sql::write_error,
                ActivateError, AliasChanges, AliasListingStart, AliasRecord, AccountRecord, AuthMethodRecord, AuthTokenRecord, ConnectionRecord,
                ConnectionRefused, CredentialRecord, CredentialStoreRecord, RoleRecord,
                ScopeRecord, SessionRecord, SessionStateRecord, StoreError, StoreResult,
                TargetRecord, UserRecord, WorkerRecord,
            };
            use ::boundary_wire::api::Timestamp;

            $crate::store::sql::identity::identity_sql!($store, $db);
            $crate::store::sql::roles::roles_sql!($store, $db);
            $crate::store::sql::targets::targets_sql!($store, $db);
            $crate::store::sql::credentials::credentials_sql!($store, $db);
            $crate::store::sql::sessions::sessions_sql!($store, $db);
            $crate::store::sql::workers::workers_sql!($store, $db);
        }

        $crate::store::sql::delegate! { $store;
            create_scope(scope: &ScopeRecord) -> StoreResult<ScopeRecord>;
            get_scope(id: &str) -> StoreResult<ScopeRecord>;
            list_scopes(parent_id: &str) -> StoreResult<Vec<ScopeRecord>>;
            update_scope(scope: &ScopeRecord, expected_version: u32) -> StoreResult<ScopeRecord>;

            create_auth_method(method: &AuthMethodRecord) -> StoreResult<AuthMethodRecord>;
            get_auth_method(id: &str) -> StoreResult<AuthMethodRecord>;
            list_auth_methods(scope_id: &str) -> StoreResult<Vec<AuthMethodRecord>>;
            create_account(account: &AccountRecord) -> StoreResult<AccountRecord>;
            get_account(id: &str) -> StoreResult<AccountRecord>;
            find_account(auth_method_id: &str, login_name: &str) -> StoreResult<AccountRecord>;
            list_accounts(auth_method_id: &str) -> StoreResult<Vec<AccountRecord>>;
            create_user(user: &UserRecord) -> StoreResult<UserRecord>;
            get_user(id: &str) -> StoreResult<UserRecord>;
            list_users(scope_id: &str) -> StoreResult<Vec<UserRecord>>;
            add_user_accounts(user_id: &str, expected_version: u32, account_ids: &[String], now: Timestamp) -> StoreResult<UserRecord>;
            user_account_ids(user_id: &str) -> StoreResult<Vec<String>>;
            create_auth_token(token: &AuthTokenRecord) -> StoreResult<AuthTokenRecord>;
            get_auth_token(id: &str) -> StoreResult<AuthTokenRecord>;
            list_auth_tokens() -> StoreResult<Vec<AuthTokenRecord>>;
            touch_auth_token(id: &str, now: Timestamp) -> StoreResult<()>;
            delete_auth_token(id: &str) -> StoreResult<()>;

            create_role(role: &RoleRecord) -> StoreResult<RoleRecord>;
            get_role(id: &str) -> StoreResult<RoleRecord>;
            list_roles() -> StoreResult<Vec<RoleRecord>>;
            update_role(role: &RoleRecord, expected_version: u32) -> StoreResult<RoleRecord>;
            delete_role(id: &str) -> StoreResult<()>;

            create_target(target: &TargetRecord) -> StoreResult<TargetRecord>;
            get_target(id: &str) -> StoreResult<TargetRecord>;
            find_target_by_name(scope_id: &str, name: &str) -> StoreResult<TargetRecord>;
            list_targets(scope_id: Option<&str>) -> StoreResult<Vec<TargetRecord>>;
            update_target(target: &TargetRecord, expected_version: u32) -> StoreResult<TargetRecord>;
            delete_target(id: &str, now: Timestamp) -> StoreResult<()>;

            create_alias(alias: &AliasRecord) -> StoreResult<AliasRecord>;
            get_alias(id: &str) -> StoreResult<AliasRecord>;
            find_alias_by_value(value: &str) -> StoreResult<AliasRecord>;
            list_aliases() -> StoreResult<Vec<AliasRecord>>;
            aliases_for_destination(destination_id: &str) -> StoreResult<Vec<AliasRecord>>;
            update_alias(alias: &AliasRecord, expected_version: u32) -> StoreResult<AliasRecord>;
            delete_alias(id: &str, now: Timestamp) -> StoreResult<()>;
            alias_changes_since(since: i64) -> StoreResult<AliasChanges>;
            aliases_page(after: Option<(i64, &str)>, limit: usize) -> StoreResult<Vec<AliasRecord>>;
            alias_listing_start() -> StoreResult<AliasListingStart>;

            create_credential_store(store: &CredentialStoreRecord) -> StoreResult<CredentialStoreRecord>;
            get_credential_store(id: &str) -> StoreResult<CredentialStoreRecord>;
            list_credential_stores(scope_id: &str) -> StoreResult<Vec<CredentialStoreRecord>>;
            delete_credential_store(id: &str) -> StoreResult<()>;
            create_credential(credential: &CredentialRecord) -> StoreResult<CredentialRecord>;
            get_credential(id: &str) -> StoreResult<CredentialRecord>;
            list_credentials(store_id: &str) -> StoreResult<Vec<CredentialRecord>>;
            delete_credential(id: &str) -> StoreResult<()>;

            create_session(session: &SessionRecord) -> StoreResult<SessionRecord>;
            get_session(id: &str) -> StoreResult<SessionRecord>;
            list_sessions(scope_id: Option<&str>) -> StoreResult<Vec<SessionRecord>>;
            session_states(session_id: &str) -> StoreResult<Vec<SessionStateRecord>>;
            session_connections(session_id: &str) -> StoreResult<Vec<ConnectionRecord>>;
            get_connection(id: &str) -> StoreResult<ConnectionRecord>;
            activate_session(session_id: &str, tofu_hash: &str, now: Timestamp) -> Result<SessionRecord, ActivateError>;
            authorize_connection(connection: &ConnectionRecord, now: Timestamp) -> Result<(ConnectionRecord, i32), ConnectionRefused>;
            connect_connection(connection_id: &str, endpoint_address: &str, endpoint_port: u32, now: Timestamp) -> StoreResult<ConnectionRecord>;
            close_connection(connection_id: &str, bytes_up: u64, bytes_down: u64, reason: &str, now: Timestamp) -> StoreResult<ConnectionRecord>;
            cancel_session(session_id: &str, expected_version: Option<u32>, reason: &str, now: Timestamp) -> StoreResult<SessionRecord>;
            sweep_sessions(now: Timestamp) -> StoreResult<Vec<String>>;

            upsert_worker(worker: &WorkerRecord) -> StoreResult<WorkerRecord>;
            get_worker_by_name(name: &str) -> StoreResult<WorkerRecord>;
            worker_heartbeat(worker_id: &str, address: &str, now: Timestamp) -> StoreResult<()>;
            live_workers(since: Timestamp) -> StoreResult<Vec<WorkerRecord>>;
        }
    };
}
pub(crate) use impl_store;

/// Writes the `#[async_trait] impl Store` whose every method calls the free function of
/// the same name in the sibling `queries` module. The impl sits in its own module so the
/// signature types resolve without the invoking module importing them.
macro_rules! delegate {
    ($store:ident; $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        mod store_impl {
            use super::$store;
            use $crate::store::{
                ActivateError, AliasChanges, AliasListingStart, AliasRecord, AccountRecord, AuthMethodRecord,
                AuthTokenRecord, ConnectionRecord, ConnectionRefused, CredentialRecord,
                CredentialStoreRecord, RoleRecord, ScopeRecord, SessionRecord,
                SessionStateRecord, StoreResult, TargetRecord, UserRecord, WorkerRecord,
            };
            use ::boundary_wire::api::Timestamp;

            #[::async_trait::async_trait]
            impl $crate::store::Store for $store {
                $(
                    async fn $name(&self, $($arg: $ty),*) -> $ret {
                        super::queries::$name(self, $($arg),*).await
                    }
                )*
            }
        }
    };
}
pub(crate) use delegate;
