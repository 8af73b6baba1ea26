//! Everything the agent changes on the machine — alias addresses on the interface and the
//! system resolver configuration — always recorded in the crash-recovery `state_file`
//! first, so that whatever happens (clean exit, failed start, crash) the same record
//! tells what to undo.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnet::IpNet;

use crate::os::{
    AddressError, AddressManager, Interface, InterfaceFacts, ResolverDetails, ResolverError,
    ResolverMode, ResolverTakeover, Restored, Takeover, TakeoverChange,
};
use crate::recovery::{self, RecoveryReport, RecoveryScope};
use crate::state::{AddedAddress, StateError, StateFile};

/// The machine as the agent changes it.
pub struct Host {
    addresses: Arc<dyn AddressManager>,
    interface: Interface,
    resolver: Box<dyn ResolverTakeover>,
    resolver_mode: ResolverMode,
    state: StateFile,
    /// The agent's prefixes: recovery never removes an address outside them.
    prefixes: Vec<IpNet>,
    /// The DNS server's own addresses: what the resolver configuration points at.
    ours: Vec<IpAddr>,
    /// Whether the resolver configuration is the agent's now (running, not paused).
    taken_over: bool,
    /// `interface_to_use`: where alias addresses go (else the takeover's own link, else
    /// the default route's interface).
    interface_to_use: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "cannot record {} in the state file before adding: {source}",
        list(addresses)
    )]
    Record {
        addresses: Vec<IpAddr>,
        #[source]
        source: StateError,
    },
    #[error(transparent)]
    Address(#[from] AddressError),
}

impl Host {
    pub fn new(
        addresses: Arc<dyn AddressManager>,
        interface: Interface,
        resolver: Box<dyn ResolverTakeover>,
        resolver_mode: ResolverMode,
        state: StateFile,
        prefixes: Vec<IpNet>,
        interface_to_use: Option<String>,
    ) -> Host {
        Host {
            addresses,
            interface,
            resolver,
            resolver_mode,
            state,
            prefixes,
            ours: Vec::new(),
            taken_over: false,
            interface_to_use,
        }
    }

    /// The interface name alias addresses go on: `interface_to_use`, else the takeover's
    /// own link (systemd-resolved mode), else `None` for the default route's.
    pub fn alias_interface_name(&self) -> Option<String> {
        self.interface_to_use
            .clone()
            .or_else(|| self.resolver.alias_interface())
    }

    /// Whether the DNS server's addresses are the host's to add and watch; in
    /// systemd-resolved mode the takeover puts them on its own link instead.
    pub fn hosts_dns_addresses(&self) -> bool {
        !self.resolver.owns_dns_addresses()
    }

    /// The machine's interfaces, for the DNS server's source check.
    pub async fn interface_facts(&self) -> Result<InterfaceFacts, AddressError> {
        self.addresses.interface_facts().await
    }

    /// The file the takeover rewrites and other programs may rewrite too.
    pub fn watched_resolver_file(&self) -> Option<PathBuf> {
        self.resolver.watches_file()
    }

    /// What `status` shows about the system resolver.
    pub fn resolver_details(&self) -> ResolverDetails {
        self.resolver.details()
    }

    pub fn interface(&self) -> &Interface {
        &self.interface
    }

    /// The DNS server's own addresses (see [`Host::set_dns_addresses`]).
    pub fn dns_addresses(&self) -> &[IpAddr] {
        &self.ours
    }

