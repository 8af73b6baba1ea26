//! The actor: one task owns the agent's state and routes every input. The state is split
//! by responsibility into parts that each own their fields:
//!
//! - [`Decisions`]: the pure core, its clock, and the [`FastView`] it publishes;
//! - [`Machine`]: what the agent changes on the machine, and the DNS server;
//! - [`Sessions`]: proxy listeners, inputs parked on an authorization, session cancels;
//! - [`ControllerLink`]: requests to the controllers and registrations waiting for them;
//! - [`Settings`]: the configuration in effect, logging and the operational state.
//!
//! The actor itself decides nothing and changes nothing: an input becomes a core call,
//! the call's commands go one by one to the part that carries each out ([`work`]), and
//! failures a part reports go back to the core the same way. Parts never call each other;
//! what one needs of another (the upstream override, the alias names, the core's answer
//! to a check) the actor passes as an argument.
//!
//! [`FastView`]: boundary_agent_core::FastView

mod reload;
mod requests;
mod shutdown;
mod work;

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::controller_link::ControllerLink;
use super::decisions::Decisions;
use super::events::{AliasPageResult, AuthorizeResult, Event};
use super::machine::Machine;
use super::parking::Parked;
use super::sessions::Sessions;
use super::settings::Settings;
use crate::config::{ReloadTrigger, ReloadTriggers};
use boundary_agent_core::SessionKey;
pub use work::Work;

/// Longest time between two ticks (the core asks for ticks only when something is due,
/// but a periodic one costs nothing and bounds any missed deadline).
const MAX_TICK_INTERVAL: Duration = Duration::from_secs(30);
/// Shortest time between two ticks, so a deadline the core keeps in the past cannot
/// turn into a busy loop.
const MIN_TICK_SPACING: Duration = Duration::from_millis(100);
/// How often the machine is checked (see [`Actor::check_machine`]): the resolver
/// configuration for rewrites by other programs (DHCP clients, NetworkManager), the
/// agent's addresses for a network change that removed them.
pub const MACHINE_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// The parts, and the routing between them.
pub struct Actor {
    decisions: Decisions,
    machine: Machine,
    sessions: Sessions,
    link: ControllerLink,
    settings: Settings,
}

