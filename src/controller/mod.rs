//! The bundled controller: REST API, grants, session authorization, the worker-facing API
//! and the store.

pub mod grants;
pub mod store;
