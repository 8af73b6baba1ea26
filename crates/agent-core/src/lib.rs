//! The agent's pure state machines: no IO, no tokio, no clock. Inputs are `handle_*`
//! calls with the time passed in; outputs are values the shell acts on.
//!
//! [`AgentCore`] is the facade the shell drives; the other modules are its parts, each
//! usable and tested on its own.

pub mod address_pool;
pub mod agent;
pub mod alias_cache;
pub mod clock;
pub mod command;
pub mod config;
pub mod dns_decision;
pub mod error_log;
pub mod hashing;
pub mod pause;
pub mod prefix;
pub mod session_table;
pub mod users;

#[cfg(test)]
mod test_support;

pub use address_pool::{AliasAddresses, PoolExhausted, SeedError};
pub use agent::{
    AgentCore, AliasNames, Authorized, ConnectionDecision, ControllerFailure, DnsResolution,
    FailureKind, FastView, RefuseReason, StateSnapshot,
};
pub use clock::{Moment, Now};
pub use command::{AuthorizeRequest, CancelRequest, Command, RefreshRequest};
pub use config::{CoreConfig, CoreConfigError};
pub use dns_decision::{AliasAddress, DnsDecision, DnsQuestion, normalize_name};
pub use pause::{BreakerConfig, PauseReason, RunState};
pub use prefix::{Family, IpPrefix};
pub use session_table::{ConnectionId, EndReason, SessionKey, TunnelGrant};
pub use users::TokenRegistration;
