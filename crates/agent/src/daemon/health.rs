//! The periodic check that the machine still looks the way the agent set it up, so a
//! network change does not leave the machine pointing at a DNS server that is gone:
//!
//! - the resolver configuration (another program may have rewritten it: see
//!   [`Actor::recheck_resolver`]);
//! - the agent's addresses: a network manager that flushes the interface, an IPv6 link
//!   going down (its addresses go with it), or an interface that was replaced or is no
//!   longer the default route's. Missing addresses are added again, on the interface
//!   found again. Sockets bound to an address keep working once it is back, so the DNS
//!   server and the proxy listeners need no restart;
//! - upstreams the DNS server found sending queries back to the agent (a `status`
//!   warning while it leaves them out).

use super::actor::Actor;
use super::controller::with_causes;
use super::work::Work;

impl Actor {
    /// Runs every [`MACHINE_CHECK_INTERVAL`](super::actor::MACHINE_CHECK_INTERVAL).
    pub async fn check_machine(&mut self) {
        self.recheck_resolver().await;
        self.check_addresses().await;
        self.refresh_dns_sources().await;
        self.check_upstream_loops();
    }

    /// Says in `status` which upstreams the DNS server leaves out because they send the
    /// agent's queries back (found by the DNS server's own probes).
    fn check_upstream_loops(&mut self) {
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

    async fn check_addresses(&mut self) {
        let mut wanted = if self.host.hosts_dns_addresses() {
            self.host.dns_addresses().to_vec()
        } else {
            Vec::new()
        };
        wanted.extend(self.core.state_snapshot().installed);
        let missing = match self.host.missing(&wanted).await {
            Ok(missing) => missing,
            Err(error) => {
                tracing::debug!(error = %with_causes(&error), "cannot list the interface's addresses");
                wanted
            }
        };
        if missing.is_empty() {
            if self.warnings.addresses.take().is_some() {
                tracing::info!("the agent's addresses are all in place again");
            }
            return;
        }
        match self.host.relocate().await {
            Ok(moved) => {
                let interface = &self.host.interface().name;
                tracing::warn!(?missing, %interface, moved, "some of the agent's addresses disappeared (network change?); adding them again");
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
                return;
            }
        }
        let mut work = Vec::new();
        for address in missing {
            if let Err(error) = self.host.add_address(address).await {
                let error = with_causes(&error);
                tracing::warn!(%address, %error, "cannot add an address back");
                let dns = self.host.dns_addresses().contains(&address);
                if dns {
                    self.warnings.addresses = Some(format!(
                        "the DNS server's address {address} could not be added back: {error}"
                    ));
                } else {
                    let now = self.clock.now();
                    work.extend(Work::from_core(
                        self.core.handle_address_failed(address, &error, now),
                    ));
                }
            }
        }
        self.drain(work).await;
    }
}