impl Actor {
    pub fn new(
        decisions: Decisions,
        machine: Machine,
        sessions: Sessions,
        link: ControllerLink,
        settings: Settings,
    ) -> Actor {
        Actor {
            decisions,
            machine,
            sessions,
            link,
            settings,
        }
    }

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
        self.decisions.publish();
        loop {
            let wake = self.next_wake(last_tick);
            // Stopping first; timers before inputs, so a flood of inputs cannot starve
            // the ticks (expiries, refreshes) or the machine check.
            tokio::select! {
                biased;
                () = &mut stop => return,
                () = tokio::time::sleep_until(wake) => {
                    last_tick = Instant::now();
                    self.tick().await;
                }
                _ = machine_check.tick() => self.check_machine().await,
                () = self.machine.resolver_file_changed() => {
                    tracing::debug!("the resolver configuration file changed");
                    self.machine.recheck_resolver(self.settings.upstream_override()).await;
                }
                Some(trigger) = next_reload(&mut reloads) => self.on_reload(trigger).await,
                event = events.recv() => match event {
                    Some(event) => self.on_event(event).await,
                    None => return,
                },
            }
        }
    }

    pub async fn on_event(&mut self, event: Event) {
        let now = self.decisions.now();
        let core = self.decisions.core_mut();
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
            } => Work::from_core(core.handle_tunnel_established(connection, connections_left, now)),
            Event::TunnelRejected { connection, error } => {
                Work::from_core(core.handle_tunnel_rejected(connection, &error, now))
            }
            Event::ConnectionClosed { connection } => {
                Work::from_core(core.handle_connection_closed(connection, now))
            }
            Event::Authorized {
                key,
                token_id,
                result,
            } => self.on_authorized(key, token_id, result),
            Event::AliasPage {
                uid,
                token_id,
                result,
            } => self.on_alias_page(uid, token_id, result),
            Event::UpstreamDnsFailed => Work::from_core(core.handle_network_failure(now)),
            Event::Control(request) => self.on_control(request),
        };
        self.drain(work).await;
    }

    /// Runs every [`MACHINE_CHECK_INTERVAL`]: the resolver configuration is taken over
    /// again if another program rewrote it, the agent's addresses are put back if they
    /// disappeared (alias addresses that cannot be go to the core), the DNS server's
    /// picture of the interfaces is refreshed, and looping upstreams are reported.
    pub async fn check_machine(&mut self) {
        self.machine
            .recheck_resolver(self.settings.upstream_override())
            .await;
        let installed = self.decisions.core().state_snapshot().installed;
        let failed = self.machine.check_addresses(installed).await;
        if !failed.is_empty() {
            self.addresses_failed(failed).await;
        }
        self.machine.refresh_dns_sources().await;
        self.machine.check_upstream_loops();
    }

    /// Makes the agent the system resolver (resume), with the configured upstreams.
    pub async fn take_over_resolver(&mut self) {
        let upstream_override = self.settings.upstream_override();
        self.machine.take_over_resolver(upstream_override).await;
    }

    fn next_wake(&self, last_tick: Instant) -> Instant {
        let latest = Instant::now() + MAX_TICK_INTERVAL;
        let due = self
            .decisions
            .next_deadline()
            .map_or(latest, |deadline| deadline.min(latest));
        due.max(last_tick + MIN_TICK_SPACING)
    }

    async fn tick(&mut self) {
        let now = self.decisions.now();
        let commands = self.decisions.core_mut().handle_tick(now);
        self.drain(Work::from_core(commands)).await;
    }

    fn on_authorized(
        &mut self,
        key: SessionKey,
        token_id: String,
        result: AuthorizeResult,
    ) -> Vec<Work> {
        let now = self.decisions.now();
        let core = self.decisions.core_mut();
        Work::from_core(match result {
            Ok(authorized) => {
                tracing::info!(alias = %key.alias, uid = key.uid, session_id = %authorized.authorization.session_id, "session authorized");
                core.handle_authorized(&key, *authorized, now)
            }
            Err(failure) => {
                tracing::warn!(alias = %key.alias, uid = key.uid, kind = ?failure.kind, error = %failure.message, "authorizing a session failed; DNS for the alias goes upstream for now");
                core.handle_authorize_failed(&key, &token_id, failure, now)
            }
        })
    }

    /// A page of a user's aliases; registrations waiting for the listing it ends are
    /// answered after the page's commands.
    fn on_alias_page(&mut self, uid: u32, token_id: String, result: AliasPageResult) -> Vec<Work> {
        let released = self.link.page_arrived(uid, &token_id, &result);
        let now = self.decisions.now();
        let core = self.decisions.core_mut();
        let mut work = Work::from_core(match result {
            Ok(page) => {
                tracing::debug!(
                    uid,
                    items = page.items.len(),
                    removed = page.removed_ids.len(),
                    "alias page"
                );
                core.handle_alias_page(uid, &token_id, page, now)
            }
            Err(failure) => {
                tracing::warn!(uid, kind = ?failure.kind, error = %failure.message, "listing resolvable aliases failed");
                core.handle_alias_refresh_failed(uid, &token_id, failure, now)
            }
        });
        work.extend(released.into_iter().map(Work::Done));
        work
    }

    /// Alias addresses the machine could not put back: the core hears of each, and its
    /// answers are carried out.
    async fn addresses_failed(&mut self, failed: Vec<(IpAddr, String)>) {
        let work = self.address_failures(failed);
        self.drain(work).await;
    }
}

#[cfg(test)]
impl Actor {
    /// Re-reads the machine's previous resolvers and forwards there (or to the override).
    pub async fn refresh_upstreams(&mut self) {
        let upstream_override = self.settings.upstream_override();
        self.machine.refresh_upstreams(upstream_override).await;
    }

    pub fn decisions(&self) -> &Decisions {
        &self.decisions
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    pub fn machine_mut(&mut self) -> &mut Machine {
        &mut self.machine
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn link(&self) -> &ControllerLink {
        &self.link
    }
}

async fn next_reload(reloads: &mut Option<ReloadTriggers>) -> Option<ReloadTrigger> {
    match reloads {
        Some(reloads) => reloads.next().await,
        None => std::future::pending().await,
    }
}
