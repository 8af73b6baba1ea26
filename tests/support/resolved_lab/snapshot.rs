//! Resolved's whole configuration read over D-Bus (`busctl --json`), as a value a test can
//! compare before and after something (an agent starting and stopping, a restart).
//! Only configuration is kept: statistics, the current server, scopes and anything else
//! that changes while resolved merely works are left out.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use super::ResolvedLab;

const DESTINATION: &str = "org.freedesktop.resolve1";
const MANAGER_PATH: &str = "/org/freedesktop/resolve1";

/// The configuration of resolved at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedSnapshot {
    /// Global DNS servers (from resolved.conf or `/etc/resolv.conf`, not a link's).
    pub dns: Vec<String>,
    pub fallback_dns: Vec<String>,
    /// Global search and routing domains (`~` marks routing-only).
    pub domains: Vec<String>,
    /// Global modes: `LLMNR`, `MulticastDNS`, `DNSSEC`, `DNSOverTLS`, `DNSStubListener`,
    /// `ResolvConfMode` by property name.
    pub modes: BTreeMap<String, String>,
    /// Every link resolved knows, by interface name.
    pub links: BTreeMap<String, LinkConfig>,
}

/// One link's configuration (what `SetLink*` calls set).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkConfig {
    pub ifindex: u32,
    /// Servers as `address`, `address:port` when a port is set, `…#name` with a TLS name.
    pub dns: Vec<String>,
    /// `~name` for routing-only domains, `name` for search domains.
    pub domains: Vec<String>,
    pub default_route: bool,
    /// `LLMNR`, `MulticastDNS`, `DNSSEC`, `DNSOverTLS` by property name.
    pub modes: BTreeMap<String, String>,
    pub negative_trust_anchors: Vec<String>,
}

impl ResolvedLab {
    /// Reads resolved's configuration (global and every link).
    pub fn snapshot(&self) -> ResolvedSnapshot {
        let manager = self.properties(MANAGER_PATH, "org.freedesktop.resolve1.Manager");
        let global_servers = |name: &str| -> Vec<String> {
            entries(&manager, name)
                .iter()
                .map(fields)
                .filter(|entry| entry.first().and_then(Value::as_u64) == Some(0))
                .map(|entry| server(&entry[1..]))
                .collect()
        };
        let domains = entries(&manager, "Domains")
            .iter()
            .map(fields)
            .filter(|entry| entry.first().and_then(Value::as_u64) == Some(0))
            .map(|entry| domain(&entry[1..]))
            .collect();
        let modes = [
            "LLMNR",
            "MulticastDNS",
            "DNSSEC",
            "DNSOverTLS",
            "DNSStubListener",
            "ResolvConfMode",
        ];
        let mut links = BTreeMap::new();
        for (ifindex, name) in self.interfaces() {
            if let Some(link) = self.link_config(ifindex) {
                links.insert(name, link);
            }
        }
        ResolvedSnapshot {
            dns: global_servers("DNSEx"),
            fallback_dns: global_servers("FallbackDNSEx"),
            domains,
            modes: modes
                .iter()
                .map(|name| (name.to_string(), string(&manager, name)))
                .collect(),
            links,
        }
    }

    /// The configuration of link `ifindex`; `None` when resolved does not know it.
    pub fn link_config(&self, ifindex: u32) -> Option<LinkConfig> {
        let properties = self.link_properties(ifindex)?;
        Some(LinkConfig {
            ifindex,
            dns: entries(&properties, "DNSEx")
                .iter()
                .map(|entry| server(fields(entry)))
                .collect(),
            domains: entries(&properties, "Domains")
                .iter()
                .map(|entry| domain(fields(entry)))
                .collect(),
            default_route: properties["DefaultRoute"]["data"].as_bool() == Some(true),
            modes: ["LLMNR", "MulticastDNS", "DNSSEC", "DNSOverTLS"]
                .iter()
                .map(|name| (name.to_string(), string(&properties, name)))
                .collect(),
            negative_trust_anchors: entries(&properties, "DNSSECNegativeTrustAnchors")
                .iter()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect(),
        })
    }

