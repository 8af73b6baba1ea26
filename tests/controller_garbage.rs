//! Garbage to every endpoint of `boundary dev` (REST and worker API): malformed JSON, wrong
//! types, bodies over 1 MiB, bad ids, bad tokens, bad list tokens and query parameters,
//! unknown actions, paths and methods. Each answer must be a 4xx with Boundary's error
//! body, and the server must keep answering.

mod support;

use anyhow::Result;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::dev::Dev;

/// The ids of one resource of each kind, created before the garbage.
struct Fixture {
    token: String,
    ids: Vec<(&'static str, String)>,
}

impl Fixture {
    fn fill(&self, path: &str) -> String {
        self.ids
            .iter()
            .fold(path.to_owned(), |p, (k, v)| p.replace(k, v))
    }
}

/// (method, path) of every endpoint; `{x}` placeholders are real ids.
const REST: &[(&str, &str)] = &[
    ("GET", "/v1/scopes"),
    ("POST", "/v1/scopes"),
    ("GET", "/v1/scopes/{org}"),
    ("PATCH", "/v1/scopes/{org}"),
    ("GET", "/v1/auth-methods"),
    ("POST", "/v1/auth-methods"),
    ("GET", "/v1/auth-methods/{am}"),
    ("POST", "/v1/auth-methods/{am}:authenticate"),
    ("GET", "/v1/accounts?auth_method_id={am}"),
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts/{acct}"),
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users/{user}"),
    ("GET", "/v1/users/{user}:list-resolvable-aliases"),
    ("POST", "/v1/users/{user}:add-accounts"),
    ("GET", "/v1/auth-tokens"),
    ("GET", "/v1/auth-tokens/{at}"),
    ("DELETE", "/v1/auth-tokens/{at}"),
    ("GET", "/v1/roles"),
    ("POST", "/v1/roles"),
    ("GET", "/v1/roles/{role}"),
    ("PATCH", "/v1/roles/{role}"),
    ("DELETE", "/v1/roles/{role}"),
    ("POST", "/v1/roles/{role}:add-principals"),
    ("POST", "/v1/roles/{role}:set-principals"),
    ("POST", "/v1/roles/{role}:remove-principals"),
    ("POST", "/v1/roles/{role}:add-grants"),
    ("POST", "/v1/roles/{role}:set-grants"),
    ("POST", "/v1/roles/{role}:remove-grants"),
    ("POST", "/v1/roles/{role}:add-grant-scopes"),
    ("POST", "/v1/roles/{role}:set-grant-scopes"),
    ("POST", "/v1/roles/{role}:remove-grant-scopes"),
    ("GET", "/v1/targets?scope_id=global&recursive=true"),
    ("POST", "/v1/targets"),
    ("GET", "/v1/targets/{target}"),
    ("PATCH", "/v1/targets/{target}"),
    ("DELETE", "/v1/targets/{target}"),
    ("POST", "/v1/targets/{target}:authorize-session"),
    ("POST", "/v1/targets/{target}:add-credential-sources"),
    ("POST", "/v1/targets/{target}:set-credential-sources"),
    ("POST", "/v1/targets/{target}:remove-credential-sources"),
    ("GET", "/v1/aliases"),
    ("POST", "/v1/aliases"),
    ("GET", "/v1/aliases/{alias}"),
    ("PATCH", "/v1/aliases/{alias}"),
    ("DELETE", "/v1/aliases/{alias}"),
    ("GET", "/v1/sessions?scope_id=global&recursive=true"),
    ("GET", "/v1/sessions/{session}"),
    ("POST", "/v1/sessions/{session}:cancel"),
    ("GET", "/v1/credential-stores?scope_id=p_1234567890"),
    ("POST", "/v1/credential-stores"),
    ("GET", "/v1/credential-stores/{store}"),
    ("DELETE", "/v1/credential-stores/{store}"),
    ("GET", "/v1/credentials?credential_store_id={store}"),
    ("POST", "/v1/credentials"),
    ("GET", "/v1/credentials/{cred}"),
    ("DELETE", "/v1/credentials/{cred}"),
];

const WORKER: &[(&str, &str)] = &[
    ("POST", "/v1/worker/register"),
    ("POST", "/v1/worker/heartbeat"),
    ("GET", "/v1/worker/sessions/{session}"),
    ("POST", "/v1/worker/sessions/{session}:activate"),
    ("POST", "/v1/worker/sessions/{session}:authorize-connection"),
    ("POST", "/v1/worker/sessions/{session}:cancel"),
    ("POST", "/v1/worker/connections/{conn}:connect"),
    ("POST", "/v1/worker/connections/{conn}:close"),
];

/// Every field any request body has, each with the wrong JSON type.
fn wrong_types() -> Value {
    let mut m = serde_json::Map::new();
    for s in [
        "name",
        "description",
        "scope_id",
        "type",
        "value",
        "destination_id",
        "auth_method_id",
        "credential_store_id",
        "command",
        "host_id",
        "scope_name",
        "address",
        "worker_id",
        "tofu_token",
        "client_tcp_address",
        "endpoint_tcp_address",
        "closed_reason",
        "worker_filter",
        "primary_auth_method_id",
    ] {
        m.insert(s.into(), json!(5));
    }
    for n in [
        "version",
        "client_tcp_port",
        "endpoint_tcp_port",
        "bytes_up",
        "bytes_down",
        "session_max_seconds",
        "session_connection_limit",
    ] {
        m.insert(n.into(), json!("x"));
    }
    for l in [
        "grant_strings",
        "principal_ids",
        "grant_scope_ids",
        "account_ids",
        "brokered_credential_source_ids",
        "session_ids",
    ] {
        m.insert(l.into(), json!("x"));
    }
    m.insert("attributes".into(), json!("x"));
    Value::Object(m)
}

fn assert_error(what: &str, status: StatusCode, body: &[u8]) {
    assert!(
        status.is_client_error(),
        "{what}: expected a 4xx, got {status}: {}",
        String::from_utf8_lossy(body)
    );
    let v: Value = serde_json::from_slice(body).unwrap_or_else(|_| {
        panic!(
            "{what}: {status} body is not JSON: {:?}",
            String::from_utf8_lossy(body)
        )
    });
    assert!(
        v["kind"].as_str().is_some_and(|k| !k.is_empty()),
        "{what}: no kind in {v}"
    );
    assert!(v.get("message").is_some(), "{what}: no message in {v}");
}

async fn send(
    dev: &Dev,
    base: &str,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<Vec<u8>>,
) -> Result<(StatusCode, Vec<u8>)> {
    let mut req = dev.http.request(
        Method::from_bytes(method.as_bytes())?,
        format!("{base}{path}"),
    );
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b);
    }
    let resp = req.send().await?;
    Ok((resp.status(), resp.bytes().await?.to_vec()))
}

