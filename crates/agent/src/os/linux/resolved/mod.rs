//! `systemd-resolved` mode: the agent configures resolved over D-Bus, on a link of its
//! own ([`AgentLink`]), instead of rewriting `/etc/resolv.conf` (which belongs to
//! resolved and points at its stub, 127.0.0.53).
//!
//! Routing: by default one routing-only domain per alias name (`~db.prod.example`), so
//! only alias names reach the agent and resolved keeps doing everything else (its cache,
//! DNSSEC, split DNS for VPN links, LLMNR/mDNS), and a stopped agent cannot break ordinary
//! names. Above [`MAX_ROUTING_DOMAINS`] names the link takes `~.` and the default route
//! instead (everything goes through the agent, as in resolv-conf mode).
//!
//! The agent's upstreams are the servers resolved uses for the other links (default-route
//! links and global ones), never 127.0.0.53 (that would loop back).
//!
//! resolved forgets per-link settings when it restarts, so [`ResolverTakeover::take_over`]
//! (run every couple of seconds while the agent holds the resolver) applies them again
//! whenever the owner of resolved's bus name changed. resolved 252 has no reload (SIGHUP
//! ends it), so nothing here uses drop-in files.

mod bus;
mod detect;
mod routing;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

pub use bus::ResolvedBus;
pub use detect::{ResolvedPresence, resolved_manages};
pub use routing::{MAX_ROUTING_DOMAINS, Routing};

use super::NetlinkAddresses;
use super::agent_link::{AGENT_LINK_NAME, AgentLink, remove_leftover_link};
use super::resolver::restore_saved;
use crate::os::{
    AddressManager, Interface, ResolverDetails, ResolverError, ResolverTakeover, Restored,
    Takeover, TakeoverChange,
};
use crate::state::{AgentLinkRecord, StateFile};

/// Configures systemd-resolved to send alias names (or everything) to the agent.
pub struct ResolvedTakeover {
    bus: ResolvedBus,
    netlink: Arc<NetlinkAddresses>,
    /// `/etc/resolv.conf`: only read (and restored if an earlier run in resolv-conf mode
    /// left its copy in the state file).
    resolv_conf: PathBuf,
    inner: tokio::sync::Mutex<Inner>,
    /// A copy of what `status` shows, readable without the lock.
    details: std::sync::Mutex<ResolverDetails>,
}

#[derive(Default)]
struct Inner {
    link: Option<AgentLink>,
    /// Alias names to route, sorted (only names resolved accepts).
    names: Vec<String>,
    /// What resolved holds for the link, as last applied.
    applied: Option<Applied>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Applied {
    /// resolved's unique bus name: a new one means it restarted and forgot the link.
    owner: String,
    ifindex: u32,
    ours: Vec<IpAddr>,
    routing: Routing,
}

impl ResolvedTakeover {
    pub fn new(
        bus: ResolvedBus,
        netlink: Arc<NetlinkAddresses>,
        resolv_conf: impl Into<PathBuf>,
    ) -> ResolvedTakeover {
        ResolvedTakeover {
            bus,
            netlink,
            resolv_conf: resolv_conf.into(),
            inner: tokio::sync::Mutex::default(),
            details: std::sync::Mutex::new(ResolverDetails {
                link: Some(AGENT_LINK_NAME.to_owned()),
                managed_by: Some("systemd-resolved".to_owned()),
                ..ResolverDetails::default()
            }),
        }
    }

    /// Makes the link (recorded first) and puts the DNS addresses on it.
    async fn ensure_link(
        &self,
        inner: &mut Inner,
        ours: &[IpAddr],
        state: &mut StateFile,
    ) -> Result<u32, ResolverError> {
        if inner.link.is_none() {
            state.update(|s| {
                s.agent_link = Some(AgentLinkRecord {
                    name: AGENT_LINK_NAME.to_owned(),
                })
            })?;
            let link = AgentLink::create(self.netlink.handle(), AGENT_LINK_NAME)
                .await
                .map_err(link_error)?;
            inner.applied = None;
            inner.link = Some(link);
        }
        let link = inner.link.as_ref().expect("made above");
        let interface = Interface {
            name: link.name().to_owned(),
            index: link.index(),
        };
        for address in ours {
            self.netlink
                .add(&interface, *address)
                .await
                .map_err(|e| ResolverError::AgentLink {
                    name: interface.name.clone(),
                    message: e.to_string(),
                })?;
        }
        Ok(interface.index)
    }

