//! The machine's side of the system resolver: taking it over (start, resume), giving it
//! back (pause, exit), noticing when another program rewrote it, routing alias names to
//! the agent, and keeping the DNS server's upstreams in line:
//! `override_upstream_dns_servers` when set (`upstream_override`, passed in by the actor
//! from the settings), else the resolvers the machine had before the agent.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::anyhow;

use super::Machine;
use crate::daemon::controller::with_causes;
use crate::daemon::host::is_news;
use crate::os::{Restored, TakeoverChange};
use boundary_agent_core::AliasNames;
use boundary_wire::api::agent::ResolverStatus;

impl Machine {
    /// The takeover at start: unlike [`Machine::take_over_resolver`], a failure stops the
    /// start (the caller undoes it).
    pub async fn take_over_at_start(
        &mut self,
        upstream_override: &[SocketAddr],
    ) -> anyhow::Result<()> {
        let takeover = self
            .host
            .take_over()
            .await
            .map_err(|e| anyhow!(with_causes(&e)))?;
        tracing::info!(change = ?takeover.change, mode = %self.host.resolver_mode(), "the agent is the system resolver");
        self.use_previous_upstreams(takeover.upstreams, upstream_override);
        self.resolver_changed();
        // The takeover may have made the agent's own link.
        self.refresh_dns_sources().await;
        Ok(())
    }

    /// Points the system resolver at the agent (resume). A failure is a `status` warning.
    pub async fn take_over_resolver(&mut self, upstream_override: &[SocketAddr]) {
        match self.host.take_over().await {
            Ok(takeover) => {
                self.warnings.resolver = None;
                if is_news(takeover.change) {
                    tracing::info!(change = ?takeover.change, "the agent is the system resolver");
                    self.resolver_changed();
                }
                self.use_previous_upstreams(takeover.upstreams, upstream_override);
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

    /// Called when the resolver file changed and at every machine check: if something
    /// else (DHCP, NetworkManager) rewrote the resolver configuration while the agent held
    /// it, its new content becomes the "previous" configuration and the agent takes over
    /// again.
    pub async fn recheck_resolver(&mut self, upstream_override: &[SocketAddr]) {
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
                self.use_previous_upstreams(takeover.upstreams, upstream_override);
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

    /// Re-reads the previous resolvers (from the saved configuration, or the current one
    /// while not taken over) and applies them, or the override.
    pub async fn refresh_upstreams(&mut self, upstream_override: &[SocketAddr]) {
        match self.host.previous_upstreams().await {
            Ok(previous) => self.use_previous_upstreams(previous, upstream_override),
            Err(error) => {
                tracing::warn!(error = %with_causes(&error), "cannot read the previous resolvers");
                if !upstream_override.is_empty() {
                    self.set_upstreams(upstream_override.to_vec());
                }
            }
        }
    }

    /// Tells the system resolver which alias names to send to the agent (systemd-resolved's
    /// routing domains; a no-op for the other modes) when `names`, those of the view just
    /// published, differ from the last ones. Runs after each publish, so a name is routed
    /// before a registration waiting for its first alias listing is answered.
    pub async fn route_alias_names(&mut self, names: Arc<AliasNames>) {
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

    /// The resolver configuration now names (or no longer names) the agent: a local
    /// resolver that reads it may have started (or stopped) sending our queries back, so
    /// the DNS server probes its loopback upstreams again.
    fn resolver_changed(&self) {
        self.dns.check_upstream_loops();
    }

    /// The machine's previous resolvers are `previous`: forward there unless the
    /// configuration overrides the upstreams.
    fn use_previous_upstreams(
        &mut self,
        previous: Vec<SocketAddr>,
        upstream_override: &[SocketAddr],
    ) {
        let upstreams = if upstream_override.is_empty() {
            previous
        } else {
            upstream_override.to_vec()
        };
        self.set_upstreams(upstreams);
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
