//! Turning database rows into records, the same code for both backends.
//!
//! Both backends store the same column types (TEXT, BIGINT, BYTEA), so a row only has to
//! answer five primitive reads ([`RowRead`]); everything else (times, `u32`s, JSON lists,
//! whole records) is built on those here. Columns are read by name, so `SELECT *` and
//! `RETURNING *` work whatever the column order.

use super::error::{StoreError, StoreResult};
use super::records::*;
use boundary_wire::api::Timestamp;
use boundary_wire::api::time_format::{from_micros, to_micros};
use sqlx::Row;

/// The primitive column reads every backend row provides.
pub(crate) trait RowRead {
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;

    fn time(&self, col: &str) -> StoreResult<Timestamp> {
        Ok(from_micros(self.int(col)?))
    }

    fn opt_time(&self, col: &str) -> StoreResult<Option<Timestamp>> {
        Ok(self.opt_int(col)?.map(from_micros))
    }

    fn u32(&self, col: &str) -> StoreResult<u32> {
        let v = self.int(col)?;
        u32::try_from(v).map_err(|_| corrupt(col, v))
    }

    fn opt_u32(&self, col: &str) -> StoreResult<Option<u32>> {
        match self.opt_int(col)? {
            None => Ok(None),
            Some(v) => u32::try_from(v).map(Some).map_err(|_| corrupt(col, v)),
        }
    }

    fn i32(&self, col: &str) -> StoreResult<i32> {
        let v = self.int(col)?;
        i32::try_from(v).map_err(|_| corrupt(col, v))
    }

    fn u64(&self, col: &str) -> StoreResult<u64> {
        let v = self.int(col)?;
        u64::try_from(v).map_err(|_| corrupt(col, v))
    }

    fn list(&self, col: &str) -> StoreResult<Vec<String>> {
        let raw = self.text(col)?;
        serde_json::from_str(&raw).map_err(|e| {
            StoreError::Database(format!("column {col} is not a JSON string list: {e}"))
        })
    }
}

fn corrupt(col: &str, v: i64) -> StoreError {
    StoreError::Database(format!("column {col} holds out-of-range value {v}"))
}

fn read_error(col: &str, e: sqlx::Error) -> StoreError {
    StoreError::Database(format!("reading column {col}: {e}"))
}

macro_rules! impl_row_read {
    ($row:ty) => {
        impl RowRead for $row {
            fn text(&self, col: &str) -> StoreResult<String> {
                self.try_get(col).map_err(|e| read_error(col, e))
            }
            fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
                self.try_get(col).map_err(|e| read_error(col, e))
            }
            fn int(&self, col: &str) -> StoreResult<i64> {
                self.try_get(col).map_err(|e| read_error(col, e))
            }
            fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
                self.try_get(col).map_err(|e| read_error(col, e))
            }
            fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
                self.try_get(col).map_err(|e| read_error(col, e))
            }
        }
    };
}

impl_row_read!(sqlx::sqlite::SqliteRow);
impl_row_read!(sqlx::postgres::PgRow);

// ---- values going in ----

/// A time as the stores keep it.
pub(crate) fn micros(t: Timestamp) -> i64 {
    to_micros(t)
}

/// A list as the stores keep it (JSON array, order kept).
pub(crate) fn json_list(list: &[String]) -> StoreResult<String> {
    serde_json::to_string(list)
        .map_err(|e| StoreError::Database(format!("encoding a string list: {e}")))
}

/// Byte counters are `u64` in records and BIGINT in the stores; nothing real exceeds
/// `i64::MAX`, so clamp rather than fail.
pub(crate) fn clamp_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

// ---- records coming out ----

