//! The client agent: DNS interception, alias addresses, transparent sessions.

pub mod api;
pub mod config;
pub mod core;
pub mod daemon;
pub mod dns;
pub mod os;
pub mod private_fs;
pub mod proxy;
pub mod recovery;
pub mod state;
