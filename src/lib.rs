//! Transparent Boundary sessions: the client agent, a bundled controller and worker.

pub mod agent;
pub mod api;
pub mod cli;
pub mod client;
pub mod controller;
pub mod http_serve;
pub mod proto;
pub mod tls;
pub mod tunnel;
pub mod worker;
