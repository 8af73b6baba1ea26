//! The bundled controller: REST API, grants, session authorization, the worker-facing API
//! and the store.

pub mod auth;
pub mod authz;
pub mod body;
pub mod bootstrap;
pub mod config;
pub mod dev;
pub mod error;
pub mod grants;
pub mod listing;
pub mod passwords;
pub mod routes;
pub mod seal;
pub mod segment;
pub mod server;
pub mod state;
pub mod store;
pub mod sweep;
pub mod worker_api;
