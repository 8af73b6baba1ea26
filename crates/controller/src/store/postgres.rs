//! The PostgreSQL backend, for several controllers sharing state.

use super::error::{StoreError, StoreResult};
use super::schema;
use super::sql::impl_store;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

const POOL_SIZE: u32 = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…` or `postgresql://…`) and applies the schema
    /// (the migrator holds an advisory lock, so controllers starting together are safe).
    /// `shown_url` is `url` with any password redacted, for errors.
    pub async fn open(url: &str, shown_url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Database(format!("invalid PostgreSQL URL {shown_url:?}: {e}"))
        })?;
        // One direct connection first: the pool would retry a refused connection until
        // its acquire timeout and then report only that it timed out.
        let probe = PgConnection::connect_with(&options).await.map_err(|e| {
            StoreError::Database(format!("connecting to PostgreSQL at {shown_url:?}: {e}"))
        })?;
        probe.close().await.ok();
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Database(format!("connecting to PostgreSQL at {shown_url:?}: {e}"))
            })?;
        schema::migrator().run(&pool).await.map_err(|e| {
            StoreError::Database(format!(
                "applying the schema to PostgreSQL database {shown_url:?}: {e}"
            ))
        })?;
        Ok(PostgresStore { pool })
    }

    /// A write transaction at READ COMMITTED: the statements that must not race are
    /// single conditional `UPDATE`s, which re-check their condition on the locked row.
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A read transaction that sees one snapshot for all its statements.
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
    }
}

impl_store!(PostgresStore, sqlx::Postgres);
