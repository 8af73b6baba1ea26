//! What a reload (SIGHUP or a change of the file) does with a newly parsed configuration.
//!
//! The daemon parses the file again; if that fails it keeps running unchanged (and
//! reports the error). Otherwise [`plan_reload`] compares the new configuration with
//! the one running: reloadable keys (docs/wire-contract.md §5) are applied at once without touching
//! sessions (a narrower `controller_addresses` drops the tokens it no longer allows);
//! restart-only keys keep their running value and are reported as a `status`
//! warning until the agent restarts.

use crate::dns::AllowedSources;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{AgentConfig, ConfigKey, ControllerPin, LogLevel};

/// A reloadable key whose value changed, with its new value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReloadableChange {
    DnsRequestTimeout(Duration),
    LogFile(Option<PathBuf>),
    LogLevel(LogLevel),
    /// Move the crash-recovery state to this file.
    StateFile(PathBuf),
    /// Empty: forward to the system's previous resolvers again.
    OverrideUpstreamDnsServers(Vec<SocketAddr>),
    /// Who else may use the DNS server, from the next query on.
    DnsAllowedSources(AllowedSources),
    /// Registrations are checked against this pin from now on; tokens of a controller it
    /// no longer allows are dropped.
    ControllerAddresses(ControllerPin),
    AllowUserPause(bool),
}

impl ReloadableChange {
    pub fn key(&self) -> ConfigKey {
        match self {
            ReloadableChange::DnsRequestTimeout(_) => ConfigKey::DnsRequestTimeout,
            ReloadableChange::LogFile(_) => ConfigKey::LogFile,
            ReloadableChange::LogLevel(_) => ConfigKey::LogLevel,
            ReloadableChange::StateFile(_) => ConfigKey::StateFile,
            ReloadableChange::OverrideUpstreamDnsServers(_) => {
                ConfigKey::OverrideUpstreamDnsServers
            }
            ReloadableChange::DnsAllowedSources(_) => ConfigKey::DnsAllowedSources,
            ReloadableChange::ControllerAddresses(_) => ConfigKey::ControllerAddresses,
            ReloadableChange::AllowUserPause(_) => ConfigKey::AllowUserPause,
        }
    }
}

/// The outcome of comparing a new configuration with the running one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReloadPlan {
    /// Reloadable keys that changed, in [`ConfigKey::ALL`] order: apply these.
    pub apply: Vec<ReloadableChange>,
    /// Restart-only keys whose new value differs from the running one, in
    /// [`ConfigKey::ALL`] order. They keep their running value.
    pub restart_required: Vec<ConfigKey>,
    /// The configuration to run with from now on: the running one with the reloadable
    /// changes applied. Pass it as `running` to the next [`plan_reload`], so a
    /// restart-only key edited back to its running value stops being reported.
    pub effective: AgentConfig,
}

impl ReloadPlan {
    /// Nothing changed at all.
    pub fn is_empty(&self) -> bool {
        self.apply.is_empty() && self.restart_required.is_empty()
    }

    /// The warning for `status` while restart-only changes are pending.
    pub fn restart_warning(&self) -> Option<String> {
        if self.restart_required.is_empty() {
            return None;
        }
        let keys: Vec<&str> = self.restart_required.iter().map(|k| k.name()).collect();
        Some(format!(
            "the configuration file changed {} which only take{} effect after a restart of \
             the client agent; the previous value{} still in use",
            keys.join(", "),
            if keys.len() == 1 { "s" } else { "" },
            if keys.len() == 1 { " is" } else { "s are" },
        ))
    }
}

/// Splits the differences between `running` and `new` into changes to apply now and
/// restart-only keys that changed.
pub fn plan_reload(running: &AgentConfig, new: &AgentConfig) -> ReloadPlan {
    let mut plan = ReloadPlan {
        apply: Vec::new(),
        restart_required: Vec::new(),
        effective: running.clone(),
    };
    for key in ConfigKey::ALL {
        if !differs(running, new, key) {
            continue;
        }
        // The crash-recovery state may not move onto the file the running agent keeps
        // its operational state in (that key only changes at a restart).
        let collides = |change: &ReloadableChange| {
            matches!(change, ReloadableChange::StateFile(path)
                if *path == plan.effective.operational_state_file)
        };
        match reloadable_change(new, key).filter(|change| !collides(change)) {
            Some(change) => {
                apply_change(&mut plan.effective, &change);
                plan.apply.push(change);
            }
            None => plan.restart_required.push(key),
        }
    }
    plan
}

