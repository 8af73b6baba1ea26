//! The actor's side of the system resolver: taking it over (start, resume), giving it
//! back (pause, exit), noticing when another program rewrote it, and keeping the DNS
//! server's upstreams in line: `override_upstream_dns_servers` when set, else the
//! resolvers the machine had before the agent.

use std::net::SocketAddr;
use std::sync::Arc;

use super::actor::Actor;
use super::controller::with_causes;
use super::host::is_news;
use crate::os::{Restored, TakeoverChange};
use boundary_wire::api::agent::ResolverStatus;

impl Actor {
    /// Points the system resolver at the agent (resume).
    pub async fn take_over_resolver(&mut self) {
        match self.host.take_over().await {
            Ok(takeover) => {
                self.warnings.resolver = None;
                if is_news(takeover.change) {
                    tracing::info!(change = ?takeover.change, "the agent is the system resolver");
                    self.resolver_changed();
                }
                self.use_previous_upstreams(takeover.upstreams);
            }
            Err(error) => {
                let error = with_causes(&error);
                tracing::error!(%error, "cannot make the agent the system resolver; aliases do not resolve until this is fixed");
                self.warnings.resolver = Some(format!(
                    "the agent could not make itself the system resolver: {error}"
                ));
            }
        }
    }

    /// Puts the previous resolver configuration back (pause, exit).
    pub async fn restore_resolver(&mut self) {
        match self.host.restore().await {
            Ok(Restored::NothingSaved) => {}
            Ok(restored) => {
                self.warnings.resolver = None;
                tracing::info!(
                    ?restored,
                    "the system resolver configuration is back to what it was"
                );
                self.resolver_changed();
            }
            Err(error) => {
                let error = with_causes(&error);
                tracing::error!(%error, "cannot restore the previous resolver configuration");
                self.warnings.resolver = Some(format!(
                    "the agent could not restore the previous resolver configuration: {error}"
                ));
            }
        }
    }

    /// Called periodically: if something else (DHCP, NetworkManager) rewrote the resolver
    /// configuration while the agent held it, its new content becomes the "previous"
    /// configuration and the agent takes over again.
    pub async fn recheck_resolver(&mut self) {
        match self.host.recheck().await {
            None => {}
            Some(Ok(takeover)) => {
                if takeover.change == TakeoverChange::AdoptedExternalChange {
                    tracing::info!(upstreams = ?takeover.upstreams, "another program rewrote the resolver configuration; using its nameservers as the upstreams and taking over again");
                } else if is_news(takeover.change) {
                    tracing::info!(change = ?takeover.change, "took over the resolver configuration again");
                }
                if is_news(takeover.change) {
                    self.resolver_changed();
                }
                if self.warnings.resolver.take().is_some() {
                    tracing::info!("the agent is the system resolver again");
                }
                self.use_previous_upstreams(takeover.upstreams);
            }
            Some(Err(error)) => {
                let message = format!(
                    "the agent could not make itself the system resolver: {}",
                    with_causes(&error)
                );
                if self.warnings.resolver.as_ref() != Some(&message) {
                    tracing::error!(%message, "resolver check failed");
                    self.warnings.resolver = Some(message);
                }
            }
        }
    }

    /// The resolver configuration now names (or no longer names) the agent: a local
    /// resolver that reads it may have started (or stopped) sending our queries back, so
    /// the DNS server probes its loopback upstreams again.
    pub fn resolver_changed(&self) {
        self.dns.check_upstream_loops();
    }

    /// The machine's previous resolvers are `previous`: forward there unless the
    /// configuration overrides the upstreams.
    pub fn use_previous_upstreams(&mut self, previous: Vec<SocketAddr>) {
        let upstreams = if self.config.override_upstream_dns_servers.is_empty() {
            previous
        } else {
            self.config.override_upstream_dns_servers.clone()
        };
        self.set_upstreams(upstreams);
    }

    /// Re-reads the previous resolvers (from the saved configuration, or the current one
    /// while not taken over) and applies them, or the override.
    pub async fn refresh_upstreams(&mut self) {
        match self.host.previous_upstreams().await {
            Ok(previous) => self.use_previous_upstreams(previous),
            Err(error) => {
                tracing::warn!(error = %with_causes(&error), "cannot read the previous resolvers");
                if !self.config.override_upstream_dns_servers.is_empty() {
                    self.set_upstreams(self.config.override_upstream_dns_servers.clone());
                }
            }
        }
    }

    /// Tells the system resolver which alias names to send to the agent when the set of
    /// names some registered token may resolve changed (systemd-resolved's routing
    /// domains; a no-op for the other modes). Runs after each publish, so a name is routed
    /// before a registration waiting for its first alias listing is answered.
    pub async fn route_alias_names(&mut self) {
        let names = self.view.load().alias_names();
        if self
            .routed_names
            .as_ref()
            .is_some_and(|routed| Arc::ptr_eq(routed, &names))
        {
            return;
        }
        self.routed_names = Some(Arc::clone(&names));
        if let Err(error) = self.host.route_names(&names.sorted()).await {
            let error = with_causes(&error);
            tracing::error!(%error, "cannot update the alias names the system resolver sends to the agent");
            self.warnings.resolver = Some(format!(
                "the agent could not update the alias names the system resolver sends to it: {error}"
            ));
        }
    }

    /// The `resolver` part of `status`.
    pub fn resolver_status(&self) -> ResolverStatus {
        let details = self.host.resolver_details();
        ResolverStatus {
            mode: self.host.resolver_mode().to_string(),
            link: details.link,
            routing: details.routing,
            managed_by: details.managed_by,
            upstreams: self
                .dns
                .upstreams()
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    fn set_upstreams(&mut self, upstreams: Vec<SocketAddr>) {
        if self.dns.configured_upstreams() != upstreams {
            tracing::info!(?upstreams, "upstream DNS servers");
            self.dns.set_upstreams(upstreams);
        }
        self.warnings.upstreams = if self.dns.upstreams().is_empty() {
            Some(
                "there is no upstream DNS server to forward ordinary names to (the previous \
                 resolver configuration names none besides the agent); set \
                 override_upstream_dns_servers"
                    .to_owned(),
            )
        } else {
            None
        };
    }
}
