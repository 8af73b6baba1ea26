//! [`AgentControl`] for the local API: token registration (checked against
//! `controller_addresses`, then validated with the controller before the core hears of
//! it), status, sessions, pause and resume, all answered by the actor.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::controller::{ClientUnavailable, Controllers, controller_error_text, with_causes};
use super::events::{ActorHandle, ControlRequest};
use crate::api::{AgentControl, ControlError};
use boundary_agent_core::TokenRegistration;
use boundary_net::client::ClientError;
use boundary_wire::api::agent::{AddTokenRequest, AgentSessions, AgentStatus, status};
use boundary_wire::api::ids::AuthTokenString;

/// How long `POST /v1/tokens` waits for the user's first alias listing, so that the
/// command after `boundary authenticate` already finds the aliases.
const LISTING_WAIT: Duration = Duration::from_secs(5);

/// The daemon's [`AgentControl`].
pub struct LocalControl {
    actor: ActorHandle,
    controllers: Arc<Controllers>,
}

impl LocalControl {
    pub fn new(actor: ActorHandle, controllers: Arc<Controllers>) -> Self {
        LocalControl { actor, controllers }
    }
}

impl LocalControl {
    /// Refuses a token of another controller while other users' tokens are registered
    /// (checked before the agent sends anything to the address the caller gave).
    async fn refuse_controller_switch(&self, uid: u32, addr: &str) -> Result<(), ControlError> {
        let conflict = self
            .actor
            .control(|reply| ControlRequest::ControllerSwitchConflict {
                uid,
                controller_addr: addr.to_owned(),
                reply,
            })
            .await
            .ok_or_else(shutting_down)?;
        match conflict {
            None => Ok(()),
            Some(current) => Err(ControlError::FailedPrecondition(controller_switch_refusal(
                &current, addr,
            ))),
        }
    }
}

/// Why a non-root user's token of another controller is refused.
pub(super) fn controller_switch_refusal(current: &str, addr: &str) -> String {
    format!(
        "the client agent serves the controller at {current} for other users of this \
         machine; a token of {addr} would drop theirs, which only root may do"
    )
}

fn shutting_down() -> ControlError {
    ControlError::Unavailable("the client agent is shutting down".into())
}

#[async_trait]
impl AgentControl for LocalControl {
    async fn add_token(&self, uid: u32, request: AddTokenRequest) -> Result<(), ControlError> {
        let Some(parsed) = AuthTokenString::parse(request.token.expose()) else {
            return Err(ControlError::InvalidField {
                field: "token".into(),
                description: "not a Boundary auth token (at_…_s1…)".into(),
            });
        };
        let addr = request
            .boundary_addr
            .trim()
            .trim_end_matches('/')
            .to_owned();
        // Root's pin first, before anything is sent to the address (root included).
        self.controllers
            .check_allowed(&addr)
            .map_err(ControlError::PermissionDenied)?;
        if uid != 0 {
            self.refuse_controller_switch(uid, &addr).await?;
        }
        let client = self
            .controllers
            .client(&addr)
            .map_err(|e| match e {
                ClientUnavailable::NotAllowed(reason) => ControlError::PermissionDenied(reason),
                ClientUnavailable::Client(e) => ControlError::InvalidField {
                    field: "boundary_addr".into(),
                    description: with_causes(e.as_ref()),
                },
            })?
            .with_token(Some(request.token.clone()));
        let token = client
            .read_auth_token(&parsed.id)
            .await
            .map_err(|e| validation_error(&addr, &parsed.id, &e))?;
        let registration = TokenRegistration {
            uid,
            controller_addr: addr,
            token_id: parsed.id,
            user_id: token.user_id,
            token: request.token,
            expiration: Some(token.expiration_time),
        };
        tracing::info!(
            uid,
            token_id = %registration.token_id,
            user_id = %registration.user_id,
            controller = %registration.controller_addr,
            "auth token registered"
        );
        let (refused, mut refusal) = oneshot::channel();
        let registered = self.actor.control(|reply| ControlRequest::RegisterToken {
            registration,
            refuse_switch: uid != 0,
            refused,
            reply,
        });
        match tokio::time::timeout(LISTING_WAIT, registered).await {
            Ok(Some(())) => Ok(()),
            Ok(None) => Err(match refusal.try_recv() {
                Ok(reason) => ControlError::FailedPrecondition(reason),
                Err(_) => shutting_down(),
            }),
            // Registered; the alias list is still on its way (a slow controller, a very
            // long list). Aliases resolve once it arrives.
            Err(_) => Ok(()),
        }
    }

    async fn has_token(&self, uid: u32) -> bool {
        self.actor
            .control(|reply| ControlRequest::HasToken { uid, reply })
            .await
            .unwrap_or(false)
    }

    async fn status(&self, uid: u32) -> AgentStatus {
        self.actor
            .control(|reply| ControlRequest::Status { uid, reply })
            .await
            .unwrap_or_else(|| AgentStatus {
                boundary_addr: String::new(),
                auth_token_id: String::new(),
                auth_token_expiry: None,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                status: status::PAUSED.to_owned(),
                errors: vec!["the client agent is shutting down".to_owned()],
                warnings: Vec::new(),
                resolver: None,
            })
    }

    async fn sessions(&self, uid: u32) -> AgentSessions {
        self.actor
            .control(|reply| ControlRequest::Sessions { uid, reply })
            .await
            .unwrap_or_default()
    }

    async fn pause(&self, uid: u32) -> Result<(), ControlError> {
        tracing::info!(uid, "pause requested");
        let (refused, refusal) = oneshot::channel();
        let done = self
            .actor
            .control(|reply| ControlRequest::Pause {
                uid,
                refused,
                reply,
            })
            .await;
        answer_state_change(done, refusal)
    }

    async fn resume(&self, uid: u32) -> Result<(), ControlError> {
        tracing::info!(uid, "resume requested");
        let (refused, refusal) = oneshot::channel();
        let done = self
            .actor
            .control(|reply| ControlRequest::Resume {
                uid,
                refused,
                reply,
            })
            .await;
        answer_state_change(done, refusal)
    }
}

/// A pause or resume the actor carried out, or refused (403, with its reason).
fn answer_state_change(
    done: Option<()>,
    mut refusal: oneshot::Receiver<String>,
) -> Result<(), ControlError> {
    match done {
        Some(()) => Ok(()),
        None => Err(match refusal.try_recv() {
            Ok(reason) => ControlError::PermissionDenied(reason),
            Err(_) => shutting_down(),
        }),
    }
}

/// Why the controller did not confirm a token, as the API answers it: only an excerpt of
/// what the address answered (see [`controller_error_text`]).
fn validation_error(addr: &str, token_id: &str, error: &ClientError) -> ControlError {
    let invalid = |description: String| ControlError::InvalidField {
        field: "token".into(),
        description,
    };
    match error.status() {
        _ if error.is_transport() => ControlError::Unavailable(format!(
            "cannot validate the token: {}; check boundary_addr and that the controller is up",
            controller_error_text(error)
        )),
        Some(401) => invalid(format!(
            "the controller at {addr} does not accept this token (expired, deleted or issued \
             by another controller); authenticate again"
        )),
        Some(403) => invalid(format!(
            "the token may not read itself at {addr} (403); its user needs the grant \
             type=auth-token;ids=*;actions=read:self"
        )),
        Some(404) => invalid(format!(
            "the controller at {addr} does not know auth token {token_id}"
        )),
        _ => ControlError::FailedPrecondition(format!(
            "validating the token with the controller at {addr} failed: {}",
            controller_error_text(error)
        )),
    }
}
