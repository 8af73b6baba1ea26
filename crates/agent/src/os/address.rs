//! Alias addresses on a network interface.

use std::net::IpAddr;

use async_trait::async_trait;
use ipnet::IpNet;

/// Adds and removes the host addresses (`/32`, `/128`) the agent answers aliases with.
///
/// Implementations talk to the network namespace they were created in (a netlink socket
/// binds to its creator thread's namespace).
#[async_trait]
pub trait AddressManager: Send + Sync {
    /// The interface the agent puts its addresses on: `interface_to_use` when given (it
    /// must exist), else the interface of the default route (IPv4 first, then IPv6).
    async fn find_interface(
        &self,
        interface_to_use: Option<&str>,
    ) -> Result<Interface, AddressError>;

    /// Adds `address` as a host address (`/32` or `/128`; IPv6 without duplicate address
    /// detection, so it can be bound at once). Adding an address that is already there
    /// succeeds.
    async fn add(&self, interface: &Interface, address: IpAddr) -> Result<(), AddressError>;

    /// Removes a host address added by [`AddressManager::add`]. Removing an address that is
    /// not there succeeds, so cleanup can be repeated after a crash.
    async fn remove(&self, interface: &Interface, address: IpAddr) -> Result<(), AddressError>;

    /// Whether addresses keep the agent's tag ([`AssignedAddress::added_by_agent`]).
    /// Linux before 6.1 drops it; crash recovery then trusts a recorded in-prefix host
    /// address without it.
    fn keeps_tags(&self) -> bool {
        true
    }

    /// What the DNS server needs to tell this host, its virtual networks and the LAN
    /// apart: the loopback interface, the interfaces of the default routes (IPv4, IPv6),
    /// and every address with its prefix and interface. Without an implementation: an
    /// empty answer, with which the DNS server cannot classify and stays open.
    async fn interface_facts(&self) -> Result<InterfaceFacts, AddressError> {
        Ok(InterfaceFacts::default())
    }

    /// The addresses on `interface` inside any of `prefixes` (to find leftovers of a crash).
    async fn list_within(
        &self,
        interface: &Interface,
        prefixes: &[IpNet],
    ) -> Result<Vec<AssignedAddress>, AddressError>;
}

/// See [`AddressManager::interface_facts`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceFacts {
    pub loopback: Option<u32>,
    pub default_route_interfaces: Vec<u32>,
    /// `(address, prefix length, interface index)`.
    pub addresses: Vec<(IpAddr, u8, u32)>,
    /// The kernel drops IPv4 packets arriving from another host that claim one of this
    /// host's addresses or a 127/8 address as their source (no interface has
    /// `accept_local` or `route_localnet` set, the default): an IPv4 query from a local
    /// source then certainly comes from this host.
    pub ipv4_forged_local_dropped: bool,
}

/// A network interface by name and kernel index. The index is only valid while the
/// interface exists; state files record the name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
}

/// An address found on an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssignedAddress {
    pub address: IpAddr,
    pub prefix_len: u8,
    /// Tagged as added by this agent (address protocol tag; kernels before 6.1 drop the
    /// tag, so absence does not prove it is someone else's).
    pub added_by_agent: bool,
}

/// Why an address operation failed; every variant names the interface or address.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("cannot open a netlink socket to manage addresses: {0}")]
    Netlink(#[source] std::io::Error),
    #[error(
        "network interface {name:?} (interface_to_use) does not exist; \
         check `ip link` and the agent configuration"
    )]
    InterfaceNotFound { name: String },
    #[error(
        "no default route, so there is no interface to put alias addresses on; \
         set interface_to_use in the agent configuration"
    )]
    NoDefaultRoute,
    #[error("cannot look up network interface {what}: {source}")]
    Lookup {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot add address {address} to interface {interface}: {source}")]
    Add {
        address: IpAddr,
        interface: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot remove address {address} from interface {interface}: {source}")]
    Remove {
        address: IpAddr,
        interface: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot list the addresses of interface {interface}: {source}")]
    List {
        interface: String,
        #[source]
        source: std::io::Error,
    },
}
