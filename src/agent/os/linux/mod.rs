//! Linux implementations of the OS edge: rtnetlink for addresses, sock_diag for socket
//! owners (the client's end of a connection the agent accepted, and the server's end of one
//! the CLI made), resolv.conf for the system resolver.
//!
//! Netlink sockets belong to the network namespace of the thread that creates them, so
//! construct [`NetlinkAddresses`] and [`SockDiagPeerLookup`] on a thread in the namespace
//! they should manage (the daemon's main thread; in tests, a thread that has `setns`'d).

mod addr;
mod peer;
mod resolver;
mod server_end;

pub use addr::NetlinkAddresses;
pub use peer::SockDiagPeerLookup;
pub use resolver::{NoResolverTakeover, ResolvConfTakeover, SelectedResolver, select_resolver};
pub use server_end::ServerEnd;
