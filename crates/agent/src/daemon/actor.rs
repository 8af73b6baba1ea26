//! The actor: one task owns the agent's core and everything that changes with it, takes
//! inputs from one channel, and carries out the core's commands in order (see
//! [`super::work`]). After every change it publishes a fresh [`FastView`] for the DNS
//! receive path.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use super::clock::AgentClock;
use super::control::controller_switch_refusal;
use super::controller::Controllers;
use super::events::{ActorHandle, ControlRequest, Core, Event};
use super::host::Host;
use super::logging::Logging;
use super::operational_state::OperationalState;
use super::parking::{Parked, ParkingLot};
use super::pause_policy::{pause_refusal, resume_refusal};
use super::registrations::WaitingRegistrations;
use super::warnings::Warnings;
use super::work::Work;
use crate::config::{AgentConfig, ReloadTrigger, ReloadTriggers};
use crate::dns::DnsServer;
use crate::os::linux::ResolvConfWatch;
use crate::proxy::ProxyListeners;
use boundary_agent_core::users::same_controller;
use boundary_agent_core::{
    AliasNames, Command, FastView, PauseReason, RunState, TokenRegistration,
};
use boundary_wire::api::ResponseType;

/// Longest time between two ticks (the core asks for ticks only when something is due,
/// but a periodic one costs nothing and bounds any missed deadline).
const MAX_TICK_INTERVAL: Duration = Duration::from_secs(30);
/// Shortest time between two ticks, so a deadline the core keeps in the past cannot
/// turn into a busy loop.
const MIN_TICK_SPACING: Duration = Duration::from_millis(100);
/// How often the machine is checked (see [`super::health`]): the resolver configuration
/// for rewrites by other programs (DHCP clients, NetworkManager), the agent's addresses
/// for a network change that removed them.
pub const MACHINE_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// Everything the actor owns.
pub struct Actor {
    pub core: Core,
    pub clock: AgentClock,
    pub view: Arc<ArcSwap<FastView>>,
    pub handle: ActorHandle,
    pub parked: ParkingLot,
    pub host: Host,
    pub operational: OperationalState,
    pub dns: DnsServer,
    pub proxy: ProxyListeners,
    pub controllers: Arc<Controllers>,
    /// Session cancels still running (waited for, briefly, at shutdown).
    pub cancels: TaskTracker,
    pub warnings: Warnings,
    /// The configuration in effect (reloadable changes applied).
    pub config: AgentConfig,
    /// Where the configuration came from (reloads read it again); `None` when the agent
    /// was configured in-process (`boundary dev`).
    pub config_path: Option<PathBuf>,
    /// `None` when the embedding program owns logging.
    pub logging: Option<Logging>,
    /// Token registrations answered once their first alias listing is in.
    pub registrations: WaitingRegistrations,
    /// The alias names last handed to the system resolver (see
    /// [`Actor::route_alias_names`]).
    pub routed_names: Option<Arc<AliasNames>>,
    /// Reports rewrites of the resolver configuration file at once (resolv-conf mode).
    pub resolv_conf_watch: Option<ResolvConfWatch>,
}

