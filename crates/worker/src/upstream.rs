//! The worker's link to the controller: a JSON client for the worker API of
//! `boundary_wire::api::worker`, authenticated with this worker's own credential (derived from the
//! worker-auth key and its name, see `boundary_net::worker_auth`).
//!
//! Upstreams are tried in order; one that cannot be reached is skipped and the first that
//! answers becomes the preferred one for later calls. The worker id the controller handed
//! out at registration is kept here and filled into every request that needs it.

use boundary_wire::api::worker::{
    ActivateSessionRequest, AuthorizeConnectionRequest, AuthorizeConnectionResponse,
    CloseConnectionRequest, ConnectConnectionRequest, HeartbeatRequest, HeartbeatResponse,
    RegisterWorkerRequest, RegisterWorkerResponse, WorkerCancelSessionRequest, WorkerSessionState,
    WorkerSessionTls, kind as worker_kind,
};
use boundary_wire::api::{ApiErrorBody, Secret, error::kind};
use reqwest::{Method, StatusCode, Url};
use rustls_pki_types::CertificateDer;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long one controller call may take before the next upstream is tried.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What went wrong talking to the controller, by the documented error kinds.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The session is bound to another tofu token.
    #[error("the session is bound to another tofu token")]
    TofuMismatch,
    /// The session is not pending and has no tofu token bound.
    #[error("the session cannot be activated")]
    NotActivatable,
    /// Connection limit reached, session expired or not active.
    #[error("the controller refused the connection: {0}")]
    ConnectionRefused(String),
    #[error("not found at the controller")]
    NotFound,
    /// The controller does not accept this worker's credential or id.
    #[error("the controller rejected the worker's credentials: {0}")]
    Unauthenticated(String),
    #[error("the worker is not registered with a controller yet")]
    NotRegistered,
    #[error("no controller reachable (tried {tried}): {last_error}")]
    Unreachable { tried: String, last_error: String },
    #[error("controller answered {status}: {body}")]
    Api { status: u16, body: ApiErrorBody },
    #[error("controller sent an unreadable answer: {0}")]
    Decode(String),
    #[error("cannot set up the controller client: {0}")]
    Setup(String),
}

/// A cheap-to-clone handle to the controller.
#[derive(Clone)]
pub struct ControllerLink {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    upstreams: Vec<Url>,
    preferred: AtomicUsize,
    credential: Secret,
    worker_id: RwLock<Option<String>>,
}

impl std::fmt::Debug for ControllerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerLink")
            .field("upstreams", &self.inner.upstreams)
            .field("worker_id", &self.worker_id())
            .finish_non_exhaustive()
    }
}

impl ControllerLink {
    /// `upstreams` are `host:port` (plain HTTP) or `http(s)://` URLs; `credential` is this
    /// worker's bearer credential; `ca_certs` are the trust anchors for `https://`
    /// upstreams (empty: the public web roots).
    pub fn new(
        upstreams: &[String],
        credential: Secret,
        ca_certs: &[CertificateDer<'static>],
    ) -> Result<Self, UpstreamError> {
        let upstreams = upstreams
            .iter()
            .map(|u| parse_upstream(u))
            .collect::<Result<Vec<_>, _>>()?;
        if upstreams.is_empty() {
            return Err(UpstreamError::Setup(
                "the worker has no controller address".into(),
            ));
        }
        let roots = if ca_certs.is_empty() {
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned())
        } else {
            let mut roots = rustls::RootCertStore::empty();
            for cert in ca_certs {
                roots
                    .add(cert.clone())
                    .map_err(|e| UpstreamError::Setup(format!("upstream CA certificate: {e}")))?;
            }
            roots
        };
        let tls = rustls::ClientConfig::builder_with_provider(boundary_net::tls::ring_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| UpstreamError::Setup(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| UpstreamError::Setup(format!("HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                upstreams,
                preferred: AtomicUsize::new(0),
                credential,
                worker_id: RwLock::new(None),
            }),
        })
    }

