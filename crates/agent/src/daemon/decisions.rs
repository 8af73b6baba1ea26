//! The decisions part of the actor: the pure core ([`boundary_agent_core`]), the clock it
//! reads time from, and the [`FastView`] it publishes for the DNS receive path.
//!
//! The core decides and returns commands; it never does IO, so the actor calls it
//! directly ([`Decisions::core_mut`]) and hands each command to the part that carries it
//! out. What this part adds is the time of each call and the publication: the DNS receive
//! path sees a change only once [`Decisions::publish`] ran, which the actor does after
//! every core call's commands (see [`super::actor`]).

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::time::Instant;

use super::clock::AgentClock;
use super::events::Core;
use boundary_agent_core::{AliasNames, FastView, Now};

/// The core, its clock, and the view it last published.
pub struct Decisions {
    core: Core,
    clock: AgentClock,
    view: Arc<ArcSwap<FastView>>,
}

impl Decisions {
    /// Starts publishing `core`'s view (published once here, so readers never see an empty
    /// one).
    pub fn new(mut core: Core, clock: AgentClock) -> Decisions {
        let view = Arc::new(ArcSwap::from_pointee(core.fast_view(clock.moment())));
        Decisions { core, clock, view }
    }

    /// The published view, shared with the DNS receive path; every publish replaces what
    /// it points at.
    pub fn view(&self) -> Arc<ArcSwap<FastView>> {
        Arc::clone(&self.view)
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    /// For `handle_*` calls. Their commands must be carried out and followed by a
    /// [`Decisions::publish`]: [`super::actor::Work::from_core`] makes sure of both.
    pub fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    /// Now, for a `handle_*` call.
    pub fn now(&self) -> Now {
        self.clock.now()
    }

    /// When the core next wants a tick, if it has a deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        let deadline = self.core.next_deadline()?;
        Some(self.clock.instant_of(deadline))
    }

    /// Publishes the core's current fast view for the DNS receive path.
    pub fn publish(&mut self) {
        let view = self.core.fast_view(self.clock.moment());
        self.view.store(Arc::new(view));
    }

    /// The alias names of the last published view (shared, so an unchanged set is the
    /// same `Arc`).
    pub fn published_alias_names(&self) -> Arc<AliasNames> {
        self.view.load().alias_names()
    }

    /// Now on the core's timeline, for asking the published view as the DNS path does.
    #[cfg(test)]
    pub fn moment(&self) -> boundary_agent_core::Moment {
        self.clock.moment()
    }
}
