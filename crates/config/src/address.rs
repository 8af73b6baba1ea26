//! Network values: `host:port` addresses with a default port, socket addresses and IP
//! prefixes.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::{ConfigError, Value};

/// `address` as `host:port`, with `port` added when it names none. Accepts an IP address
/// (`10.0.0.1`, `::1`, `[::1]`), a host name (`ctl.example`) and either with a port
/// (`10.0.0.1:9200`, `[::1]:9200`, `ctl.example:9200`); surrounding whitespace is
/// ignored. An IPv6 address comes back in brackets. The address is checked only as far as
/// its form goes: a host name is not resolved.
///
/// The error is the reason, without the address: empty, a port that is not a number
/// (`host:http`), no host (`:9200`), or brackets around something else than IPv6.
pub fn with_default_port(address: &str, port: u16) -> Result<String, String> {
    let address = address.trim();
    if address.is_empty() {
        return Err("is empty".to_owned());
    }
    if address.parse::<SocketAddr>().is_ok() {
        return Ok(address.to_owned());
    }
    if let Ok(ip) = address.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port).to_string());
    }
    if let Some(inside) = address.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        return match inside.parse::<Ipv6Addr>() {
            Ok(ip) => Ok(SocketAddr::new(ip.into(), port).to_string()),
            Err(_) => Err("has brackets around something that is not an IPv6 address".to_owned()),
        };
    }
    match address.rsplit_once(':') {
        None => Ok(format!("{address}:{port}")),
        Some(("", _)) => Err("names no host".to_owned()),
        Some((_, text)) if text.parse::<u16>().is_ok() => Ok(address.to_owned()),
        Some(_) => Err(
            "is not host:port (the port is a number; IPv6 with a port is written [addr]:port)"
                .to_owned(),
        ),
    }
}

impl Value {
    /// A `host:port` string, `default_port` added when it names none
    /// ([`with_default_port`]).
    pub fn address(&self, default_port: u16) -> Result<String, ConfigError> {
        let text = self.string()?;
        with_default_port(&text, default_port).map_err(|reason| self.invalid(reason))
    }

    /// An IP address and port, `default_port` added when the value names none (see
    /// [`with_default_port`]; a host name is refused).
    pub fn socket_addr(&self, default_port: u16) -> Result<SocketAddr, ConfigError> {
        let address = self.address(default_port)?;
        address
            .parse()
            .map_err(|_| self.invalid("not an IP address and port"))
    }

    /// An IPv4 prefix (`100.64.0.0/10`) without host bits, its length within `lengths`.
    pub fn ipv4_prefix(&self, lengths: RangeInclusive<u8>) -> Result<Ipv4Net, ConfigError> {
        let prefix: Ipv4Net = self.parse("an IPv4 prefix such as \"100.64.0.0/10\"")?;
        self.check_prefix(prefix.into(), lengths)?;
        Ok(prefix)
    }

    /// An IPv6 prefix (`fd00:a20a::/48`) without host bits, its length within `lengths`.
    pub fn ipv6_prefix(&self, lengths: RangeInclusive<u8>) -> Result<Ipv6Net, ConfigError> {
        let prefix: Ipv6Net = self.parse("an IPv6 prefix such as \"fd00:a20a::/48\"")?;
        self.check_prefix(prefix.into(), lengths)?;
        Ok(prefix)
    }

    fn check_prefix(&self, prefix: IpNet, lengths: RangeInclusive<u8>) -> Result<(), ConfigError> {
        if prefix.addr() != prefix.network() {
            return Err(self.invalid(format!(
                "has host bits set; the prefix is {}",
                prefix.trunc()
            )));
        }
        if !lengths.contains(&prefix.prefix_len()) {
            return Err(self.out_of_range(format!(
                "the length must be between /{} and /{}",
                lengths.start(),
                lengths.end()
            )));
        }
        Ok(())
    }
}
