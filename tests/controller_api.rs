//! The REST and worker APIs of `boundary dev`: authorize-session's order of checks, session
//! lifecycle through the worker API, brokered credentials, roles.

mod support;

use anyhow::Result;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::dev::Dev;

const AM: &str = "ampw_1234567890";
const PROJECT: &str = "p_1234567890";

/// A capture of the real Boundary v0.21.3 (tests/fixtures/boundary-0.21.3/, see its
/// README).
fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/boundary-0.21.3")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A captured `.http` response: its status and its JSON body (`Null` when empty).
fn captured_response(name: &str) -> (StatusCode, Value) {
    let text = fixture(name);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {name}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).trim();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap()
    };
    (StatusCode::from_u16(status).unwrap(), body)
}

fn field(e: &Value) -> &str {
    e["details"]["request_fields"][0]["name"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn authorize_session_checks_in_order() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    let authorize = |id: String, body: Value, token: Option<String>| {
        let dev = &dev;
        async move {
            dev.call(
                Method::POST,
                &format!("/v1/targets/{id}:authorize-session"),
                token.as_deref(),
                Some(body),
            )
            .await
        }
    };
    let admin_s = Some(admin.clone());

    // A target without a default port, with an alias carrying a host id.
    let (_, no_port) = dev
        .call(
            Method::POST,
            "/v1/targets",
            tok,
            Some(json!({"scope_id": PROJECT, "name": "noport", "address": "10.0.0.9"})),
        )
        .await?;
    let no_port_id = no_port["id"].as_str().unwrap().to_owned();
    let (s, a) = dev
        .call(
            Method::POST,
            "/v1/aliases",
            tok,
            Some(json!({
                "value": "noport.example", "destination_id": no_port_id,
                "attributes": {"authorize_session_arguments": {"host_id": "hst_1234567890"}}
            })),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        a["attributes"]["authorize_session_arguments"]["host_id"],
        "hst_1234567890"
    );
    let (_, _) = dev
        .call(
            Method::POST,
            "/v1/aliases",
            tok,
            Some(json!({"value": "plain.example", "destination_id": no_port_id})),
        )
        .await?;

    // 1. Unknown alias → 404 (even anonymous).
    let (s, e) = authorize("nosuch.example".into(), json!({}), None).await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        e,
        json!({"kind": "NotFound", "message": "Resource not found."})
    );
    let (s, _) = authorize("ttcp_0000000000".into(), json!({}), admin_s.clone()).await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // 2. Alias host id differs from the request's → 400 host_id (before authorization).
    let (s, e) = authorize(
        "noport.example".into(),
        json!({"host_id": "hst_0000000000"}),
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(field(&e), "host_id");
    // 3. No token → 401, as Boundary answers it.
    let (s, e) = authorize("plain.example".into(), json!({}), None).await?;
    assert_eq!(
        (s, e),
        captured_response("authorize-session-anonymous.http")
    );
    // A bad token → 401.
    let (s, _) = authorize(
        "plain.example".into(),
        json!({}),
        Some("at_0000000000_s1abc".into()),
    )
    .await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A host id reaching a direct-address target → 400 host_id.
    let (s, e) = authorize("noport.example".into(), json!({}), admin_s.clone()).await?;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(field(&e), "host_id");
    let (s, e) = authorize(
        no_port_id.clone(),
        json!({"host_id": "hst_1234567890"}),
        admin_s.clone(),
    )
    .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "host_id"));
    // 4. No default port → 400 FailedPrecondition.
    let (s, e) = authorize("plain.example".into(), json!({}), admin_s.clone()).await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["kind"], "FailedPrecondition");
    assert_eq!(e["message"], "Target does not have default port defined.");
    // 5. No live worker → 400.
    let (s, e) = authorize("localhost.boundary.dev".into(), json!({}), admin_s.clone()).await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        e["message"],
        "No workers are available to handle this session."
    );

    // With a worker: by id, by name in a scope (id or name), by alias.
    dev.register_worker("w1", "worker.example:9202").await?;
    for (id, body) in [
        ("ttcp_1234567890", json!({})),
        ("Generated target", json!({"scope_id": PROJECT})),
        (
            "x",
            json!({"name": "Generated target", "scope_name": "Generated project scope"}),
        ),
        ("LOCALHOST.boundary.dev", json!({})),
    ] {
        let (s, auth) = authorize(id.replace(' ', "%20"), body.clone(), admin_s.clone()).await?;
        assert_eq!(s, StatusCode::OK, "{id} {body}: {auth}");
        assert_eq!(auth["target_id"], "ttcp_1234567890");
        assert_eq!(auth["endpoint"], "tcp://127.0.0.1:22");
        let data = boundary_wire::proto::decode_authorization_token(
            auth["authorization_token"].as_str().unwrap(),
        )?;
        assert_eq!(data.worker_info[0].address, "worker.example:9202");
        assert_eq!(data.default_client_port, 0);
    }
    let (s, _) = authorize("nope".into(), json!({"scope_id": PROJECT}), admin_s.clone()).await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn session_lifecycle_through_the_worker_api() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    let worker_id = dev.register_worker("w1", "127.0.0.1:9202").await?;

    // Without the credential the cluster listener answers 401 on every path.
    for path in ["/v1/worker/register", "/v1/nothing"] {
        let r = dev
            .http
            .post(format!("{}{path}", dev.cluster))
            .json(&json!({}))
            .send()
            .await?;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = dev
            .http
            .post(format!("{}{path}", dev.cluster))
            .header("Authorization", "Bearer wrong")
            .json(&json!({}))
            .send()
            .await?;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }

    let (s, auth) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:authorize-session",
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{auth}");
    let sid = auth["session_id"].as_str().unwrap().to_owned();
    let data = boundary_wire::proto::decode_authorization_token(
        auth["authorization_token"].as_str().unwrap(),
    )?;

    // The worker's view before the tofu: the same certificate and key, nothing else.
    let (s, ws) = dev
        .worker(
            "w1",
            Method::GET,
            &format!("/v1/worker/sessions/{sid}"),
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{ws}");
    let mut fields: Vec<&str> = ws.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["certificate", "expiration", "private_key", "session_id"]
    );
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        b64.decode(ws["certificate"].as_str().unwrap())?,
        data.certificate
    );
    assert_eq!(
        b64.decode(ws["private_key"].as_str().unwrap())?,
        data.private_key
    );

    // Trust on first use.
    let tofu = "abcdefghij0123456789";
    let (s, e) = dev
        .worker(
            "w1",
            Method::POST,
            &format!("/v1/worker/sessions/{sid}:activate"),
            Some(json!({"worker_id": worker_id, "tofu_token": "short"})),
        )
        .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "tofu_token"));
    let (s, ws) = dev
        .worker(
            "w1",
            Method::POST,
            &format!("/v1/worker/sessions/{sid}:activate"),
            Some(json!({"worker_id": worker_id, "tofu_token": tofu})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{ws}");
    assert_eq!(ws["status"], "active");
    let (s, ws) = dev
        .worker(
            "w1",
            Method::POST,
            &format!("/v1/worker/sessions/{sid}:activate"),
            Some(json!({"worker_id": worker_id, "tofu_token": tofu})),
        )
        .await?;
    assert_eq!((s, ws["status"].as_str()), (StatusCode::OK, Some("active")));
    let (s, e) = dev
        .worker(
            "w1",
            Method::POST,
            &format!("/v1/worker/sessions/{sid}:activate"),
            Some(json!({"worker_id": worker_id, "tofu_token": "zzzzzzzzzz0123456789"})),
        )
        .await?;
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("TofuMismatch"))
    );

    // A connection: authorize, connect, close.
    let (s, c) = dev
        .worker("w1", Method::POST, &format!("/v1/worker/sessions/{sid}:authorize-connection"),
                Some(json!({"worker_id": worker_id, "tofu_token": tofu, "client_tcp_address": "10.9.9.9", "client_tcp_port": 50000})))
        .await?;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["connections_left"], -1);
    let cid = c["connection_id"].as_str().unwrap().to_owned();
    let (s, _) = dev
        .worker(
            "w1",
            Method::POST,
            &format!("/v1/worker/connections/{cid}:connect"),
            Some(json!({"endpoint_tcp_address": "127.0.0.1", "endpoint_tcp_port": 22})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = dev
        .worker(
            "w1",
            Method::POST,
            &format!("/v1/worker/connections/{cid}:close"),
            Some(json!({"bytes_up": 1, "bytes_down": 2, "closed_reason": "bogus"})),
        )
        .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "closed_reason"));
    let (s, _) = dev
        .worker(
            "w1",
            Method::POST,
            &format!("/v1/worker/connections/{cid}:close"),
            Some(json!({"bytes_up": 10, "bytes_down": 20, "closed_reason": "closed by end-user"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK);

    // The session as the REST API shows it.
    let (s, session) = dev
        .call(Method::GET, &format!("/v1/sessions/{sid}"), tok, None)
        .await?;
    assert_eq!(s, StatusCode::OK, "{session}");
    assert_eq!(session["status"], "active");
    assert_eq!(session["states"][0]["status"], "active");
    // 64-bit counters travel as strings (Boundary's Go client insists).
    assert_eq!(session["connections"][0]["bytes_up"], "10");
    assert_eq!(session["connections"][0]["bytes_down"], "20");
    assert_eq!(
        session["connections"][0]["closed_reason"],
        "closed by end-user"
    );
    assert_eq!(session["connections"][0]["client_tcp_address"], "10.9.9.9");
    let (s, list) = dev
        .call(
            Method::GET,
            "/v1/sessions?scope_id=global&recursive=true",
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Cancel needs the version; then the worker learns it from its heartbeat.
    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/sessions/{sid}:cancel"),
            tok,
            Some(json!({})),
        )
        .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "version"));
    let (s, canceled) = dev
        .call(
            Method::POST,
            &format!("/v1/sessions/{sid}:cancel"),
            tok,
            Some(json!({"version": session["version"]})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{canceled}");
    assert_ne!(canceled["status"], "active");
    let (s, hb) = dev
        .worker("w1", Method::POST, "/v1/worker/heartbeat", Some(json!({"worker_id": worker_id, "address": "127.0.0.1:9202", "session_ids": [sid, "s_0000000000"]})))
        .await?;
    assert_eq!(s, StatusCode::OK, "{hb}");
    assert_ne!(hb["sessions"][0]["status"], "active");
    assert_eq!(hb["sessions"][1]["status"], "terminated");
    let (s, e) = dev
        .worker("w1", Method::POST, &format!("/v1/worker/sessions/{sid}:authorize-connection"),
                Some(json!({"worker_id": worker_id, "tofu_token": tofu, "client_tcp_address": "10.9.9.9", "client_tcp_port": 50001})))
        .await?;
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ConnectionNotAuthorized"))
    );
    // A heartbeat for another id is refused; a credential whose worker never registered
    // is a 401 (a real worker then registers again).
    let (s, e) = dev
        .worker(
            "w1",
            Method::POST,
            "/v1/worker/heartbeat",
            Some(json!({"worker_id": "w_0000000000", "address": "127.0.0.1:9202"})),
        )
        .await?;
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::FORBIDDEN, Some("PermissionDenied"))
    );
    let (s, e) = dev
        .worker(
            "never-registered",
            Method::POST,
            "/v1/worker/heartbeat",
            Some(json!({"worker_id": worker_id, "address": "127.0.0.1:9202"})),
        )
        .await?;
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Unauthenticated"))
    );
    Ok(())
}

