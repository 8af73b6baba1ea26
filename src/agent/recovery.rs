//! Undoing what an agent that did not stop cleanly left behind, at the next start (before
//! anything new is set up): the system resolver first (never leave the machine without
//! DNS), then the alias addresses.

use ipnet::IpNet;

use crate::agent::os::{
    AddressError, AddressManager, Interface, ResolverError, ResolverTakeover, Restored,
};
use crate::agent::state::{AddedAddress, StateError, StateFile};

/// Also remove addresses the state file does not list: host addresses inside the agent's
/// prefixes on `interface` that carry the agent's address tag (covers a lost state file).
pub struct LeftoverSweep<'a> {
    pub interface: &'a Interface,
    pub prefixes: &'a [IpNet],
}

/// What recovery did. Failures do not stop the rest; what failed stays recorded in the
/// state file so the next attempt retries it.
#[derive(Debug)]
pub struct RecoveryReport {
    /// `None` when restoring the resolver failed (see `failures`).
    pub resolver: Option<Restored>,
    pub removed: Vec<AddedAddress>,
    pub failures: Vec<RecoveryFailure>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryFailure {
    #[error("restoring the resolver configuration: {0}")]
    Resolver(#[source] ResolverError),
    #[error("removing a leftover address: {0}")]
    Address(#[source] AddressError),
}

/// Restores the saved resolver configuration and removes the addresses recorded in
/// `state` (plus tagged leftovers found by `sweep`), updating `state` as it goes.
/// Only a failure to write the state file itself is returned as an error.
pub async fn recover(
    state: &mut StateFile,
    resolver: &dyn ResolverTakeover,
    addresses: &dyn AddressManager,
    sweep: Option<LeftoverSweep<'_>>,
) -> Result<RecoveryReport, StateError> {
    let mut failures = Vec::new();
    let resolver = match resolver.restore(state) {
        Ok(restored) => Some(restored),
        Err(ResolverError::State(error)) => return Err(error),
        Err(error) => {
            failures.push(RecoveryFailure::Resolver(error));
            None
        }
    };

    let mut leftovers: Vec<AddedAddress> = state.state().added_addresses.iter().cloned().collect();
    if let Some(sweep) = sweep {
        match addresses.list_within(sweep.interface, sweep.prefixes).await {
            Ok(found) => {
                for assigned in found {
                    let host =
                        assigned.prefix_len == if assigned.address.is_ipv4() { 32 } else { 128 };
                    let leftover = AddedAddress {
                        interface: sweep.interface.name.clone(),
                        address: assigned.address,
                    };
                    if assigned.added_by_agent && host && !leftovers.contains(&leftover) {
                        leftovers.push(leftover);
                    }
                }
            }
            Err(error) => failures.push(RecoveryFailure::Address(error)),
        }
    }

    let mut removed = Vec::new();
    for leftover in leftovers {
        let interface = match addresses.find_interface(Some(&leftover.interface)).await {
            Ok(interface) => interface,
            // The interface is gone, and its addresses with it.
            Err(AddressError::InterfaceNotFound { .. }) => {
                removed.push(leftover);
                continue;
            }
            Err(error) => {
                failures.push(RecoveryFailure::Address(error));
                continue;
            }
        };
        match addresses.remove(&interface, leftover.address).await {
            Ok(()) => removed.push(leftover),
            Err(error) => failures.push(RecoveryFailure::Address(error)),
        }
    }
    state.update(|s| {
        for address in &removed {
            s.added_addresses.remove(address);
        }
    })?;
    for failure in &failures {
        tracing::warn!(%failure, "crash recovery could not undo everything");
    }
    Ok(RecoveryReport {
        resolver,
        removed,
        failures,
    })
}
