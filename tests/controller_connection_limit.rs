//! A session's connection limit holds under concurrency: 20 simultaneous
//! `:authorize-connection` calls on a session limited to 3 connections admit exactly 3,
//! with SQLite (`boundary dev`) and with PostgreSQL shared by two `boundary controller`
//! processes (the calls are spread over both).

mod support;

use anyhow::{Result, bail};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::dev::{ControllerConfig, Dev};
use support::postgres::PostgresCluster;

const LIMIT: usize = 3;
const ATTEMPTS: usize = 20;

/// Authorizes a session on `target_id`, activates it, and fires the attempts spread over
/// `controllers`. Returns how many were admitted.
async fn admitted(controllers: &[&Dev], token: &str, target_id: &str) -> Result<usize> {
    let first = controllers[0];
    let worker_id = first
        .register_worker("limit-worker", "127.0.0.1:9202")
        .await?;
    let (s, auth) = first
        .call(
            Method::POST,
            &format!("/v1/targets/{target_id}:authorize-session"),
            Some(token),
            None,
        )
        .await?;
    if s != StatusCode::OK {
        bail!("authorize-session: {s} {auth}");
    }
    assert_eq!(auth["connection_limit"], LIMIT);
    let sid = auth["session_id"].as_str().unwrap().to_owned();
    let (s, ws) = first
        .worker(
            "limit-worker",
            Method::POST,
            &format!("/v1/worker/sessions/{sid}:activate"),
            Some(json!({"worker_id": worker_id, "tofu_token": "0123456789abcdefghij"})),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{ws}");

    let calls = (0..ATTEMPTS).map(|i| {
        let ctl = controllers[i % controllers.len()];
        let (sid, worker_id) = (sid.clone(), worker_id.clone());
        async move {
            ctl.worker("limit-worker", Method::POST, &format!("/v1/worker/sessions/{sid}:authorize-connection"),
                       Some(json!({"worker_id": worker_id, "tofu_token": "0123456789abcdefghij", "client_tcp_address": "10.0.0.1", "client_tcp_port": 40000 + i})))
                .await
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let mut ok = 0;
    let mut lefts = vec![];
    for r in results {
        let (status, body) = r?;
        match status {
            StatusCode::OK => {
                ok += 1;
                lefts.push(body["connections_left"].as_i64().unwrap());
            }
            StatusCode::BAD_REQUEST => {
                assert_eq!(body["kind"], "ConnectionNotAuthorized", "{body}")
            }
            other => bail!("unexpected {other}: {body}"),
        }
    }
    lefts.sort();
    assert_eq!(
        lefts,
        (0..LIMIT as i64).collect::<Vec<_>>(),
        "each admitted call sees a distinct count left"
    );
    let (_, session) = first
        .call(
            Method::GET,
            &format!("/v1/sessions/{sid}"),
            Some(token),
            None,
        )
        .await?;
    assert_eq!(session["connections"].as_array().map(Vec::len), Some(LIMIT));
    Ok(ok)
}

#[tokio::test]
async fn sqlite_admits_exactly_the_limit() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    let token = dev.login("ampw_1234567890", "admin", "password").await?;
    let (s, t) = dev
        .call(
            Method::POST,
            "/v1/targets",
            Some(&token),
            Some(json!({
                "scope_id": "p_1234567890", "name": "limited", "address": "127.0.0.1",
                "attributes": {"default_port": 22}, "session_connection_limit": LIMIT
            })),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        admitted(&[&dev], &token, t["id"].as_str().unwrap()).await?,
        LIMIT
    );
    Ok(())
}

#[tokio::test]
async fn postgres_shared_by_two_controllers_admits_exactly_the_limit() -> Result<()> {
    let cluster = tokio::task::spawn_blocking(PostgresCluster::start).await??;
    let dir = tempfile::tempdir()?;
    let config = ControllerConfig::new("c", &cluster.url());
    let path = dir.path().join("controller.hcl");
    let a = Dev::controller(&path, &config).start();
    let b = Dev::controller(&path, &config).start();
    // The first controller initialised the database and printed the admin's login.
    let field = |name: &str| a.banner(name).unwrap_or_default();
    let (am, password) = (field("Auth Method ID:"), field("Password:"));
    assert!(am.starts_with("ampw_"), "{:?}", a.stdout_lines());
    assert!(
        !b.stdout_lines().iter().any(|l| l.contains("Password:")),
        "the second controller must not initialise again"
    );
    let token = a.login(&am, "admin", &password).await?;
    let t = Some(token.as_str());
    let project_id = a.create_org_and_project(&token).await?;
    let (s, target) = b
        .call(
            Method::POST,
            "/v1/targets",
            t,
            Some(json!({
                "scope_id": project_id, "name": "limited", "address": "127.0.0.1",
                "attributes": {"default_port": 22}, "session_connection_limit": LIMIT
            })),
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{target}");
    assert_eq!(
        admitted(&[&a, &b], &token, target["id"].as_str().unwrap()).await?,
        LIMIT
    );
    Ok(())
}
