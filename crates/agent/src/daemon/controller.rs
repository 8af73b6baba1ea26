//! The agent's calls to the controller: authorizing sessions through an alias, listing
//! each user's resolvable aliases page by page, validating registered tokens, and
//! cancelling sessions at the worker. Failures are classified for the core
//! ([`FailureKind`]), whose `status` errors and failure breaker build on them; messages
//! never contain a token.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::anyhow;

use super::client_cache::LruMap;
use crate::config::{ConfigKey, ControllerPin};
use crate::proxy::SessionTunnel;
use boundary_agent_core::{
    AuthorizeRequest, Authorized, CancelRequest, ControllerFailure, FailureKind, RefreshRequest,
};
use boundary_net::client::{
    CaSource, ClientError, ClientOptions, ControllerClient, SessionTarget, TlsOptions,
    build_client_config,
};
use boundary_net::tunnel::TunnelSession;
use boundary_wire::api::ListResponse;
use boundary_wire::api::alias::ResolvableAlias;
use boundary_wire::proto::decode_authorization_token;

/// How long a session keeps the tunnel it opened ahead of its next connection (see
/// `boundary_net::tunnel::TunnelSession::with_spare_tunnels`): long enough for the
/// connections of one command or burst, short enough that an unused session holds no
/// connection to the worker. Well under any worker's wait for a handshake.
const SPARE_TUNNEL_MAX_IDLE: Duration = Duration::from_secs(10);

/// Bound on one controller request. Below the core's authorize timeout (60 s), so every
/// `Authorize` gets its answer from here.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many controller clients are kept: the current controller's and a few that users
/// validated tokens with recently (see [`LruMap`]).
pub const CACHED_CLIENTS: usize = 8;
/// Longest error text about a controller call that reaches a user or the log: parts of it
/// come from whatever answered at the address (a user's made-up "controller"), so only
/// an excerpt is kept.
pub const MAX_ERROR_CHARS: usize = 400;

/// The agent's HTTP clients for controllers (a connection pool each, made on first use,
/// at most [`CACHED_CLIENTS`] kept), and the `controller_addresses` pin every client is
/// checked against before it is made or handed out: a pinned agent never contacts
/// another address.
pub struct Controllers {
    state: Mutex<ControllersState>,
    tls: TlsOptions,
}

struct ControllersState {
    clients: LruMap<ControllerClient>,
    pin: ControllerPin,
}

/// Why no client was handed out.
#[derive(Debug, thiserror::Error)]
pub enum ClientUnavailable {
    /// `controller_addresses` does not allow the address; says which it allows.
    #[error("{0}")]
    NotAllowed(String),
    /// Boxed: a `ClientError` is large, and this travels in every `Result`.
    #[error(transparent)]
    Client(Box<ClientError>),
}

impl Default for Controllers {
    fn default() -> Controllers {
        Controllers::new(TlsOptions::default(), ControllerPin::default())
    }
}

impl Controllers {
    fn new(tls: TlsOptions, pin: ControllerPin) -> Controllers {
        Controllers {
            state: Mutex::new(ControllersState {
                clients: LruMap::new(CACHED_CLIENTS),
                pin,
            }),
            tls,
        }
    }

