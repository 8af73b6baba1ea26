//! The settings part of the actor: the configuration in effect, where it came from (for
//! reloads), the logging it set up, the operational state file (what survives a restart:
//! a requested pause, alias address assignments), and the warnings about the
//! configuration.
//!
//! Other parts do not read the configuration: the actor passes them the values they need
//! (the upstream override, the pause policy's answer), so a reload has one place to
//! change.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::controller::with_causes;
use super::logging::Logging;
use super::operational_state::OperationalState;
use super::pause_policy::{pause_refusal, resume_refusal};
use super::warnings::SettingsWarnings;
use crate::config::{AgentConfig, ConfigKey, LogLevel, ReloadPlan, ReloadTrigger, reload};
use boundary_agent_core::{AliasAddresses, PauseReason, RunState};

/// The configuration in effect and what belongs with it.
pub struct Settings {
    /// The configuration in effect (reloadable changes applied).
    config: AgentConfig,
    /// Where the configuration came from (reloads read it again); `None` when the agent
    /// was configured in-process (`boundary dev`).
    config_path: Option<PathBuf>,
    /// `None` when the embedding program owns logging.
    logging: Option<Logging>,
    operational: OperationalState,
    warnings: SettingsWarnings,
}

impl Settings {
    /// `startup_warnings` stay in `status` for as long as the agent runs.
    pub fn new(
        config: AgentConfig,
        config_path: Option<PathBuf>,
        logging: Option<Logging>,
        operational: OperationalState,
        startup_warnings: Vec<String>,
    ) -> Settings {
        Settings {
            config,
            config_path,
            logging,
            operational,
            warnings: SettingsWarnings {
                startup: startup_warnings,
                ..SettingsWarnings::default()
            },
        }
    }

    /// `override_upstream_dns_servers`: forward there instead of the machine's previous
    /// resolvers (empty: no override).
    pub fn upstream_override(&self) -> &[SocketAddr] {
        &self.config.override_upstream_dns_servers
    }

    /// Why `uid` may not pause the agent (see [`super::pause_policy`]).
    pub fn pause_refusal(&self, uid: u32) -> Option<String> {
        pause_refusal(uid, self.config.allow_user_pause)
    }

    /// Why `uid` may not resume the agent from `state` (the core's run state).
    pub fn resume_refusal(&self, uid: u32, state: &RunState) -> Option<String> {
        resume_refusal(uid, self.config.allow_user_pause, state)
    }

    /// Keeps the operational state's paused flag in line with `state` (the core's): a
    /// pause a user asked for is remembered, an automatic one is not (the next start tries
    /// again).
    pub fn remember_pause(&mut self, state: &RunState) {
        let paused = match state {
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

    /// Records the alias → address assignments for the next start.
    pub fn save_assignments(&mut self, assignments: &[(String, AliasAddresses)]) {
        if let Err(error) = self.operational.save_assignments(assignments) {
            tracing::warn!(%error, "cannot save the alias address assignments");
        }
    }

    /// Reads the configuration file again: what changed, or `None` (nothing to reload, or
    /// the file is unreadable or invalid: the running configuration stays and `status`
    /// says why).
    pub fn reread(&mut self, trigger: ReloadTrigger) -> Option<ReloadPlan> {
        let path = self.config_path.as_deref()?;
        match reload(path, &self.config) {
            Ok(plan) => {
                self.warnings.reload_failed = None;
                Some(plan)
            }
            Err(error) => {
                let error = with_causes(&error);
                tracing::warn!(?trigger, %error, "the configuration could not be reloaded; keeping the running one");
                self.warnings.reload_failed = Some(format!(
                    "the configuration file could not be reloaded, the agent keeps running with \
                     the previous configuration: {error}"
                ));
                None
            }
        }
    }

    /// A reloaded `log_level`.
    pub fn set_log_level(&self, level: LogLevel) {
        if let Some(logging) = &self.logging
            && let Err(error) = logging.set_level(level)
        {
            tracing::warn!(%error, "cannot change the log level");
        }
    }

    /// A reloaded `log_file` (`None`: standard output).
    pub fn set_log_file(&self, file: Option<&Path>) {
        if let Some(logging) = &self.logging
            && let Err(error) = logging.set_file(file)
        {
            tracing::warn!(%error, "cannot switch to the new log file; logging continues as before");
        }
    }

    /// Runs with `plan`'s effective configuration from now on (after its reloadable
    /// changes were applied) and says in `status` what needs a restart.
    pub fn adopt(&mut self, plan: ReloadPlan) {
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
        self.config = plan.effective;
        if let Some(warning) = &self.warnings.restart_required {
            tracing::warn!("{warning}");
        }
    }

    pub fn warnings(&self) -> &SettingsWarnings {
        &self.warnings
    }

    #[cfg(test)]
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }
}
