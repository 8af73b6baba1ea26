//! The library client against a real `boundary dev`: pagination followed to the end,
//! resolvable aliases (full and incremental listing, as the client agent uses them),
//! session authorization by alias, and error mapping.

mod support;

use boundary_net::client::{ControllerClient, SessionTarget};
use boundary_wire::api::ListQuery;
use boundary_wire::api::alias::CreateAliasRequest;
use boundary_wire::api::target::{CreateTargetRequest, TcpTargetAttributes};
use support::dev::{Dev, PROJECT_ID};
use support::names::unique_alias;
use support::runtime::runtime;

async fn create_target(client: &ControllerClient, name: &str) -> String {
    client
        .create_target(&CreateTargetRequest {
            kind: Some("tcp".into()),
            scope_id: Some(PROJECT_ID.into()),
            name: Some(name.into()),
            address: Some("127.0.0.1".into()),
            attributes: Some(TcpTargetAttributes {
                default_port: Some(22),
                default_client_port: None,
            }),
            ..CreateTargetRequest::default()
        })
        .await
        .expect("create target")
        .id
}

async fn create_alias(client: &ControllerClient, value: &str, target: &str) -> String {
    client
        .create_alias(&CreateAliasRequest {
            scope_id: Some("global".into()),
            kind: Some("target".into()),
            value: Some(value.into()),
            destination_id: Some(target.into()),
            ..CreateAliasRequest::default()
        })
        .await
        .expect("create alias")
        .id
}

#[test]
fn lists_follow_every_page() {
    let dev = Dev::start();
    let client = dev.admin_client_blocking();
    runtime().block_on(async {
        let mut created = vec![];
        for i in 0..3 {
            created.push(create_target(&client, &format!("paged-{i}")).await);
        }
        let query = ListQuery {
            scope_id: Some(PROJECT_ID.into()),
            page_size: Some(1),
            ..ListQuery::default()
        };
        let all = client.list_targets(&query).await.expect("list");
        let ids: Vec<_> = all.items.iter().map(|t| t.id.clone()).collect();
        for id in &created {
            assert!(ids.contains(id), "{id} missing from {ids:?}");
        }
        assert_eq!(
            ids.len(),
            ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
            "no duplicates across pages: {ids:?}"
        );
    });
}

#[test]
fn resolvable_aliases_full_then_incremental() {
    let dev = Dev::start();
    let client = dev.admin_client_blocking();
    runtime().block_on(async {
        let token_id = client
            .token()
            .and_then(|t| boundary_wire::api::ids::AuthTokenString::parse(t.expose()))
            .expect("token id")
            .id;
        let user_id = client.read_auth_token(&token_id).await.expect("me").user_id;

        let target = create_target(&client, "aliased").await;
        let first = unique_alias("one");
        let second = unique_alias("two");
        let first_id = create_alias(&client, &first, &target).await;
        create_alias(&client, &second, &target).await;

        let full = client
            .list_resolvable_aliases_to_end(&user_id, None, Some(1))
            .await
            .expect("full listing");
        let values: Vec<_> = full.items.iter().map(|a| a.value.clone()).collect();
        assert!(
            values.contains(&first) && values.contains(&second),
            "{values:?}"
        );
        assert!(!full.list_token.is_empty());

        client.delete_alias(&first_id).await.expect("delete alias");
        let changes = client
            .list_resolvable_aliases_to_end(&user_id, Some(&full.list_token), None)
            .await
            .expect("incremental listing");
        assert!(
            changes.removed_ids.contains(&first_id),
            "removed_ids: {:?}",
            changes.removed_ids
        );

        // Authorizing by alias value reaches the alias's target (or fails for lack of a
        // worker, which is still the controller having resolved the alias).
        match client
            .authorize_session(SessionTarget::Alias(&second), None)
            .await
        {
            Ok(auth) => assert_eq!(auth.target_id, target),
            Err(e) => assert_eq!(e.status(), Some(400), "{e}"),
        }

        let missing = client
            .authorize_session(SessionTarget::Alias("no-such-alias.test"), None)
            .await
            .unwrap_err();
        assert!(missing.is_not_found(), "{missing}");

        let stale = client
            .list_resolvable_aliases(&user_id, Some("not-a-list-token"), None)
            .await
            .unwrap_err();
        assert_eq!(stale.status(), Some(400), "{stale}");
    });
}
