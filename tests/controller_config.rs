//! `boundary controller -config FILE` with a SQLite file, a TLS API listener and a root key:
//! the first start initialises the database and prints the admin login once; a restart
//! keeps the data, prints nothing new, and still opens what it sealed before.

mod support;

use anyhow::Result;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::dev::{ControllerConfig, Dev, TestTls};

#[tokio::test]
async fn controller_from_config_with_tls_and_a_database_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let tls = TestTls::write(dir.path(), "api", &["localhost", "127.0.0.1"]);
    let b64 = base64::engine::general_purpose::STANDARD;
    let db = dir.path().join("controller.db");
    let config = ControllerConfig::new("test-controller", &format!("sqlite://{}", db.display()))
        .top_level("disable_mlock = true")
        .api_tls(&tls);
    let path = dir.path().join("controller.hcl");
    let https = tls.https_client();

    let (password, am, session_id) = {
        let ctl = Dev::controller(&path, &config)
            .http_client(https.clone())
            .start();
        assert!(ctl.api.starts_with("https://"), "{}", ctl.api);
        let field = |name: &str| ctl.banner(name).unwrap_or_default();
        let (am, password) = (field("Auth Method ID:"), field("Password:"));
        assert_eq!(password.len(), 20, "{:?}", ctl.stdout_lines());
        let token = ctl.login(&am, "admin", &password).await?;
        let t = Some(token.as_str());
        let project_id = ctl.create_org_and_project(&token).await?;
        let (s, target) = ctl
            .call(Method::POST, "/v1/targets", t, Some(json!({"scope_id": project_id, "name": "ssh", "address": "127.0.0.1", "attributes": {"default_port": 22}})))
            .await?;
        assert_eq!(s, StatusCode::OK, "{target}");
        ctl.register_worker("w1", "127.0.0.1:9202").await?;
        let (s, auth) = ctl
            .call(
                Method::POST,
                &format!(
                    "/v1/targets/{}:authorize-session",
                    target["id"].as_str().unwrap()
                ),
                t,
                None,
            )
            .await?;
        assert_eq!(s, StatusCode::OK, "{auth}");
        // Plain HTTP to the TLS listener is refused.
        let plain = reqwest::Client::new()
            .get(ctl.api.replace("https://", "http://") + "/v1/scopes")
            .send()
            .await;
        assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
        (
            password,
            am,
            auth["session_id"].as_str().unwrap().to_owned(),
        )
    };

    // Restart on the same database: nothing is generated again, the login still works,
    // and the session key sealed before the restart opens.
    let ctl = Dev::controller(&path, &config).http_client(https).start();
    assert!(
        !ctl.stdout_lines().iter().any(|l| l.contains("Password:")),
        "{:?}",
        ctl.stdout_lines()
    );
    ctl.login(&am, "admin", &password).await?;
    let (s, ws) = ctl
        .worker(
            "w1",
            Method::GET,
            &format!("/v1/worker/sessions/{session_id}"),
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{ws}");
    assert_eq!(b64.decode(ws["private_key"].as_str().unwrap())?.len(), 64);
    Ok(())
}

#[tokio::test]
async fn bad_config_is_a_clear_error() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bad.hcl");
    std::fs::write(&path, "controller {\n  nmae = \"x\"\n}\n")?;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_boundary"))
        .args(["controller", "-config", path.to_str().unwrap()])
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:2: `controller > nmae`", path.display())),
        "{err}"
    );

    // `dev -client-agent` takes over the machine's resolver, so it must refuse up front
    // without root. Run as an unprivileged user: this test must never start the agent on
    // the host (the agent's own tests run it inside network namespaces).
    let binary = support::executable::runnable_by_anyone(env!("CARGO_BIN_EXE_boundary"));
    let out = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(&binary)
        .args(["dev", "-client-agent"])
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("root"), "{err}");
    Ok(())
}

#[tokio::test]
async fn sigterm_stops_dev_cleanly() -> Result<()> {
    let dev = Dev::builder().controller_only().start();
    // An open keep-alive connection must not hold the shutdown up.
    let (s, _) = dev.call(Method::GET, "/v1/scopes", None, None).await?;
    assert_eq!(s, StatusCode::OK);
    let status = dev.terminate();
    assert!(
        status.success(),
        "exit status {status:?}; stderr:\n{}",
        dev.output_tail()
    );
    Ok(())
}