fn differs(a: &AgentConfig, b: &AgentConfig, key: ConfigKey) -> bool {
    match key {
        ConfigKey::AliasRefreshInterval => a.alias_refresh_interval != b.alias_refresh_interval,
        ConfigKey::DnsRequestTimeout => a.dns_request_timeout != b.dns_request_timeout,
        ConfigKey::InterfaceToUse => a.interface_to_use != b.interface_to_use,
        ConfigKey::LogFile => a.log_file != b.log_file,
        ConfigKey::LogLevel => a.log_level != b.log_level,
        ConfigKey::LogToStdout => a.log_to_stdout != b.log_to_stdout,
        ConfigKey::OverrideUpstreamDnsServers => {
            a.override_upstream_dns_servers != b.override_upstream_dns_servers
        }
        ConfigKey::StateFile => a.state_file != b.state_file,
        ConfigKey::OperationalStateFile => a.operational_state_file != b.operational_state_file,
        ConfigKey::V4Prefix => a.v4_prefix != b.v4_prefix,
        ConfigKey::V6Prefix => a.v6_prefix != b.v6_prefix,
        ConfigKey::ResolverMode => a.resolver_mode != b.resolver_mode,
        ConfigKey::ApiListenAddress => a.api_listen_address != b.api_listen_address,
        ConfigKey::DnsTtl => a.dns_ttl != b.dns_ttl,
        ConfigKey::SessionIdleTimeout => a.session_idle_timeout != b.session_idle_timeout,
        ConfigKey::AddressIdleTimeout => a.address_idle_timeout != b.address_idle_timeout,
        ConfigKey::ControllerCaFile => a.controller_ca_file != b.controller_ca_file,
        ConfigKey::DnsAllowedSources => a.dns_allowed_sources != b.dns_allowed_sources,
        ConfigKey::ControllerAddresses => a.controller_addresses != b.controller_addresses,
        ConfigKey::AllowUserPause => a.allow_user_pause != b.allow_user_pause,
    }
}

/// The change that sets `key` to its value in `new`, if `key` is reloadable.
pub(super) fn reloadable_change(new: &AgentConfig, key: ConfigKey) -> Option<ReloadableChange> {
    let change = match key {
        ConfigKey::DnsRequestTimeout => {
            ReloadableChange::DnsRequestTimeout(new.dns_request_timeout)
        }
        ConfigKey::LogFile => ReloadableChange::LogFile(new.log_file.clone()),
        ConfigKey::LogLevel => ReloadableChange::LogLevel(new.log_level),
        ConfigKey::StateFile => ReloadableChange::StateFile(new.state_file.clone()),
        ConfigKey::OverrideUpstreamDnsServers => {
            ReloadableChange::OverrideUpstreamDnsServers(new.override_upstream_dns_servers.clone())
        }
        ConfigKey::DnsAllowedSources => {
            ReloadableChange::DnsAllowedSources(new.dns_allowed_sources.clone())
        }
        ConfigKey::ControllerAddresses => {
            ReloadableChange::ControllerAddresses(new.controller_addresses.clone())
        }
        ConfigKey::AllowUserPause => ReloadableChange::AllowUserPause(new.allow_user_pause),
        _ => return None,
    };
    Some(change)
}

fn apply_change(config: &mut AgentConfig, change: &ReloadableChange) {
    match change {
        ReloadableChange::DnsRequestTimeout(v) => config.dns_request_timeout = *v,
        ReloadableChange::LogFile(v) => config.log_file = v.clone(),
        ReloadableChange::LogLevel(v) => config.log_level = *v,
        ReloadableChange::StateFile(v) => config.state_file = v.clone(),
        ReloadableChange::OverrideUpstreamDnsServers(v) => {
            config.override_upstream_dns_servers = v.clone();
        }
        ReloadableChange::DnsAllowedSources(v) => config.dns_allowed_sources = v.clone(),
        ReloadableChange::ControllerAddresses(v) => config.controller_addresses = v.clone(),
        ReloadableChange::AllowUserPause(v) => config.allow_user_pause = *v,
    }
}