pub(crate) fn scope(r: &impl RowRead) -> StoreResult<ScopeRecord> {
    let kind = r.text("kind")?;
    Ok(ScopeRecord {
        id: r.text("id")?,
        parent_id: r.opt_text("parent_id")?,
        kind: ScopeKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unknown scope kind {kind:?}")))?,
        name: r.text("name")?,
        description: r.text("description")?,
        primary_auth_method_id: r.opt_text("primary_auth_method_id")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn auth_method(r: &impl RowRead) -> StoreResult<AuthMethodRecord> {
    Ok(AuthMethodRecord {
        id: r.text("id")?,
        scope_id: r.text("scope_id")?,
        name: r.text("name")?,
        description: r.text("description")?,
        min_login_name_length: r.u32("min_login_name_length")?,
        min_password_length: r.u32("min_password_length")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn account(r: &impl RowRead) -> StoreResult<AccountRecord> {
    Ok(AccountRecord {
        id: r.text("id")?,
        auth_method_id: r.text("auth_method_id")?,
        scope_id: r.text("scope_id")?,
        login_name: r.text("login_name")?,
        password_hash: r.text("password_hash")?,
        user_id: r.opt_text("user_id")?,
        name: r.text("name")?,
        description: r.text("description")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn user(r: &impl RowRead) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: r.text("id")?,
        scope_id: r.text("scope_id")?,
        name: r.text("name")?,
        description: r.text("description")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn auth_token(r: &impl RowRead) -> StoreResult<AuthTokenRecord> {
    Ok(AuthTokenRecord {
        id: r.text("id")?,
        secret_hash: r.text("secret_hash")?,
        scope_id: r.text("scope_id")?,
        user_id: r.text("user_id")?,
        auth_method_id: r.text("auth_method_id")?,
        account_id: r.text("account_id")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        approximate_last_used: r.time("approximate_last_used")?,
        expiration: r.time("expiration")?,
    })
}

pub(crate) fn role(r: &impl RowRead) -> StoreResult<RoleRecord> {
    Ok(RoleRecord {
        id: r.text("id")?,
        scope_id: r.text("scope_id")?,
        name: r.text("name")?,
        description: r.text("description")?,
        grant_scope_ids: r.list("grant_scope_ids")?,
        grant_strings: r.list("grant_strings")?,
        principal_ids: r.list("principal_ids")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn target(r: &impl RowRead) -> StoreResult<TargetRecord> {
    Ok(TargetRecord {
        id: r.text("id")?,
        scope_id: r.text("scope_id")?,
        kind: r.text("kind")?,
        name: r.text("name")?,
        description: r.text("description")?,
        address: r.text("address")?,
        default_port: r.opt_u32("default_port")?,
        default_client_port: r.opt_u32("default_client_port")?,
        session_max_seconds: r.u32("session_max_seconds")?,
        session_connection_limit: r.i32("session_connection_limit")?,
        worker_filter: r.text("worker_filter")?,
        credential_source_ids: r.list("credential_source_ids")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn alias(r: &impl RowRead) -> StoreResult<AliasRecord> {
    Ok(AliasRecord {
        id: r.text("id")?,
        scope_id: r.text("scope_id")?,
        value: r.text("value")?,
        destination_id: r.opt_text("destination_id")?,
        host_id: r.opt_text("host_id")?,
        name: r.text("name")?,
        description: r.text("description")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
        change_seq: r.int("change_seq")?,
    })
}

pub(crate) fn credential_store(r: &impl RowRead) -> StoreResult<CredentialStoreRecord> {
    Ok(CredentialStoreRecord {
        id: r.text("id")?,
        scope_id: r.text("scope_id")?,
        name: r.text("name")?,
        description: r.text("description")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn credential(r: &impl RowRead) -> StoreResult<CredentialRecord> {
    Ok(CredentialRecord {
        id: r.text("id")?,
        store_id: r.text("store_id")?,
        kind: r.text("kind")?,
        name: r.text("name")?,
        description: r.text("description")?,
        username: r.text("username")?,
        encrypted_secret: r.bytes("encrypted_secret")?,
        secret_hmac: r.text("secret_hmac")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn session(r: &impl RowRead) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id: r.text("id")?,
        target_id: r.text("target_id")?,
        scope_id: r.text("scope_id")?,
        user_id: r.text("user_id")?,
        auth_token_id: r.text("auth_token_id")?,
        host_id: r.text("host_id")?,
        host_set_id: r.text("host_set_id")?,
        kind: r.text("kind")?,
        endpoint: r.text("endpoint")?,
        certificate: r.bytes("certificate")?,
        encrypted_private_key: r.bytes("encrypted_private_key")?,
        tofu_hash: r.opt_text("tofu_hash")?,
        offered_worker_ids: r.list("offered_worker_ids")?,
        connection_limit: r.i32("connection_limit")?,
        connections_used: r.i32("connections_used")?,
        expiration: r.time("expiration")?,
        status: r.text("status")?,
        termination_reason: r.opt_text("termination_reason")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
        version: r.u32("version")?,
    })
}

pub(crate) fn session_state(r: &impl RowRead) -> StoreResult<SessionStateRecord> {
    Ok(SessionStateRecord {
        status: r.text("status")?,
        start: r.time("start_time")?,
        end: r.opt_time("end_time")?,
    })
}

pub(crate) fn connection(r: &impl RowRead) -> StoreResult<ConnectionRecord> {
    Ok(ConnectionRecord {
        id: r.text("id")?,
        session_id: r.text("session_id")?,
        worker_id: r.text("worker_id")?,
        client_tcp_address: r.text("client_tcp_address")?,
        client_tcp_port: r.u32("client_tcp_port")?,
        endpoint_tcp_address: r.text("endpoint_tcp_address")?,
        endpoint_tcp_port: r.u32("endpoint_tcp_port")?,
        bytes_up: r.u64("bytes_up")?,
        bytes_down: r.u64("bytes_down")?,
        status: r.text("status")?,
        closed_reason: r.opt_text("closed_reason")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
    })
}

pub(crate) fn worker(r: &impl RowRead) -> StoreResult<WorkerRecord> {
    Ok(WorkerRecord {
        id: r.text("id")?,
        name: r.text("name")?,
        address: r.text("address")?,
        description: r.text("description")?,
        last_heartbeat: r.time("last_heartbeat")?,
        created: r.time("created")?,
        updated: r.time("updated")?,
    })
}

/// Applies a row mapper to every row.
pub(crate) fn all<R, T>(rows: &[R], f: impl Fn(&R) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}
