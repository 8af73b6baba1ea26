//! Keeping the DNS server's picture of the machine current, so that it can tell queries
//! of this host from those of its containers and VMs and of the LAN (see
//! [`crate::dns::sources`]): refreshed at start and at every machine check, since
//! interfaces, default routes and container bridges come and go.

use ipnet::IpNet;

use super::Machine;
use crate::daemon::controller::with_causes;
use crate::dns::SourceMap;
use crate::os::InterfaceFacts;

impl Machine {
    /// Reads the interfaces and installs the map; keeps the previous one on failure.
    pub async fn refresh_dns_sources(&self) {
        match self.host.interface_facts().await {
            Ok(facts) => match source_map(
                facts,
                self.host.interface().index,
                self.host.dns_addresses(),
            ) {
                Some(map) => self.dns.sources().set_map(map),
                None => tracing::warn!(
                    "no loopback interface found; the DNS server cannot tell this host from \
                     others and stays open to every source"
                ),
            },
            Err(error) => {
                tracing::debug!(error = %with_causes(&error), "cannot read the interfaces for the DNS source check");
            }
        }
    }
}

/// The map for `facts`: uplinks are the default routes' interfaces and the one carrying
/// the agent's addresses (`agent_interface`, 0 when not made yet); the DNS server's own
/// addresses count as the host's even before they are on an interface (a local TCP
/// client's source is the address it connects to). `None` without a loopback interface.
fn source_map(
    facts: InterfaceFacts,
    agent_interface: u32,
    dns_addresses: &[std::net::IpAddr],
) -> Option<SourceMap> {
    let loopback = facts.loopback?;
    let mut uplinks: std::collections::BTreeSet<u32> =
        facts.default_route_interfaces.into_iter().collect();
    if agent_interface != 0 && agent_interface != loopback {
        uplinks.insert(agent_interface);
    }
    let own = facts
        .addresses
        .iter()
        .map(|(ip, _, _)| *ip)
        .chain(dns_addresses.iter().copied())
        .collect();
    let subnets = facts
        .addresses
        .iter()
        .filter_map(|(ip, prefix, ifindex)| {
            let net = IpNet::new(*ip, *prefix).ok()?.trunc();
            Some((net, *ifindex))
        })
        .collect();
    Some(SourceMap {
        loopback: Some(loopback),
        uplinks,
        own,
        subnets,
        ipv4_forged_local_dropped: facts.ipv4_forged_local_dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_routes_and_the_agents_interface_are_uplinks() {
        let facts = InterfaceFacts {
            loopback: Some(1),
            default_route_interfaces: vec![2],
            addresses: vec![
                ("127.0.0.1".parse().unwrap(), 8, 1),
                ("192.168.1.10".parse().unwrap(), 24, 2),
                ("172.17.0.1".parse().unwrap(), 16, 3),
                ("100.64.0.1".parse().unwrap(), 32, 5),
            ],
            ipv4_forged_local_dropped: true,
        };
        let dns = [
            "100.64.0.1".parse().unwrap(),
            "fd00:a20a::1".parse().unwrap(),
        ];
        let map = source_map(facts.clone(), 5, &dns).unwrap();
        assert!(map.own.contains(&"fd00:a20a::1".parse().unwrap()));
        assert_eq!(map.uplinks, [2, 5].into());
        assert!(map.own.contains(&"172.17.0.1".parse().unwrap()));
        assert!(map.subnets.contains(&("172.17.0.0/16".parse().unwrap(), 3)));
        assert_eq!(
            source_map(facts.clone(), 0, &dns).unwrap().uplinks,
            [2].into()
        );
        let without_loopback = InterfaceFacts {
            loopback: None,
            ..facts
        };
        assert_eq!(source_map(without_loopback, 5, &dns), None);
    }
}
