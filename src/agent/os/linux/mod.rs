//! Linux implementations of the OS edge: rtnetlink for addresses, sock_diag for socket
//! owners, resolv.conf for the system resolver.
//!
//! Netlink sockets belong to the network namespace of the thread that creates them, so
//! construct [`NetlinkAddresses`] and [`SockDiagPeerLookup`] on a thread in the namespace
//! they should manage (the daemon's main thread; in tests, a thread that has `setns`'d).

mod addr;
mod agent_link;
mod peer;
mod resolv_conf_watch;
mod resolved;
mod resolver;

pub use addr::NetlinkAddresses;
pub use agent_link::AGENT_LINK_NAME;
pub use peer::SockDiagPeerLookup;
pub use resolv_conf_watch::{ResolvConfWatch, writer_of};
pub use resolved::{MAX_ROUTING_DOMAINS, ResolvedTakeover, resolved_manages};
pub use resolver::{
    NoResolverTakeover, ResolvConfTakeover, SelectedResolver, select_resolver,
    select_resolver_on_bus,
};
