//! The controller's REST API as plain JSON over HTTP: the admin API, the worker API with
//! a worker's credential, logging in, and waiting for the dev worker.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::wait::poll_until_async;
use super::{Dev, START_TIMEOUT, TARGET_ID};

/// Only stops a hung request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The default client of [`Dev::call`].
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client")
}

impl Dev {
    /// A REST call; returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.api));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await?).await
    }

    /// A worker API call as the worker named `worker_name` (with its credential, derived
    /// from the worker-auth key as a real worker derives it).
    pub async fn worker(
        &self,
        worker_name: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        self.worker_with(&self.worker_bearer(worker_name), method, path, body)
            .await
    }

    /// A worker API call with the `Authorization` value given (or none).
    pub async fn worker_with(
        &self,
        authorization: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.cluster));
        if !authorization.is_empty() {
            request = request.header("Authorization", authorization);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await?).await
    }

    /// `Authorization` value for the worker API, as the worker named `worker_name`.
    pub fn worker_bearer(&self, worker_name: &str) -> String {
        format!(
            "Bearer {}",
            boundary_net::worker_auth::derive_credential(&self.worker_auth_key(), worker_name)
                .expose()
        )
    }

    /// Logs in with the password auth method and returns the token.
    pub async fn login(
        &self,
        auth_method_id: &str,
        login_name: &str,
        password: &str,
    ) -> Result<String> {
        login_with(&self.http, &self.api, auth_method_id, login_name, password).await
    }

    /// Registers a worker (with its own credential) and returns its id.
    pub async fn register_worker(&self, name: &str, address: &str) -> Result<String> {
        let (status, body) = self
            .worker(
                name,
                Method::POST,
                "/v1/worker/register",
                Some(json!({"name": name, "address": address})),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("register failed: {status} {body}");
        }
        Ok(body["worker_id"].as_str().unwrap_or_default().to_owned())
    }

    /// An org "org" in the global scope and a project "project" in it (where a fresh
    /// `boundary controller` database has none); returns the project's id.
    pub async fn create_org_and_project(&self, token: &str) -> Result<String> {
        let mut parent = "global".to_owned();
        for name in ["org", "project"] {
            let (status, scope) = self
                .call(
                    Method::POST,
                    "/v1/scopes",
                    Some(token),
                    Some(json!({"scope_id": parent, "name": name})),
                )
                .await?;
            if status != StatusCode::OK {
                bail!("create {name}: {status} {scope}");
            }
            parent = scope["id"].as_str().context("a scope id")?.to_owned();
        }
        Ok(parent)
    }

    /// Waits until the dev worker has registered, proven by the admin authorizing a
    /// session on the seeded target (then canceled), so a test's first authorization
    /// cannot meet "no workers are available".
    pub async fn wait_for_worker(&self) {
        let token = self.admin_token().await;
        let authorize = format!("/v1/targets/{TARGET_ID}:authorize-session");
        let session = poll_until_async("the dev worker to register", START_TIMEOUT, || async {
            self.process().assert_running();
            match self
                .call(Method::POST, &authorize, Some(&token), None)
                .await
            {
                Ok((StatusCode::OK, body)) => Ok(body),
                Ok((status, body)) => Err(format!("{status} {body}")),
                Err(e) => Err(format!("{e:#}")),
            }
        })
        .await;
        let path = format!(
            "/v1/sessions/{}",
            session["session_id"].as_str().unwrap_or_default()
        );
        let (_, read) = self
            .call(Method::GET, &path, Some(&token), None)
            .await
            .expect("read the probe session");
        let (status, body) = self
            .call(
                Method::POST,
                &format!("{path}:cancel"),
                Some(&token),
                Some(json!({"version": read["version"]})),
            )
            .await
            .expect("cancel the probe session");
        assert_eq!(status, StatusCode::OK, "cancel the probe session: {body}");
    }
}

/// Logs in at the controller `api` with `http`; returns the token.
pub async fn login_with(
    http: &reqwest::Client,
    api: &str,
    auth_method_id: &str,
    login_name: &str,
    password: &str,
) -> Result<String> {
    let response = http
        .post(format!(
            "{api}/v1/auth-methods/{auth_method_id}:authenticate"
        ))
        .json(&json!({
            "command": "login",
            "attributes": {"login_name": login_name, "password": password},
        }))
        .send()
        .await?;
    let (status, body) = read(response).await?;
    if status != StatusCode::OK {
        bail!("login as {login_name} failed: {status} {body}");
    }
    body["attributes"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no token in {body}"))
}

async fn read(response: reqwest::Response) -> Result<(StatusCode, Value)> {
    let status = response.status();
    let bytes = response.bytes().await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{status}: body is not JSON: {:?}",
                String::from_utf8_lossy(&bytes)
            )
        })?
    };
    Ok((status, body))
}
