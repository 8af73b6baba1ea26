//! systemd-resolved's D-Bus API (`org.freedesktop.resolve1`), the part the agent uses:
//! per-link DNS settings on its own link, cache flushes, and the DNS servers resolved
//! uses for the other links (the agent's upstreams).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use zbus::proxy::CacheProperties;
use zbus::zvariant::OwnedObjectPath;

/// resolved's well-known bus name.
pub const RESOLVE1: &str = "org.freedesktop.resolve1";

#[zbus::proxy(
    interface = "org.freedesktop.resolve1.Manager",
    default_service = "org.freedesktop.resolve1",
    default_path = "/org/freedesktop/resolve1",
    gen_blocking = false
)]
pub trait Manager {
    /// `(family, address bytes)` per server; family is `AF_INET` or `AF_INET6`.
    #[zbus(name = "SetLinkDNS")]
    fn set_link_dns(&self, ifindex: i32, addresses: &[(i32, &[u8])]) -> zbus::Result<()>;
    /// `(domain, routing_only)`.
    fn set_link_domains(&self, ifindex: i32, domains: &[(&str, bool)]) -> zbus::Result<()>;
    fn set_link_default_route(&self, ifindex: i32, enable: bool) -> zbus::Result<()>;
    #[zbus(name = "SetLinkLLMNR")]
    fn set_link_llmnr(&self, ifindex: i32, mode: &str) -> zbus::Result<()>;
    #[zbus(name = "SetLinkMulticastDNS")]
    fn set_link_multicast_dns(&self, ifindex: i32, mode: &str) -> zbus::Result<()>;
    #[zbus(name = "SetLinkDNSSEC")]
    fn set_link_dnssec(&self, ifindex: i32, mode: &str) -> zbus::Result<()>;
    #[zbus(name = "SetLinkDNSOverTLS")]
    fn set_link_dns_over_tls(&self, ifindex: i32, mode: &str) -> zbus::Result<()>;
    fn revert_link(&self, ifindex: i32) -> zbus::Result<()>;
    fn flush_caches(&self) -> zbus::Result<()>;
    fn get_link(&self, ifindex: i32) -> zbus::Result<OwnedObjectPath>;

    /// `(ifindex, family, address, port, server name)`; ifindex 0 = global.
    #[zbus(property, name = "DNSEx")]
    fn dns_ex(&self) -> zbus::Result<Vec<(i32, i32, Vec<u8>, u16, String)>>;
    #[zbus(property, name = "FallbackDNSEx")]
    fn fallback_dns_ex(&self) -> zbus::Result<Vec<(i32, i32, Vec<u8>, u16, String)>>;
    #[zbus(property, name = "ResolvConfMode")]
    fn resolv_conf_mode(&self) -> zbus::Result<String>;
}

#[zbus::proxy(
    interface = "org.freedesktop.resolve1.Link",
    default_service = "org.freedesktop.resolve1",
    gen_blocking = false
)]
pub trait Link {
    #[zbus(property)]
    fn default_route(&self) -> zbus::Result<bool>;
}

/// A connection to the system bus and resolved's manager object.
#[derive(Clone)]
pub struct ResolvedBus {
    connection: zbus::Connection,
    manager: ManagerProxy<'static>,
}

/// One DNS server resolved knows, with the link it belongs to (0: global).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownServer {
    pub ifindex: i32,
    pub address: SocketAddr,
}

impl ResolvedBus {
    /// Connects to the system bus at `address` (a D-Bus address such as
    /// `unix:path=/run/dbus/system_bus_socket`), else `DBUS_SYSTEM_BUS_ADDRESS`, else
    /// `/run/dbus/system_bus_socket`.
    pub async fn connect(address: Option<&str>) -> zbus::Result<ResolvedBus> {
        let connection = match address {
            Some(address) => zbus::connection::Builder::address(address)?.build().await?,
            None => zbus::Connection::system().await?,
        };
        let manager = ManagerProxy::builder(&connection)
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        Ok(ResolvedBus {
            connection,
            manager,
        })
    }

