//! Alias addresses through rtnetlink.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use ipnet::IpNet;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressMessage, AddressProtocol,
};
use rtnetlink::packet_route::link::LinkAttribute;
use rtnetlink::packet_route::route::{RouteAttribute, RouteMessage};
use rtnetlink::{AddressMessageBuilder, Handle, RouteMessageBuilder};

use crate::os::{AddressError, AddressManager, AssignedAddress, Interface, InterfaceFacts};

/// Address protocol tag (`IFA_PROTO`, kernel 6.1+) on every address the agent adds, so
/// leftovers can be told apart from addresses someone else put in the same prefix.
/// `ip addr` shows it as `proto 0xbd`.
pub const AGENT_ADDRESS_PROTOCOL: u8 = 0xbd;

/// Destinations whose route decides the default interface (`ip route get`); nothing is
/// sent to them.
const PUBLIC_V4: Ipv4Addr = Ipv4Addr::new(1, 1, 1, 1);
const PUBLIC_V6: Ipv6Addr = Ipv6Addr::new(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1111);

/// [`AddressManager`] over an rtnetlink connection. The connection task runs on the tokio
/// runtime current at construction and stops when this value is dropped.
pub struct NetlinkAddresses {
    handle: Handle,
    connection: tokio::task::JoinHandle<()>,
}

impl NetlinkAddresses {
    /// Opens the netlink socket in the calling thread's network namespace. Must be called
    /// from within a tokio runtime.
    pub fn new() -> Result<NetlinkAddresses, AddressError> {
        let (connection, handle, _) = rtnetlink::new_connection().map_err(AddressError::Netlink)?;
        Ok(NetlinkAddresses {
            handle,
            connection: tokio::spawn(connection),
        })
    }

    /// The rtnetlink handle (the agent's link is made through the same connection).
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    async fn interface_by_name(&self, name: &str) -> Result<Interface, AddressError> {
        let found = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute()
            .try_next()
            .await;
        match found {
            Ok(Some(link)) => Ok(Interface {
                name: name.to_string(),
                index: link.header.index,
            }),
            Ok(None) => Err(AddressError::InterfaceNotFound { name: name.into() }),
            Err(error) => match to_io(error) {
                e if e.raw_os_error() == Some(libc::ENODEV) => {
                    Err(AddressError::InterfaceNotFound { name: name.into() })
                }
                source => Err(AddressError::Lookup {
                    what: format!("{name:?}"),
                    source,
                }),
            },
        }
    }

    async fn interface_by_index(&self, index: u32) -> Result<Interface, AddressError> {
        let lookup_failed = |source| AddressError::Lookup {
            what: format!("with index {index}"),
            source,
        };
        let link = self
            .handle
            .link()
            .get()
            .match_index(index)
            .execute()
            .try_next()
            .await
            .map_err(|e| lookup_failed(to_io(e)))?
            .ok_or_else(|| lookup_failed(io::Error::from_raw_os_error(libc::ENODEV)))?;
        let name = link
            .attributes
            .iter()
            .find_map(|attribute| match attribute {
                LinkAttribute::IfName(name) => Some(name.clone()),
                _ => None,
            })
            .ok_or_else(|| lookup_failed(io::Error::other("the kernel sent no name")))?;
        Ok(Interface { name, index })
    }