    /// Clients restricted to `pin` that also trust the certificates of
    /// `controller_ca_file`. The file is read now, so that a missing file or one without
    /// a usable certificate stops the start with the key's name instead of failing every
    /// later request.
    pub fn trusting(
        controller_ca_file: Option<&Path>,
        pin: ControllerPin,
    ) -> anyhow::Result<Controllers> {
        let Some(path) = controller_ca_file else {
            return Ok(Controllers::new(TlsOptions::default(), pin));
        };
        let key = ConfigKey::ControllerCaFile.name();
        let pem = std::fs::read(path)
            .map_err(|e| anyhow!("{key} = {:?}: cannot read it: {e}", path.display()))?;
        let tls = TlsOptions {
            extra_ca: Some(CaSource::Pem(pem)),
            insecure: false,
        };
        build_client_config(&tls).map_err(|e| anyhow!("{key} = {:?}: {e}", path.display()))?;
        Ok(Controllers::new(tls, pin))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ControllersState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `controller_addresses` allows `addr`; the refusal is for the user.
    pub fn check_allowed(&self, addr: &str) -> Result<(), String> {
        self.state().pin.check(addr)
    }

    pub fn is_pinned(&self) -> bool {
        self.state().pin.is_pinned()
    }

    /// A reloaded `controller_addresses`: checked from the next request on.
    pub fn set_pin(&self, pin: ControllerPin) {
        self.state().pin = pin;
    }

    /// The controller the agent serves now (its client is never evicted), if any.
    pub fn keep_current(&self, addr: Option<&str>) {
        self.state().clients.keep(addr);
    }

    /// The client for `addr`, acting anonymously (use `with_token`), unless the pin
    /// forbids the address.
    // The closure's `ClientError` is large; it is boxed at once, below.
    #[allow(clippy::result_large_err)]
    pub fn client(&self, addr: &str) -> Result<ControllerClient, ClientUnavailable> {
        let mut state = self.state();
        state
            .pin
            .check(addr)
            .map_err(ClientUnavailable::NotAllowed)?;
        let options = ClientOptions {
            connect_timeout: CONNECT_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            tls: self.tls.clone(),
            ..ClientOptions::default()
        };
        state
            .clients
            .get_or_try_insert(addr, || ControllerClient::new(addr, options))
            .map_err(|e| ClientUnavailable::Client(Box::new(e)))
    }

    /// The addresses whose clients are kept, least recently used first.
    #[cfg(test)]
    pub fn cached(&self) -> Vec<String> {
        self.state().clients.keys().map(str::to_owned).collect()
    }

    /// `POST /v1/targets/{alias}:authorize-session` with the user's token, and the
    /// session's tunnel data from its authorization token.
    pub async fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<Authorized<SessionTunnel>, ControllerFailure> {
        let client = self
            .client(&request.controller_addr)
            .map_err(|e| unavailable(&e))?
            .with_token(Some(request.token.clone()));
        let authorization = client
            .authorize_session(SessionTarget::Alias(&request.alias_value), None)
            .await
            .map_err(|e| failure(&e))?;
        // The session id and the decoding error come from the controller: an excerpt.
        let unusable = |what: String| ControllerFailure {
            kind: FailureKind::Rejected,
            message: excerpt(&format!(
                "the controller authorized session {} for {} but {what}",
                authorization.session_id, request.alias_value
            )),
        };
        // `{:#}` of the chain: a token error keeps its cause (the decode error) as source.
        let data = decode_authorization_token(authorization.authorization_token.expose())
            .map_err(anyhow::Error::new)
            .map_err(|e| unusable(format!("its authorization token is unusable: {e:#}")))?;
        let default_client_port = data.default_client_port;
        let tunnel = TunnelSession::new(data)
            .map_err(|e| unusable(format!("no tunnel can be made from it: {e}")))?
            .with_spare_tunnels(SPARE_TUNNEL_MAX_IDLE);
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
            .map_err(|e| unavailable(&e))?
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
        message: controller_error_text(error),
    }
}

/// No client for the call: a refusal of the pin, or an unusable address.
fn unavailable(error: &ClientUnavailable) -> ControllerFailure {
    match error {
        ClientUnavailable::NotAllowed(reason) => ControllerFailure {
            kind: FailureKind::Rejected,
            message: reason.clone(),
        },
        ClientUnavailable::Client(error) => failure(error),
    }
}

/// A failed controller call on one line ([`with_causes`]), cut to [`MAX_ERROR_CHARS`]
/// with control characters blanked: the error body, and a decoding error quoting the
/// answer, come from whoever answered.
pub fn controller_error_text(error: &ClientError) -> String {
    excerpt(&with_causes(error))
}

/// `text` on one line (control characters blanked), cut to [`MAX_ERROR_CHARS`].
fn excerpt(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match text.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}… (cut)", &text[..cut]),
        None => text,
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
    use boundary_wire::api::ApiErrorBody;

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

    #[test]
    fn a_pinned_agent_hands_out_no_client_for_another_address() {
        let pin = ControllerPin::new(vec![
            crate::config::ControllerAddress::parse("https://ctl.example").unwrap(),
        ]);
        let controllers = Controllers::trusting(None, pin).unwrap();
        assert!(controllers.is_pinned());
        assert!(controllers.client("https://CTL.example:443").is_ok());
        let Err(ClientUnavailable::NotAllowed(reason)) = controllers.client("http://127.0.0.1:1")
        else {
            panic!("a client for an address the pin does not allow");
        };
        assert!(
            reason.contains("only talks to https://ctl.example:443"),
            "{reason}"
        );
        assert_eq!(controllers.cached(), ["https://CTL.example:443"]);

        controllers.set_pin(ControllerPin::default());
        assert!(controllers.client("http://127.0.0.1:1").is_ok(), "unpinned");
    }

    #[test]
    fn clients_are_bounded_and_the_current_controllers_is_kept() {
        let controllers = Controllers::default();
        controllers.client("https://current.example").unwrap();
        controllers.keep_current(Some("https://current.example"));
        for i in 0..50 {
            controllers
                .client(&format!("http://made-up-{i}.example"))
                .unwrap();
        }
        let cached = controllers.cached();
        assert_eq!(cached.len(), CACHED_CLIENTS, "{cached:?}");
        assert_eq!(cached[0], "https://current.example");
        assert_eq!(cached[CACHED_CLIENTS - 1], "http://made-up-49.example");
    }

    #[test]
    fn errors_quote_only_an_excerpt_of_what_answered() {
        let error = ClientError::Api {
            status: 500,
            body: ApiErrorBody::new("Internal", format!("line\r\nforged{}", "x".repeat(100_000))),
        };
        let text = controller_error_text(&error);
        assert!(
            text.chars().count() <= MAX_ERROR_CHARS + 10,
            "{}",
            text.len()
        );
        assert!(
            text.starts_with("the controller answered 500: Internal: line  forged"),
            "{text}"
        );
        assert!(text.ends_with("… (cut)"), "{text}");
        assert!(!text.contains('\n'));
        assert_eq!(failure(&error).message, text);
        let short = api(404, "NotFound");
        assert_eq!(
            controller_error_text(&short),
            "the controller answered 404: NotFound: message"
        );
    }
}
