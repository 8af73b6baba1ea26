//! Undoing what an agent that did not stop cleanly left behind, at the next start (before
//! anything new is set up): the system resolver first (never leave the machine without
//! DNS), then the alias addresses.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::os::{
    AddressError, AddressManager, AssignedAddress, Interface, ResolverError, ResolverTakeover,
    Restored,
};
use crate::state::{AddedAddress, StateError, StateFile};

/// What recovery may touch. Nothing read from the state file is trusted beyond it: a
/// recorded address is only removed if it lies inside `prefixes` and is still on its
/// interface as a host address carrying the agent's tag.
pub struct RecoveryScope<'a> {
    /// The agent's own prefixes (`v4_prefix`, `v6_prefix`).
    pub prefixes: &'a [IpNet],
    /// Also remove tagged host addresses inside `prefixes` on this interface that the
    /// state file does not list (covers a lost state file).
    pub sweep: Option<&'a Interface>,
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
    #[error(
        "the state file lists {address} on {interface}, which is outside the agent's \
         prefixes; it was left alone and the record dropped"
    )]
    OutsidePrefixes { interface: String, address: IpAddr },
    #[error(
        "the state file lists {address} on {interface}, but that address does not carry the \
         agent's tag (someone else's); it was left alone and the record dropped"
    )]
    NotTagged { interface: String, address: IpAddr },
}

/// Restores the saved resolver configuration and removes the addresses recorded in
/// `state` (plus tagged leftovers found by the sweep), within `scope`, updating `state` as
/// it goes. Only a failure to write the state file itself is returned as an error.
pub async fn recover(
    state: &mut StateFile,
    resolver: &dyn ResolverTakeover,
    addresses: &dyn AddressManager,
    scope: RecoveryScope<'_>,
) -> Result<RecoveryReport, StateError> {
    let mut failures = Vec::new();
    let resolver = match resolver.restore(state).await {
        Ok(restored) => Some(restored),
        Err(ResolverError::State(error)) => return Err(error),
        Err(error) => {
            failures.push(RecoveryFailure::Resolver(error));
            None
        }
    };

    let mut leftovers: Vec<AddedAddress> = state.state().added_addresses.iter().cloned().collect();
    if let Some(interface) = scope.sweep {
        match addresses.list_within(interface, scope.prefixes).await {
            Ok(found) => {
                for assigned in found {
                    let leftover = AddedAddress {
                        interface: interface.name.clone(),
                        address: assigned.address,
                    };
                    if is_ours(&assigned) && !leftovers.contains(&leftover) {
                        leftovers.push(leftover);
                    }
                }
            }
            Err(error) => failures.push(RecoveryFailure::Address(error)),
        }
    }

    // Records that are done with: removed, already gone, or not to be trusted.
    let mut forgotten = Vec::new();
    let mut removed = Vec::new();
    for leftover in leftovers {
        match remove_leftover(addresses, scope.prefixes, &leftover).await {
            Ok(Leftover::Removed) => {
                removed.push(leftover.clone());
                forgotten.push(leftover);
            }
            Ok(Leftover::Gone) => forgotten.push(leftover),
            Err(failure @ RecoveryFailure::Address(_)) => failures.push(failure),
            Err(failure) => {
                failures.push(failure);
                forgotten.push(leftover);
            }
        }
    }
    state.update(|s| {
        for address in &forgotten {
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

enum Leftover {
    Removed,
    /// The interface or the address is no longer there.
    Gone,
}

/// A host address (`/32`, `/128`) tagged as the agent's.
fn is_ours(assigned: &AssignedAddress) -> bool {
    assigned.added_by_agent && is_host(assigned)
}

fn is_host(assigned: &AssignedAddress) -> bool {
    let host_len = if assigned.address.is_ipv4() { 32 } else { 128 };
    assigned.prefix_len == host_len
}

async fn remove_leftover(
    addresses: &dyn AddressManager,
    prefixes: &[IpNet],
    leftover: &AddedAddress,
) -> Result<Leftover, RecoveryFailure> {
    if !prefixes.iter().any(|p| p.contains(&leftover.address)) {
        return Err(RecoveryFailure::OutsidePrefixes {
            interface: leftover.interface.clone(),
            address: leftover.address,
        });
    }
    let interface = match addresses.find_interface(Some(&leftover.interface)).await {
        Ok(interface) => interface,
        // The interface is gone, and its addresses with it.
        Err(AddressError::InterfaceNotFound { .. }) => return Ok(Leftover::Gone),
        Err(error) => return Err(RecoveryFailure::Address(error)),
    };
    let host = [IpNet::from(leftover.address)];
    let found = addresses
        .list_within(&interface, &host)
        .await
        .map_err(RecoveryFailure::Address)?;
    let Some(assigned) = found.iter().find(|a| a.address == leftover.address) else {
        return Ok(Leftover::Gone);
    };
    let untagged_kernel = !addresses.keeps_tags() && is_host(assigned);
    if !is_ours(assigned) && !untagged_kernel {
        return Err(RecoveryFailure::NotTagged {
            interface: leftover.interface.clone(),
            address: leftover.address,
        });
    }
    addresses
        .remove(&interface, leftover.address)
        .await
        .map_err(RecoveryFailure::Address)?;
    Ok(Leftover::Removed)
}
