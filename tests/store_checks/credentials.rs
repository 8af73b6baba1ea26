//! Credential stores and credentials, and their removal from targets.

use super::fixtures::*;
use boundary_controller::store::*;
use std::sync::Arc;

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
