//! The client agent: DNS interception, alias addresses, transparent sessions; the shell
//! around the pure core (`boundary-agent-core`) and the `boundary-client-agent` binary.

pub mod api;
pub mod config;
pub mod daemon;
pub mod dns;
pub mod os;
pub mod private_fs;
pub mod proxy;
pub mod recovery;
pub mod state;
