//! Linux implementations of the OS edge: rtnetlink for addresses, sock_diag for socket
//! owners (the client's end of a connection the agent accepted, and the server's end of one
//! the CLI made), resolv.conf and systemd-resolved for the system resolver, and the
//! agent's own TUN link.
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
mod server_end;

pub use addr::NetlinkAddresses;
pub use agent_link::AGENT_LINK_NAME;
pub use peer::SockDiagPeerLookup;
pub use resolv_conf_watch::{ResolvConfWatch, writer_of};
pub use resolved::{MAX_ROUTING_DOMAINS, ResolvedTakeover, resolved_manages};
pub use resolver::{
    NoResolverTakeover, ResolvConfTakeover, SelectedResolver, select_resolver,
    select_resolver_on_bus,
};
pub use server_end::ServerEnd;