    /// The id the controller gave this worker, once registered.
    pub fn worker_id(&self) -> Option<String> {
        self.inner
            .worker_id
            .read()
            .map(|id| id.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn require_worker_id(&self) -> Result<String, UpstreamError> {
        self.worker_id().ok_or(UpstreamError::NotRegistered)
    }

    pub async fn register(
        &self,
        request: &RegisterWorkerRequest,
    ) -> Result<RegisterWorkerResponse, UpstreamError> {
        let response: RegisterWorkerResponse = self
            .call(Method::POST, &["worker", "register"], Some(request))
            .await?;
        let mut id = self
            .inner
            .worker_id
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *id = Some(response.worker_id.clone());
        Ok(response)
    }

    pub async fn heartbeat(
        &self,
        address: &str,
        session_ids: Vec<String>,
    ) -> Result<HeartbeatResponse, UpstreamError> {
        let request = HeartbeatRequest {
            worker_id: self.require_worker_id()?,
            address: address.to_owned(),
            session_ids,
        };
        self.call(Method::POST, &["worker", "heartbeat"], Some(&request))
            .await
    }

    /// The session's certificate and key, for terminating its TLS.
    pub async fn session(&self, session_id: &str) -> Result<WorkerSessionTls, UpstreamError> {
        self.call::<(), _>(Method::GET, &["worker", "sessions", session_id], None)
            .await
    }

    /// Trust on first use: binds `tofu_token` to a pending session, or checks it against
    /// the one already bound.
    pub async fn activate(
        &self,
        session_id: &str,
        tofu_token: &Secret,
    ) -> Result<WorkerSessionState, UpstreamError> {
        let request = ActivateSessionRequest {
            worker_id: self.require_worker_id()?,
            tofu_token: tofu_token.clone(),
        };
        let action = format!("{session_id}:activate");
        self.call(
            Method::POST,
            &["worker", "sessions", &action],
            Some(&request),
        )
        .await
    }

    /// One connection of the session's limit; `tofu_token` is the one the client sent,
    /// which the controller checks against the one bound at activation.
    pub async fn authorize_connection(
        &self,
        session_id: &str,
        tofu_token: &Secret,
        client: std::net::SocketAddr,
    ) -> Result<AuthorizeConnectionResponse, UpstreamError> {
        let request = AuthorizeConnectionRequest {
            worker_id: self.require_worker_id()?,
            tofu_token: tofu_token.clone(),
            client_tcp_address: client.ip().to_string(),
            client_tcp_port: u32::from(client.port()),
        };
        let action = format!("{session_id}:authorize-connection");
        self.call(
            Method::POST,
            &["worker", "sessions", &action],
            Some(&request),
        )
        .await
    }

    pub async fn cancel(
        &self,
        session_id: &str,
        tofu_token: &Secret,
    ) -> Result<WorkerSessionState, UpstreamError> {
        let request = WorkerCancelSessionRequest {
            worker_id: self.require_worker_id()?,
            tofu_token: tofu_token.clone(),
        };
        let action = format!("{session_id}:cancel");
        self.call(
            Method::POST,
            &["worker", "sessions", &action],
            Some(&request),
        )
        .await
    }

    /// Records the endpoint address a connection dialled.
    pub async fn connect_connection(
        &self,
        connection_id: &str,
        endpoint: std::net::SocketAddr,
    ) -> Result<(), UpstreamError> {
        let request = ConnectConnectionRequest {
            endpoint_tcp_address: endpoint.ip().to_string(),
            endpoint_tcp_port: u32::from(endpoint.port()),
        };
        let action = format!("{connection_id}:connect");
        let _: serde_json::Value = self
            .call(
                Method::POST,
                &["worker", "connections", &action],
                Some(&request),
            )
            .await?;
        Ok(())
    }

    pub async fn close_connection(
        &self,
        connection_id: &str,
        request: &CloseConnectionRequest,
    ) -> Result<(), UpstreamError> {
        let action = format!("{connection_id}:close");
        let _: serde_json::Value = self
            .call(
                Method::POST,
                &["worker", "connections", &action],
                Some(request),
            )
            .await?;
        Ok(())
    }

    /// Sends one request, trying each upstream from the preferred one on until one answers.
    /// Path segments are percent-encoded, so ids taken from a client cannot reshape the URL.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
    ) -> Result<T, UpstreamError> {
        let count = self.inner.upstreams.len();
        let first = self.inner.preferred.load(Ordering::Relaxed) % count;
        let mut last_error = String::new();
        for i in 0..count {
            let index = (first + i) % count;
            let url = endpoint_url(&self.inner.upstreams[index], segments);
            let mut request = self
                .inner
                .http
                .request(method.clone(), url)
                .bearer_auth(self.inner.credential.expose());
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(response) => {
                    self.inner.preferred.store(index, Ordering::Relaxed);
                    return decode(response).await;
                }
                Err(e) => {
                    last_error = error_chain(&e);
                    tracing::debug!(upstream = %self.inner.upstreams[index], error = %last_error, "controller unreachable");
                }
            }
        }
        Err(UpstreamError::Unreachable {
            tried: self
                .inner
                .upstreams
                .iter()
                .map(Url::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            last_error,
        })
    }
}

/// An error and its causes, `a: b: c` (reqwest's own message omits the cause, such as
/// the TLS failure behind "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn parse_upstream(text: &str) -> Result<Url, UpstreamError> {
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    Url::parse(&with_scheme).map_err(|e| {
        UpstreamError::Setup(format!("{text:?} is not a usable controller address: {e}"))
    })
}

