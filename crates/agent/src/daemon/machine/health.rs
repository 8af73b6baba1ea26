//! The machine's part of the periodic check that the machine still looks the way the
//! agent set it up, so a network change does not leave the machine pointing at a DNS
//! server that is gone (the actor runs the check: see [`crate::daemon::actor`]):
//!
//! - the resolver configuration (another program may have rewritten it: see
//!   [`Machine::recheck_resolver`]);
//! - the agent's addresses: a network manager that flushes the interface, an IPv6 link
//!   going down (its addresses go with it), or an interface that was replaced or is no
//!   longer the default route's. Missing addresses are added again, on the interface
//!   found again. Sockets bound to an address keep working once it is back, so the DNS
//!   server and the proxy listeners need no restart;
//! - upstreams the DNS server found sending queries back to the agent (a `status`
//!   warning while it leaves them out).

use std::net::IpAddr;

use super::Machine;
use crate::daemon::controller::with_causes;

impl Machine {
    /// Puts back those of the DNS server's addresses and `installed` (the alias addresses
    /// the core has on the interface) that disappeared. Returns the alias addresses that
    /// could not be put back, with why, for the core's `handle_address_failed`; a DNS
    /// server address that could not is a `status` warning.
    pub async fn check_addresses(&mut self, installed: Vec<IpAddr>) -> Vec<(IpAddr, String)> {
        let missing = self.missing_addresses(installed).await;
        if missing.is_empty() {
            if self.warnings.addresses.take().is_some() {
                tracing::info!("the agent's addresses are all in place again");
            }
            return Vec::new();
        }
        if !self.relocate(&missing).await {
            return Vec::new();
        }
        let mut failed = Vec::new();
        for address in missing {
            if let Err(error) = self.host.add_address(address).await {
                let error = with_causes(&error);
                tracing::warn!(%address, %error, "cannot add an address back");
                if self.host.dns_addresses().contains(&address) {
                    self.warnings.addresses = Some(format!(
                        "the DNS server's address {address} could not be added back: {error}"
                    ));
                } else {
                    failed.push((address, error));
                }
            }
        }
        failed
    }

    /// Says in `status` which upstreams the DNS server leaves out because they send the
    /// agent's queries back (found by the DNS server's own probes).
    pub fn check_upstream_loops(&mut self) {
        let looping = self.dns.looping_upstreams();
        self.warnings.looping = (!looping.is_empty()).then(|| {
            let list: Vec<String> = looping.iter().map(ToString::to_string).collect();
            format!(
                "the upstream DNS server {} sends the agent's queries back to it (a local \
                 resolver that reads /etc/resolv.conf?) and is not used; give that resolver \
                 upstreams of its own, or set override_upstream_dns_servers",
                list.join(", ")
            )
        });
    }

    /// The DNS server's addresses the host looks after, and `installed`, that are not on
    /// the interface (all of them when the interface cannot be listed).
    async fn missing_addresses(&self, installed: Vec<IpAddr>) -> Vec<IpAddr> {
        let mut wanted = if self.host.hosts_dns_addresses() {
            self.host.dns_addresses().to_vec()
        } else {
            Vec::new()
        };
        wanted.extend(installed);
        match self.host.missing(&wanted).await {
            Ok(missing) => missing,
            Err(error) => {
                tracing::debug!(error = %with_causes(&error), "cannot list the interface's addresses");
                wanted
            }
        }
    }

    /// Finds the interface again before `missing` is put back; false (and a `status`
    /// warning) when there is none.
    async fn relocate(&mut self, missing: &[IpAddr]) -> bool {
        match self.host.relocate().await {
            Ok(moved) => {
                let interface = &self.host.interface().name;
                tracing::warn!(?missing, %interface, moved, "some of the agent's addresses disappeared (network change?); adding them again");
                true
            }
            Err(error) => {
                let message = format!(
                    "the agent's addresses {missing:?} disappeared and there is no interface to \
                     put them back on: {}",
                    with_causes(&error)
                );
                if self.warnings.addresses.as_ref() != Some(&message) {
                    tracing::warn!("{message}");
                    self.warnings.addresses = Some(message);
                }
                false
            }
        }
    }
}
