//! Aliases, their change feed, and what deleting a target does to them.

use super::fixtures::*;
use boundary_controller::store::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub async fn aliases(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    store
        .create_target(&target("ttcp_t1", "p_proj1", "t1", 1))
        .await
        .unwrap();
    let mut db = alias("alt_db", "DB.Prod.Example", Some("ttcp_t1"), 2);
    db.host_id = Some("hst_1".into());
    let stored = store.create_alias(&db).await.unwrap();
    assert!(stored.change_seq > 0, "the store assigns change_seq");
    assert_eq!(
        AliasRecord {
            change_seq: 0,
            ..stored.clone()
        },
        db
    );
    // Values are unique case-insensitively; the stored case is kept.
    let clash = alias("alt_db2", "db.prod.EXAMPLE", None, 3);
    match store.create_alias(&clash).await {
        Err(StoreError::AlreadyExists(what)) => assert!(what.contains("db.prod.EXAMPLE"), "{what}"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    let found = store.find_alias_by_value("db.PROD.example").await.unwrap();
    assert_eq!(found.id, "alt_db");
    assert_eq!(found.value, "DB.Prod.Example");
    assert!(matches!(
        store.find_alias_by_value("nope.example").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .create_alias(&alias("alt_bad", "bad.example", Some("ttcp_none"), 4))
            .await,
        Err(StoreError::Precondition(_))
    ));

    store
        .create_alias(&alias("alt_web", "web.example", Some("ttcp_t1"), 5))
        .await
        .unwrap();
    store
        .create_alias(&alias("alt_free", "free.example", None, 6))
        .await
        .unwrap();
    assert_eq!(
        ids(&store.list_aliases().await.unwrap(), |a| &a.id),
        ["alt_free", "alt_web", "alt_db"]
    );
    assert_eq!(
        ids(
            &store.aliases_for_destination("ttcp_t1").await.unwrap(),
            |a| &a.id
        ),
        ["alt_web", "alt_db"]
    );

    let mut changed = store.get_alias("alt_free").await.unwrap();
    let old_seq = changed.change_seq;
    changed.value = "Free2.example".into();
    changed.destination_id = Some("ttcp_t1".into());
    changed.updated = at(30);
    let updated = store.update_alias(&changed, 1).await.unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.value, "Free2.example");
    assert!(updated.change_seq > old_seq);
    assert_eq!(store.get_alias("alt_free").await.unwrap(), updated);
    assert!(matches!(
        store.update_alias(&changed, 1).await,
        Err(StoreError::VersionMismatch)
    ));
    let mut taken = updated.clone();
    taken.value = "WEB.example".into();
    assert!(matches!(
        store.update_alias(&taken, 2).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let mut ghost = updated.clone();
    ghost.id = "alt_ghost".into();
    assert!(matches!(
        store.update_alias(&ghost, 1).await,
        Err(StoreError::NotFound)
    ));
    // Failed writes leave no trace in the change feed.
    assert_eq!(
        store.alias_changes_since(0).await.unwrap().high_water,
        updated.change_seq
    );
}

pub async fn delete_target_clears_aliases(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    store
        .create_target(&target("ttcp_t1", "p_proj1", "t1", 1))
        .await
        .unwrap();
    store
        .create_target(&target("ttcp_t2", "p_proj1", "t2", 2))
        .await
        .unwrap();
    let mut a = alias("alt_a", "a.example", Some("ttcp_t1"), 3);
    a.host_id = Some("hst_1".into());
    store.create_alias(&a).await.unwrap();
    store
        .create_alias(&alias("alt_b", "b.example", Some("ttcp_t1"), 4))
        .await
        .unwrap();
    store
        .create_alias(&alias("alt_c", "c.example", Some("ttcp_t2"), 5))
        .await
        .unwrap();
    let mark = store.alias_changes_since(0).await.unwrap().high_water;

    store.delete_target("ttcp_t1", at(60)).await.unwrap();
    assert!(matches!(
        store.get_target("ttcp_t1").await,
        Err(StoreError::NotFound)
    ));
    for id in ["alt_a", "alt_b"] {
        let cleared = store.get_alias(id).await.unwrap();
        assert_eq!(cleared.destination_id, None, "{id}");
        assert_eq!(cleared.host_id, None, "{id}");
        assert_eq!(cleared.updated, at(60), "{id}");
        // As Boundary: the alias was not edited, so its version stays.
        assert_eq!(cleared.version, 1, "{id}");
        assert!(cleared.change_seq > mark, "{id}");
    }
    assert_eq!(
        store
            .get_alias("alt_c")
            .await
            .unwrap()
            .destination_id
            .as_deref(),
        Some("ttcp_t2")
    );
    let changes = store.alias_changes_since(mark).await.unwrap();
    let mut changed = ids(&changes.changed, |a| &a.id);
    changed.sort();
    assert_eq!(changed, ["alt_a", "alt_b"]);
    assert!(changes.deleted_ids.is_empty());
    assert!(changes.high_water > mark);
    assert!(matches!(
        store.delete_target("ttcp_t1", at(61)).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn alias_change_feed(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    let empty = store.alias_changes_since(0).await.unwrap();
    assert_eq!(
        empty,
        AliasChanges {
            changed: vec![],
            deleted_ids: vec![],
            high_water: 0
        }
    );

    store
        .create_alias(&alias("alt_1", "one.example", None, 1))
        .await
        .unwrap();
    store
        .create_alias(&alias("alt_2", "two.example", None, 2))
        .await
        .unwrap();
    let first = store.alias_changes_since(0).await.unwrap();
    assert_eq!(ids(&first.changed, |a| &a.id), ["alt_2", "alt_1"]);
    assert!(first.deleted_ids.is_empty());
    let mark1 = first.high_water;
    assert_eq!(
        mark1,
        first.changed.iter().map(|a| a.change_seq).max().unwrap()
    );

    // Nothing happened since the mark: nothing is reported.
    let quiet = store.alias_changes_since(mark1).await.unwrap();
    assert!(quiet.changed.is_empty() && quiet.deleted_ids.is_empty());
    assert_eq!(quiet.high_water, mark1);

    let mut one = store.get_alias("alt_1").await.unwrap();
    one.description = "changed".into();
    store.update_alias(&one, 1).await.unwrap();
    store.delete_alias("alt_2", at(50)).await.unwrap();
    assert!(matches!(
        store.get_alias("alt_2").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_alias("alt_2", at(51)).await,
        Err(StoreError::NotFound)
    ));

    let second = store.alias_changes_since(mark1).await.unwrap();
    assert_eq!(ids(&second.changed, |a| &a.id), ["alt_1"]);
    assert_eq!(second.changed[0].description, "changed");
    assert_eq!(second.deleted_ids, ["alt_2"]);
    assert!(second.high_water > mark1);

    let third = store.alias_changes_since(second.high_water).await.unwrap();
    assert!(third.changed.is_empty() && third.deleted_ids.is_empty());
    // From zero: every live alias and every tombstone.
    let all = store.alias_changes_since(0).await.unwrap();
    assert_eq!(ids(&all.changed, |a| &a.id), ["alt_1"]);
    assert_eq!(all.deleted_ids, ["alt_2"]);
    assert_eq!(all.high_water, second.high_water);
}

/// Writers create and update aliases while a reader follows the feed incrementally:
/// once a read reports high-water mark `h`, every write numbered `<= h` has been seen.
pub async fn alias_feed_concurrently(store: Arc<dyn Store>) {
    alias_feed_race(&[store]).await;
}

/// [`alias_feed_concurrently`] with writers and reader spread over `stores` (several
/// controllers sharing one database).
pub async fn alias_feed_race(stores: &[Arc<dyn Store>]) {
    const WRITERS: usize = 4;
    const ALIASES_PER_WRITER: usize = 8;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = stores[stores.len() - 1].clone();
        let done = done.clone();
        tokio::spawn(async move {
            // (high water, alias id → change_seq returned) per read.
            let mut reads: Vec<(i64, BTreeMap<String, i64>)> = Vec::new();
            let mut mark = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let changes = store.alias_changes_since(mark).await.expect("read feed");
                assert!(
                    changes.high_water >= mark,
                    "the high-water mark never goes back"
                );
                for a in &changes.changed {
                    assert!(
                        a.change_seq > mark,
                        "{} at {} reported after mark {mark}",
                        a.id,
                        a.change_seq
                    );
                }
                mark = changes.high_water;
                reads.push((
                    mark,
                    changes
                        .changed
                        .iter()
                        .map(|a| (a.id.clone(), a.change_seq))
                        .collect(),
                ));
                if finished {
                    return reads;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = stores[w % stores.len()].clone();
            tokio::spawn(async move {
                let mut written = Vec::new();
                for i in 0..ALIASES_PER_WRITER {
                    let id = format!("alt_w{w}n{i}");
                    let created = store
                        .create_alias(&alias(&id, &format!("w{w}-n{i}.example"), None, 1))
                        .await
                        .expect("create alias");
                    written.push((id.clone(), created.change_seq));
                    let mut changed = created.clone();
                    changed.description = "updated".into();
                    let updated = store
                        .update_alias(&changed, created.version)
                        .await
                        .expect("update alias");
                    written.push((id, updated.change_seq));
                }
                written
            })
        })
        .collect();
    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await.expect("writer"));
    }
    done.store(true, Ordering::SeqCst);
    let reads = reader.await.expect("reader");

    let mut seqs: Vec<i64> = written.iter().map(|(_, seq)| *seq).collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(
        seqs.len(),
        written.len(),
        "every write gets its own change_seq"
    );
    for (id, seq) in &written {
        let covering = reads
            .iter()
            .position(|(high_water, _)| high_water >= seq)
            .expect("the last read covers every write");
        let seen = reads[..=covering]
            .iter()
            .any(|(_, changed)| changed.get(id).is_some_and(|s| s >= seq));
        assert!(
            seen,
            "write {id}@{seq} missing from the reads up to high water {}",
            reads[covering].0
        );
    }
}
