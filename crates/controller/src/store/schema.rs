//! The schema, embedded in the binary and applied at open.
//!
//! Built with [`Migrator::with_migrations`] over `include_str!` rather than the
//! `sqlx::migrate!` macro: the macro needs sqlx's `macros` feature, which compiles a second
//! copy of sqlx with both drivers (and the bundled SQLite C library) for the host only
//! to read this directory at build time. The result is the same: versioned migrations,
//! checksummed, recorded in `_sqlx_migrations`, each applied in a transaction (on
//! PostgreSQL under an advisory lock, so controllers starting together are safe).
//!
//! One schema serves both backends (see the header of `migrations/0001_store.sql`). A new
//! migration is a new file there plus a line here; applied files must never change.

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, sql)` of every migration, oldest first.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "store",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0001_store.sql"
        )),
    ),
    (
        2,
        "session workers",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0002_session_workers.sql"
        )),
    ),
    (
        3,
        "alias listing order",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0003_alias_listing_order.sql"
        )),
    ),
];

pub(crate) fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}
