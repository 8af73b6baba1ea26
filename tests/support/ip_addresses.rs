//! The addresses assigned in a namespace, as `ip -j addr` reports them (with their flags,
//! e.g. `nodad`, `tentative`).

use std::net::IpAddr;

use serde_json::Value;

use super::netns::Netns;

/// One address of one interface.
#[derive(Clone, Debug, PartialEq)]
pub struct InterfaceAddress {
    pub interface: String,
    pub address: IpAddr,
    pub prefix_len: u8,
    /// Its `addr_info` object (`prefixlen`, `nodad`, `tentative`, …).
    pub info: Value,
}

impl Netns {
    /// `ip -j addr` in this namespace, as printed.
    pub fn ip_addr_json(&self) -> Value {
        serde_json::from_str(&self.exec_ok(&["ip", "-j", "addr"])).expect("ip -j prints JSON")
    }

    /// Every address of every interface.
    pub fn addresses(&self) -> Vec<InterfaceAddress> {
        interface_addresses(&self.ip_addr_json())
    }

    /// The addresses of `interface`.
    pub fn addresses_on(&self, interface: &str) -> Vec<InterfaceAddress> {
        let mut addresses = self.addresses();
        addresses.retain(|a| a.interface == interface);
        addresses
    }
}

/// The addresses in `ip -j addr` output.
pub fn interface_addresses(links: &Value) -> Vec<InterfaceAddress> {
    let mut addresses = Vec::new();
    for link in links.as_array().into_iter().flatten() {
        let interface = link["ifname"].as_str().unwrap_or_default();
        for info in link["addr_info"].as_array().into_iter().flatten() {
            let address = info["local"].as_str().and_then(|a| a.parse().ok());
            let prefix_len = info["prefixlen"]
                .as_u64()
                .and_then(|p| u8::try_from(p).ok());
            if let (Some(address), Some(prefix_len)) = (address, prefix_len) {
                addresses.push(InterfaceAddress {
                    interface: interface.to_owned(),
                    address,
                    prefix_len,
                    info: info.clone(),
                });
            }
        }
    }
    addresses
}
