//! The machine part of the actor: what the agent changes on the machine and the DNS
//! server that answers there.
//!
//! It owns the [`Host`] (alias and DNS server addresses, the system resolver
//! configuration, all recorded in the crash-recovery state file first), the DNS server
//! (its listeners, upstreams and source check), the alias names last routed to the agent,
//! the watch on the resolver file, and the `status` warnings all of these produce.
//!
//! Values that come from elsewhere are arguments: the upstream override (settings), the
//! alias names (the published view) and the addresses the core has installed. Failures the
//! core must hear about are returned, never reported from here: the actor feeds them to
//! the core and carries out what it answers.
//!
//! - [`resolver`]: taking the system resolver over, giving it back, noticing rewrites,
//!   choosing the upstreams, routing alias names.
//! - [`health`]: the periodic check that the agent's addresses are still there and that
//!   no upstream sends queries back.
//! - [`dns_sources`]: the DNS server's picture of the machine's interfaces.

mod dns_sources;
mod health;
mod resolver;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;

use super::controller::with_causes;
use super::host::Host;
use super::warnings::MachineWarnings;
use crate::dns::{AllowedSources, DnsServer};
use crate::os::linux::ResolvConfWatch;
use boundary_agent_core::AliasNames;

/// The machine as the agent changes it, and the DNS server on it.
pub struct Machine {
    host: Host,
    dns: DnsServer,
    /// The alias names last handed to the system resolver (see
    /// [`Machine::route_alias_names`]).
    routed_names: Option<Arc<AliasNames>>,
    /// Reports rewrites of the resolver configuration file at once (resolv-conf mode).
    resolv_conf_watch: Option<ResolvConfWatch>,
    warnings: MachineWarnings,
}

impl Machine {
    /// Nothing is changed yet: see [`Machine::serve_dns`] and
    /// [`Machine::take_over_at_start`].
    pub fn new(host: Host, dns: DnsServer) -> Machine {
        Machine {
            host,
            dns,
            routed_names: None,
            resolv_conf_watch: None,
            warnings: MachineWarnings::default(),
        }
    }

    /// Watches the file the takeover rewrites, if any; without a watch (inotify refused)
    /// the periodic machine check still notices rewrites.
    pub fn watch_resolver_file(&mut self) {
        let Some(path) = self.host.watched_resolver_file() else {
            return;
        };
        match ResolvConfWatch::start(&path) {
            Ok(watch) => self.resolv_conf_watch = Some(watch),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot watch the resolver configuration; rewrites are noticed within seconds instead");
            }
        }
    }

    /// Completes when the watched resolver file changed; never without a watch.
    pub async fn resolver_file_changed(&self) {
        match &self.resolv_conf_watch {
            Some(watch) => watch.changed().await,
            None => std::future::pending().await,
        }
    }

    /// Starts the DNS server on `own` addresses (the core's), adding them first unless
    /// the takeover puts them on its own link. The source check (`allowed`) is in place
    /// before the first query. Part of the start: an error stops it, and the caller
    /// undoes what was done.
    pub async fn serve_dns(
        &mut self,
        own: [IpAddr; 2],
        allowed: AllowedSources,
    ) -> anyhow::Result<()> {
        self.host.set_dns_addresses(own.to_vec());
        self.dns.sources().set_allowed(allowed);
        self.refresh_dns_sources().await;
        if self.host.hosts_dns_addresses() {
            for address in own {
                self.host
                    .add_address(address)
                    .await
                    .map_err(|e| anyhow!(with_causes(&e)))?;
            }
        }
        for address in own {
            let bound = self
                .dns
                .listen(SocketAddr::new(address, 53))
                .map_err(|e| anyhow!(with_causes(&e)))?;
            tracing::info!(address = %bound, interface = %self.host.interface().name, "DNS server listening");
        }
        Ok(())
    }

    /// Adds alias addresses (recorded first, with one state file write). The addresses
    /// that could not be added, with why (logged here), are for the core's
    /// `handle_address_failed`.
    pub async fn add_alias_addresses(&mut self, addresses: &[IpAddr]) -> Vec<(IpAddr, String)> {
        let failed: Vec<(IpAddr, String)> = match self.host.add_addresses(addresses).await {
            Ok(failed) => failed
                .into_iter()
                .map(|(address, error)| (address, with_causes(&error)))
                .collect(),
            Err(error) => {
                let error = with_causes(&error);
                addresses.iter().map(|&a| (a, error.clone())).collect()
            }
        };
        for (address, error) in &failed {
            tracing::warn!(%address, %error, "cannot add an alias address");
        }
        failed
    }

    /// Removes an alias address; when that fails its record stays and the next start
    /// removes it.
    pub async fn remove_alias_address(&mut self, address: IpAddr) {
        if let Err(error) = self.host.remove_address(address).await {
            let error = with_causes(&error);
            tracing::warn!(%address, %error, "cannot remove an alias address; the next start removes it");
        }
    }

    /// A reloaded `dns_request_timeout`.
    pub fn set_request_timeout(&self, timeout: Duration) {
        self.dns.set_request_timeout(timeout);
    }

    /// A reloaded `dns_allowed_sources`.
    pub fn set_allowed_sources(&self, allowed: AllowedSources) {
        self.dns.sources().set_allowed(allowed);
    }

    /// Moves the crash-recovery record to `path` (a reloaded `state_file`). On failure the
    /// record stays where it was, and that path is the error.
    pub fn move_state_file(&mut self, path: &Path) -> Result<(), PathBuf> {
        self.host.move_state_file(path).map_err(|error| {
            tracing::warn!(%error, "cannot move the state file; it stays where it was");
            self.host.state_path()
        })
    }

    pub fn warnings(&self) -> &MachineWarnings {
        &self.warnings
    }

    /// The end of a stop (or of a failed start), after [`Machine::restore_resolver`] and
    /// after the sessions stopped: the DNS server stops, every change the state file
    /// records is undone, and the file goes once nothing is left. Returns whether
    /// everything could be undone.
    pub async fn shut_down(&mut self) -> bool {
        self.dns.shutdown().await;
        let clean = match self.host.undo_all().await {
            Ok(report) => {
                for failure in &report.failures {
                    tracing::error!(error = %with_causes(failure), "could not undo a change to the machine");
                }
                report.failures.is_empty()
            }
            Err(error) => {
                tracing::error!(%error, "cannot update the state file while undoing the agent's changes");
                false
            }
        };
        self.host.remove_state_file_if_clean();
        clean
    }

    #[cfg(test)]
    pub fn host(&self) -> &Host {
        &self.host
    }

    #[cfg(test)]
    pub fn host_mut(&mut self) -> &mut Host {
        &mut self.host
    }

    #[cfg(test)]
    pub fn dns(&self) -> &DnsServer {
        &self.dns
    }
}