    /// Every property of `org.freedesktop.resolve1.Link` of link `ifindex` (volatile
    /// ones too: `ScopesMask`, `CurrentDNSServer`, …) as busctl's JSON (`{"type", "data"}`
    /// per property); `None` when resolved does not know the link.
    pub fn link_properties(&self, ifindex: u32) -> Option<Value> {
        let path = format!("{MANAGER_PATH}/link/{}", bus_label(&ifindex.to_string()));
        let output = self.run(&[
            "busctl",
            "--json=short",
            "call",
            DESTINATION,
            &path,
            "org.freedesktop.DBus.Properties",
            "GetAll",
            "s",
            "org.freedesktop.resolve1.Link",
        ]);
        if !output.status.success() {
            return None;
        }
        Some(parse_get_all(&output.stdout))
    }

    /// Whether resolved currently has a DNS scope on the link (bit 0 of `ScopesMask`):
    /// false while the link has no carrier, no address, or no DNS servers.
    pub fn link_has_dns_scope(&self, ifindex: u32) -> bool {
        self.link_properties(ifindex)
            .and_then(|p| p["ScopesMask"]["data"].as_u64())
            .is_some_and(|mask| mask & 1 == 1)
    }

    fn properties(&self, path: &str, interface: &str) -> Value {
        let stdout = self.busctl(&[
            "--json=short",
            "call",
            DESTINATION,
            path,
            "org.freedesktop.DBus.Properties",
            "GetAll",
            "s",
            interface,
        ]);
        parse_get_all(stdout.as_bytes())
    }

    /// (index, name) of every interface in the lab's namespace.
    fn interfaces(&self) -> Vec<(u32, String)> {
        let json = self.exec_ok(&["ip", "-j", "link", "show"]);
        let links: Value = serde_json::from_str(&json).expect("ip -j link prints JSON");
        links
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|link| {
                let index = u32::try_from(link["ifindex"].as_u64()?).ok()?;
                Some((index, link["ifname"].as_str()?.to_owned()))
            })
            .collect()
    }
}

/// busctl's JSON reply of `GetAll` (`{"type":"a{sv}","data":[{…}]}`): the property map.
fn parse_get_all(stdout: &[u8]) -> Value {
    let reply: Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("busctl JSON ({e}): {}", String::from_utf8_lossy(stdout)));
    reply["data"][0].clone()
}

/// The elements of an array property.
fn entries<'v>(properties: &'v Value, name: &str) -> &'v [Value] {
    properties[name]["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The fields of a struct element (busctl prints structs as arrays).
fn fields(entry: &Value) -> &[Value] {
    entry.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn string(properties: &Value, name: &str) -> String {
    properties[name]["data"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A server from `(family, address bytes, port, name)` (the tail of a `DNSEx` entry).
fn server(fields: &[Value]) -> String {
    let bytes: Vec<u8> = fields
        .get(1)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| u8::try_from(b.as_u64()?).ok())
        .collect();
    let address = match <[u8; 4]>::try_from(bytes.as_slice()) {
        Ok(v4) => IpAddr::from(Ipv4Addr::from(v4)),
        Err(_) => match <[u8; 16]>::try_from(bytes.as_slice()) {
            Ok(v6) => IpAddr::from(Ipv6Addr::from(v6)),
            Err(_) => return format!("{fields:?}"),
        },
    };
    let mut text = match fields.get(2).and_then(Value::as_u64) {
        Some(port) if port != 0 => format!("{}", std::net::SocketAddr::new(address, port as u16)),
        _ => address.to_string(),
    };
    if let Some(name) = fields.get(3).and_then(Value::as_str)
        && !name.is_empty()
    {
        text.push('#');
        text.push_str(name);
    }
    text
}

/// A domain from `(name, routing-only)`.
fn domain(fields: &[Value]) -> String {
    let name = fields.first().and_then(Value::as_str).unwrap_or_default();
    if fields.get(1).and_then(Value::as_bool) == Some(true) {
        format!("~{name}")
    } else {
        name.to_owned()
    }
}

/// sd-bus's object path label escaping: every byte but `[A-Za-z]` (and digits after the
/// first byte) becomes `_xx`.
fn bus_label(text: &str) -> String {
    let mut label = String::new();
    for (i, byte) in text.bytes().enumerate() {
        if byte.is_ascii_alphabetic() || (i > 0 && byte.is_ascii_digit()) {
            label.push(char::from(byte));
        } else {
            label.push_str(&format!("_{byte:02x}"));
        }
    }
    label
}
