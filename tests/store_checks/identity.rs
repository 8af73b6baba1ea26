//! Scopes, auth methods, accounts, users, auth tokens, roles.

use super::fixtures::*;
use boundary_controller::store::*;
use std::sync::Arc;

pub async fn scopes_crud(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    let org = store.get_scope("o_org1").await.unwrap();
    assert_eq!(org, scope("o_org1", Some("global"), ScopeKind::Org, 1));
    assert!(matches!(
        store.get_scope("o_missing").await,
        Err(StoreError::NotFound)
    ));

    // Children only, newest first; equal times fall back to id descending.
    let mut same_time = scope("p_proj0", Some("o_org1"), ScopeKind::Project, 3);
    same_time.name = "zero".into();
    store.create_scope(&same_time).await.unwrap();
    let children = store.list_scopes("o_org1").await.unwrap();
    assert_eq!(ids(&children, |s| &s.id), ["p_proj2", "p_proj0", "p_proj1"]);
    assert_eq!(
        ids(&store.list_scopes("global").await.unwrap(), |s| &s.id),
        ["o_org1"]
    );

    let mut changed = org.clone();
    changed.name = "renamed".into();
    changed.description = "desc".into();
    changed.primary_auth_method_id = Some("ampw_1234567890".into());
    changed.updated = at(50);
    let stored = store.update_scope(&changed, 1).await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.name, "renamed");
    assert_eq!(
        stored.primary_auth_method_id.as_deref(),
        Some("ampw_1234567890")
    );
    assert_eq!(stored.updated, at(50));
    assert_eq!(stored.created, org.created);
    assert_eq!(store.get_scope("o_org1").await.unwrap(), stored);

    assert!(matches!(
        store.update_scope(&changed, 1).await,
        Err(StoreError::VersionMismatch)
    ));
    let mut ghost = changed.clone();
    ghost.id = "o_missing".into();
    assert!(matches!(
        store.update_scope(&ghost, 1).await,
        Err(StoreError::NotFound)
    ));

    assert!(matches!(
        store.create_scope(&org).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let orphan = scope("p_orphan", Some("o_missing"), ScopeKind::Project, 9);
    assert!(matches!(
        store.create_scope(&orphan).await,
        Err(StoreError::Precondition(_))
    ));
}

pub async fn accounts_and_users(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    store
        .create_auth_method(&auth_method("ampw_1", 1))
        .await
        .unwrap();
    store
        .create_auth_method(&auth_method("ampw_2", 2))
        .await
        .unwrap();
    assert_eq!(
        store.get_auth_method("ampw_1").await.unwrap(),
        auth_method("ampw_1", 1)
    );
    assert_eq!(
        ids(&store.list_auth_methods("global").await.unwrap(), |m| &m.id),
        ["ampw_2", "ampw_1"]
    );
    assert!(matches!(
        store.get_auth_method("ampw_x").await,
        Err(StoreError::NotFound)
    ));

    let alice = account("acctpw_alice", "ampw_1", "Alice", 3);
    assert_eq!(store.create_account(&alice).await.unwrap(), alice);
    // Login names are unique per auth method, case-insensitively.
    let clash = account("acctpw_other", "ampw_1", "aLiCe", 4);
    match store.create_account(&clash).await {
        Err(StoreError::AlreadyExists(what)) => assert!(what.contains("aLiCe"), "{what}"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    store
        .create_account(&account("acctpw_alice2", "ampw_2", "alice", 4))
        .await
        .unwrap();
    store
        .create_account(&account("acctpw_bob", "ampw_1", "bob", 5))
        .await
        .unwrap();
    assert_eq!(
        store.find_account("ampw_1", "ALICE").await.unwrap().id,
        "acctpw_alice"
    );
    assert_eq!(
        store.find_account("ampw_2", "Alice").await.unwrap().id,
        "acctpw_alice2"
    );
    assert!(matches!(
        store.find_account("ampw_1", "carol").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        ids(&store.list_accounts("ampw_1").await.unwrap(), |a| &a.id),
        ["acctpw_bob", "acctpw_alice"]
    );
    assert_eq!(
        store.get_account("acctpw_alice").await.unwrap().login_name,
        "Alice"
    );
    let dangling = account("acctpw_x", "ampw_missing", "x", 6);
    assert!(matches!(
        store.create_account(&dangling).await,
        Err(StoreError::Precondition(_))
    ));

    store.create_user(&user("u_alice", 7)).await.unwrap();
    store.create_user(&user("u_bob", 8)).await.unwrap();
    assert_eq!(store.get_user("u_alice").await.unwrap(), user("u_alice", 7));
    assert_eq!(
        ids(&store.list_users("global").await.unwrap(), |u| &u.id),
        ["u_bob", "u_alice"]
    );
    assert!(matches!(
        store.create_user(&user("u_bob", 9)).await,
        Err(StoreError::AlreadyExists(_))
    ));

    // Linking: version checked and bumped, accounts in creation order.
    let linked = ["acctpw_alice2".to_string(), "acctpw_alice".to_string()];
    let updated = store
        .add_user_accounts("u_alice", 1, &linked, at(20))
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.updated, at(20));
    assert_eq!(
        store.user_account_ids("u_alice").await.unwrap(),
        ["acctpw_alice", "acctpw_alice2"]
    );
    assert_eq!(
        store
            .get_account("acctpw_alice")
            .await
            .unwrap()
            .user_id
            .as_deref(),
        Some("u_alice")
    );
    // Re-linking one's own account is fine.
    let again = store
        .add_user_accounts("u_alice", 2, &linked[..1], at(21))
        .await
        .unwrap();
    assert_eq!(again.version, 3);

    let stale = store
        .add_user_accounts("u_bob", 7, &["acctpw_bob".to_string()], at(22))
        .await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch)));
    assert!(store.user_account_ids("u_bob").await.unwrap().is_empty());

    // An account of another user: refused, and nothing of the call sticks.
    let taken = ["acctpw_bob".to_string(), "acctpw_alice".to_string()];
    match store.add_user_accounts("u_bob", 1, &taken, at(23)).await {
        Err(StoreError::Precondition(why)) => assert!(why.contains("acctpw_alice"), "{why}"),
        other => panic!("expected Precondition, got {other:?}"),
    }
    assert_eq!(store.get_user("u_bob").await.unwrap().version, 1);
    assert!(store.user_account_ids("u_bob").await.unwrap().is_empty());

    let unknown = store
        .add_user_accounts("u_bob", 1, &["acctpw_none".to_string()], at(24))
        .await;
    assert!(matches!(unknown, Err(StoreError::Precondition(_))));
    let nobody = store.add_user_accounts("u_nobody", 1, &[], at(24)).await;
    assert!(matches!(nobody, Err(StoreError::NotFound)));
}

