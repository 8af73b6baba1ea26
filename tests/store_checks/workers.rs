//! Worker registration and liveness.

use super::fixtures::*;
use boundary_controller::store::*;
use std::sync::Arc;

pub async fn workers(store: Arc<dyn Store>) {
    let w1 = store
        .upsert_worker(&worker("w_1", "alpha", 10))
        .await
        .unwrap();
    assert_eq!(w1, worker("w_1", "alpha", 10));
    store
        .upsert_worker(&worker("w_2", "beta", 20))
        .await
        .unwrap();
    // Same name, new registration: the existing worker (and its id) is updated.
    let mut again = worker("w_other", "alpha", 30);
    again.address = "alpha2.example:9202".into();
    again.description = "moved".into();
    let updated = store.upsert_worker(&again).await.unwrap();
    assert_eq!(updated.id, "w_1");
    assert_eq!(updated.address, "alpha2.example:9202");
    assert_eq!(updated.description, "moved");
    assert_eq!(updated.last_heartbeat, at(30));
    assert_eq!(updated.created, at(10));
    // By name: the record a worker's credential names.
    assert_eq!(store.get_worker_by_name("alpha").await.unwrap(), updated);
    assert!(matches!(
        store.get_worker_by_name("Alpha").await,
        Err(StoreError::NotFound)
    ));
    // Another name under an existing id is a clash.
    assert!(matches!(
        store.upsert_worker(&worker("w_2", "gamma", 31)).await,
        Err(StoreError::AlreadyExists(_))
    ));

    store
        .worker_heartbeat("w_2", "beta.example:9300", at(40))
        .await
        .unwrap();
    assert!(matches!(
        store.worker_heartbeat("w_none", "x:1", at(40)).await,
        Err(StoreError::NotFound)
    ));
    let live = store.live_workers(at(30)).await.unwrap();
    assert_eq!(ids(&live, |w| &w.id), ["w_2", "w_1"]);
    assert_eq!(live[0].address, "beta.example:9300");
    assert_eq!(
        ids(&store.live_workers(at(35)).await.unwrap(), |w| &w.id),
        ["w_2"]
    );
    assert!(store.live_workers(at(41)).await.unwrap().is_empty());
}
