//! The controller-link part of the actor: the clients for the controllers, the requests
//! the core asks for (authorizing sessions, listing aliases) run in the background with
//! their answers sent back to the actor as events, and the token registrations waiting
//! for their first alias listing.
//!
//! Which controller the agent serves is the core's business; checks that need it take
//! the core's answer as an argument.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::control::controller_switch_refusal;
use super::controller::Controllers;
use super::events::{ActorHandle, AliasPageResult, CoreCommand, Event};
use super::registrations::WaitingRegistrations;
use crate::config::ControllerPin;
use boundary_agent_core::users::same_controller;
use boundary_agent_core::{AuthorizeRequest, Command, RefreshRequest, TokenRegistration};
use boundary_wire::api::ResponseType;

/// The controller clients, where their answers go, and who waits for a listing.
pub struct ControllerLink {
    controllers: Arc<Controllers>,
    /// Token registrations answered once their first alias listing is in.
    registrations: WaitingRegistrations,
    /// Answers of background requests come back to the actor as events.
    actor: ActorHandle,
}

impl ControllerLink {
    pub fn new(controllers: Arc<Controllers>, actor: ActorHandle) -> ControllerLink {
        ControllerLink {
            controllers,
            registrations: WaitingRegistrations::default(),
            actor,
        }
    }

    /// Authorizes the session in the background; the answer comes back as
    /// [`Event::Authorized`].
    pub fn authorize(&self, request: AuthorizeRequest) {
        tracing::info!(alias = %request.alias_value, uid = request.key.uid, target = %request.destination_id, "authorizing a session");
        let controllers = Arc::clone(&self.controllers);
        let actor = self.actor.clone();
        tokio::spawn(async move {
            let result = controllers.authorize(&request).await.map(Box::new);
            actor.send(Event::Authorized {
                key: request.key,
                token_id: request.token_id,
                result,
            });
        });
    }

    /// Lists one page of the user's aliases in the background; the answer comes back as
    /// [`Event::AliasPage`].
    pub fn refresh_aliases(&self, request: RefreshRequest) {
        let controllers = Arc::clone(&self.controllers);
        let actor = self.actor.clone();
        tokio::spawn(async move {
            let result = controllers.list_aliases(&request).await;
            actor.send(Event::AliasPage {
                uid: request.uid,
                token_id: request.token_id,
                result,
            });
        });
    }

    /// Why a validated token may not be registered: `controller_addresses` does not allow
    /// its controller, or it would switch the agent away from the controller other users
    /// hold tokens of (`switch_conflict`: the core's `controller_switch_conflict`, asked
    /// only for callers that may not switch).
    pub fn registration_refusal(
        &self,
        registration: &TokenRegistration,
        switch_conflict: Option<String>,
    ) -> Option<String> {
        let addr = &registration.controller_addr;
        if let Err(reason) = self.controllers.check_allowed(addr) {
            return Some(reason);
        }
        let current = switch_conflict?;
        Some(controller_switch_refusal(&current, addr))
    }

    /// Without `controller_addresses`, the registration that picks the controller while
    /// none is chosen (`current`, the core's), and one that switches it, decide for every
    /// user of the machine: both are logged at WARN with the uid, so root can see who
    /// pointed the agent where.
    pub fn log_controller_choice(&self, uid: u32, addr: &str, current: Option<&str>) {
        let pinned = self.controllers.is_pinned();
        match current {
            None if !pinned => tracing::warn!(
                uid,
                controller = %addr,
                "first token registration: this user chose the controller for every user \
                 of the machine (controller_addresses is not set)"
            ),
            Some(previous) if !same_controller(previous, addr) => {
                if pinned {
                    tracing::info!(uid, controller = %addr, %previous, "switching to another allowed controller");
                } else {
                    tracing::warn!(
                        uid,
                        controller = %addr,
                        %previous,
                        "this user switched the controller for every user of the machine; \
                         other users' tokens are dropped (controller_addresses is not set)"
                    );
                }
            }
            _ => {}
        }
    }

    /// The core registered `uid`'s `token_id` and answered with `commands`. Returns the
    /// replies to send once those commands ran: registrations of the uid's other tokens
    /// still waiting (their listings will never finish), and `reply` itself unless the
    /// commands start the token's first listing, which it then waits for.
    pub fn registered(
        &mut self,
        uid: u32,
        token_id: String,
        commands: &[CoreCommand],
        reply: oneshot::Sender<()>,
    ) -> Vec<oneshot::Sender<()>> {
        let listing = commands.iter().any(
            |c| matches!(c, Command::RefreshAliases(r) if r.uid == uid && r.token_id == token_id),
        );
        let mut done = self.registrations.superseded(uid, &token_id);
        if listing {
            self.registrations.wait(uid, token_id, reply);
        } else {
            done.push(reply);
        }
        done
    }

    /// A page of `uid`'s aliases for `token_id` arrived (or the listing failed): when
    /// that ends the listing, the registrations it held back, to answer once the page's
    /// commands ran.
    pub fn page_arrived(
        &mut self,
        uid: u32,
        token_id: &str,
        page: &AliasPageResult,
    ) -> Vec<oneshot::Sender<()>> {
        let listed = page
            .as_ref()
            .map_or(true, |page| page.response_type == ResponseType::Complete);
        if listed {
            self.registrations.listed(uid, token_id)
        } else {
            Vec::new()
        }
    }

    /// The current controller's (the core's `controller`) client outlives any number of
    /// other validations.
    pub fn keep_current(&self, controller: Option<&str>) {
        self.controllers.keep_current(controller);
    }

    /// A reloaded `controller_addresses`: registrations and clients are checked against
    /// it from now on.
    pub fn set_pin(&self, pin: ControllerPin) {
        self.controllers.set_pin(pin);
    }

    #[cfg(test)]
    pub fn controllers(&self) -> &Controllers {
        &self.controllers
    }
}