async fn fixture(dev: &Dev) -> Result<Fixture> {
    let token = dev.login("ampw_1234567890", "admin", "password").await?;
    let t = Some(token.as_str());
    let id = |v: &Value| v["id"].as_str().unwrap_or_default().to_owned();
    let worker_id = dev.register_worker("w", "127.0.0.1:9202").await?;
    let (_, role) = dev
        .call(Method::POST, "/v1/roles", t, Some(json!({"name": "r"})))
        .await?;
    let (_, user) = dev
        .call(Method::POST, "/v1/users", t, Some(json!({"name": "u"})))
        .await?;
    let (_, acct) = dev.call(Method::POST, "/v1/accounts", t, Some(json!({"auth_method_id": "ampw_1234567890", "attributes": {"login_name": "garbage", "password": "garbage-pw"}}))).await?;
    let (_, store) = dev
        .call(
            Method::POST,
            "/v1/credential-stores",
            t,
            Some(json!({"scope_id": "p_1234567890"})),
        )
        .await?;
    let (_, cred) = dev.call(Method::POST, "/v1/credentials", t, Some(json!({"credential_store_id": id(&store), "type": "username_password", "attributes": {"username": "u", "password": "p"}}))).await?;
    let (_, auth) = dev
        .call(
            Method::POST,
            "/v1/targets/ttcp_1234567890:authorize-session",
            t,
            None,
        )
        .await?;
    let session = auth["session_id"].as_str().unwrap_or_default().to_owned();
    dev.worker(
        "w",
        Method::POST,
        &format!("/v1/worker/sessions/{session}:activate"),
        Some(json!({"worker_id": worker_id, "tofu_token": "0123456789abcdefghij"})),
    )
    .await?;
    let (_, conn) = dev.worker("w", Method::POST, &format!("/v1/worker/sessions/{session}:authorize-connection"), Some(json!({"worker_id": worker_id, "tofu_token": "0123456789abcdefghij", "client_tcp_address": "1.2.3.4", "client_tcp_port": 1}))).await?;
    let at = token
        .rsplit_once('_')
        .map(|(id, _)| id.to_owned())
        .unwrap_or_default();
    let ids = vec![
        ("{org}", "o_1234567890".to_owned()),
        ("{am}", "ampw_1234567890".to_owned()),
        ("{acct}", id(&acct)),
        ("{user}", id(&user)),
        ("{at}", at),
        ("{role}", id(&role)),
        ("{target}", "ttcp_1234567890".to_owned()),
        ("{alias}", "alt_1234567890".to_owned()),
        ("{session}", session),
        ("{store}", id(&store)),
        ("{cred}", id(&cred)),
        (
            "{conn}",
            conn["connection_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
    ];
    for (k, v) in &ids {
        assert!(!v.is_empty(), "fixture {k} was not created");
    }
    Ok(Fixture { token, ids })
}

#[tokio::test]
async fn garbage_gets_4xx_with_error_bodies_and_the_server_survives() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let fx = fixture(&dev).await?;
    let admin = format!("Bearer {}", fx.token);
    let worker = dev.worker_bearer("w");
    let big = {
        let mut b = b"{\"name\":\"".to_vec();
        b.resize(b.len() + 1024 * 1024 + 16, b'a');
        b.extend_from_slice(b"\"}");
        b
    };
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("malformed", b"{\"name\": ".to_vec()),
        ("not json", b"hello".to_vec()),
        ("array root", b"[1,2,3]".to_vec()),
        ("invalid utf-8", b"{\"name\": \"\xff\xfe\"}".to_vec()),
        ("wrong types", serde_json::to_vec(&wrong_types())?),
        ("over 1 MiB", big),
    ];

    let all: Vec<(&str, &str, &str, &str)> = REST
        .iter()
        .map(|(m, p)| (dev.api.as_str(), admin.as_str(), *m, *p))
        .chain(
            WORKER
                .iter()
                .map(|(m, p)| (dev.cluster.as_str(), worker.as_str(), *m, *p)),
        )
        .collect();

    for (base, auth, method, template) in &all {
        let path = fx.fill(template);
        // Bodies.
        if matches!(*method, "POST" | "PATCH") {
            for (name, body) in &bodies {
                let (s, b) =
                    send(&dev, base, method, &path, Some(auth), Some(body.clone())).await?;
                assert_error(&format!("{method} {template} with {name}"), s, &b);
            }
        }
        // Bad ids in the id position.
        if template.contains('{') {
            let (before, after) = template.split_once('{').unwrap();
            let after = after.split_once('}').unwrap().1;
            for bad in [
                "bad_id",
                "x_1234567890",
                "ttcp_123",
                "%FF%FE",
                "a%3Ab",
                "s_1234567890_extra",
                "%00",
            ] {
                let p = fx.fill(&format!("{before}{bad}{after}"));
                let body = matches!(*method, "POST" | "PATCH").then(|| b"{\"version\":1}".to_vec());
                let (s, b) = send(&dev, base, method, &p, Some(auth), body).await?;
                assert_error(&format!("{method} {p}"), s, &b);
            }
        }
        // Unknown custom actions.
        if template.contains("}") && !template.contains("?") {
            let id_part = fx.fill(template.split(':').next().unwrap());
            for m in ["POST", "GET"] {
                let (s, b) = send(
                    &dev,
                    base,
                    m,
                    &format!("{id_part}:frobnicate"),
                    Some(auth),
                    Some(b"{}".to_vec()),
                )
                .await?;
                assert_error(&format!("{m} {id_part}:frobnicate"), s, &b);
                assert!(
                    matches!(s, StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST),
                    "{m} {id_part}:frobnicate gave {s}"
                );
            }
        }
    }

    // Bad tokens on everything anonymous callers may not do: 401 (or 403); a create whose body is incomplete may be refused with 400 first,
    // as Boundary validates requests before checking permissions.
    let anonymous_allowed = [
        "/v1/scopes",
        "/v1/auth-methods",
        "/v1/auth-methods/{am}",
        "/v1/auth-methods/{am}:authenticate",
    ];
    for (method, template) in REST.iter().filter(|(_, p)| !anonymous_allowed.contains(p)) {
        let path = fx.fill(template);
        for bad in [
            "Bearer garbage",
            "Bearer at_1234567890_s1abc",
            "Bearer at_0000000000_s1",
            "Basic YWRtaW46cGFzc3dvcmQ=",
            "bearer",
            "",
        ] {
            let body = matches!(*method, "POST" | "PATCH").then(|| b"{}".to_vec());
            let (s, b) = send(&dev, &dev.api, method, &path, Some(bad), body).await?;
            assert_error(&format!("{method} {template} with {bad:?}"), s, &b);
            let refused = matches!(s, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            let invalid_create =
                *method == "POST" && !template.contains('{') && s == StatusCode::BAD_REQUEST;
            assert!(
                refused || invalid_create,
                "{method} {template} with {bad:?} gave {s}"
            );
        }
    }
    // Worker API without or with the wrong credential.
    for (method, template) in WORKER {
        for bad in ["", "Bearer garbage", &admin] {
            let (s, b) = send(
                &dev,
                &dev.cluster,
                method,
                &fx.fill(template),
                Some(bad),
                Some(b"{}".to_vec()),
            )
            .await?;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {template}");
            assert_error(template, s, &b);
        }
    }

    // Bad list tokens and query parameters on every list.
    let lists = REST.iter().filter(|(m, p)| {
        *m == "GET"
            && (!p.contains('{') || p.contains('?') || p.ends_with(":list-resolvable-aliases"))
    });
    for (_, template) in lists {
        let path = fx.fill(template);
        let sep = if path.contains('?') { '&' } else { '?' };
        for (q, kind) in [
            ("list_token=garbage", Some("invalid list token")),
            ("list_token=eyJ4IjoxfQ", Some("invalid list token")),
            ("page_size=abc", None),
            ("page_size=-1", None),
            ("page_size=99999999", None),
            ("recursive=sometimes", None),
            ("filter=%22x%22%20in%20%22/name%22", None),
        ] {
            let (s, b) = send(
                &dev,
                &dev.api,
                "GET",
                &format!("{path}{sep}{q}"),
                Some(&admin),
                None,
            )
            .await?;
            assert_error(&format!("GET {path}{sep}{q}"), s, &b);
            assert_eq!(s, StatusCode::BAD_REQUEST, "GET {path}{sep}{q}");
            if let Some(k) = kind {
                assert_eq!(
                    serde_json::from_slice::<Value>(&b)?["kind"],
                    k,
                    "GET {path}{sep}{q}"
                );
            }
        }
    }

    // Unknown paths and methods.
    for (method, path) in [
        ("GET", "/v1/nope"),
        ("GET", "/"),
        ("PUT", "/v1/targets"),
        ("DELETE", "/v1/scopes"),
        ("PATCH", "/v1/sessions/s_1234567890"),
    ] {
        let (s, b) = send(&dev, &dev.api, method, path, Some(&admin), None).await?;
        assert_error(&format!("{method} {path}"), s, &b);
    }

    // Still alive and working.
    assert!(
        dev.is_running(),
        "the controller died; stderr:\n{}",
        dev.output_tail()
    );
    let (s, _) = dev.call(Method::GET, "/v1/scopes", None, None).await?;
    assert_eq!(s, StatusCode::OK);
    dev.login("ampw_1234567890", "admin", "password").await?;
    Ok(())
}
