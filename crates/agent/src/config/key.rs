//! The configuration keys and which of them a reload applies.

use std::fmt;

/// One configuration key. The set of keys is closed: anything else in the file is an
/// error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigKey {
    AliasRefreshInterval,
    DnsRequestTimeout,
    InterfaceToUse,
    LogFile,
    LogLevel,
    LogToStdout,
    OverrideUpstreamDnsServers,
    StateFile,
    OperationalStateFile,
    V4Prefix,
    V6Prefix,
    ResolverMode,
    ApiListenAddress,
    DnsTtl,
    SessionIdleTimeout,
    AddressIdleTimeout,
    ControllerCaFile,
    DnsAllowedSources,
    ControllerAddresses,
    AllowUserPause,
}

impl ConfigKey {
    /// Every key, Boundary's first, in the order of docs/wire-contract.md §5.
    pub const ALL: [ConfigKey; 20] = [
        ConfigKey::AliasRefreshInterval,
        ConfigKey::DnsRequestTimeout,
        ConfigKey::InterfaceToUse,
        ConfigKey::LogFile,
        ConfigKey::LogLevel,
        ConfigKey::LogToStdout,
        ConfigKey::OverrideUpstreamDnsServers,
        ConfigKey::StateFile,
        ConfigKey::OperationalStateFile,
        ConfigKey::V4Prefix,
        ConfigKey::V6Prefix,
        ConfigKey::ResolverMode,
        ConfigKey::ApiListenAddress,
        ConfigKey::DnsTtl,
        ConfigKey::SessionIdleTimeout,
        ConfigKey::AddressIdleTimeout,
        ConfigKey::ControllerCaFile,
        ConfigKey::DnsAllowedSources,
        ConfigKey::ControllerAddresses,
        ConfigKey::AllowUserPause,
    ];

    /// The key as written in the HCL file.
    pub fn name(self) -> &'static str {
        match self {
            ConfigKey::AliasRefreshInterval => "alias_refresh_interval",
            ConfigKey::DnsRequestTimeout => "dns_request_timeout",
            ConfigKey::InterfaceToUse => "interface_to_use",
            ConfigKey::LogFile => "log_file",
            ConfigKey::LogLevel => "log_level",
            ConfigKey::LogToStdout => "log_to_stdout",
            ConfigKey::OverrideUpstreamDnsServers => "override_upstream_dns_servers",
            ConfigKey::StateFile => "state_file",
            ConfigKey::OperationalStateFile => "operational_state_file",
            ConfigKey::V4Prefix => "v4_prefix",
            ConfigKey::V6Prefix => "v6_prefix",
            ConfigKey::ResolverMode => "resolver_mode",
            ConfigKey::ApiListenAddress => "api_listen_address",
            ConfigKey::DnsTtl => "dns_ttl",
            ConfigKey::SessionIdleTimeout => "session_idle_timeout",
            ConfigKey::AddressIdleTimeout => "address_idle_timeout",
            ConfigKey::ControllerCaFile => "controller_ca_file",
            ConfigKey::DnsAllowedSources => "dns_allowed_sources",
            ConfigKey::ControllerAddresses => "controller_addresses",
            ConfigKey::AllowUserPause => "allow_user_pause",
        }
    }

    pub fn from_name(name: &str) -> Option<ConfigKey> {
        ConfigKey::ALL.into_iter().find(|key| key.name() == name)
    }

    /// Whether a reload applies a change of this key without touching sessions
    /// (docs/wire-contract.md §5: `dns_request_timeout`, `log_file`, `log_level`, `state_file`,
    /// `override_upstream_dns_servers`); of ours `dns_allowed_sources` and the access rules
    /// `controller_addresses` and `allow_user_pause`: root narrowing who may do what (after
    /// an incident) should not have to restart the agent and end every session to do so.
    /// Any other change needs a restart, `v4_prefix` included although Boundary reloads it:
    /// the core's address pool, and the assignments and sessions built on it, cannot be
    /// rebuilt while the agent runs.
    pub fn is_reloadable(self) -> bool {
        matches!(
            self,
            ConfigKey::DnsRequestTimeout
                | ConfigKey::LogFile
                | ConfigKey::LogLevel
                | ConfigKey::StateFile
                | ConfigKey::OverrideUpstreamDnsServers
                | ConfigKey::DnsAllowedSources
                | ConfigKey::ControllerAddresses
                | ConfigKey::AllowUserPause
        )
    }
}

impl fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
