//! Applying a reloaded configuration (SIGHUP or a change of the file) without touching
//! sessions: `dns_request_timeout`, `log_level`, `log_file`, `state_file` and
//! `override_upstream_dns_servers` take effect at once, and so do `allow_user_pause` and
//! `controller_addresses` (which drops the tokens of a controller it no longer allows:
//! root narrowing it means those users must stop using that controller now); everything
//! else is reported in `status` until the agent restarts.
//!
//! `v4_prefix` is reloadable in Boundary, but here the core's address pool (and the
//! assignments and sessions built on it) cannot be rebuilt while the agent runs, so a
//! changed `v4_prefix` is treated as restart-only and `status` says so.

use super::actor::Actor;
use super::controller::with_causes;
use super::work::Work;
use crate::config::{
    ConfigKey, ControllerPin, ReloadPlan, ReloadTrigger, ReloadableChange, reload,
};

impl Actor {
    pub async fn on_reload(&mut self, trigger: ReloadTrigger) {
        let Some(path) = self.config_path.clone() else {
            return;
        };
        match reload(&path, &self.config) {
            Ok(plan) => {
                self.warnings.reload_failed = None;
                self.apply_reload(plan).await;
            }
            Err(error) => {
                let error = with_causes(&error);
                tracing::warn!(?trigger, %error, "the configuration could not be reloaded; keeping the running one");
                self.warnings.reload_failed = Some(format!(
                    "the configuration file could not be reloaded, the agent keeps running with \
                     the previous configuration: {error}"
                ));
            }
        }
    }

    /// Applies the reloadable changes of `plan` and records what needs a restart.
    pub async fn apply_reload(&mut self, mut plan: ReloadPlan) {
        if plan.is_empty() {
            tracing::debug!("configuration reloaded; nothing changed");
        }
        if let Some(index) = plan
            .apply
            .iter()
            .position(|c| matches!(c, ReloadableChange::V4Prefix(_)))
        {
            plan.apply.remove(index);
            plan.effective.v4_prefix = self.config.v4_prefix;
            plan.restart_required.push(ConfigKey::V4Prefix);
        }
        let mut upstreams_changed = false;
        for change in plan.apply.clone() {
            tracing::info!(key = change.key().name(), "applying a reloaded setting");
            match change {
                ReloadableChange::DnsRequestTimeout(timeout) => {
                    self.dns.set_request_timeout(timeout)
                }
                ReloadableChange::LogLevel(level) => {
                    if let Some(logging) = &self.logging
                        && let Err(error) = logging.set_level(level)
                    {
                        tracing::warn!(%error, "cannot change the log level");
                    }
                }
                ReloadableChange::LogFile(file) => {
                    if let Some(logging) = &self.logging
                        && let Err(error) = logging.set_file(file.as_deref())
                    {
                        tracing::warn!(%error, "cannot switch to the new log file; logging continues as before");
                    }
                }
                ReloadableChange::StateFile(path) => {
                    if let Err(error) = self.host.move_state_file(&path) {
                        tracing::warn!(%error, "cannot move the state file; it stays where it was");
                        plan.effective.state_file = self.host.state_path();
                    }
                }
                ReloadableChange::OverrideUpstreamDnsServers(_) => upstreams_changed = true,
                ReloadableChange::V4Prefix(_) => {}
                ReloadableChange::DnsAllowedSources(allowed) => {
                    self.dns.sources().set_allowed(allowed);
                }
                ReloadableChange::ControllerAddresses(pin) => self.apply_pin(pin).await,
                // Read at each pause and resume.
                ReloadableChange::AllowUserPause(_) => {}
            }
        }
        self.config = plan.effective.clone();
        if upstreams_changed {
            self.refresh_upstreams().await;
        }
        self.warnings.restart_required = plan.restart_warning().map(|warning| {
            if plan.restart_required.contains(&ConfigKey::V4Prefix) {
                format!(
                    "{warning} (v4_prefix: the addresses of existing aliases and sessions come \
                     from the running prefix)"
                )
            } else {
                warning
            }
        });
        if let Some(warning) = &self.warnings.restart_required {
            tracing::warn!("{warning}");
        }
    }

    /// A reloaded `controller_addresses`: registrations are checked against it from now
    /// on, and if it no longer allows the controller the agent serves, every token of that
    /// controller is dropped (sessions end, each user's `status` says why).
    async fn apply_pin(&mut self, pin: ControllerPin) {
        self.controllers.set_pin(pin.clone());
        let Some(current) = self.core.controller().map(str::to_owned) else {
            return;
        };
        if pin.check(&current).is_err() {
            tracing::warn!(controller = %current, "controller_addresses no longer allows the controller the agent serves; every token is dropped");
            let commands = self.core.handle_controller_disallowed(self.clock.now());
            self.drain(Work::from_core(commands)).await;
        }
    }
}
