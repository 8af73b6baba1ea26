//! Targets, aliases and their change feed, credential stores and credentials.

use super::fixtures::*;
use boundary::controller::store::*;
use std::sync::Arc;

pub async fn targets(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    let mut web = target("ttcp_web", "p_proj1", "web", 1);
    web.default_port = None;
    web.default_client_port = Some(8080);
    web.session_connection_limit = 5;
    web.credential_source_ids = vec!["credup_b".into(), "credup_a".into()];
    assert_eq!(store.create_target(&web).await.unwrap(), web);
    store
        .create_target(&target("ttcp_db", "p_proj1", "db", 2))
        .await
        .unwrap();
    // Names are unique per project when not empty.
    let clash = target("ttcp_web2", "p_proj1", "web", 3);
    match store.create_target(&clash).await {
        Err(StoreError::AlreadyExists(what)) => assert!(what.contains("web"), "{what}"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    store
        .create_target(&target("ttcp_web3", "p_proj2", "web", 4))
        .await
        .unwrap();
    store
        .create_target(&target("ttcp_anon1", "p_proj1", "", 5))
        .await
        .unwrap();
    store
        .create_target(&target("ttcp_anon2", "p_proj1", "", 6))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_target(&target("ttcp_x", "p_missing", "x", 7))
            .await,
        Err(StoreError::Precondition(_))
    ));

    assert_eq!(store.get_target("ttcp_web").await.unwrap(), web);
    assert!(matches!(
        store.get_target("ttcp_none").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .find_target_by_name("p_proj2", "web")
            .await
            .unwrap()
            .id,
        "ttcp_web3"
    );
    assert!(matches!(
        store.find_target_by_name("p_proj2", "db").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        ids(&store.list_targets(Some("p_proj1")).await.unwrap(), |t| &t
            .id),
        ["ttcp_anon2", "ttcp_anon1", "ttcp_db", "ttcp_web"]
    );
    assert_eq!(store.list_targets(None).await.unwrap().len(), 5);

    let mut changed = web.clone();
    changed.name = "web-new".into();
    changed.default_port = Some(443);
    changed.default_client_port = None;
    changed.credential_source_ids = vec!["credup_a".into()];
    changed.worker_filter = "\"prod\" in \"/tags/env\"".into();
    changed.updated = at(40);
    let stored = store.update_target(&changed, 1).await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.default_port, Some(443));
    assert_eq!(stored.default_client_port, None);
    assert_eq!(stored.credential_source_ids, ["credup_a"]);
    assert_eq!(store.get_target("ttcp_web").await.unwrap(), stored);
    assert!(matches!(
        store.update_target(&changed, 1).await,
        Err(StoreError::VersionMismatch)
    ));
    let mut rename_clash = stored.clone();
    rename_clash.name = "db".into();
    assert!(matches!(
        store.update_target(&rename_clash, 2).await,
        Err(StoreError::AlreadyExists(_))
    ));
}

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

pub async fn credentials(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    let cred_store = |id: &str, created: i64| CredentialStoreRecord {
        id: id.into(),
        scope_id: "p_proj1".into(),
        name: id.into(),
        description: String::new(),
        created: at(created),
        updated: at(created),
        version: 1,
    };
    let credential = |id: &str, store_id: &str, created: i64| CredentialRecord {
        id: id.into(),
        store_id: store_id.into(),
        kind: "username_password".into(),
        name: id.into(),
        description: String::new(),
        username: "admin".into(),
        encrypted_secret: vec![0, 159, 146, 150, 255, 1],
        secret_hmac: format!("{id}-hmac"),
        created: at(created),
        updated: at(created),
        version: 1,
    };
    store
        .create_credential_store(&cred_store("csst_1", 1))
        .await
        .unwrap();
    store
        .create_credential_store(&cred_store("csst_2", 2))
        .await
        .unwrap();
    assert_eq!(
        store.get_credential_store("csst_1").await.unwrap(),
        cred_store("csst_1", 1)
    );
    assert_eq!(
        ids(
            &store.list_credential_stores("p_proj1").await.unwrap(),
            |s| &s.id
        ),
        ["csst_2", "csst_1"]
    );
    let c1 = credential("credup_1", "csst_1", 3);
    assert_eq!(store.create_credential(&c1).await.unwrap(), c1);
    store
        .create_credential(&credential("credup_2", "csst_1", 4))
        .await
        .unwrap();
    store
        .create_credential(&credential("credup_3", "csst_2", 5))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_credential(&credential("credup_x", "csst_none", 6))
            .await,
        Err(StoreError::Precondition(_))
    ));
    assert_eq!(store.get_credential("credup_1").await.unwrap(), c1);
    assert_eq!(
        ids(&store.list_credentials("csst_1").await.unwrap(), |c| &c.id),
        ["credup_2", "credup_1"]
    );

    let mut t = target("ttcp_t1", "p_proj1", "t1", 7);
    t.credential_source_ids = vec!["credup_3".into(), "credup_1".into(), "credup_2".into()];
    store.create_target(&t).await.unwrap();
    let mut other = target("ttcp_t2", "p_proj1", "t2", 8);
    other.credential_source_ids = vec!["credup_3".into()];
    store.create_target(&other).await.unwrap();

    store.delete_credential("credup_1").await.unwrap();
    assert!(matches!(
        store.get_credential("credup_1").await,
        Err(StoreError::NotFound)
    ));
    let after = store.get_target("ttcp_t1").await.unwrap();
    assert_eq!(after.credential_source_ids, ["credup_3", "credup_2"]);
    assert_eq!(
        after.version, 2,
        "a changed source list moves the target's version"
    );
    assert_eq!(store.get_target("ttcp_t2").await.unwrap().version, 1);
    assert!(matches!(
        store.delete_credential("credup_1").await,
        Err(StoreError::NotFound)
    ));

    // Deleting a store deletes its credentials and their target references.
    store.delete_credential_store("csst_2").await.unwrap();
    assert!(matches!(
        store.get_credential("credup_3").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .get_target("ttcp_t1")
            .await
            .unwrap()
            .credential_source_ids,
        ["credup_2"]
    );
    assert!(
        store
            .get_target("ttcp_t2")
            .await
            .unwrap()
            .credential_source_ids
            .is_empty()
    );
    assert!(matches!(
        store.delete_credential_store("csst_2").await,
        Err(StoreError::NotFound)
    ));
}
