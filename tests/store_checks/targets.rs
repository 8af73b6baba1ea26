//! Targets.

use super::fixtures::*;
use boundary_controller::store::*;
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