    /// The output interface of the route toward a public address, IPv4 first.
    async fn all_interface_facts(&self) -> Result<InterfaceFacts, AddressError> {
        let messages: Vec<AddressMessage> = self
            .handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|error| AddressError::List {
                interface: "(all)".into(),
                source: to_io(error),
            })?;
        let addresses = messages
            .iter()
            .filter_map(|message| {
                let assigned = assigned_address(message)?;
                Some((assigned.address, assigned.prefix_len, message.header.index))
            })
            .collect();
        Ok(InterfaceFacts {
            loopback: nix::net::if_::if_nametoindex("lo").ok(),
            default_route_interfaces: self.default_route_indexes().await?,
            addresses,
            ipv4_forged_local_dropped: ipv4_forged_local_dropped(Path::new(IPV4_CONF)),
        })
    }

    async fn default_route_index(&self) -> Result<u32, AddressError> {
        self.default_route_indexes()
            .await?
            .first()
            .copied()
            .ok_or(AddressError::NoDefaultRoute)
    }

    /// The interfaces of the IPv4 and the IPv6 default route (IPv4 first), as many as
    /// there are.
    async fn default_route_indexes(&self) -> Result<Vec<u32>, AddressError> {
        let mut found = Vec::new();
        let lookups: [RouteMessage; 2] = [
            RouteMessageBuilder::<Ipv4Addr>::new()
                .destination_prefix(PUBLIC_V4, 32)
                .build(),
            RouteMessageBuilder::<Ipv6Addr>::new()
                .destination_prefix(PUBLIC_V6, 128)
                .build(),
        ];
        for lookup in lookups {
            match self.handle.route().get(lookup).execute().try_next().await {
                Ok(Some(route)) => {
                    let oif = route
                        .attributes
                        .iter()
                        .find_map(|attribute| match attribute {
                            RouteAttribute::Oif(index) => Some(*index),
                            _ => None,
                        });
                    if let Some(index) = oif
                        && !found.contains(&index)
                    {
                        found.push(index);
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    let error = to_io(error);
                    let unroutable = [libc::ENETUNREACH, libc::EHOSTUNREACH, libc::EAFNOSUPPORT];
                    if found.is_empty()
                        && !error
                            .raw_os_error()
                            .is_some_and(|code| unroutable.contains(&code))
                    {
                        return Err(AddressError::Lookup {
                            what: "of the default route".into(),
                            source: error,
                        });
                    }
                }
            }
        }
        Ok(found)
    }
}

impl Drop for NetlinkAddresses {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

#[async_trait]
impl AddressManager for NetlinkAddresses {
    async fn find_interface(
        &self,
        interface_to_use: Option<&str>,
    ) -> Result<Interface, AddressError> {
        match interface_to_use {
            Some(name) => self.interface_by_name(name).await,
            None => {
                let index = self.default_route_index().await?;
                self.interface_by_index(index).await
            }
        }
    }

    async fn add(&self, interface: &Interface, address: IpAddr) -> Result<(), AddressError> {
        let mut request =
            self.handle
                .address()
                .add(interface.index, address, host_prefix_len(address));
        let attributes = &mut request.message_mut().attributes;
        attributes.push(AddressAttribute::Protocol(AddressProtocol::Other(
            AGENT_ADDRESS_PROTOCOL,
        )));
        if address.is_ipv6() {
            // Without NODAD the address stays "tentative" for a second or more and
            // bind() fails with EADDRNOTAVAIL.
            attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        match request.execute().await.map_err(to_io) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            Err(source) => Err(AddressError::Add {
                address,
                interface: interface.name.clone(),
                source,
            }),
        }
    }

    async fn remove(&self, interface: &Interface, address: IpAddr) -> Result<(), AddressError> {
        let message = host_address_message(interface.index, address);
        match self
            .handle
            .address()
            .del(message)
            .execute()
            .await
            .map_err(to_io)
        {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => Ok(()),
            Err(source) => Err(AddressError::Remove {
                address,
                interface: interface.name.clone(),
                source,
            }),
        }
    }

    fn keeps_tags(&self) -> bool {
        kernel_keeps_address_tags()
    }

    async fn interface_facts(&self) -> Result<InterfaceFacts, AddressError> {
        self.all_interface_facts().await
    }

