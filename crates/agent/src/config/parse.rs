//! HCL text → [`AgentConfig`], one key at a time so that every error names its key.
//!
//! Read with `boundary-config`: unknown keys, blocks and duplicates are refused before
//! any value is read; values must be literals (`${…}` interpolation is not evaluated).
//! What is checked here is what only the agent knows: the ranges below and which
//! values make sense for it.

use crate::dns::AllowedSources;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use boundary_config::{Block, ConfigError, Section, Value, format_duration};
use ipnet::{Ipv4Net, Ipv6Net};

use super::controller_addresses::parse_list;
use super::{AgentConfig, ConfigKey, LogLevel};

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

const ALIAS_REFRESH_INTERVAL: RangeInclusive<Duration> = SECOND..=DAY;
const DNS_REQUEST_TIMEOUT: RangeInclusive<Duration> = Duration::from_millis(100)..=HOUR;
const DNS_TTL: RangeInclusive<Duration> = Duration::ZERO..=Duration::from_secs(300);
const SESSION_IDLE_TIMEOUT: RangeInclusive<Duration> =
    Duration::from_secs(10)..=Duration::from_secs(30 * 24 * 3600);
const ADDRESS_IDLE_TIMEOUT: RangeInclusive<Duration> =
    Duration::from_secs(30)..=Duration::from_secs(7 * 24 * 3600);
const V4_PREFIX_LENGTHS: RangeInclusive<u8> = 8..=16;
const V6_PREFIX_LENGTHS: RangeInclusive<u8> = 48..=112;
/// Linux interface names are at most IFNAMSIZ - 1 bytes.
const MAX_INTERFACE_NAME: usize = 15;

/// Reads the file's top level: only the keys of [`ConfigKey`], no blocks; keys not set
/// keep their defaults ([`AgentConfig::default`]).
pub(super) fn read(root: Block<'_>) -> Result<AgentConfig, ConfigError> {
    let names: Vec<&str> = ConfigKey::ALL.iter().map(|key| key.name()).collect();
    let root = root.section(&names, &[])?;
    let mut config = AgentConfig::default();
    for key in ConfigKey::ALL {
        if let Some(value) = root.get(key.name()) {
            apply(&mut config, key, &value)?;
        }
    }
    check_across_keys(&root, &config)?;
    Ok(config)
}

fn apply(config: &mut AgentConfig, key: ConfigKey, value: &Value) -> Result<(), ConfigError> {
    match key {
        ConfigKey::AliasRefreshInterval => {
            config.alias_refresh_interval = value.duration(ALIAS_REFRESH_INTERVAL)?;
        }
        ConfigKey::DnsRequestTimeout => {
            config.dns_request_timeout = value.duration(DNS_REQUEST_TIMEOUT)?;
        }
        ConfigKey::InterfaceToUse => config.interface_to_use = interface_name(value)?,
        ConfigKey::LogFile => config.log_file = optional_absolute_path(value)?,
        ConfigKey::LogLevel => {
            let text = value.string()?;
            config.log_level = text.parse::<LogLevel>().map_err(|r| value.invalid(r))?;
        }
        ConfigKey::LogToStdout => config.log_to_stdout = value.bool()?,
        ConfigKey::DnsAllowedSources => config.dns_allowed_sources = allowed_sources(value)?,
        ConfigKey::OverrideUpstreamDnsServers => {
            config.override_upstream_dns_servers = upstream_servers(value)?;
        }
        ConfigKey::StateFile => config.state_file = absolute_path(value)?,
        ConfigKey::OperationalStateFile => config.operational_state_file = absolute_path(value)?,
        ConfigKey::V4Prefix => config.v4_prefix = v4_prefix(value)?,
        ConfigKey::V6Prefix => config.v6_prefix = v6_prefix(value)?,
        ConfigKey::ResolverMode => {
            config.resolver_mode =
                value.parse("\"auto\", \"resolv-conf\", \"systemd-resolved\" or \"none\"")?;
        }
        ConfigKey::ApiListenAddress => config.api_listen_address = api_listen_address(value)?,
        ConfigKey::DnsTtl => config.dns_ttl = dns_ttl(value)?,
        ConfigKey::SessionIdleTimeout => {
            config.session_idle_timeout = value.duration_or_off(SESSION_IDLE_TIMEOUT)?;
        }
        ConfigKey::AddressIdleTimeout => {
            config.address_idle_timeout = value.duration(ADDRESS_IDLE_TIMEOUT)?;
        }
        ConfigKey::ControllerCaFile => {
            config.controller_ca_file = optional_absolute_path(value)?;
        }
        ConfigKey::ControllerAddresses => {
            config.controller_addresses =
                parse_list(&value.strings()?).map_err(|r| value.invalid(r))?;
        }
        ConfigKey::AllowUserPause => config.allow_user_pause = value.bool()?,
    }
    Ok(())
}