/// Completes when the watched resolver file changed; never without a watch.
async fn resolver_file_changed(watch: Option<&ResolvConfWatch>) {
    match watch {
        Some(watch) => watch.changed().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    /// Runs until `stop` completes. Inputs arrive on `events`; reloads on `reloads`.
    pub async fn run(
        &mut self,
        events: &mut mpsc::UnboundedReceiver<Event>,
        stop: impl Future<Output = ()>,
        mut reloads: Option<ReloadTriggers>,
    ) {
        tokio::pin!(stop);
        let mut machine_check = tokio::time::interval(MACHINE_CHECK_INTERVAL);
        machine_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_tick = Instant::now();
        self.publish();
        loop {
            let wake = self.next_wake(last_tick);
            // Stopping first; timers before inputs, so a flood of inputs cannot starve
            // the ticks (expiries, refreshes) or the machine check.
            tokio::select! {
                biased;
                () = &mut stop => return,
                () = tokio::time::sleep_until(wake) => {
                    last_tick = Instant::now();
                    let commands = self.core.handle_tick(self.clock.now());
                    self.drain(Work::from_core(commands)).await;
                }
                _ = machine_check.tick() => self.check_machine().await,
                () = resolver_file_changed(self.resolv_conf_watch.as_ref()) => {
                    tracing::debug!("the resolver configuration file changed");
                    self.recheck_resolver().await;
                }
                Some(trigger) = next_reload(&mut reloads) => self.on_reload(trigger).await,
                event = events.recv() => match event {
                    Some(event) => self.on_event(event).await,
                    None => return,
                },
            }
        }
    }

    fn next_wake(&self, last_tick: Instant) -> Instant {
        let now = Instant::now();
        let latest = now + MAX_TICK_INTERVAL;
        let due = self
            .core
            .next_deadline()
            .map_or(latest, |m| self.clock.instant_of(m).min(latest));
        due.max(last_tick + MIN_TICK_SPACING)
    }

    pub async fn on_event(&mut self, event: Event) {
        let now = self.clock.now();
        let work = match event {
            Event::Dns { question, reply } => self.ask(Parked::Dns { question, reply }),
            Event::Connection {
                local,
                port,
                peer_uid,
                reply,
            } => self.ask(Parked::Connection {
                local,
                port,
                peer_uid,
                reply,
            }),
            Event::TunnelEstablished {
                connection,
                connections_left,
            } => Work::from_core(self.core.handle_tunnel_established(
                connection,
                connections_left,
                now,
            )),
            Event::TunnelRejected { connection, error } => {
                Work::from_core(self.core.handle_tunnel_rejected(connection, &error, now))
            }
            Event::ConnectionClosed { connection } => {
                Work::from_core(self.core.handle_connection_closed(connection, now))
            }
            Event::Authorized {
                key,
                token_id,
                result,
            } => Work::from_core(match result {
                Ok(authorized) => {
                    tracing::info!(alias = %key.alias, uid = key.uid, session_id = %authorized.authorization.session_id, "session authorized");
                    self.core.handle_authorized(&key, *authorized, now)
                }
                Err(failure) => {
                    tracing::warn!(alias = %key.alias, uid = key.uid, kind = ?failure.kind, error = %failure.message, "authorizing a session failed; DNS for the alias goes upstream for now");
                    self.core
                        .handle_authorize_failed(&key, &token_id, failure, now)
                }
            }),
            Event::AliasPage {
                uid,
                token_id,
                result,
            } => {
                let listed = result
                    .as_ref()
                    .map_or(true, |page| page.response_type == ResponseType::Complete);
                let mut work = Work::from_core(match result {
                    Ok(page) => {
                        tracing::debug!(
                            uid,
                            items = page.items.len(),
                            removed = page.removed_ids.len(),
                            "alias page"
                        );
                        self.core.handle_alias_page(uid, &token_id, page, now)
                    }
                    Err(failure) => {
                        tracing::warn!(uid, kind = ?failure.kind, error = %failure.message, "listing resolvable aliases failed");
                        self.core
                            .handle_alias_refresh_failed(uid, &token_id, failure, now)
                    }
                });
                if listed {
                    let done = self.registrations.listed(uid, &token_id);
                    work.extend(done.into_iter().map(Work::Done));
                }
                work
            }
            Event::UpstreamDnsFailed => Work::from_core(self.core.handle_network_failure(now)),
            Event::Control(request) => self.on_control(request),
        };
        self.drain(work).await;
    }

    fn on_control(&mut self, request: ControlRequest) -> Vec<Work> {
        let now = self.clock.now();
        match request {
            ControlRequest::RegisterToken {
                registration,
                refuse_switch,
                refused,
                reply,
            } => {
                let uid = registration.uid;
                // Checked again here: the configuration may have been reloaded, or another
                // user may have registered, since the local API's early checks.
                if let Some(reason) = self.registration_refusal(&registration, refuse_switch) {
                    let _ = refused.send(reason);
                    return Vec::new();
                }
                self.log_controller_choice(uid, &registration.controller_addr);
                let token_id = registration.token_id.clone();
                let commands = self.core.handle_token_registered(registration, now);
                let listing = commands.iter().any(|c| {
                    matches!(c, Command::RefreshAliases(r) if r.uid == uid && r.token_id == token_id)
                });
                let mut work = Work::from_core(commands);
                work.extend(
                    self.registrations
                        .superseded(uid, &token_id)
                        .into_iter()
                        .map(Work::Done),
                );
                if listing {
                    self.registrations.wait(uid, token_id, reply);
                } else {
                    work.push(Work::Done(reply));
                }
                work
            }
            ControlRequest::ControllerSwitchConflict {
                uid,
                controller_addr,
                reply,
            } => {
                let _ = reply.send(self.core.controller_switch_conflict(uid, &controller_addr));
                Vec::new()
            }
            ControlRequest::HasToken { uid, reply } => {
                let _ = reply.send(!self.core.status(uid).auth_token_id.is_empty());
                Vec::new()
            }
            ControlRequest::Status { uid, reply } => {
                let mut status = self.core.status(uid);
                status.warnings = self.warnings.all();
                status.resolver = Some(self.resolver_status());
                let _ = reply.send(status);
                Vec::new()
            }
            ControlRequest::Sessions { uid, reply } => {
                let _ = reply.send(self.core.sessions(uid));
                Vec::new()
            }
            ControlRequest::Pause {
                uid,
                refused,
                reply,
            } => {
                if let Some(reason) = pause_refusal(uid, self.config.allow_user_pause) {
                    tracing::info!(uid, "pause refused: only root may pause the agent");
                    let _ = refused.send(reason);
                    return Vec::new();
                }
                let mut work = Work::from_core(self.core.handle_pause(now));
                work.push(Work::Done(reply));
                work
            }
            ControlRequest::Resume {
                uid,
                refused,
                reply,
            } => {
                let allow_user_pause = self.config.allow_user_pause;
                if let Some(reason) = resume_refusal(uid, allow_user_pause, self.core.run_state()) {
                    tracing::info!(uid, "resume refused: root paused the agent");
                    let _ = refused.send(reason);
                    return Vec::new();
                }
                let mut work = Work::from_core(self.core.handle_resume(now));
                work.push(Work::Done(reply));
                work
            }
        }
    }

    /// Why a validated token may not be registered: `controller_addresses` does not allow
    /// its controller, or (`refuse_switch`, a non-root caller) it would switch the agent
    /// away from other users' controller.
    fn registration_refusal(
        &self,
        registration: &TokenRegistration,
        refuse_switch: bool,
    ) -> Option<String> {
        let addr = &registration.controller_addr;
        if let Err(reason) = self.controllers.check_allowed(addr) {
            return Some(reason);
        }
        let current = self
            .core
            .controller_switch_conflict(registration.uid, addr)
            .filter(|_| refuse_switch)?;
        Some(controller_switch_refusal(&current, addr))
    }

    /// Without `controller_addresses`, the registration that picks the controller while
    /// none is chosen, and one that switches it, decide for every user of the machine:
    /// both are logged at WARN with the uid, so root can see who pointed the agent where.
    fn log_controller_choice(&self, uid: u32, addr: &str) {
        let pinned = self.controllers.is_pinned();
        match self.core.controller() {
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

    /// Publishes the core's current fast view for the DNS receive path.
    pub fn publish(&mut self) {
        let view = self.core.fast_view(self.clock.moment());
        self.view.store(Arc::new(view));
    }

    /// Keeps the operational state's paused flag in line with a pause a user asked for
    /// (an automatic pause is not remembered: the next start tries again).
    pub fn remember_pause(&mut self) {
        let paused = match self.core.run_state() {
            RunState::Running => false,
            RunState::Paused(reason) => *reason == PauseReason::Requested,
            RunState::ShutDown => return,
        };
        if paused != self.operational.paused()
            && let Err(error) = self.operational.save_paused(paused)
        {
            tracing::warn!(%error, "cannot record the paused state; it is lost at restart");
        }
    }
}

async fn next_reload(reloads: &mut Option<ReloadTriggers>) -> Option<ReloadTrigger> {
    match reloads {
        Some(reloads) => reloads.next().await,
        None => std::future::pending().await,
    }
}