#[tokio::test]
async fn brokered_credentials_in_authorize_session() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    dev.register_worker("w1", "127.0.0.1:9202").await?;
    let (s, store) = dev
        .call(
            Method::POST,
            "/v1/credential-stores",
            tok,
            Some(json!({"scope_id": PROJECT, "type": "static", "name": "vault-ish"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{store}");
    let store_id = store["id"].as_str().unwrap();
    assert!(store_id.starts_with("csst_"));
    let (s, up) = dev
        .call(
            Method::POST,
            "/v1/credentials",
            tok,
            Some(json!({
                "credential_store_id": store_id, "type": "username_password", "name": "db",
                "attributes": {"username": "dbuser", "password": "s3cret-pw"}
            })),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{up}");
    assert!(up["id"].as_str().unwrap().starts_with("credup_"));
    assert_eq!(up["attributes"]["username"], "dbuser");
    assert!(up["attributes"]["password_hmac"].is_string());
    assert!(!up.to_string().contains("s3cret-pw"));
    let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    let (s, spk) = dev
        .call(
            Method::POST,
            "/v1/credentials",
            tok,
            Some(json!({
                "credential_store_id": store_id, "type": "ssh_private_key",
                "attributes": {"username": "root", "private_key": pem}
            })),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{spk}");
    let (s, e) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:add-credential-sources",
            tok,
            Some(json!({"version": 1, "brokered_credential_source_ids": ["credup_0000000000"]})),
        )
        .await?;
    assert_eq!(
        (s, field(&e)),
        (StatusCode::BAD_REQUEST, "brokered_credential_source_ids")
    );
    let (s, t) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:add-credential-sources",
            tok,
            Some(json!({"version": 1, "brokered_credential_source_ids": [up["id"], spk["id"]]})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        t["brokered_credential_source_ids"],
        json!([up["id"], spk["id"]])
    );

    let (s, auth) = dev
        .call(
            Method::POST,
            "/v1/targets/localhost.boundary.dev:authorize-session",
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{auth}");
    let creds = auth["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 2);
    let c = &creds[0];
    assert_eq!(
        c["credential_source"],
        json!({
            "id": up["id"], "name": "db", "credential_store_id": store_id, "type": "static", "credential_type": "username_password"
        })
    );
    assert_eq!(
        c["credential"],
        json!({"username": "dbuser", "password": "s3cret-pw"})
    );
    assert_eq!(c["secret"]["decoded"], c["credential"]);
    use base64::Engine;
    let raw =
        base64::engine::general_purpose::STANDARD.decode(c["secret"]["raw"].as_str().unwrap())?;
    assert_eq!(serde_json::from_slice::<Value>(&raw)?, c["credential"]);
    assert_eq!(
        creds[1]["credential"],
        json!({"username": "root", "private_key": pem})
    );
    assert_eq!(
        creds[1]["credential_source"]["credential_type"],
        "ssh_private_key"
    );

    // Deleting a credential detaches it.
    let (s, _) = dev
        .call(
            Method::DELETE,
            &format!("/v1/credentials/{}", spk["id"].as_str().unwrap()),
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, t) = dev
        .call(Method::GET, "/v1/targets/ttcp_1234567890", tok, None)
        .await?;
    assert_eq!(t["brokered_credential_source_ids"], json!([up["id"]]));
    Ok(())
}

#[tokio::test]
async fn roles_grants_and_scopes() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    dev.register_worker("w1", "127.0.0.1:9202").await?;
    let (_, user) = dev
        .call(Method::POST, "/v1/users", tok, Some(json!({"name": "bob"})))
        .await?;
    let (_, acct) = dev.call(Method::POST, "/v1/accounts", tok, Some(json!({"auth_method_id": AM, "attributes": {"login_name": "bob", "password": "bob-password"}}))).await?;
    let uid = user["id"].as_str().unwrap().to_owned();
    dev.call(
        Method::POST,
        &format!("/v1/users/{uid}:add-accounts"),
        tok,
        Some(json!({"version": 1, "account_ids": [acct["id"]]})),
    )
    .await?;

    // A project role granting bob authorize-session on every target of the project.
    let (s, role) = dev
        .call(
            Method::POST,
            "/v1/roles",
            tok,
            Some(json!({"scope_id": PROJECT, "name": "connect"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{role}");
    assert_eq!(role["grant_scope_ids"], json!(["this"]));
    let rid = role["id"].as_str().unwrap().to_owned();
    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/roles/{rid}:add-grants"),
            tok,
            Some(json!({"version": 1, "grant_strings": ["ids=*;actions=read"]})),
        )
        .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "grant_strings"));
    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/roles/{rid}:set-grant-scopes"),
            tok,
            Some(json!({"version": 1, "grant_scope_ids": ["descendants"]})),
        )
        .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "grant_scope_ids"));
    let (s, role) = dev.call(Method::POST, &format!("/v1/roles/{rid}:add-grants"), tok, Some(json!({"version": 1, "grant_strings": ["type=target;ids=*;actions=authorize-session,read"]}))).await?;
    assert_eq!(s, StatusCode::OK, "{role}");
    assert_eq!(
        role["grants"][0]["canonical"],
        "ids=*;type=target;actions=authorize-session,read"
    );
    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/roles/{rid}:add-principals"),
            tok,
            Some(json!({"version": 2, "principal_ids": ["u_0000000000"]})),
        )
        .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "principal_ids"));
    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/roles/{rid}:add-principals"),
            tok,
            Some(json!({"version": 1, "principal_ids": [uid]})),
        )
        .await?;
    // A stale version is a 404, as Boundary answers it.
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound")),
        "{e}"
    );
    assert_eq!(
        e["message"],
        format!("Role {rid:?} not found or incorrect version provided.")
    );
    let (s, role) = dev
        .call(
            Method::POST,
            &format!("/v1/roles/{rid}:add-principals"),
            tok,
            Some(json!({"version": 2, "principal_ids": [uid]})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{role}");
    assert_eq!(role["principals"][0]["id"], uid);

    let bob = dev.login(AM, "bob", "bob-password").await?;
    let b = Some(bob.as_str());
    let (s, auth) = dev
        .call(
            Method::POST,
            "/v1/targets/localhost.boundary.dev:authorize-session",
            b,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{auth}");
    let (_, list) = dev
        .call(
            Method::GET,
            &format!("/v1/users/{uid}:list-resolvable-aliases"),
            b,
            None,
        )
        .await?;
    assert_eq!(list["items"][0]["value"], "localhost.boundary.dev");
    // Bob sees his own session, not others'; he may not delete targets.
    dev.call(
        Method::POST,
        "/v1/targets/ttcp_1234567890:authorize-session",
        tok,
        None,
    )
    .await?;
    let (s, sessions) = dev
        .call(
            Method::GET,
            "/v1/sessions?scope_id=global&recursive=true",
            b,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{sessions}");
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1);
    assert_eq!(sessions["items"][0]["user_id"], uid);
    let (s, _) = dev
        .call(Method::DELETE, "/v1/targets/ttcp_1234567890", b, None)
        .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Removing the grant takes it away again.
    let (s, _) = dev.call(Method::POST, &format!("/v1/roles/{rid}:remove-grants"), tok, Some(json!({"version": 3, "grant_strings": ["type=target;ids=*;actions=authorize-session,read"]}))).await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = dev
        .call(
            Method::POST,
            "/v1/targets/localhost.boundary.dev:authorize-session",
            b,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Scopes: org → project; a project holds no scopes.
    let (s, org) = dev
        .call(
            Method::POST,
            "/v1/scopes",
            tok,
            Some(json!({"scope_id": "global", "name": "corp"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{org}");
    assert_eq!(org["type"], "org");
    let (s, proj) = dev
        .call(
            Method::POST,
            "/v1/scopes",
            tok,
            Some(json!({"scope_id": org["id"], "name": "prod"})),
        )
        .await?;
    assert_eq!(
        (s, proj["type"].as_str()),
        (StatusCode::OK, Some("project"))
    );
    let (s, e) = dev
        .call(
            Method::POST,
            "/v1/scopes",
            tok,
            Some(json!({"scope_id": proj["id"]})),
        )
        .await?;
    assert_eq!((s, field(&e)), (StatusCode::BAD_REQUEST, "scope_id"));
    let (_, all) = dev
        .call(
            Method::GET,
            "/v1/scopes?scope_id=global&recursive=true",
            tok,
            None,
        )
        .await?;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    // Paging through them two at a time visits each once.
    let mut seen = vec![];
    let mut token = String::new();
    loop {
        let q = if token.is_empty() {
            String::new()
        } else {
            format!("&list_token={token}")
        };
        let (s, page) = dev
            .call(
                Method::GET,
                &format!("/v1/scopes?scope_id=global&recursive=true&page_size=3{q}"),
                tok,
                None,
            )
            .await?;
        assert_eq!(s, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        if page["response_type"] == "complete" {
            break;
        }
        token = page["list_token"].as_str().unwrap().to_owned();
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4);
    Ok(())
}

#[tokio::test]
async fn every_live_worker_is_offered_in_random_order() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    dev.register_worker("w1", "10.0.0.1:9202").await?;
    dev.register_worker("w2", "worker-2.example:9202").await?;
    // Re-registering under the same name keeps the worker (and updates its address).
    dev.register_worker("w2", "worker-2.example:9203").await?;
    let mut firsts = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let (s, auth) = dev
            .call(
                Method::POST,
                "/v1/targets/ttcp_1234567890:authorize-session",
                Some(&admin),
                None,
            )
            .await?;
        assert_eq!(s, StatusCode::OK, "{auth}");
        let data = boundary_wire::proto::decode_authorization_token(
            auth["authorization_token"].as_str().unwrap(),
        )?;
        let mut addrs: Vec<&str> = data
            .worker_info
            .iter()
            .map(|w| w.address.as_str())
            .collect();
        firsts.insert(addrs[0].to_owned());
        addrs.sort();
        assert_eq!(addrs, ["10.0.0.1:9202", "worker-2.example:9203"]);
        let (_, cert) = <x509_parser::certificate::X509Certificate as x509_parser::prelude::FromDer<_>>::from_der(&data.certificate)?;
        let san = cert.subject_alternative_name()?.unwrap().value;
        let names: Vec<String> = san.general_names.iter().map(|n| format!("{n}")).collect();
        assert!(
            names.iter().any(|n| n.contains("worker-2.example")),
            "{names:?}"
        );
        assert!(
            names.iter().any(|n| n == "IPAddress(0a:00:00:01)"),
            "{names:?}"
        );
    }
    // 30 draws of a fair coin all landing the same way happens with probability 2^-29.
    assert_eq!(
        firsts.len(),
        2,
        "the preferred worker never changed: {firsts:?}"
    );
    Ok(())
}

/// The errors a client sees, as Boundary v0.21.3 answers them (status, kind and message
/// from its captured responses): a wrong password, a malformed id, an unknown action, a
/// stale version.
#[tokio::test]
async fn errors_are_answered_as_boundary_answers_them() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());

    let (s, e) = dev
        .call(
            Method::POST,
            &format!("/v1/auth-methods/{AM}:authenticate"),
            None,
            Some(json!({"command": "login", "attributes": {"login_name": "admin", "password": "nope"}})),
        )
        .await?;
    assert_eq!(
        (s, e),
        captured_response("authenticate-wrong-password.http")
    );

    let (s, e) = dev.call(Method::GET, "/v1/targets/nope", tok, None).await?;
    assert_eq!((s, e), captured_response("targets-read-malformed-id.http"));

    // Boundary sends no body here; ours says what was wrong.
    let (s, e) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:frobnicate",
            tok,
            Some(json!({})),
        )
        .await?;
    assert_eq!(s, captured_response("targets-unknown-action.http").0);
    assert!(e["message"].as_str().unwrap().contains("frobnicate"), "{e}");

    // A stale version: 404 NotFound naming the target, in Boundary's words.
    let (_, t) = dev
        .call(
            Method::POST,
            "/v1/targets",
            tok,
            Some(
                json!({"scope_id": PROJECT, "name": "stale", "address": "10.0.0.9",
                        "attributes": {"default_port": 22}}),
            ),
        )
        .await?;
    let id = t["id"].as_str().unwrap().to_owned();
    for version in [1, 2] {
        dev.call(
            Method::PATCH,
            &format!("/v1/targets/{id}"),
            tok,
            Some(json!({"version": version, "description": "x"})),
        )
        .await?;
    }
    let (s, e) = dev
        .call(
            Method::PATCH,
            &format!("/v1/targets/{id}"),
            tok,
            Some(json!({"version": 1, "name": "stale"})),
        )
        .await?;
    let theirs = fixture("cli-targets-update-stale-version.err");
    let theirs = theirs.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        theirs.contains("Kind: NotFound") && theirs.contains("Status: 404"),
        "{theirs}"
    );
    let their_message = "Target \"ttcp_BpmizuFaBg\" not found or incorrect version provided.";
    assert!(theirs.contains(their_message), "{theirs}");
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound")),
        "{e}"
    );
    assert_eq!(
        e["message"].as_str().unwrap(),
        their_message.replace("ttcp_BpmizuFaBg", &id)
    );
    Ok(())
}

/// Deleting a target clears its aliases' destination; Boundary leaves their version as it
/// was (the alias was not edited) and moves `updated_time`.
#[tokio::test]
async fn deleting_a_target_keeps_its_aliases_versions() -> Result<()> {
    let before: Value = serde_json::from_str(&fixture("cli-aliases-update.json"))?;
    let after: Value = serde_json::from_str(&fixture("cli-aliases-read-after-target-delete.json"))?;
    assert_eq!(before["item"]["version"], after["item"]["version"]);
    assert!(before["item"]["destination_id"].is_string());
    assert!(after["item"].get("destination_id").is_none());

    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    let (_, t) = dev
        .call(
            Method::POST,
            "/v1/targets",
            tok,
            Some(
                json!({"scope_id": PROJECT, "name": "doomed", "address": "10.0.0.9",
                        "attributes": {"default_port": 22}}),
            ),
        )
        .await?;
    let tid = t["id"].as_str().unwrap().to_owned();
    let (_, a) = dev
        .call(
            Method::POST,
            "/v1/aliases",
            tok,
            Some(json!({"value": "doomed.example", "destination_id": tid})),
        )
        .await?;
    let aid = a["id"].as_str().unwrap().to_owned();
    let (s, a) = dev
        .call(
            Method::PATCH,
            &format!("/v1/aliases/{aid}"),
            tok,
            Some(json!({"version": 1, "name": "doomed"})),
        )
        .await?;
    assert_eq!((s, &a["version"]), (StatusCode::OK, &json!(2)), "{a}");
    let (s, _) = dev
        .call(Method::DELETE, &format!("/v1/targets/{tid}"), tok, None)
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, read) = dev
        .call(Method::GET, &format!("/v1/aliases/{aid}"), tok, None)
        .await?;
    assert_eq!(read["version"], 2, "{read}");
    assert!(read.get("destination_id").is_none(), "{read}");
    let time = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert!(
        time(&read["updated_time"]) > time(&a["updated_time"]),
        "{read} {a}"
    );
    Ok(())
}