fn endpoint_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().push("v1").extend(segments);
    }
    url
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, UpstreamError> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| UpstreamError::Decode(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| UpstreamError::Decode(e.to_string()));
    }
    let body: ApiErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        ApiErrorBody::new(
            kind::INTERNAL,
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        )
    });
    Err(map_error(status, body))
}

fn map_error(status: StatusCode, body: ApiErrorBody) -> UpstreamError {
    match body.kind.as_str() {
        worker_kind::TOFU_MISMATCH => UpstreamError::TofuMismatch,
        worker_kind::NOT_ACTIVATABLE => UpstreamError::NotActivatable,
        worker_kind::CONNECTION_REFUSED => UpstreamError::ConnectionRefused(body.message),
        kind::NOT_FOUND => UpstreamError::NotFound,
        kind::UNAUTHENTICATED | kind::PERMISSION_DENIED => {
            UpstreamError::Unauthenticated(body.message)
        }
        _ if status == StatusCode::NOT_FOUND => UpstreamError::NotFound,
        _ if status == StatusCode::UNAUTHORIZED => UpstreamError::Unauthenticated(body.message),
        _ => UpstreamError::Api {
            status: status.as_u16(),
            body,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_clients_cannot_reshape_the_path() {
        let base = parse_upstream("127.0.0.1:9201").unwrap();
        let url = endpoint_url(&base, &["worker", "sessions", "s_1/../../x?y#z:activate"]);
        assert_eq!(url.path_segments().unwrap().count(), 4);
        assert!(url.query().is_none() && url.fragment().is_none());
        let url = endpoint_url(&base, &["worker", "sessions", "s_1234567890:activate"]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9201/v1/worker/sessions/s_1234567890:activate"
        );
        let base = parse_upstream("https://c.example/").unwrap();
        assert_eq!(
            endpoint_url(&base, &["worker", "register"]).as_str(),
            "https://c.example/v1/worker/register"
        );
    }

    #[test]
    fn documented_kinds_map_to_their_errors() {
        let body = |k: &str| ApiErrorBody::new(k, "m");
        assert!(matches!(
            map_error(StatusCode::BAD_REQUEST, body(worker_kind::TOFU_MISMATCH)),
            UpstreamError::TofuMismatch
        ));
        assert!(matches!(
            map_error(StatusCode::BAD_REQUEST, body(worker_kind::NOT_ACTIVATABLE)),
            UpstreamError::NotActivatable
        ));
        assert!(matches!(
            map_error(
                StatusCode::BAD_REQUEST,
                body(worker_kind::CONNECTION_REFUSED)
            ),
            UpstreamError::ConnectionRefused(_)
        ));
        assert!(matches!(
            map_error(StatusCode::NOT_FOUND, body("NotFound")),
            UpstreamError::NotFound
        ));
        assert!(matches!(
            map_error(StatusCode::UNAUTHORIZED, body("Unauthenticated")),
            UpstreamError::Unauthenticated(_)
        ));
        assert!(matches!(
            map_error(StatusCode::INTERNAL_SERVER_ERROR, body("Internal")),
            UpstreamError::Api { status: 500, .. }
        ));
    }
}
