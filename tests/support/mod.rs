//! Helpers shared by the integration tests and the bench. Each test crate (and
//! `benches/tunnel_throughput.rs`) includes this module with `mod support;` (or
//! `#[path]`) and uses only part of it, hence the blanket `dead_code` allowance.
#![allow(dead_code)]

pub mod cli;
pub mod curl;
pub mod dev;
pub mod dig;
pub mod dnsmasq;
pub mod executable;
pub mod ip_addresses;
pub mod keyring;
pub mod names;
pub mod netns;
pub mod netns_threads;
pub mod os_user;
pub mod postgres;
pub mod process;
pub mod resolved_lab;
pub mod runtime;
pub mod server_process;
pub mod slow_clients;
pub mod ssh_keygen;
pub mod tcp_servers;
pub mod topology;
pub mod wait;
