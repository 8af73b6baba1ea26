//! Applying a reloaded configuration (SIGHUP or a change of the file) without touching
//! sessions: `dns_request_timeout`, `log_level`, `log_file`, `state_file` and
//! `override_upstream_dns_servers` take effect at once, and so do `allow_user_pause` and
//! `controller_addresses` (which drops the tokens of a controller it no longer allows:
//! root narrowing it means those users must stop using that controller now); everything
//! else is reported in `status` until the agent restarts.
//!
//! `v4_prefix` is reloadable in Boundary, but here the core's address pool (and the
//! assignments and sessions built on it) cannot be rebuilt while the agent runs, so it is
//! a restart-only key ([`crate::config::ConfigKey::is_reloadable`]) and `status` says so.
//!
//! The settings read the file and keep the result; each reloadable change goes to the
//! part it belongs to, in the plan's order.

use super::Actor;
use super::work::Work;
use crate::config::{ControllerPin, ReloadPlan, ReloadTrigger, ReloadableChange};

impl Actor {
    pub(super) async fn on_reload(&mut self, trigger: ReloadTrigger) {
        if let Some(plan) = self.settings.reread(trigger) {
            self.apply_reload(plan).await;
        }
    }

    /// Applies the reloadable changes of `plan` and records what needs a restart.
    pub async fn apply_reload(&mut self, mut plan: ReloadPlan) {
        if plan.is_empty() {
            tracing::debug!("configuration reloaded; nothing changed");
        }
        let mut upstreams_changed = false;
        for change in plan.apply.clone() {
            tracing::info!(key = change.key().name(), "applying a reloaded setting");
            match change {
                ReloadableChange::DnsRequestTimeout(timeout) => {
                    self.machine.set_request_timeout(timeout);
                }
                ReloadableChange::LogLevel(level) => self.settings.set_log_level(level),
                ReloadableChange::LogFile(file) => self.settings.set_log_file(file.as_deref()),
                ReloadableChange::StateFile(path) => {
                    if let Err(kept) = self.machine.move_state_file(&path) {
                        plan.effective.state_file = kept;
                    }
                }
                ReloadableChange::OverrideUpstreamDnsServers(_) => upstreams_changed = true,
                ReloadableChange::DnsAllowedSources(allowed) => {
                    self.machine.set_allowed_sources(allowed);
                }
                ReloadableChange::ControllerAddresses(pin) => self.apply_pin(pin).await,
                // Read at each pause and resume.
                ReloadableChange::AllowUserPause(_) => {}
            }
        }
        if upstreams_changed {
            let upstream_override = &plan.effective.override_upstream_dns_servers;
            self.machine.refresh_upstreams(upstream_override).await;
        }
        self.settings.adopt(plan);
    }

    /// A reloaded `controller_addresses`: registrations are checked against it from now
    /// on, and if it no longer allows the controller the agent serves, every token of that
    /// controller is dropped (sessions end, each user's `status` says why).
    async fn apply_pin(&mut self, pin: ControllerPin) {
        self.link.set_pin(pin.clone());
        let Some(current) = self.decisions.core().controller() else {
            return;
        };
        if pin.check(current).is_err() {
            tracing::warn!(controller = %current, "controller_addresses no longer allows the controller the agent serves; every token is dropped");
            let now = self.decisions.now();
            let commands = self.decisions.core_mut().handle_controller_disallowed(now);
            self.drain(Work::from_core(commands)).await;
        }
    }
}
