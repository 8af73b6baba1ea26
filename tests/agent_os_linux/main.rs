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
use std::time::Duration;

use serde_json::Value;
use support::netns::Netns;

/// Prefix of every namespace this suite creates.
const NETNS_PREFIX: &str = "bt-agentos";

/// Stops a hung test; never an expectation about speed.
const HANG_TIMEOUT: Duration = Duration::from_secs(30);

/// The addresses `ip -j addr show dev <interface>` lists in `netns`, with their flags.
fn ip_addresses(netns: &Netns, interface: &str) -> Vec<(IpAddr, Value)> {
    let json = netns.exec_ok(&["ip", "-j", "addr", "show", "dev", interface]);
    let links: Vec<Value> = serde_json::from_str(&json).expect("ip -j prints JSON");
    links
        .iter()
        .flat_map(|link| link["addr_info"].as_array().cloned().unwrap_or_default())
        .map(|info| {
            let address = info["local"]
                .as_str()
                .expect("local")
                .parse()
                .expect("an IP");
            (address, info)
        })
        .collect()
}

fn has_address(netns: &Netns, interface: &str, address: IpAddr) -> bool {
    ip_addresses(netns, interface)
        .iter()
        .any(|(found, _)| *found == address)
}