    pub fn manager(&self) -> &ManagerProxy<'static> {
        &self.manager
    }

    /// The unique bus name of the process that owns `org.freedesktop.resolve1`; it
    /// changes when resolved restarts (and with it, resolved forgets per-link settings).
    pub async fn owner(&self) -> zbus::Result<String> {
        let dbus = zbus::fdo::DBusProxy::new(&self.connection).await?;
        let name = zbus::names::BusName::try_from(RESOLVE1)?;
        Ok(dbus.get_name_owner(name).await?.to_string())
    }

    /// Every DNS server resolved is configured with, global and per link.
    pub async fn servers(&self) -> zbus::Result<Vec<KnownServer>> {
        Ok(to_servers(self.manager.dns_ex().await?))
    }

    /// resolved's fallback servers (used when nothing else is configured).
    pub async fn fallback_servers(&self) -> zbus::Result<Vec<KnownServer>> {
        Ok(to_servers(self.manager.fallback_dns_ex().await?))
    }

    /// Whether the links in `ifindexes` are default-route links (their servers get the
    /// names no routing domain claims). A link that went away meanwhile is left out.
    pub async fn default_route_links(&self, ifindexes: &[i32]) -> BTreeMap<i32, bool> {
        let mut found = BTreeMap::new();
        for &ifindex in ifindexes {
            if let Ok(default) = self.link_default_route(ifindex).await {
                found.insert(ifindex, default);
            }
        }
        found
    }

    async fn link_default_route(&self, ifindex: i32) -> zbus::Result<bool> {
        let path = self.manager.get_link(ifindex).await?;
        let link = LinkProxy::builder(&self.connection)
            .path(path)?
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        link.default_route().await
    }
}

fn to_servers(raw: Vec<(i32, i32, Vec<u8>, u16, String)>) -> Vec<KnownServer> {
    raw.into_iter()
        .filter_map(|(ifindex, family, bytes, port, _name)| {
            let port = if port == 0 { 53 } else { port };
            let ip = ip_from_bus(family, &bytes)?;
            let address = match ip {
                IpAddr::V6(v6) if is_link_local(v6) => {
                    SocketAddr::V6(SocketAddrV6::new(v6, port, 0, ifindex.max(0) as u32))
                }
                ip => SocketAddr::new(ip, port),
            };
            Some(KnownServer { ifindex, address })
        })
        .collect()
}

/// `(family, bytes)` as resolved's API carries addresses.
pub fn ip_to_bus(ip: IpAddr) -> (i32, Vec<u8>) {
    match ip {
        IpAddr::V4(v4) => (libc::AF_INET, v4.octets().to_vec()),
        IpAddr::V6(v6) => (libc::AF_INET6, v6.octets().to_vec()),
    }
}

fn ip_from_bus(family: i32, bytes: &[u8]) -> Option<IpAddr> {
    match family {
        libc::AF_INET => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        libc::AF_INET6 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

fn is_link_local(ip: Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// The D-Bus error name and message of a failed call, for logs and `status`.
pub fn describe(error: &zbus::Error) -> String {
    match error {
        zbus::Error::MethodError(name, message, _) => match message {
            Some(message) => format!("{name}: {message}"),
            None => name.to_string(),
        },
        zbus::Error::FDO(fdo) => fdo.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_from_the_bus_keep_port_and_link_local_scope() {
        let raw = vec![
            (0, libc::AF_INET, vec![192, 0, 2, 53], 0, String::new()),
            (
                3,
                libc::AF_INET,
                vec![198, 51, 100, 1],
                5353,
                "dns.example".into(),
            ),
            (
                4,
                libc::AF_INET6,
                Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets().to_vec(),
                0,
                String::new(),
            ),
            (5, libc::AF_INET, vec![1, 2, 3], 0, String::new()),
        ];
        let servers = to_servers(raw);
        let addresses: Vec<String> = servers.iter().map(|s| s.address.to_string()).collect();
        assert_eq!(
            addresses,
            ["192.0.2.53:53", "198.51.100.1:5353", "[fe80::1%4]:53"],
            "a malformed entry is skipped"
        );
    }

    #[test]
    fn addresses_round_trip_through_the_bus_form() {
        for ip in ["100.64.0.1", "fd00:a20a::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            let (family, bytes) = ip_to_bus(ip);
            assert_eq!(ip_from_bus(family, &bytes), Some(ip));
        }
    }
}