    /// Sends the link's settings to resolved.
    async fn apply(&self, wanted: &Applied, names: &[String]) -> Result<(), ResolverError> {
        let manager = self.bus.manager();
        let ifindex = wanted.ifindex as i32;
        let servers: Vec<(i32, Vec<u8>)> =
            wanted.ours.iter().map(|ip| bus::ip_to_bus(*ip)).collect();
        let servers: Vec<(i32, &[u8])> = servers.iter().map(|(f, b)| (*f, b.as_slice())).collect();
        let call = |what: &'static str| move |e: zbus::Error| resolved_error(what, &e);
        manager
            .set_link_dns(ifindex, &servers)
            .await
            .map_err(call("SetLinkDNS"))?;
        // The agent's server speaks neither LLMNR/mDNS nor TLS.
        manager
            .set_link_llmnr(ifindex, "no")
            .await
            .map_err(call("SetLinkLLMNR"))?;
        manager
            .set_link_multicast_dns(ifindex, "no")
            .await
            .map_err(call("SetLinkMulticastDNS"))?;
        manager
            .set_link_dns_over_tls(ifindex, "no")
            .await
            .map_err(call("SetLinkDNSOverTLS"))?;
        self.apply_routing(ifindex, &wanted.routing, names).await
    }

    async fn apply_routing(
        &self,
        ifindex: i32,
        routing: &Routing,
        names: &[String],
    ) -> Result<(), ResolverError> {
        let manager = self.bus.manager();
        let call = |what: &'static str| move |e: zbus::Error| resolved_error(what, &e);
        let domains = routing.domains(names);
        manager
            .set_link_domains(ifindex, &domains)
            .await
            .map_err(call("SetLinkDomains"))?;
        manager
            .set_link_default_route(ifindex, routing.is_everything())
            .await
            .map_err(call("SetLinkDefaultRoute"))?;
        // Alias answers are the agent's own and unsigned; for `~.` the global setting
        // stays in force for the names the agent relays.
        manager
            .set_link_dnssec(ifindex, routing.dnssec_mode())
            .await
            .map_err(call("SetLinkDNSSEC"))?;
        self.details.lock().expect("details").routing = Some(routing.to_string());
        Ok(())
    }

    /// Drops cached answers so routing changes take effect at once (an alias answered
    /// NXDOMAIN by the uplink before it was routed, or an alias answer after removal).
    async fn flush(&self) {
        if let Err(error) = self.bus.manager().flush_caches().await {
            tracing::warn!(error = %bus::describe(&error), "cannot flush systemd-resolved's cache");
        }
    }

    /// The servers resolved uses for names no routing domain claims: global ones and
    /// those of default-route links, the agent's own link and addresses left out (and
    /// resolved's own stub, which would loop). If that leaves nothing, every other server;
    /// then resolved's fallback servers.
    async fn upstreams_for(
        &self,
        own_ifindex: Option<u32>,
        ours: &[IpAddr],
    ) -> Result<Vec<SocketAddr>, ResolverError> {
        let servers = self
            .bus
            .servers()
            .await
            .map_err(|e| resolved_error("reading DNSEx", &e))?;
        let usable: Vec<_> = servers
            .into_iter()
            .filter(|s| own_ifindex.is_none_or(|own| s.ifindex != own as i32))
            .filter(|s| routing::is_usable_upstream(s.address.ip(), ours))
            .collect();
        let links: Vec<i32> = usable
            .iter()
            .map(|s| s.ifindex)
            .filter(|i| *i > 0)
            .collect();
        let defaults = self.bus.default_route_links(&links).await;
        let mut chosen: Vec<SocketAddr> = usable
            .iter()
            .filter(|s| s.ifindex == 0 || defaults.get(&s.ifindex) == Some(&true))
            .map(|s| s.address)
            .collect();
        if chosen.is_empty() {
            chosen = usable.iter().map(|s| s.address).collect();
        }
        if chosen.is_empty() {
            let fallback = self.bus.fallback_servers().await.unwrap_or_default();
            chosen = fallback
                .into_iter()
                .filter(|s| routing::is_usable_upstream(s.address.ip(), ours))
                .map(|s| s.address)
                .collect();
        }
        let mut unique = Vec::new();
        for address in chosen {
            if !unique.contains(&address) {
                unique.push(address);
            }
        }
        Ok(unique)
    }
}

#[async_trait]
impl ResolverTakeover for ResolvedTakeover {
    async fn take_over(
        &self,
        ours: &[IpAddr],
        state: &mut StateFile,
    ) -> Result<Takeover, ResolverError> {
        let mut inner = self.inner.lock().await;
        let ifindex = self.ensure_link(&mut inner, ours, state).await?;
        let owner = self
            .bus
            .owner()
            .await
            .map_err(|e| resolved_error("finding systemd-resolved on the bus", &e))?;
        let wanted = Applied {
            owner,
            ifindex,
            ours: ours.to_vec(),
            routing: Routing::for_names(inner.names.len()),
        };
        let change = match &inner.applied {
            Some(applied) if *applied == wanted => TakeoverChange::AlreadyOurs,
            applied => {
                let change = if applied.is_none() {
                    TakeoverChange::TookOver
                } else {
                    TakeoverChange::Refreshed
                };
                self.apply(&wanted, &inner.names).await?;
                self.flush().await;
                tracing::info!(link = AGENT_LINK_NAME, routing = %wanted.routing, "systemd-resolved sends alias names to the agent");
                inner.applied = Some(wanted);
                change
            }
        };
        let upstreams = self.upstreams_for(Some(ifindex), ours).await?;
        Ok(Takeover { change, upstreams })
    }

