//! Choosing and opening a backend from a database URL.

use super::Store;
use super::error::{StoreError, StoreResult};
use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use std::sync::Arc;

/// The URL forms [`open_store`] accepts, for error messages and help texts.
pub const ACCEPTED_URLS: &str = "sqlite::memory:, sqlite:///absolute/path.db, \
     sqlite://relative/path.db, postgres://user:password@host:port/database \
     (or postgresql://…)";

/// Opens the store `url` names and brings its schema up to date:
/// - `sqlite::memory:`: a private in-memory database (gone when the process ends);
/// - `sqlite:///abs/path.db`, `sqlite://relative.db`: a database file, created if missing;
/// - `postgres://…`, `postgresql://…`: a PostgreSQL database (it must exist).
///
/// Errors name the URL with its password redacted.
pub async fn open_store(url: &str) -> StoreResult<Arc<dyn Store>> {
    let url = url.trim();
    let shown = redact_url(url);
    let scheme = url
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => Ok(Arc::new(SqliteStore::open(url).await?)),
        "postgres" | "postgresql" if url[scheme.len()..].starts_with("://") => {
            Ok(Arc::new(PostgresStore::open(url, &shown).await?))
        }
        _ => Err(StoreError::Database(format!(
            "unsupported database URL {shown:?}: use one of {ACCEPTED_URLS}"
        ))),
    }
}

/// `url` with the password of its user-info part, and any `password=` query parameter,
/// replaced by `***`, so it can appear in errors and logs.
pub fn redact_url(url: &str) -> String {
    let mut shown = url.to_string();
    if let Some(scheme_end) = shown.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = shown[rest_start..]
            .find(['/', '?', '#'])
            .map_or(shown.len(), |i| rest_start + i);
        if let Some(at) = shown[rest_start..authority_end].rfind('@') {
            let userinfo = &shown[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                shown.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if let Some(query_start) = shown.find('?') {
        let (base, query) = shown.split_at(query_start + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        shown = format!("{base}{}", redacted.join("&"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_user_info_password() {
        assert_eq!(
            redact_url("postgres://alice:s3cr@t@db.example:5432/boundary"),
            "postgres://alice:***@db.example:5432/boundary"
        );
        assert_eq!(
            redact_url("postgresql://alice@db.example/boundary"),
            "postgresql://alice@db.example/boundary"
        );
    }

    #[test]
    fn redacts_password_query_parameter() {
        assert_eq!(
            redact_url("postgres://db.example/b?user=alice&password=hunter2&sslmode=disable"),
            "postgres://db.example/b?user=alice&password=***&sslmode=disable"
        );
    }

    #[test]
    fn leaves_sqlite_urls_alone() {
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("sqlite:///var/lib/b.db"),
            "sqlite:///var/lib/b.db"
        );
    }

    #[tokio::test]
    async fn unknown_scheme_names_the_accepted_forms() {
        let err = match open_store("mysql://root:pw@localhost/b").await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a mysql URL must be refused"),
        };
        assert!(err.contains("sqlite::memory:"), "{err}");
        assert!(err.contains("postgres://"), "{err}");
        assert!(!err.contains("pw@"), "password leaked: {err}");
    }

    #[tokio::test]
    async fn unreachable_postgres_says_what_failed_without_the_password() {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let err = match open_store("postgres://bob:topsecret@127.0.0.1:1/b").await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("nothing listens on port 1"),
        };
        assert!(err.contains("connecting to PostgreSQL"), "{err}");
        assert!(!err.contains("topsecret"), "password leaked: {err}");
    }

    #[tokio::test]
    async fn memory_store_opens_and_answers() {
        let store = open_store("sqlite::memory:").await.expect("open");
        assert!(store.list_roles().await.expect("list").is_empty());
    }
}