    async fn list_within(
        &self,
        interface: &Interface,
        prefixes: &[IpNet],
    ) -> Result<Vec<AssignedAddress>, AddressError> {
        let messages: Vec<AddressMessage> = self
            .handle
            .address()
            .get()
            .set_link_index_filter(interface.index)
            .execute()
            .try_collect()
            .await
            .map_err(|error| AddressError::List {
                interface: interface.name.clone(),
                source: to_io(error),
            })?;
        Ok(messages
            .iter()
            .filter_map(assigned_address)
            .filter(|assigned| prefixes.iter().any(|p| p.contains(&assigned.address)))
            .collect())
    }
}

/// `IFA_PROTO` arrived in Linux 6.1.
fn kernel_keeps_address_tags() -> bool {
    let Ok(uname) = nix::sys::utsname::uname() else {
        return true;
    };
    let release = uname.release().to_string_lossy().into_owned();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let major = numbers.next().unwrap_or(0);
    let minor = numbers.next().unwrap_or(0);
    (major, minor) >= (6, 1)
}

fn assigned_address(message: &AddressMessage) -> Option<AssignedAddress> {
    let mut local = None;
    let mut address = None;
    let mut added_by_agent = false;
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Protocol(protocol) => {
                added_by_agent = u8::from(*protocol) == AGENT_ADDRESS_PROTOCOL;
            }
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on
    // point-to-point links (and the only one IPv6 sends).
    Some(AssignedAddress {
        address: local.or(address)?,
        prefix_len: message.header.prefix_len,
        added_by_agent,
    })
}

fn host_prefix_len(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn host_address_message(index: u32, address: IpAddr) -> AddressMessage {
    match address {
        IpAddr::V4(v4) => AddressMessageBuilder::<Ipv4Addr>::new()
            .index(index)
            .address(v4, 32)
            .build(),
        IpAddr::V6(v6) => AddressMessageBuilder::<Ipv6Addr>::new()
            .index(index)
            .address(v6, 128)
            .build(),
    }
}

pub(super) fn to_io(error: rtnetlink::Error) -> io::Error {
    match error {
        rtnetlink::Error::NetlinkError(message) => message.to_io(),
        other => io::Error::other(other.to_string()),
    }
}

/// The per-interface IPv4 settings of the network namespace the reading thread is in.
const IPV4_CONF: &str = "/proc/sys/net/ipv4/conf";

/// See [`InterfaceFacts::ipv4_forged_local_dropped`]: `false` when any entry under `conf`
/// (`all`, `default` and every interface) sets `accept_local` or `route_localnet`, or
/// when the settings cannot be read.
fn ipv4_forged_local_dropped(conf: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(conf) else {
        return false;
    };
    entries.into_iter().all(|entry| {
        let Ok(entry) = entry else { return false };
        ["accept_local", "route_localnet"].iter().all(|setting| {
            std::fs::read_to_string(entry.path().join(setting))
                .is_ok_and(|value| value.trim() == "0")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(settings: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (interface, setting, value) in settings {
            let path = dir.path().join(interface);
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join(setting), format!("{value}\n")).unwrap();
        }
        dir
    }

    #[test]
    fn forged_local_sources_are_dropped_only_when_no_interface_accepts_them() {
        let defaults = [
            ("all", "accept_local", "0"),
            ("all", "route_localnet", "0"),
            ("eth0", "accept_local", "0"),
            ("eth0", "route_localnet", "0"),
        ];
        assert!(ipv4_forged_local_dropped(conf(&defaults).path()));
        for (interface, setting) in [("eth0", "accept_local"), ("all", "route_localnet")] {
            let mut settings = defaults.to_vec();
            settings.retain(|(i, s, _)| (*i, *s) != (interface, setting));
            settings.push((interface, setting, "1"));
            assert!(
                !ipv4_forged_local_dropped(conf(&settings).path()),
                "{interface}/{setting} = 1"
            );
        }
        // A setting that cannot be read proves nothing.
        assert!(!ipv4_forged_local_dropped(conf(&defaults[..3]).path()));
        assert!(!ipv4_forged_local_dropped(Path::new("/nonexistent")));
    }
}
