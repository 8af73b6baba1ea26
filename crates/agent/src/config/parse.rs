//! HCL text → [`AgentConfig`], one key at a time so that every error names its key.
//!
//! The file is parsed to an HCL body (not deserialised with serde): serde errors do not
//! say which field failed, and this way unknown keys, blocks and duplicates are caught
//! explicitly (the HCL parser itself refuses a key set twice). Values must be literals;
//! `${…}` interpolation is not evaluated.

use crate::dns::AllowedSources;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use hcl::{Expression, Structure};
use ipnet::{Ipv4Net, Ipv6Net};

use super::controller_addresses::parse_list;
use super::{AgentConfig, ConfigError, ConfigKey, LogLevel};

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

pub(super) fn parse(text: &str) -> Result<AgentConfig, ConfigError> {
    let body = hcl::parse(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
    let mut config = AgentConfig::default();
    for structure in body.into_inner() {
        let attribute = match structure {
            Structure::Attribute(attribute) => attribute,
            Structure::Block(block) => {
                return Err(ConfigError::Block {
                    name: block.identifier.as_str().to_owned(),
                });
            }
        };
        let name = attribute.key.as_str();
        let key = ConfigKey::from_name(name).ok_or_else(|| ConfigError::UnknownKey {
            key: name.to_owned(),
        })?;
        apply(&mut config, Value::new(key, attribute.expr))?;
    }
    check_across_keys(&config)?;
    Ok(config)
}

fn apply(config: &mut AgentConfig, value: Value) -> Result<(), ConfigError> {
    match value.key {
        ConfigKey::AliasRefreshInterval => {
            config.alias_refresh_interval = value.duration(ALIAS_REFRESH_INTERVAL)?;
        }
        ConfigKey::DnsRequestTimeout => {
            config.dns_request_timeout = value.duration(DNS_REQUEST_TIMEOUT)?;
        }
        ConfigKey::InterfaceToUse => config.interface_to_use = value.interface_name()?,
        ConfigKey::LogFile => {
            config.log_file = value.optional_absolute_path()?;
        }
        ConfigKey::LogLevel => {
            let text = value.string()?;
            config.log_level = text.parse::<LogLevel>().map_err(|r| value.invalid(r))?;
        }
        ConfigKey::LogToStdout => config.log_to_stdout = value.bool()?,
        ConfigKey::DnsAllowedSources => config.dns_allowed_sources = value.allowed_sources()?,
        ConfigKey::OverrideUpstreamDnsServers => {
            config.override_upstream_dns_servers = value.upstream_servers()?;
        }
        ConfigKey::StateFile => config.state_file = value.absolute_path()?,
        ConfigKey::OperationalStateFile => config.operational_state_file = value.absolute_path()?,
        ConfigKey::V4Prefix => config.v4_prefix = value.v4_prefix()?,
        ConfigKey::V6Prefix => config.v6_prefix = value.v6_prefix()?,
        ConfigKey::ResolverMode => {
            let text = value.string()?;
            config.resolver_mode = text.parse().map_err(|_| {
                value.invalid("use \"auto\", \"resolv-conf\", \"systemd-resolved\" or \"none\"")
            })?;
        }
        ConfigKey::ApiListenAddress => config.api_listen_address = value.api_listen_address()?,
        ConfigKey::DnsTtl => {
            let ttl = value.duration(DNS_TTL)?;
            if ttl.subsec_nanos() != 0 {
                return Err(value.invalid("a DNS TTL is a whole number of seconds"));
            }
            config.dns_ttl = ttl;
        }
        ConfigKey::SessionIdleTimeout => {
            let timeout = value.any_duration()?;
            config.session_idle_timeout = if timeout.is_zero() {
                None
            } else {
                Some(value.within(timeout, SESSION_IDLE_TIMEOUT)?)
            };
        }
        ConfigKey::AddressIdleTimeout => {
            config.address_idle_timeout = value.duration(ADDRESS_IDLE_TIMEOUT)?;
        }
        ConfigKey::ControllerCaFile => {
            config.controller_ca_file = value.optional_absolute_path()?;
        }
        ConfigKey::ControllerAddresses => {
            let Expression::Array(items) = &value.expr else {
                return Err(value.wrong_type("a list such as [\"https://boundary.example.com\"]"));
            };
            config.controller_addresses = parse_list(items).map_err(|r| value.invalid(r))?;
        }
        ConfigKey::AllowUserPause => config.allow_user_pause = value.bool()?,
    }
    Ok(())
}

fn check_across_keys(config: &AgentConfig) -> Result<(), ConfigError> {
    if config.operational_state_file == config.state_file {
        return Err(ConfigError::Value {
            key: ConfigKey::OperationalStateFile.name(),
            value: format!("{:?}", config.operational_state_file.display().to_string()),
            reason: "must differ from state_file: the two are written independently and \
                     one would overwrite the other (losing the saved resolver configuration)"
                .to_owned(),
        });
    }
    if config.address_idle_timeout < config.dns_ttl * 2 {
        return Err(ConfigError::Value {
            key: ConfigKey::AddressIdleTimeout.name(),
            value: format!(
                "\"{}\"",
                humantime::format_duration(config.address_idle_timeout)
            ),
            reason: format!(
                "must be at least twice dns_ttl ({}), so that a cached DNS answer never \
                 points at an address that was removed",
                humantime::format_duration(config.dns_ttl)
            ),
        });
    }
    Ok(())
}

/// One attribute's value, with what is needed to report errors about it.
struct Value {
    key: ConfigKey,
    expr: Expression,
}

impl Value {
    fn new(key: ConfigKey, expr: Expression) -> Value {
        Value { key, expr }
    }

    fn invalid(&self, reason: impl Into<String>) -> ConfigError {
        let value = match &self.expr {
            // Lists and objects print over several lines: keep the message on one.
            Expression::Array(_) | Expression::Object(_) => self
                .expr
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            _ => self.expr.to_string(),
        };
        ConfigError::Value {
            key: self.key.name(),
            value,
            reason: reason.into(),
        }
    }

    fn wrong_type(&self, expected: &str) -> ConfigError {
        let reason = match &self.expr {
            Expression::TemplateExpr(_) => format!(
                "expected {expected}; interpolation (${{…}}, heredocs with templates) is \
                 not supported, write the value itself"
            ),
            Expression::String(_)
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::Null
            | Expression::Array(_)
            | Expression::Object(_) => format!("expected {expected}"),
            _ => format!("expected {expected}; variables and functions are not supported"),
        };
        self.invalid(reason)
    }

    fn string(&self) -> Result<&str, ConfigError> {
        match &self.expr {
            Expression::String(s) => Ok(s),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// A string; `null` and `""` mean "not set".
    fn optional_string(&self) -> Result<Option<&str>, ConfigError> {
        match &self.expr {
            Expression::Null => Ok(None),
            Expression::String(s) if s.is_empty() => Ok(None),
            _ => self.string().map(Some),
        }
    }

    /// An absolute path, or `None` for `null` and `""`.
    fn optional_absolute_path(&self) -> Result<Option<PathBuf>, ConfigError> {
        match self.optional_string()? {
            Some(_) => self.absolute_path().map(Some),
            None => Ok(None),
        }
    }

    fn bool(&self) -> Result<bool, ConfigError> {
        match &self.expr {
            Expression::Bool(b) => Ok(*b),
            _ => Err(self.wrong_type("true or false")),
        }
    }

    fn duration(&self, range: RangeInclusive<Duration>) -> Result<Duration, ConfigError> {
        let duration = self.any_duration()?;
        self.within(duration, range)
    }

    fn any_duration(&self) -> Result<Duration, ConfigError> {
        let text = match &self.expr {
            Expression::String(s) => s,
            _ => return Err(self.wrong_type("a duration string such as \"30s\" or \"1m\"")),
        };
        humantime::parse_duration(text).map_err(|e| {
            self.invalid(format!(
                "not a duration ({e}); write it like \"30s\", \"1m\" or \"1h30m\""
            ))
        })
    }

    fn within(
        &self,
        duration: Duration,
        range: RangeInclusive<Duration>,
    ) -> Result<Duration, ConfigError> {
        if range.contains(&duration) {
            return Ok(duration);
        }
        let text = self.expr.to_string();
        let mut reason = format!(
            "out of range; use {} to {}",
            humantime::format_duration(*range.start()),
            humantime::format_duration(*range.end())
        );
        if text.contains('M') {
            reason.push_str(" (\"M\" means months; minutes are \"m\")");
        }
        Err(self.invalid(reason))
    }

    fn absolute_path(&self) -> Result<PathBuf, ConfigError> {
        let text = self.string()?;
        let path = PathBuf::from(text);
        if !path.is_absolute() {
            return Err(self.invalid("must be an absolute path"));
        }
        Ok(path)
    }

    fn interface_name(&self) -> Result<Option<String>, ConfigError> {
        let Some(name) = self.optional_string()? else {
            return Ok(None);
        };
        let valid = name.len() <= MAX_INTERFACE_NAME
            && name != "."
            && name != ".."
            && !name
                .chars()
                .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
        if !valid {
            return Err(self.invalid(format!(
                "not an interface name (at most {MAX_INTERFACE_NAME} bytes, no '/', ':' or \
                 spaces)"
            )));
        }
        Ok(Some(name.to_owned()))
    }

    fn allowed_sources(&self) -> Result<AllowedSources, ConfigError> {
        let items = match &self.expr {
            Expression::Array(items) => items,
            _ => {
                return Err(self.wrong_type(
                    "a list of \"virtual\", \"lan\" or CIDR networks, e.g. [\"virtual\", \
                     \"192.168.1.0/24\"]",
                ));
            }
        };
        let mut allowed = AllowedSources {
            virtual_networks: false,
            lan: false,
            networks: Vec::new(),
        };
        for item in items {
            let Expression::String(text) = item else {
                return Err(self.invalid(format!("{item} is not a string")));
            };
            match text.as_str() {
                "virtual" => allowed.virtual_networks = true,
                "lan" => allowed.lan = true,
                network => allowed.networks.push(network.parse().map_err(|_| {
                    self.invalid(format!(
                        "{network:?} is none of \"virtual\", \"lan\" or a network such as \
                         \"192.168.1.0/24\""
                    ))
                })?),
            }
        }
        Ok(allowed)
    }

    fn upstream_servers(&self) -> Result<Vec<SocketAddr>, ConfigError> {
        let items = match &self.expr {
            Expression::Null => return Ok(Vec::new()),
            Expression::Array(items) => items,
            _ => {
                return Err(self.wrong_type(
                    "a list of \"ip\" or \"ip:port\" strings, e.g. [\"10.0.0.2\", \
                     \"[fd00::53]:5353\"]",
                ));
            }
        };
        let mut servers = Vec::with_capacity(items.len());
        for item in items {
            let Expression::String(text) = item else {
                return Err(self.invalid(format!("{item} is not a string")));
            };
            let server = text
                .parse::<SocketAddr>()
                .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                .map_err(|_| {
                    self.invalid(format!(
                        "{text:?} is neither an IP address nor ip:port (IPv6 with a port is \
                         written [addr]:port)"
                    ))
                })?;
            if server.port() == 0 || server.ip().is_unspecified() || server.ip().is_multicast() {
                return Err(self.invalid(format!("{text:?} is not a usable DNS server address")));
            }
            servers.push(server);
        }
        Ok(servers)
    }

    fn v4_prefix(&self) -> Result<Ipv4Net, ConfigError> {
        let text = self.string()?;
        let prefix: Ipv4Net = text
            .parse()
            .map_err(|_| self.invalid("not an IPv4 prefix; write it like \"100.64.0.0/10\""))?;
        self.check_network_address(prefix.addr(), prefix.trunc().addr(), prefix.prefix_len())?;
        if !V4_PREFIX_LENGTHS.contains(&prefix.prefix_len()) {
            return Err(self.invalid(format!(
                "must be between /{} and /{}",
                V4_PREFIX_LENGTHS.start(),
                V4_PREFIX_LENGTHS.end()
            )));
        }
        let first = prefix.network().octets()[0];
        if first == 0 || first == 127 || first >= 224 {
            return Err(self.invalid(
                "must be unicast space usable on an interface (not 0/8, 127/8, multicast or \
                 reserved); the default is 100.64.0.0/10",
            ));
        }
        Ok(prefix)
    }

    fn v6_prefix(&self) -> Result<Ipv6Net, ConfigError> {
        let text = self.string()?;
        let prefix: Ipv6Net = text
            .parse()
            .map_err(|_| self.invalid("not an IPv6 prefix; write it like \"fd00:a20a::/48\""))?;
        self.check_network_address(
            IpAddr::V6(prefix.addr()),
            IpAddr::V6(prefix.trunc().addr()),
            prefix.prefix_len(),
        )?;
        let unique_local = Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7);
        if !unique_local.contains(&prefix) {
            return Err(self
                .invalid("must be inside the unique-local range fc00::/7 (e.g. fd00:a20a::/48)"));
        }
        if !V6_PREFIX_LENGTHS.contains(&prefix.prefix_len()) {
            return Err(self.invalid(format!(
                "must be between /{} and /{}",
                V6_PREFIX_LENGTHS.start(),
                V6_PREFIX_LENGTHS.end()
            )));
        }
        Ok(prefix)
    }

    fn check_network_address(
        &self,
        written: impl Into<IpAddr>,
        network: impl Into<IpAddr>,
        len: u8,
    ) -> Result<(), ConfigError> {
        let (written, network) = (written.into(), network.into());
        if written != network {
            return Err(self.invalid(format!("has host bits set; the prefix is {network}/{len}")));
        }
        Ok(())
    }

    fn api_listen_address(&self) -> Result<SocketAddr, ConfigError> {
        let text = self.string()?;
        let address: SocketAddr = text.parse().map_err(|_| {
            self.invalid("not ip:port; write it like \"127.0.0.1:9300\" or \"[::1]:9300\"")
        })?;
        if !address.ip().is_loopback() {
            return Err(self.invalid(
                "must be a loopback address: the API identifies callers as local users, \
                 which only works for local connections",
            ));
        }
        if address.port() == 0 {
            return Err(self.invalid("needs a port (the CLI connects to a fixed port)"));
        }
        Ok(address)
    }
}
