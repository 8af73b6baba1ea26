//! Undoing what a run that did not stop cleanly left on the machine: at every start
//! (before anything new is set up), and on its own with `boundary-client-agent -recover`,
//! which the systemd unit runs as `ExecStopPost=` so that a crashed agent gives the
//! machine its DNS back at once, even when it is not restarted.

use std::path::Path;

use anyhow::Context;
use ipnet::IpNet;

use super::instance_lock::InstanceLock;
use crate::config::AgentConfig;
use crate::os::linux::{NetlinkAddresses, ResolvConfTakeover};
use crate::os::{AddressError, AddressManager, Interface, Restored};
use crate::recovery::{RecoveryScope, recover};
use crate::state::{StateError, StateFile};

/// The agent's prefixes, the only place recovery removes addresses from.
pub fn agent_prefixes(config: &AgentConfig) -> [IpNet; 2] {
    [IpNet::V4(config.v4_prefix), IpNet::V6(config.v6_prefix)]
}

/// Crash recovery at start: the saved resolv.conf, a leftover resolved link, the recorded
/// addresses and tagged leftovers on the interface alias addresses went to. Returns the
/// state file (now listing only what could not be undone) and that interface (or why
/// there is none). The caller holds the instance lock.
pub async fn recover_at_start(
    config: &AgentConfig,
    resolv_conf: &Path,
    addresses: &dyn AddressManager,
) -> anyhow::Result<(StateFile, Result<Interface, AddressError>)> {
    let swept = addresses
        .find_interface(config.interface_to_use.as_deref())
        .await;
    let mut state = load_recovery_state(config)?;
    let prefixes = agent_prefixes(config);
    let scope = RecoveryScope {
        prefixes: &prefixes,
        sweep: swept.as_ref().ok(),
    };
    // Restoring through the resolv.conf takeover also removes a leftover link of the
    // systemd-resolved mode, so whatever mode the crashed run was in is undone.
    let report = recover(
        &mut state,
        &ResolvConfTakeover::new(resolv_conf),
        addresses,
        scope,
    )
    .await
    .context("crash recovery cannot update the state file")?;
    let resolver_restored = report
        .resolver
        .as_ref()
        .is_some_and(|r| *r != Restored::NothingSaved);
    if resolver_restored || !report.removed.is_empty() {
        tracing::info!(resolver = ?report.resolver, removed = report.removed.len(), "undid what an earlier run left behind");
    }
    Ok((state, swept))
}

/// `boundary-client-agent -recover`: crash recovery only, then the state file goes when
/// nothing is left to undo. Refused (exit 1) while an agent runs with this state file.
/// Returns whether everything was undone.
pub async fn recover_only(config: &AgentConfig, resolv_conf: &Path) -> anyhow::Result<bool> {
    let _lock = InstanceLock::acquire(&config.state_file)?;
    let addresses = NetlinkAddresses::new()?;
    let (state, _) = recover_at_start(config, resolv_conf, &addresses).await?;
    let left = state.state();
    let clean = left.saved_resolver.is_none()
        && left.agent_link.is_none()
        && left.added_addresses.is_empty();
    if clean {
        match std::fs::remove_file(state.path()) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).context("removing the state file"),
        }
    } else {
        tracing::warn!(path = %state.path().display(), "not everything could be undone; the state file keeps the rest for the next start");
    }
    Ok(clean)
}

/// The crash-recovery state; a corrupt file was moved aside (the error says where) and
/// cannot be undone automatically, so the agent goes on with an empty one. A state file
/// in an unsafe place (another user could have written it) refuses the start.
fn load_recovery_state(config: &AgentConfig) -> anyhow::Result<StateFile> {
    match StateFile::load(&config.state_file) {
        Ok(state) => Ok(state),
        Err(error @ StateError::Unsafe { .. }) => Err(error.into()),
        Err(error) => {
            tracing::error!(%error, "crash recovery is not possible; check /etc/resolv.conf and the interface's addresses by hand");
            Ok(StateFile::empty(&config.state_file))
        }
    }
}
