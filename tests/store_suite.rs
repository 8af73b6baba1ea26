//! The store contract (`crates/controller/src/store/mod.rs`) checked against every backend:
//! SQLite in memory, SQLite in a file, and PostgreSQL in a throwaway cluster. Each check
//! gets a fresh empty database.

mod store_checks;
mod support;

use boundary_controller::store::{Store, open_store};
use std::sync::Arc;
use support::postgres::PostgresCluster;

/// Runs every check, each against the store `open` makes for it.
async fn run_all<F, Fut>(backend: &str, open: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    for (index, (name, check)) in store_checks::ALL.iter().enumerate() {
        eprintln!("{backend}: {name}");
        check(open(index).await).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_memory() {
    run_all("sqlite memory", |_| async {
        open_store("sqlite::memory:")
            .await
            .expect("open sqlite::memory:")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().to_path_buf();
    run_all("sqlite file", |index| {
        let url = format!("sqlite://{}/check{index}.db", base.display());
        async move {
            open_store(&url)
                .await
                .unwrap_or_else(|e| panic!("open {url}: {e}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let cluster = PostgresCluster::start().expect("start a PostgreSQL cluster");
    let cluster = &cluster;
    run_all("postgres", |index| async move {
        let url = cluster
            .create_database(&format!("check{index}"))
            .expect("create database");
        open_store(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"))
    })
    .await;
}

/// Two controllers on one PostgreSQL database: they may open (and migrate) it at the same
/// moment, and the atomic operations hold across them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_shared_by_two_controllers() {
    let cluster = PostgresCluster::start().expect("start a PostgreSQL cluster");
    let url = cluster.create_database("shared").expect("create database");
    let (first, second) = tokio::join!(open_store(&url), open_store(&url));
    let stores = [first.expect("first open"), second.expect("second open")];
    store_checks::sessions::authorize_race(&stores).await;
    store_checks::aliases::alias_feed_race(&stores).await;
    store_checks::sweep::sweep_race(&stores).await;
}

/// Two pools on one SQLite file: writers of both queue on the database lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_shared_by_two_pools() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/shared.db", dir.path().display());
    let first = open_store(&url).await.expect("first open");
    let second = open_store(&url).await.expect("second open");
    let stores = [first, second];
    store_checks::sessions::authorize_race(&stores).await;
    store_checks::aliases::alias_feed_race(&stores).await;
    store_checks::sweep::sweep_race(&stores).await;
}

/// Reopening a file database keeps its data and does not re-apply the schema.
#[tokio::test]
async fn sqlite_file_survives_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/reopen.db", dir.path().display());
    let store = open_store(&url).await.expect("first open");
    store_checks::fixtures::seed_scopes(&store).await;
    drop(store);
    let store = open_store(&url).await.expect("second open");
    assert_eq!(store.list_scopes("o_org1").await.expect("list").len(), 2);
}
