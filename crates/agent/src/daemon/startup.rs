//! Bringing the agent up, in the order that keeps the machine safe:
//!
//! 1. the instance lock next to the `state_file` (a second agent must not "recover" the
//!    running one's changes), then crash recovery from the state file (resolver first,
//!    then leftover addresses);
//! 2. the operational state (paused, alias → address assignments) and the core;
//! 3. the local API listener (a taken port refuses the start before anything changes),
//!    the DNS server's own addresses (recorded first), its listeners on port 53, its
//!    upstreams, then — unless paused — the resolver takeover.
//!
//! A failure at any point of 3 undoes what was done (the state file says what), so a
//! refused start leaves the machine exactly as it was.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use tokio::sync::mpsc;

use super::actor::Actor;
use super::clock::AgentClock;
use super::control::LocalControl;
use super::controller::{Controllers, with_causes};
use super::controller_link::ControllerLink;
use super::crash_recovery::{agent_prefixes, recover_at_start};
use super::decisions::Decisions;
use super::dns_policy::AgentDnsPolicy;
use super::events::{ActorHandle, Core, Event};
use super::host::Host;
use super::instance_lock::InstanceLock;
use super::logging::Logging;
use super::machine::Machine;
use super::operational_state::OperationalState;
use super::sessions::Sessions;
use super::settings::Settings;
use crate::api::ApiServer;
use crate::config::AgentConfig;
use crate::dns::{DnsServer, DnsServerConfig, ForwardEvent, ForwardObserver};
use crate::os::linux::{NetlinkAddresses, SelectedResolver, SockDiagPeerLookup, select_resolver};
use crate::os::{AddressError, AddressManager, Interface, PeerUidLookup};
use crate::state::StateError;
use boundary_agent_core::{CoreConfig, IpPrefix};

/// Where the system resolver configuration lives.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// What the agent is started with.
pub struct AgentOptions {
    pub config: AgentConfig,
    /// The configuration file, re-read on reload; `None` when configured in-process.
    pub config_path: Option<PathBuf>,
    /// The resolver configuration file ([`RESOLV_CONF`]).
    pub resolv_conf: PathBuf,
    /// The logging handle, when the agent owns the process's logging.
    pub logging: Option<Logging>,
}

/// A started agent, before its event loop runs.
pub struct Started {
    pub actor: Actor,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub api: ApiServer,
    pub control: Arc<LocalControl>,
    pub lock: InstanceLock,
}

/// Brings the agent up (see the module documentation). Must run on a multi-threaded
/// tokio runtime, on a thread in the network namespace the agent serves.
pub async fn start(options: AgentOptions) -> anyhow::Result<Started> {
    let AgentOptions {
        config,
        config_path,
        resolv_conf,
        logging,
    } = options;
    super::file_limit::raise_open_file_limit();
    let lock = InstanceLock::acquire(&config.state_file)?;
    let clock = AgentClock::start();
    let addresses: Arc<dyn AddressManager> = Arc::new(NetlinkAddresses::new()?);
    let peers: Arc<dyn PeerUidLookup> = Arc::new(SockDiagPeerLookup::new()?);
    // Crash recovery first, then the resolver mode is chosen on the machine as it is.
    let (state, swept) = recover_at_start(&config, &resolv_conf, addresses.as_ref()).await?;
    let selected = select_resolver(config.resolver_mode, &resolv_conf).await?;
    let interface = alias_interface(addresses.as_ref(), &config, &selected, swept).await?;
    // After crash recovery: whatever else stops this start, the machine has its DNS back.
    let controllers = Arc::new(Controllers::trusting(
        config.controller_ca_file.as_deref(),
        config.controller_addresses.clone(),
    )?);

    let (operational, remembered, operational_error) =
        OperationalState::load(&config.operational_state_file);
    match operational_error {
        Some(error @ StateError::Unsafe { .. }) => return Err(error.into()),
        Some(error) => tracing::warn!(%error, "starting with fresh alias addresses"),
        None => {}
    }
    let mut core = Core::new(core_config(&config)?, remembered.paused)?;
    for (alias, addrs) in remembered.assignments {
        if let Err(error) = core.seed_assignment(&alias, addrs) {
            tracing::info!(%alias, %error, "the alias gets a new address when next used");
        }
    }

    let mut startup_warnings = Vec::new();
    if let Some(warning) = selected.warning {
        tracing::warn!("{warning}");
        startup_warnings.push(warning);
    }
    let host = Host::new(
        Arc::clone(&addresses),
        interface,
        selected.takeover,
        selected.mode,
        state,
        agent_prefixes(&config).to_vec(),
        config.interface_to_use.clone(),
    );

    let (handle, events) = ActorHandle::channel();
    let decisions = Decisions::new(core, clock);
    let policy = AgentDnsPolicy::new(decisions.view(), clock, Arc::clone(&peers), handle.clone());
    let dns_settings = DnsServerConfig {
        bind_before_assigned: !host.hosts_dns_addresses(),
        protected_prefixes: agent_prefixes(&config).to_vec(),
        ..dns_config(&config)
    };
    let dns = DnsServer::builder(dns_settings, policy)
        .forward_observer(upstream_failures(handle.clone()))
        .build();
    let mut machine = Machine::new(host, dns);
    machine.watch_resolver_file();
    let sessions = Sessions::new(handle.clone(), Arc::clone(&peers));
    let link = ControllerLink::new(Arc::clone(&controllers), handle.clone());
    let control = Arc::new(LocalControl::new(handle, controllers));
    let brought_up = bring_up(&mut machine, decisions.core(), &config, &control, peers).await;
    let settings = Settings::new(config, config_path, logging, operational, startup_warnings);
    let mut actor = Actor::new(decisions, machine, sessions, link, settings);
    match brought_up {
        Ok(api) => Ok(Started {
            actor,
            events,
            api,
            control,
            lock,
        }),
        Err(error) => {
            actor.teardown().await;
            Err(error)
        }
    }
}

