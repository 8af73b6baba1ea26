//! Boundary's permission model: grant strings on roles, evaluated for a caller.
//!
//! Pure: no store, no clock. The routes load the roles and the resource's scope path and
//! ask an [`Acl`].

mod acl;
mod parse;

pub use acl::{Acl, Principal, Resource, RoleGrants, ScopePath};
pub use parse::{
    ACTIONS, COLLECTION_ACTIONS, Grant, GrantError, GrantIds, IdPattern, RESOURCE_TYPES,
    parse_grant,
};