    /// Those of `wanted` that are not on the interface any more (an interface that went
    /// away, or a network manager that flushed it).
    pub async fn missing(&self, wanted: &[IpAddr]) -> Result<Vec<IpAddr>, AddressError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let hosts: Vec<IpNet> = wanted.iter().map(|ip| IpNet::from(*ip)).collect();
        let present = self.addresses.list_within(&self.interface, &hosts).await?;
        Ok(wanted
            .iter()
            .filter(|ip| !present.iter().any(|p| p.address == **ip))
            .copied()
            .collect())
    }

    /// Looks the interface up again (see [`Host::alias_interface_name`]; the default
    /// route's may have moved, the agent's link is made anew on resume); returns whether
    /// it changed.
    pub async fn relocate(&mut self) -> Result<bool, AddressError> {
        let name = self.alias_interface_name();
        let found = self.addresses.find_interface(name.as_deref()).await?;
        let changed = found != self.interface;
        self.interface = found;
        Ok(changed)
    }

    pub fn resolver_mode(&self) -> ResolverMode {
        self.resolver_mode
    }

    /// Sets the addresses the resolver configuration will point at.
    pub fn set_dns_addresses(&mut self, ours: Vec<IpAddr>) {
        self.ours = ours;
    }

    /// Records `address` in the state file, then adds it to the interface.
    pub async fn add_address(&mut self, address: IpAddr) -> Result<(), HostError> {
        match self.add_addresses(&[address]).await?.pop() {
            Some((_, error)) => Err(error.into()),
            None => Ok(()),
        }
    }

    /// Records all of `addresses` in the state file with one write (an alias's two
    /// addresses: each record write is a durable file replacement, the slowest step of a
    /// new alias's lookup), then adds each to the interface. `Err` when the record could
    /// not be written (nothing was added); otherwise the addresses that could not be added,
    /// with why (their records stay, so the next start removes whatever did land).
    pub async fn add_addresses(
        &mut self,
        addresses: &[IpAddr],
    ) -> Result<Vec<(IpAddr, AddressError)>, HostError> {
        let records = addresses.iter().map(|&address| AddedAddress {
            interface: self.interface.name.clone(),
            address,
        });
        self.state
            .update(|s| s.added_addresses.extend(records))
            .map_err(|source| HostError::Record {
                addresses: addresses.to_vec(),
                source,
            })?;
        let mut failed = Vec::new();
        for &address in addresses {
            if let Err(error) = self.addresses.add(&self.interface, address).await {
                failed.push((address, error));
            }
        }
        Ok(failed)
    }

    /// Removes `address` from the interface, then from the state file. When removal
    /// fails the record stays, so the next start removes it.
    pub async fn remove_address(&mut self, address: IpAddr) -> Result<(), HostError> {
        self.addresses.remove(&self.interface, address).await?;
        let record = AddedAddress {
            interface: self.interface.name.clone(),
            address,
        };
        if let Err(error) = self.state.update(|s| s.added_addresses.remove(&record)) {
            tracing::warn!(%address, %error, "removed an address but cannot update the state file; the next start will try to remove it again");
        }
        Ok(())
    }

    /// Points the system resolver at the agent (idempotent; also adopts a configuration
    /// something else wrote meanwhile). Returns the previous upstreams.
    pub async fn take_over(&mut self) -> Result<Takeover, ResolverError> {
        let takeover = self.resolver.take_over(&self.ours, &mut self.state).await?;
        self.taken_over = true;
        if self.resolver.alias_interface().is_some()
            && self.interface_to_use.is_none()
            && let Err(error) = self.relocate().await
        {
            tracing::warn!(%error, "cannot find the agent's link for alias addresses");
        }
        Ok(takeover)
    }

    /// Puts the previous resolver configuration back.
    pub async fn restore(&mut self) -> Result<Restored, ResolverError> {
        self.taken_over = false;
        self.resolver.restore(&mut self.state).await
    }

    /// While the agent holds the resolver configuration: takes it over again if something
    /// else rewrote it. `None` when there is nothing to check (paused, or mode `none`).
    pub async fn recheck(&mut self) -> Option<Result<Takeover, ResolverError>> {
        if !self.taken_over || self.resolver_mode == ResolverMode::None {
            return None;
        }
        Some(self.take_over().await)
    }

    /// The resolvers the machine had before the agent (or has now, when the agent has
    /// not taken over), without the agent's own addresses.
    pub async fn previous_upstreams(&self) -> Result<Vec<SocketAddr>, ResolverError> {
        self.resolver.upstreams(&self.ours, &self.state).await
    }

    /// The alias names the system resolver should send to the agent.
    pub async fn route_names(&self, names: &[String]) -> Result<(), ResolverError> {
        self.resolver.route_names(names).await
    }

    /// Moves the crash-recovery record to `path` (a reloaded `state_file`): the new file
    /// is written before the old one is removed, so a crash in between leaves a record
    /// at the configured path.
    pub fn move_state_file(&mut self, path: &Path) -> Result<(), StateError> {
        let old = self.state.path().to_path_buf();
        if old == path {
            return Ok(());
        }
        let mut moved = StateFile::empty(path);
        let current = self.state.state().clone();
        moved.update(|s| *s = current)?;
        self.state = moved;
        match std::fs::remove_file(&old) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(path = %old.display(), %error, "cannot remove the previous state file")
            }
        }
        Ok(())
    }

    pub fn state_path(&self) -> PathBuf {
        self.state.path().to_path_buf()
    }

    /// Undoes everything the state file records: the resolver configuration first,
    /// then every address. Used on clean exit and when a start fails half-way.
    pub async fn undo_all(&mut self) -> Result<RecoveryReport, StateError> {
        self.taken_over = false;
        recovery::recover(
            &mut self.state,
            self.resolver.as_ref(),
            self.addresses.as_ref(),
            RecoveryScope {
                prefixes: &self.prefixes,
                sweep: None,
            },
        )
        .await
    }

    /// After [`Host::undo_all`]: removes the state file when nothing is left to undo.
    /// Otherwise keeps it (the next start retries) and says so.
    pub fn remove_state_file_if_clean(&self) {
        let state = self.state.state();
        let path = self.state.path();
        if state.saved_resolver.is_some()
            || state.agent_link.is_some()
            || !state.added_addresses.is_empty()
        {
            tracing::warn!(path = %path.display(), "not everything could be undone; keeping the state file so the next start finishes the job");
            return;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot remove the state file")
            }
        }
    }
}

/// Whether a takeover changed anything worth logging at INFO.
pub fn is_news(change: TakeoverChange) -> bool {
    !matches!(
        change,
        TakeoverChange::AlreadyOurs | TakeoverChange::Untouched
    )
}

/// `addresses` for a message: "198.18.0.1 and fd00::1".
fn list(addresses: &[IpAddr]) -> String {
    let names: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
    match names.split_last() {
        None => "no address".to_owned(),
        Some((last, [])) => format!("address {last}"),
        Some((last, rest)) => format!("addresses {} and {last}", rest.join(", ")),
    }
}
