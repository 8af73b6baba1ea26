//! The agent's Linux OS edge against the real kernel, inside network namespaces this test
//! creates (never the host's interfaces or `/etc/resolv.conf`). Needs root.
#![cfg(target_os = "linux")]

#[path = "../support/mod.rs"]
mod support;

mod addresses;
mod peer_uid;
mod recovery;
mod resolver;
mod state;

use std::net::IpAddr;

use support::netns::Netns;

/// Prefix of every namespace this suite creates.
const NETNS_PREFIX: &str = "bt-agentos";

fn has_address(netns: &Netns, interface: &str, address: IpAddr) -> bool {
    netns
        .addresses_on(interface)
        .iter()
        .any(|found| found.address == address)
}
