//! The SQLite backend: the embedded default (`sqlite::memory:` or a file).
//!
//! A database file belongs to one controller process: writers of several pools on it
//! queue correctly on the database lock, but SQLite has no migration lock, so two
//! processes must not open a new file at the same moment. Several controllers share
//! state through PostgreSQL.

use super::error::{StoreError, StoreResult};
use super::schema;
use super::sql::impl_store;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// How long a writer waits for another connection's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections to a database file: readers run in parallel under WAL; writers queue on
/// the database lock (see `begin_write`).
const FILE_POOL_SIZE: u32 = 8;

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens `url` (`sqlite::memory:`, `sqlite:///abs/path.db`, `sqlite://relative.db`),
    /// creating the file if missing, and applies the schema.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid SQLite URL {url:?}: {e}")))?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = if is_memory(url) {
            // Every connection to `:memory:` is a database of its own: keep exactly one,
            // forever, so all callers see the same data.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .max_connections(FILE_POOL_SIZE)
                .connect_with(
                    options
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal),
                )
                .await
        }
        .map_err(|e| StoreError::Database(format!("opening SQLite database {url:?}: {e}")))?;
        schema::migrator().run(&pool).await.map_err(|e| {
            StoreError::Database(format!(
                "applying the schema to SQLite database {url:?}: {e}"
            ))
        })?;
        Ok(SqliteStore { pool })
    }

    /// A write transaction. `BEGIN IMMEDIATE` takes the database's write lock up front
    /// (waiting up to the busy timeout), so two transactions never both read and then
    /// fail to upgrade with `SQLITE_BUSY`.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// A read transaction; under WAL it reads one snapshot.
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin().await
    }
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl_store!(SqliteStore, sqlx::Sqlite);