/// Step 3 of the start; undone by the caller on error.
async fn bring_up(
    machine: &mut Machine,
    core: &Core,
    config: &AgentConfig,
    control: &Arc<LocalControl>,
    peers: Arc<dyn PeerUidLookup>,
) -> anyhow::Result<ApiServer> {
    // Requests wait for the actor, which runs once the start is complete.
    let control: Arc<dyn crate::api::AgentControl> = control.clone();
    let api = ApiServer::start(config.api_listen_address, control, peers)
        .await
        .map_err(|e| anyhow!(with_causes(&e)))?;
    // Before any listener: from its first query on, the DNS server knows this host from
    // the LAN.
    let own = core.dns_server_addresses();
    let own: [IpAddr; 2] = [own.v4.into(), own.v6.into()];
    machine
        .serve_dns(own, config.dns_allowed_sources.clone())
        .await?;
    // Upstreams before the takeover, so no query reaches the agent without them.
    let upstream_override = &config.override_upstream_dns_servers;
    machine.refresh_upstreams(upstream_override).await;
    if core.is_paused() {
        tracing::info!(
            "the agent was paused when it stopped; it stays paused (boundary client-agent resume)"
        );
    } else {
        machine.take_over_at_start(upstream_override).await?;
    }
    Ok(api)
}

/// The interface alias addresses go on: `interface_to_use` (which must exist), else the
/// takeover's own link (made at the takeover; until then a placeholder the host looks up
/// again), else the default route's (`found` at recovery).
async fn alias_interface(
    addresses: &dyn AddressManager,
    config: &AgentConfig,
    selected: &SelectedResolver,
    found: Result<Interface, AddressError>,
) -> anyhow::Result<Interface> {
    let interface = match (
        &config.interface_to_use,
        selected.takeover.alias_interface(),
    ) {
        (None, Some(link)) => match addresses.find_interface(Some(&link)).await {
            Err(AddressError::InterfaceNotFound { .. }) => Ok(Interface {
                name: link,
                index: 0,
            }),
            other => other,
        },
        _ => found,
    };
    interface.map_err(|e| anyhow!(with_causes(&e)))
}

pub fn core_config(config: &AgentConfig) -> anyhow::Result<CoreConfig> {
    let v4 = IpPrefix::v4(config.v4_prefix.network(), config.v4_prefix.prefix_len())
        .context("v4_prefix")?;
    let v6 = IpPrefix::v6(config.v6_prefix.network(), config.v6_prefix.prefix_len())
        .context("v6_prefix")?;
    Ok(CoreConfig {
        v4_prefix: v4,
        v6_prefix: v6,
        alias_refresh_interval: config.alias_refresh_interval,
        session_idle_timeout: config.session_idle_timeout,
        address_idle_timeout: config.address_idle_timeout,
        ..CoreConfig::default()
    })
}

pub fn dns_config(config: &AgentConfig) -> DnsServerConfig {
    DnsServerConfig {
        answer_ttl: config.dns_ttl,
        request_timeout: config.dns_request_timeout,
        ..DnsServerConfig::default()
    }
}

/// Reports queries no upstream answered to the actor (the failure breaker counts them).
fn upstream_failures(actor: ActorHandle) -> ForwardObserver {
    Arc::new(move |event: &ForwardEvent| {
        if let ForwardEvent::Exhausted { tried } = event
            && *tried > 0
        {
            actor.send(Event::UpstreamDnsFailed);
        }
    })
}
