//! The bundled controller: REST API, grants, session authorization, the worker-facing API
//! and the store.

pub mod config;
pub mod grants;
pub mod seal;
pub mod session_cert;
pub mod store;
pub mod worker_auth;