pub async fn auth_tokens(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    store
        .create_auth_method(&auth_method("ampw_1", 1))
        .await
        .unwrap();
    store.create_user(&user("u_alice", 2)).await.unwrap();
    store
        .create_account(&account("acctpw_alice", "ampw_1", "alice", 3))
        .await
        .unwrap();
    let token = |id: &str, created: i64| AuthTokenRecord {
        id: id.into(),
        secret_hash: format!("{id}-hash"),
        scope_id: "global".into(),
        user_id: "u_alice".into(),
        auth_method_id: "ampw_1".into(),
        account_id: "acctpw_alice".into(),
        created: at(created),
        updated: at(created),
        approximate_last_used: at(created),
        expiration: at(created + 3600),
    };
    let first = token("at_1111111111", 10);
    assert_eq!(store.create_auth_token(&first).await.unwrap(), first);
    store
        .create_auth_token(&token("at_2222222222", 11))
        .await
        .unwrap();
    assert!(matches!(
        store.create_auth_token(&first).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let mut orphan = token("at_3333333333", 12);
    orphan.user_id = "u_nobody".into();
    assert!(matches!(
        store.create_auth_token(&orphan).await,
        Err(StoreError::Precondition(_))
    ));

    assert_eq!(
        ids(&store.list_auth_tokens().await.unwrap(), |t| &t.id),
        ["at_2222222222", "at_1111111111"]
    );
    store
        .touch_auth_token("at_1111111111", at(99))
        .await
        .unwrap();
    let touched = store.get_auth_token("at_1111111111").await.unwrap();
    assert_eq!(touched.approximate_last_used, at(99));
    assert_eq!(touched.updated, first.updated);
    assert_eq!(touched.secret_hash, first.secret_hash);
    assert!(matches!(
        store.touch_auth_token("at_none", at(1)).await,
        Err(StoreError::NotFound)
    ));

    store.delete_auth_token("at_1111111111").await.unwrap();
    assert!(matches!(
        store.get_auth_token("at_1111111111").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_auth_token("at_1111111111").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn roles(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    let role = |id: &str, scope_id: &str, created: i64| RoleRecord {
        id: id.into(),
        scope_id: scope_id.into(),
        name: format!("{id} name"),
        description: String::new(),
        grant_scope_ids: vec!["this".into(), "descendants".into()],
        grant_strings: vec![
            "type=target;ids=*;actions=authorize-session".into(),
            "ids={{.User.Id}};actions=read".into(),
        ],
        principal_ids: vec!["u_bob".into(), "u_alice".into(), "u_auth".into()],
        created: at(created),
        updated: at(created),
        version: 1,
    };
    let admin = role("r_admin", "global", 1);
    assert_eq!(store.create_role(&admin).await.unwrap(), admin);
    store
        .create_role(&role("r_ops", "o_org1", 2))
        .await
        .unwrap();
    assert!(matches!(
        store.create_role(&admin).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store.create_role(&role("r_x", "o_missing", 3)).await,
        Err(StoreError::Precondition(_))
    ));
    assert_eq!(store.get_role("r_admin").await.unwrap(), admin);
    assert_eq!(
        ids(&store.list_roles().await.unwrap(), |r| &r.id),
        ["r_ops", "r_admin"]
    );

    let mut changed = admin.clone();
    changed.grant_strings = vec!["ids=*;type=*;actions=*".into()];
    changed.principal_ids = vec!["u_anon".into(), "u_carol".into()];
    changed.grant_scope_ids = vec!["p_proj1".into()];
    changed.updated = at(30);
    let stored = store.update_role(&changed, 1).await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.principal_ids, ["u_anon", "u_carol"]);
    assert_eq!(stored.grant_scope_ids, ["p_proj1"]);
    assert_eq!(store.get_role("r_admin").await.unwrap(), stored);
    assert!(matches!(
        store.update_role(&changed, 1).await,
        Err(StoreError::VersionMismatch)
    ));

    store.delete_role("r_admin").await.unwrap();
    assert!(matches!(
        store.get_role("r_admin").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_role("r_admin").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_role(&changed, 2).await,
        Err(StoreError::NotFound)
    ));
}
