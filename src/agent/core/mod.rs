//! The agent's pure state machines: no IO, no tokio, no clock. Inputs are `handle_*`
//! calls with the time passed in; outputs are values the shell acts on.

pub mod address_pool;
pub mod alias_cache;
pub mod clock;
pub mod dns_decision;
pub mod hashing;
pub mod prefix;
pub mod error_log;
pub mod pause;
pub mod users;
pub mod session_table;

#[cfg(test)]
mod test_support;
