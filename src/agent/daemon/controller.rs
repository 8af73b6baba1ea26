//! The agent's calls to the controller: authorizing sessions through an alias, listing
//! each user's resolvable aliases page by page, validating registered tokens, and
//! cancelling sessions at the worker. Failures are classified for the core
//! ([`FailureKind`]), whose `status` errors and failure breaker build on them; messages
//! never contain a token.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::anyhow;

use crate::agent::config::ConfigKey;
use crate::agent::core::{
    AuthorizeRequest, Authorized, CancelRequest, ControllerFailure, FailureKind, RefreshRequest,
};
use crate::agent::proxy::SessionTunnel;
use crate::api::ListResponse;
use crate::api::alias::ResolvableAlias;
use crate::client::{
    CaSource, ClientError, ClientOptions, ControllerClient, SessionTarget, TlsOptions,
    build_client_config,
};
use crate::proto::decode_authorization_token;
use crate::tunnel::TunnelSession;

/// Bound on one controller request. Below the core's authorize timeout (60 s), so every
/// `Authorize` gets its answer from here.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One HTTP client (connection pool) per controller address, made on first use.
#[derive(Default)]
pub struct Controllers {
    clients: Mutex<BTreeMap<String, ControllerClient>>,
    tls: TlsOptions,
}

impl Controllers {
    /// Clients that also trust the certificates of `controller_ca_file`. The file is read
    /// now, so that a missing file or one without a usable certificate stops the start
    /// with the key's name instead of failing every later request.
    pub fn trusting(controller_ca_file: Option<&Path>) -> anyhow::Result<Controllers> {
        let Some(path) = controller_ca_file else {
            return Ok(Controllers::default());
        };
        let key = ConfigKey::ControllerCaFile.name();
        let pem = std::fs::read(path)
            .map_err(|e| anyhow!("{key} = {:?}: cannot read it: {e}", path.display()))?;
        let tls = TlsOptions {
            extra_ca: Some(CaSource::Pem(pem)),
            insecure: false,
        };
        build_client_config(&tls).map_err(|e| anyhow!("{key} = {:?}: {e}", path.display()))?;
        Ok(Controllers {
            clients: Mutex::default(),
            tls,
        })
    }

    /// The client for `addr`, acting anonymously (use `with_token`).
    pub fn client(&self, addr: &str) -> Result<ControllerClient, ClientError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(addr) {
            return Ok(client.clone());
        }
        let options = ClientOptions {
            connect_timeout: CONNECT_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            tls: self.tls.clone(),
            ..ClientOptions::default()
        };
        let client = ControllerClient::new(addr, options)?;
        clients.insert(addr.to_owned(), client.clone());
        Ok(client)
    }

    /// `POST /v1/targets/{alias}:authorize-session` with the user's token, and the
    /// session's tunnel data from its authorization token.
    pub async fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<Authorized<SessionTunnel>, ControllerFailure> {
        let client = self
            .client(&request.controller_addr)
            .map_err(|e| failure(&e))?
            .with_token(Some(request.token.clone()));
        let authorization = client
            .authorize_session(SessionTarget::Alias(&request.alias_value), None)
            .await
            .map_err(|e| failure(&e))?;
        let unusable = |what: String| ControllerFailure {
            kind: FailureKind::Rejected,
            message: format!(
                "the controller authorized session {} for {} but {what}",
                authorization.session_id, request.alias_value
            ),
        };
        // `{:#}` of the chain: a token error keeps its cause (the decode error) as source.
        let data = decode_authorization_token(authorization.authorization_token.expose())
            .map_err(anyhow::Error::new)
            .map_err(|e| unusable(format!("its authorization token is unusable: {e:#}")))?;
        let default_client_port = data.default_client_port;
        let tunnel = TunnelSession::new(data)
            .map_err(|e| unusable(format!("no tunnel can be made from it: {e}")))?;
        Ok(Authorized {
            token_id: request.token_id.clone(),
            authorization,
            default_client_port,
            tunnel: Arc::new(tunnel),
        })
    }

    /// One page of `GET /v1/users/{id}:list-resolvable-aliases`.
    pub async fn list_aliases(
        &self,
        request: &RefreshRequest,
    ) -> Result<ListResponse<ResolvableAlias>, ControllerFailure> {
        let client = self
            .client(&request.controller_addr)
            .map_err(|e| failure(&e))?
            .with_token(Some(request.token.clone()));
        client
            .list_resolvable_aliases(&request.user_id, request.list_token.as_deref(), None)
            .await
            .map_err(|e| failure(&e))
    }
}

/// Cancels a session at the worker (best effort: the session expires anyway).
pub async fn cancel_session(request: CancelRequest<SessionTunnel>) {
    let reason = request.reason;
    match request.tunnel.cancel().await {
        Ok(()) => {
            tracing::debug!(session_id = %request.session_id, alias = %request.key.alias, %reason, "session cancelled at the worker")
        }
        Err(error) => {
            tracing::info!(session_id = %request.session_id, alias = %request.key.alias, %reason, %error, "could not cancel the session at the worker; it ends when it expires")
        }
    }
}

/// How the core should treat a failed controller call.
pub fn classify(error: &ClientError) -> FailureKind {
    if error.is_transport() {
        FailureKind::Network
    } else if error.status() == Some(401) {
        FailureKind::Unauthenticated
    } else if error.is_invalid_list_token() {
        FailureKind::InvalidListToken
    } else {
        FailureKind::Rejected
    }
}

/// A failed call as the core records it.
pub fn failure(error: &ClientError) -> ControllerFailure {
    ControllerFailure {
        kind: classify(error),
        message: with_causes(error),
    }
}

/// The error and its causes on one line (`a: b: c`).
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiErrorBody;

    fn api(status: u16, kind: &str) -> ClientError {
        ClientError::Api {
            status,
            body: ApiErrorBody::new(kind, "message"),
        }
    }

    #[test]
    fn failures_are_classified_for_the_core() {
        assert_eq!(
            classify(&api(401, "Unauthenticated")),
            FailureKind::Unauthenticated
        );
        assert_eq!(
            classify(&api(400, "invalid list token")),
            FailureKind::InvalidListToken
        );
        assert_eq!(
            classify(&api(403, "PermissionDenied")),
            FailureKind::Rejected
        );
        assert_eq!(classify(&api(404, "NotFound")), FailureKind::Rejected);
        assert_eq!(classify(&api(500, "Internal")), FailureKind::Rejected);
    }

    #[tokio::test]
    async fn an_unreachable_controller_is_a_network_failure() {
        // A port nobody listens on (bound, then closed) refuses at once.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let controllers = Controllers::default();
        let client = controllers
            .client(&format!("http://127.0.0.1:{port}"))
            .unwrap();
        let error = client.read_auth_token("at_1234567890").await.unwrap_err();
        let failure = failure(&error);
        assert_eq!(failure.kind, FailureKind::Network);
        assert!(failure.message.contains("127.0.0.1"), "{}", failure.message);
    }
}
