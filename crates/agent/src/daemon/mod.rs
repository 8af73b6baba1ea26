//! The client agent daemon (`boundary-client-agent -config PATH`): the IO shell that ties
//! the pure core ([`boundary_agent_core`]) to the DNS server, the OS layer, the proxy
//! listeners and tunnels, the controller client and the local API.
//!
//! # Shape
//! - One **actor** task owns the agent's state and routes every input (`actor`): inputs
//!   reach it over one channel (`events`), each becomes a core call, and the call's
//!   commands go, in order, to the part that carries each out (`actor::work`). The state
//!   is split by responsibility into parts that own their fields and never call each
//!   other; what one needs of another, and every failure a part reports back to the
//!   core, goes through the actor:
//!   - `decisions`: the pure core, its clock and the fast view it publishes;
//!   - `machine`: what the agent changes on the machine (addresses and the resolver
//!     configuration, through `host`) and the DNS server: resolver takeover, upstreams,
//!     alias name routing, the periodic machine check, and the `status` warnings about
//!     them;
//!   - `sessions`: the proxy listeners, the DNS questions and connections parked while
//!     their session is authorized (`parking`), and session cancels;
//!   - `controller_link`: requests to the controllers (`controller`) with their answers
//!     sent back as events, and token registrations waiting for their first alias
//!     listing (`registrations`);
//!   - `settings`: the configuration in effect and its reloads (`actor::reload` applies
//!     each change in the part it belongs to), logging, the operational state file, and
//!     the `status` warnings about the configuration.
//! - The DNS receive path does not go through the actor: after every change the actor
//!   publishes a [`FastView`](boundary_agent_core::FastView) (arc-swap), which answers
//!   ordinary names and aliases with a live session without a lock or an allocation
//!   that grows with the alias count (`dns_policy`).
//! - Every change to the machine (addresses, resolver configuration) is recorded in the
//!   crash-recovery state file before it is made (`host`); a clean stop, a failed start
//!   and the next start after a crash all undo from that record (`actor::shutdown`,
//!   `startup`).
//!
//! # Decisions
//! - Pausing keeps the DNS server (on its own addresses) running: only the resolver
//!   configuration goes back, so resuming cannot fail on port 53.
//! - `v4_prefix` changes need a restart (the address pool cannot be rebuilt under live
//!   sessions); `status` says so.
//! - Rewrites of the resolver configuration by other programs, and addresses that a
//!   network change removed, are noticed by a check every
//!   `MACHINE_CHECK_INTERVAL` (`machine::health`).
//! - `dns_request_timeout` bounds each upstream attempt.
//! - One agent per state file (`instance_lock`): a second start must not "recover" the
//!   running agent's changes.
//! - `POST /v1/tokens` answers once the token's first alias listing is in (at most a few
//!   seconds), so the command right after `boundary authenticate` finds the aliases
//!   (`registrations`).
//! - The querying user of a DNS question is looked up (sock_diag) only for alias names,
//!   inside the pending future; every other name is answered without it.
//! - `https://` controllers are verified against Mozilla's roots, the system's trust
//!   store and `controller_ca_file` (read at start: a bad file stops the start).
//! - Who may steer the agent for everyone: `controller_addresses` pins the controllers
//!   tokens may name (checked before any request to the address), and only root pauses
//!   unless `allow_user_pause` (`pause_policy`). Both are reloadable.

pub mod platform;

#[cfg(target_os = "linux")]
mod actor;
#[cfg(target_os = "linux")]
mod args;
#[cfg(target_os = "linux")]
mod broker;
#[cfg(target_os = "linux")]
mod client_cache;
#[cfg(target_os = "linux")]
pub mod clock;
#[cfg(target_os = "linux")]
mod control;
#[cfg(target_os = "linux")]
mod controller;
#[cfg(target_os = "linux")]
mod controller_link;
#[cfg(target_os = "linux")]
mod crash_recovery;
#[cfg(target_os = "linux")]
mod decisions;
#[cfg(target_os = "linux")]
mod dev_agent;
#[cfg(target_os = "linux")]
mod dns_policy;
#[cfg(target_os = "linux")]
mod events;
#[cfg(target_os = "linux")]
mod file_limit;
#[cfg(target_os = "linux")]
mod host;
#[cfg(target_os = "linux")]
mod instance_lock;
#[cfg(target_os = "linux")]
pub mod logging;
#[cfg(target_os = "linux")]
mod machine;
#[cfg(target_os = "linux")]
mod operational_state;
#[cfg(target_os = "linux")]
mod parking;
#[cfg(target_os = "linux")]
mod pause_policy;
#[cfg(target_os = "linux")]
mod registrations;
#[cfg(target_os = "linux")]
mod running;
#[cfg(target_os = "linux")]
mod sessions;
#[cfg(target_os = "linux")]
mod settings;
#[cfg(target_os = "linux")]
mod startup;
#[cfg(target_os = "linux")]
mod warnings;

#[cfg(test)]
mod tests;

#[cfg(target_os = "linux")]
pub use dev_agent::{DevAgent, DevLogin};
#[cfg(target_os = "linux")]
pub use running::{RunningAgent, main};
#[cfg(target_os = "linux")]
pub use startup::{AgentOptions, RESOLV_CONF};

#[cfg(not(target_os = "linux"))]
mod unsupported;
#[cfg(not(target_os = "linux"))]
pub use unsupported::{DevAgent, DevLogin};

/// `boundary-client-agent` on an OS the agent does not support yet.
#[cfg(not(target_os = "linux"))]
pub fn main() -> i32 {
    if let Err(error) = platform::check() {
        eprintln!("Error: {error}");
    }
    1
}