/// Every page of a list carries a `list_token`, the complete one included (Boundary's
/// client cache keeps nothing without one). Presented again it gives what changed: new
/// and updated items; a deletion makes it `invalid list token` (400), after which the
/// client lists from scratch (docs/wire-contract.md §1.3).
#[tokio::test]
async fn complete_lists_carry_a_token_that_refreshes() -> Result<()> {
    let theirs: Value = serde_json::from_str(&fixture("targets-list-project.json"))?;
    assert_eq!(theirs["response_type"], "complete");
    assert!(!theirs["list_token"].as_str().unwrap().is_empty());
    assert!(theirs.get("removed_ids").is_none());

    let dev = Dev::builder().controller_only().start();
    let admin = dev.login(AM, "admin", "password").await?;
    let tok = Some(admin.as_str());
    let list = |token: Option<String>| {
        let dev = &dev;
        let path = match token {
            None => "/v1/targets?scope_id=global&recursive=true".to_owned(),
            Some(t) => format!("/v1/targets?scope_id=global&recursive=true&list_token={t}"),
        };
        async move { dev.call(Method::GET, &path, tok, None).await }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| i["id"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };

    let (s, first) = list(None).await?;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["response_type"], "complete");
    assert_eq!(first["sort_by"], "created_time");
    assert!(first.get("removed_ids").is_none(), "{first}");
    let token = first["list_token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    assert!(ids(&first).contains(&"ttcp_1234567890".to_owned()));

    // A new target is in the refresh (with whatever else changed in the 30 seconds of
    // look-back before the first listing), sorted by update.
    let (_, t) = dev
        .call(
            Method::POST,
            "/v1/targets",
            tok,
            Some(
                json!({"scope_id": PROJECT, "name": "fresh", "address": "10.0.0.9",
                        "attributes": {"default_port": 22}}),
            ),
        )
        .await?;
    let fresh = t["id"].as_str().unwrap().to_owned();
    let (s, refresh) = list(Some(token.clone())).await?;
    assert_eq!(s, StatusCode::OK, "{refresh}");
    assert_eq!(refresh["response_type"], "complete");
    assert_eq!(refresh["sort_by"], "updated_time");
    assert!(ids(&refresh).contains(&fresh), "{refresh}");
    assert!(refresh.get("removed_ids").is_none(), "{refresh}");
    let token = refresh["list_token"].as_str().unwrap().to_owned();

    // An update shows up too.
    let (s, _) = dev
        .call(
            Method::PATCH,
            &format!("/v1/targets/{fresh}"),
            tok,
            Some(json!({"version": 1, "description": "changed"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK);
    let (_, refresh) = list(Some(token.clone())).await?;
    let changed: Vec<&Value> = refresh["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["id"] == fresh.as_str())
        .collect();
    assert_eq!(changed[0]["description"], "changed", "{refresh}");
    let token = refresh["list_token"].as_str().unwrap().to_owned();

    // A deletion: this store keeps no record of deleted targets, so the token is refused
    // and a new listing without it is right.
    let (s, _) = dev
        .call(Method::DELETE, &format!("/v1/targets/{fresh}"), tok, None)
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = list(Some(token.clone())).await?;
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid list token")),
        "{e}"
    );
    let (s, again) = list(None).await?;
    assert_eq!(s, StatusCode::OK);
    assert!(!ids(&again).contains(&fresh));
    assert!(!again["list_token"].as_str().unwrap().is_empty());

    // A token belongs to its list: another list refuses it.
    let (_, scopes) = dev
        .call(Method::GET, "/v1/scopes?scope_id=global", tok, None)
        .await?;
    assert!(!scopes["list_token"].as_str().unwrap().is_empty());
    let (s, e) = dev
        .call(
            Method::GET,
            &format!("/v1/scopes?scope_id=global&list_token={token}"),
            tok,
            None,
        )
        .await?;
    assert_eq!(
        (s, e["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid list token")),
        "{e}"
    );

    // Sessions: a new one shows up in a refresh, with its certificate, without
    // connections, shaped as Boundary's session read.
    dev.register_worker("w1", "worker.example:9202").await?;
    let (_, sessions) = dev
        .call(
            Method::GET,
            "/v1/sessions?scope_id=global&recursive=true",
            tok,
            None,
        )
        .await?;
    let token = sessions["list_token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty(), "{sessions}");
    let (s, auth) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:authorize-session",
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{auth}");
    let sid = auth["session_id"].as_str().unwrap().to_owned();
    let (s, refresh) = dev
        .call(
            Method::GET,
            &format!("/v1/sessions?scope_id=global&recursive=true&list_token={token}"),
            tok,
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{refresh}");
    assert_eq!(ids(&refresh), [sid.as_str()]);
    assert!(
        !refresh["items"][0]["certificate"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert!(refresh["items"][0].get("connections").is_none());
    let (_, read) = dev
        .call(Method::GET, &format!("/v1/sessions/{sid}"), tok, None)
        .await?;
    let theirs: Value = serde_json::from_str(&fixture("sessions-read-pending.json"))?;
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&read), keys(&theirs));
    Ok(())
}
