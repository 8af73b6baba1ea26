//! `boundary dev` end to end over HTTP: log in, create a target and an alias, follow the
//! resolvable-alias list through refreshes, register a worker through the real worker API,
//! authorize by alias value and check every field of the token and its certificate.

mod support;

use anyhow::Result;
use boundary_wire::proto::{decode_authorization_token, from_timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::dev::Dev;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

const AM: &str = "ampw_1234567890";
const PROJECT: &str = "p_1234567890";

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn removed(list: &Value) -> Vec<String> {
    serde_json::from_value(list["removed_ids"].clone()).unwrap_or_default()
}

#[tokio::test]
async fn alias_lifecycle_worker_and_authorize_by_alias() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());

    // A target with a client port and a connection limit, and an alias for it.
    let (s, target) = dev
        .call(
            Method::POST,
            "/v1/targets",
            tok,
            Some(json!({
                "type": "tcp", "scope_id": PROJECT, "name": "web", "address": "10.1.2.3",
                "attributes": {"default_port": 8080, "default_client_port": 18080},
                "session_max_seconds": 3600, "session_connection_limit": 5
            })),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{target}");
    let target_id = target["id"].as_str().unwrap().to_owned();
    assert!(target_id.starts_with("ttcp_"));
    let (s, alias) = dev
        .call(Method::POST, "/v1/aliases", tok, Some(json!({
            "scope_id": "global", "type": "target", "value": "Web.Prod.Example", "destination_id": target_id
        })))
        .await?;
    assert_eq!(s, StatusCode::OK, "{alias}");
    let alias_id = alias["id"].as_str().unwrap().to_owned();
    assert_eq!(alias["value"], "Web.Prod.Example");

    // Uniqueness ignores case; the error names the field.
    let (s, dup) = dev
        .call(
            Method::POST,
            "/v1/aliases",
            tok,
            Some(json!({"value": "web.prod.EXAMPLE"})),
        )
        .await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(dup["details"]["request_fields"][0]["name"], "value");

    // Complete listing: both aliases, exactly the six keys per item.
    let path = "/v1/users/u_1234567890:list-resolvable-aliases";
    let (s, first) = dev.call(Method::GET, path, tok, None).await?;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["response_type"], "complete");
    assert_eq!(first["sort_by"], "created_time");
    assert_eq!(first["sort_dir"], "desc");
    assert_eq!(first["est_item_count"], 2);
    let mut got = ids(&first);
    got.sort();
    let mut want = vec![alias_id.clone(), "alt_1234567890".to_owned()];
    want.sort();
    assert_eq!(got, want);
    for item in first["items"].as_array().unwrap() {
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "created_time",
                "destination_id",
                "id",
                "type",
                "updated_time",
                "value"
            ]
        );
    }
    let token1 = first["list_token"].as_str().unwrap().to_owned();

    // Refresh without changes: nothing.
    let (s, r) = dev
        .call(
            Method::GET,
            &format!("{path}?list_token={token1}"),
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(ids(&r).is_empty() && removed(&r).is_empty(), "{r}");
    assert_eq!(r["sort_by"], "updated_time");
    let token2 = r["list_token"].as_str().unwrap().to_owned();

    // Change one alias: the refresh shows only it.
    let (s, upd) = dev
        .call(
            Method::PATCH,
            &format!("/v1/aliases/{alias_id}"),
            tok,
            Some(json!({"version": 1, "description": "web"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{upd}");
    let (_, r) = dev
        .call(
            Method::GET,
            &format!("{path}?list_token={token2}"),
            tok,
            None,
        )
        .await?;
    assert_eq!(ids(&r), [alias_id.as_str()]);
    assert!(removed(&r).is_empty());
    let token3 = r["list_token"].as_str().unwrap().to_owned();

    // Clearing the dev alias's destination removes it from the user's view.
    let (s, cleared) = dev
        .call(
            Method::PATCH,
            "/v1/aliases/alt_1234567890",
            tok,
            Some(json!({"version": 1, "destination_id": null})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{cleared}");
    let (_, r) = dev
        .call(
            Method::GET,
            &format!("{path}?list_token={token3}"),
            tok,
            None,
        )
        .await?;
    assert!(ids(&r).is_empty(), "{r}");
    assert_eq!(removed(&r), ["alt_1234567890"]);
    let token4 = r["list_token"].as_str().unwrap().to_owned();

    // Register a worker through the real worker API, then authorize by alias value.
    let worker_id = dev.register_worker("w1", "127.0.0.1:9202").await?;
    assert!(worker_id.starts_with("w_"));
    let (s, auth) = dev
        .call(
            Method::POST,
            "/v1/targets/web.prod.example:authorize-session",
            tok,
            Some(json!({})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{auth}");
    check_authorization(&auth, &target_id)?;

    // Deleting the alias: the refresh reports it removed.
    let (s, _) = dev
        .call(
            Method::DELETE,
            &format!("/v1/aliases/{alias_id}"),
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, r) = dev
        .call(
            Method::GET,
            &format!("{path}?list_token={token4}"),
            tok,
            None,
        )
        .await?;
    assert!(ids(&r).is_empty());
    assert_eq!(removed(&r), [alias_id.as_str()]);

    // A garbled token and a token for another user are `invalid list token`.
    let (s, e) = dev
        .call(
            Method::GET,
            &format!("{path}?list_token=garbage"),
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["kind"], "invalid list token");

    // A grants change invalidates the token.
    let (_, roles) = dev
        .call(Method::GET, "/v1/roles?scope_id=global", tok, None)
        .await?;
    let admin_role = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Administration")
        .unwrap()
        .clone();
    let (s, _) = dev
        .call(Method::POST, &format!("/v1/roles/{}:add-grants", admin_role["id"].as_str().unwrap()), tok,
              Some(json!({"version": admin_role["version"], "grant_strings": ["ids=*;type=alias;actions=read"]})))
        .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = dev
        .call(
            Method::GET,
            &format!("{path}?list_token={token4}"),
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["kind"], "invalid list token");
    Ok(())
}

/// Every field of the response and of the token; the certificate and its key.
fn check_authorization(auth: &Value, target_id: &str) -> Result<()> {
    let session_id = auth["session_id"].as_str().unwrap();
    assert!(session_id.starts_with("s_"));
    assert_eq!(auth["target_id"], target_id);
    assert_eq!(auth["user_id"], "u_1234567890");
    assert_eq!(auth["type"], "tcp");
    assert_eq!(auth["endpoint"], "tcp://10.1.2.3:8080");
    assert_eq!(auth["endpoint_port"], 8080);
    assert_eq!(auth["connection_limit"], 5);
    assert_eq!(auth["scope"]["id"], PROJECT);
    assert_eq!(auth["scope"]["type"], "project");
    assert_eq!(auth["scope"]["parent_scope_id"], "o_1234567890");
    assert!(auth.get("host_id").is_none() && auth.get("credentials").is_none());
    let created = boundary_wire::api::time_format::parse(auth["created_time"].as_str().unwrap())?;
    let expiration = boundary_wire::api::time_format::parse(auth["expiration"].as_str().unwrap())?;
    assert_eq!(expiration - created, time::Duration::seconds(3600));

    let data = decode_authorization_token(auth["authorization_token"].as_str().unwrap())?;
    assert_eq!(data.session_id, session_id);
    assert_eq!(data.target_id, target_id);
    let scope = data.scope.clone().unwrap();
    assert_eq!(scope.id, PROJECT);
    assert_eq!(scope.r#type, "project");
    assert_eq!(scope.name, "Generated project scope");
    assert_eq!(scope.parent_scope_id, "o_1234567890");
    assert_eq!(
        from_timestamp(data.created_time.as_ref().unwrap()),
        Some(created)
    );
    assert_eq!(data.r#type, "tcp");
    assert_eq!(data.connection_limit, 5);
    assert_eq!(data.endpoint_port, 8080);
    assert_eq!(
        from_timestamp(data.expiration.as_ref().unwrap()),
        Some(expiration)
    );
    assert_eq!(data.host_id, "");
    assert_eq!(data.endpoint, "tcp://10.1.2.3:8080");
    assert_eq!(data.worker_info.len(), 1);
    assert_eq!(data.worker_info[0].address, "127.0.0.1:9202");
    assert_eq!(data.default_client_port, 18080);
    assert_eq!(data.private_key.len(), 64);

    let (_, cert) = X509Certificate::from_der(&data.certificate)?;
    assert_eq!(cert.issuer(), cert.subject(), "self-signed");
    assert_eq!(
        cert.signature_algorithm.algorithm,
        x509_parser::oid_registry::OID_SIG_ED25519
    );
    let public = cert.public_key().subject_public_key.data.as_ref().to_vec();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public)
        .verify(
            cert.tbs_certificate.as_ref(),
            cert.signature_value.data.as_ref(),
        )
        .expect("signed by its own key");
    assert!(cert.basic_constraints()?.unwrap().value.ca);
    let san = cert.subject_alternative_name()?.unwrap().value;
    assert!(
        san.general_names
            .iter()
            .any(|n| matches!(n, GeneralName::DNSName(d) if *d == session_id))
    );
    assert!(
        san.general_names
            .iter()
            .any(|n| matches!(n, GeneralName::IPAddress(ip) if *ip == [127, 0, 0, 1]))
    );
    assert_eq!(
        cert.validity().not_after.timestamp(),
        expiration.unix_timestamp()
    );
    assert_eq!(
        cert.validity().not_before.timestamp(),
        created.unix_timestamp() - 60
    );
    // The key in the token is the certificate's: seed and public key agree, and it signs.
    assert_eq!(&data.private_key[32..], public.as_slice());
    let pair =
        ring::signature::Ed25519KeyPair::from_seed_and_public_key(&data.private_key[..32], &public)
            .expect("seed matches the certificate's public key");
    let sig = pair.sign(b"proof");
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public)
        .verify(b"proof", sig.as_ref())
        .expect("verifies");
    Ok(())
}

#[tokio::test]
async fn user_without_grants_is_refused_and_resolves_nothing() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    dev.register_worker("w1", "127.0.0.1:9202").await?;

    let (s, user) = dev
        .call(
            Method::POST,
            "/v1/users",
            tok,
            Some(json!({"scope_id": "global", "name": "alice"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{user}");
    let user_id = user["id"].as_str().unwrap().to_owned();
    let (s, account) = dev
        .call(
            Method::POST,
            "/v1/accounts",
            tok,
            Some(json!({
                "auth_method_id": AM, "type": "password",
                "attributes": {"login_name": "alice", "password": "alice-password"}
            })),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{account}");
    assert!(account["attributes"].get("password").is_none());
    let (s, linked) = dev
        .call(
            Method::POST,
            &format!("/v1/users/{user_id}:add-accounts"),
            tok,
            Some(json!({"version": 1, "account_ids": [account["id"]]})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{linked}");
    assert_eq!(linked["login_name"], "alice");

    // Wrong password → 401.
    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/auth-methods/{AM}:authenticate"),
            None,
            Some(json!({"attributes": {"login_name": "alice", "password": "nope-nope"}})),
        )
        .await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(e["kind"], "Unauthenticated");
    // Missing fields → 400 naming them.
    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/auth-methods/{AM}:authenticate"),
            None,
            Some(json!({"attributes": {}})),
        )
        .await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let names: Vec<&str> = e["details"]["request_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["attributes.login_name", "attributes.password"]);

    let alice = dev.login(AM, "ALICE", "alice-password").await?;
    let a = Some(alice.as_str());
    let (s, e) = dev
        .call(
            Method::POST,
            "/v1/targets/localhost.boundary.dev:authorize-session",
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(
        e,
        json!({"kind": "PermissionDenied", "message": "Forbidden."})
    );
    let (s, e) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:authorize-session",
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, list) = dev
        .call(
            Method::GET,
            &format!("/v1/users/{user_id}:list-resolvable-aliases"),
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{list}");
    // Nothing: Boundary leaves `items` out of an empty list.
    assert!(list.get("items").is_none(), "{list}");
    assert_eq!(list["response_type"], "complete");
    // Someone else's list is not theirs to read.
    let (s, _) = dev
        .call(
            Method::GET,
            "/v1/users/u_1234567890:list-resolvable-aliases",
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Their own token is readable (read:self), the admin's is not.
    let alice_token_id = alice.rsplit_once('_').unwrap().0;
    let (s, own) = dev
        .call(
            Method::GET,
            &format!("/v1/auth-tokens/{alice_token_id}"),
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert!(own.get("token").is_none());
    let admin_token_id = admin.rsplit_once('_').unwrap().0;
    let (s, _) = dev
        .call(
            Method::GET,
            &format!("/v1/auth-tokens/{admin_token_id}"),
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // No token at all: 401 where anonymous callers have no grant, authorize-session
    // included (as Boundary answers it).
    let (s, _) = dev
        .call(Method::GET, "/v1/targets?scope_id=p_1234567890", None, None)
        .await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:authorize-session",
            None,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Logging out (delete:self) ends the token.
    let (s, _) = dev
        .call(
            Method::DELETE,
            &format!("/v1/auth-tokens/{alice_token_id}"),
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = dev
        .call(
            Method::GET,
            &format!("/v1/users/{user_id}:list-resolvable-aliases"),
            a,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    Ok(())
}

/// Walks a listing page by page; returns (ids in order, removed ids, last token, sort_by).
async fn walk(
    dev: &Dev,
    tok: &str,
    start: Option<&str>,
) -> Result<(Vec<String>, Vec<String>, String, String)> {
    let path = "/v1/users/u_1234567890:list-resolvable-aliases?page_size=2";
    let (mut all, mut gone) = (vec![], vec![]);
    let mut token = start.map(str::to_owned);
    let mut pages = 0;
    loop {
        let q = token
            .as_ref()
            .map(|t| format!("&list_token={t}"))
            .unwrap_or_default();
        let (s, page) = dev
            .call(Method::GET, &format!("{path}{q}"), Some(tok), None)
            .await?;
        assert_eq!(s, StatusCode::OK, "{page}");
        // `items` is left out of an empty page.
        assert!(page["items"].as_array().map_or(0, Vec::len) <= 2, "{page}");
        all.extend(ids(&page));
        gone.extend(removed(&page));
        token = page["list_token"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages < 20, "paging does not end");
        if page["response_type"] == "complete" {
            return Ok((
                all,
                gone,
                token.unwrap_or_default(),
                page["sort_by"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        assert_eq!(page["response_type"], "delta");
    }
}

#[tokio::test]
async fn resolvable_aliases_page_in_both_phases() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    let mut created = vec!["alt_1234567890".to_owned()];
    for i in 0..4 {
        let (s, a) = dev
            .call(Method::POST, "/v1/aliases", tok, Some(json!({"value": format!("host{i}.example"), "destination_id": "ttcp_1234567890"})))
            .await?;
        assert_eq!(s, StatusCode::OK, "{a}");
        created.push(a["id"].as_str().unwrap().to_owned());
    }
    // An alias without a destination is never listed.
    dev.call(
        Method::POST,
        "/v1/aliases",
        tok,
        Some(json!({"value": "nowhere.example"})),
    )
    .await?;

    let (all, gone, token, sort_by) = walk(&dev, &admin, None).await?;
    assert_eq!(sort_by, "created_time");
    assert!(gone.is_empty());
    let mut expected = created.clone();
    expected.reverse(); // newest first
    assert_eq!(all, expected);

    // Three changes and one deletion: the refresh pages over exactly those.
    for id in &created[1..4] {
        let (s, r) = dev
            .call(
                Method::PATCH,
                &format!("/v1/aliases/{id}"),
                tok,
                Some(json!({"version": 1, "name": "changed"})),
            )
            .await?;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    dev.call(
        Method::DELETE,
        &format!("/v1/aliases/{}", created[4]),
        tok,
        None,
    )
    .await?;
    let (changed, gone, token2, sort_by) = walk(&dev, &admin, Some(&token)).await?;
    assert_eq!(sort_by, "updated_time");
    let mut want: Vec<String> = created[1..4].iter().rev().cloned().collect();
    want.sort();
    let mut got = changed.clone();
    got.sort();
    assert_eq!(got, want, "only the changed aliases");
    assert_eq!(gone, [created[4].as_str()]);
    // And after that, nothing.
    let (none, gone, _, _) = walk(&dev, &admin, Some(&token2)).await?;
    assert!(none.is_empty() && gone.is_empty());
    Ok(())
}