    async fn restore(&self, state: &mut StateFile) -> Result<Restored, ResolverError> {
        let mut inner = self.inner.lock().await;
        inner.applied = None;
        let removed = match inner.link.take() {
            Some(link) => {
                if let Err(error) = self.bus.manager().revert_link(link.index() as i32).await {
                    tracing::debug!(error = %bus::describe(&error), "RevertLink (the link goes away anyway)");
                }
                // Closing the device deletes the link; resolved forgets it with it.
                drop(link);
                true
            }
            None if state.state().agent_link.is_some() => {
                remove_leftover_link(self.netlink.handle(), AGENT_LINK_NAME)
                    .await
                    .map_err(link_error)?
            }
            None => false,
        };
        if removed {
            self.flush().await;
        }
        state.update(|s| s.agent_link = None)?;
        self.details.lock().expect("details").routing = None;
        match restore_saved(&self.resolv_conf, state)? {
            Restored::NothingSaved if removed => Ok(Restored::RemovedLink {
                link: AGENT_LINK_NAME.to_owned(),
            }),
            restored => Ok(restored),
        }
    }

    async fn upstreams(
        &self,
        ours: &[IpAddr],
        _state: &StateFile,
    ) -> Result<Vec<SocketAddr>, ResolverError> {
        let own = self.inner.lock().await.link.as_ref().map(AgentLink::index);
        self.upstreams_for(own, ours).await
    }

    async fn route_names(&self, names: &[String]) -> Result<(), ResolverError> {
        let routable = routing::routable_names(names);
        let mut inner = self.inner.lock().await;
        if inner.names == routable {
            return Ok(());
        }
        inner.names = routable;
        let Some(applied) = inner.applied.clone() else {
            return Ok(());
        };
        let routing = Routing::for_names(inner.names.len());
        self.apply_routing(applied.ifindex as i32, &routing, &inner.names)
            .await?;
        self.flush().await;
        tracing::debug!(%routing, "systemd-resolved routing updated");
        inner.applied = Some(Applied { routing, ..applied });
        Ok(())
    }

    fn details(&self) -> ResolverDetails {
        self.details.lock().expect("details").clone()
    }

    fn owns_dns_addresses(&self) -> bool {
        true
    }

    fn alias_interface(&self) -> Option<String> {
        Some(AGENT_LINK_NAME.to_owned())
    }
}

fn link_error(error: super::agent_link::AgentLinkError) -> ResolverError {
    ResolverError::AgentLink {
        name: AGENT_LINK_NAME.to_owned(),
        message: error.to_string(),
    }
}

fn resolved_error(what: &str, error: &zbus::Error) -> ResolverError {
    ResolverError::Resolved(format!("{what}: {}", bus::describe(error)))
}

/// Undoes what a crashed run in systemd-resolved mode left (used by the other modes'
/// restore, so switching modes after a crash leaves nothing behind): removes a leftover
/// TUN link of the agent's name and drops the record. resolved forgets a removed link's
/// settings by itself.
pub async fn undo_leftover_link(state: &mut StateFile) -> Result<(), ResolverError> {
    if state.state().agent_link.is_none() {
        return Ok(());
    }
    let netlink = NetlinkAddresses::new().map_err(|e| ResolverError::AgentLink {
        name: AGENT_LINK_NAME.to_owned(),
        message: e.to_string(),
    })?;
    remove_leftover_link(netlink.handle(), AGENT_LINK_NAME)
        .await
        .map_err(link_error)?;
    state.update(|s| s.agent_link = None)?;
    Ok(())
}