fn check_across_keys(root: &Section<'_>, config: &AgentConfig) -> Result<(), ConfigError> {
    if config.operational_state_file == config.state_file {
        return Err(root.invalid(
            ConfigKey::OperationalStateFile.name(),
            format!(
                "{:?} must differ from state_file: the two are written independently and \
                 one would overwrite the other (losing the saved resolver configuration)",
                config.operational_state_file.display().to_string()
            ),
        ));
    }
    if config.address_idle_timeout < config.dns_ttl * 2 {
        return Err(root.invalid(
            ConfigKey::AddressIdleTimeout.name(),
            format!(
                "{} must be at least twice dns_ttl ({}), so that a cached DNS answer never \
                 points at an address that was removed",
                format_duration(config.address_idle_timeout),
                format_duration(config.dns_ttl)
            ),
        ));
    }
    Ok(())
}

fn dns_ttl(value: &Value) -> Result<Duration, ConfigError> {
    let ttl = value.duration(DNS_TTL)?;
    if ttl.subsec_nanos() != 0 {
        return Err(value.invalid("a DNS TTL is a whole number of seconds"));
    }
    Ok(ttl)
}

fn absolute_path(value: &Value) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(value.string()?);
    if !path.is_absolute() {
        return Err(value.invalid("must be an absolute path"));
    }
    Ok(path)
}

/// An absolute path, or `None` for `null` and `""`.
fn optional_absolute_path(value: &Value) -> Result<Option<PathBuf>, ConfigError> {
    match value.optional_string()? {
        Some(_) => absolute_path(value).map(Some),
        None => Ok(None),
    }
}

fn interface_name(value: &Value) -> Result<Option<String>, ConfigError> {
    let Some(name) = value.optional_string()? else {
        return Ok(None);
    };
    let valid = name.len() <= MAX_INTERFACE_NAME
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if !valid {
        return Err(value.invalid(format!(
            "not an interface name (at most {MAX_INTERFACE_NAME} bytes, no '/', ':' or \
             spaces)"
        )));
    }
    Ok(Some(name))
}

fn allowed_sources(value: &Value) -> Result<AllowedSources, ConfigError> {
    let mut allowed = AllowedSources {
        virtual_networks: false,
        lan: false,
        networks: Vec::new(),
    };
    for text in value.strings()? {
        match text.as_str() {
            "virtual" => allowed.virtual_networks = true,
            "lan" => allowed.lan = true,
            network => allowed.networks.push(network.parse().map_err(|_| {
                value.invalid(format!(
                    "{network:?} is none of \"virtual\", \"lan\" or a network such as \
                     \"192.168.1.0/24\""
                ))
            })?),
        }
    }
    Ok(allowed)
}

/// `ip` (port 53) or `ip:port`; `null` is the same as `[]`.
fn upstream_servers(value: &Value) -> Result<Vec<SocketAddr>, ConfigError> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let mut servers = Vec::new();
    for text in value.strings()? {
        let server = text
            .parse::<SocketAddr>()
            .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
            .map_err(|_| {
                value.invalid(format!(
                    "{text:?} is neither an IP address nor ip:port (IPv6 with a port is \
                     written [addr]:port)"
                ))
            })?;
        if server.port() == 0 || server.ip().is_unspecified() || server.ip().is_multicast() {
            return Err(value.invalid(format!("{text:?} is not a usable DNS server address")));
        }
        servers.push(server);
    }
    Ok(servers)
}

fn v4_prefix(value: &Value) -> Result<Ipv4Net, ConfigError> {
    let prefix = value.ipv4_prefix(V4_PREFIX_LENGTHS)?;
    let first = prefix.network().octets()[0];
    if first == 0 || first == 127 || first >= 224 {
        return Err(value.invalid(
            "must be unicast space usable on an interface (not 0/8, 127/8, multicast or \
             reserved); the default is 100.64.0.0/10",
        ));
    }
    Ok(prefix)
}

fn v6_prefix(value: &Value) -> Result<Ipv6Net, ConfigError> {
    let prefix = value.ipv6_prefix(V6_PREFIX_LENGTHS)?;
    let unique_local = Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7);
    if !unique_local.contains(&prefix) {
        return Err(
            value.invalid("must be inside the unique-local range fc00::/7 (e.g. fd00:a20a::/48)")
        );
    }
    Ok(prefix)
}

fn api_listen_address(value: &Value) -> Result<SocketAddr, ConfigError> {
    let address: SocketAddr =
        value.parse("ip:port, written like \"127.0.0.1:9300\" or \"[::1]:9300\"")?;
    if !address.ip().is_loopback() {
        return Err(value.invalid(
            "must be a loopback address: the API identifies callers as local users, \
             which only works for local connections",
        ));
    }
    if address.port() == 0 {
        return Err(value.invalid("needs a port (the CLI connects to a fixed port)"));
    }
    Ok(address)
}
