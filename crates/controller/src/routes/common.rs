//! Small helpers every resource uses.

use crate::error::ApiError;
use crate::store::StoreError;
use boundary_wire::api::{ids, split_action};

/// The id part of a path segment must have one of the expected prefixes. Boundary answers
/// a malformed id in a path as it answers an unknown one: 404 "Resource not found.".
pub fn require_id<'a>(id: &'a str, prefixes: &[&str]) -> Result<&'a str, ApiError> {
    if prefixes.iter().any(|p| ids::is_public_id(id, p)) {
        Ok(id)
    } else {
        Err(ApiError::not_found())
    }
}

/// `version` is required on updates and custom actions.
pub fn require_version(version: Option<u32>) -> Result<u32, ApiError> {
    version.ok_or_else(|| ApiError::invalid_field("version", "Required field."))
}

/// A path segment without a custom action, or 400.
pub fn no_action(action: Option<&str>) -> Result<(), ApiError> {
    match action {
        None => Ok(()),
        Some(a) => Err(ApiError::unknown_action(a)),
    }
}

/// The id in a path segment that must carry no `:action` (400 when it does) and must have
/// one of the expected prefixes (404 when not), in that order.
pub fn id_without_action<'a>(seg: &'a str, prefixes: &[&str]) -> Result<&'a str, ApiError> {
    let (id, action) = split_action(seg);
    no_action(action)?;
    require_id(id, prefixes)
}

/// A create or update broke the rule that names are unique (per scope or parent).
pub fn name_clash(e: StoreError) -> ApiError {
    match e {
        StoreError::AlreadyExists(what) => {
            ApiError::already_exists("name", format!("{what} already exists."))
        }
        other => other.into(),
    }
}

/// Maps the store's failure of an update with a `version`: a stale version becomes
/// Boundary's 404 naming the resource (`resource` is its kind as a word, `Target`), any
/// other failure goes through `other` (for example [`name_clash`]).
pub fn stale_or<'a>(
    resource: &'a str,
    id: &'a str,
    other: impl FnOnce(StoreError) -> ApiError + 'a,
) -> impl FnOnce(StoreError) -> ApiError + 'a {
    move |e| match e {
        StoreError::VersionMismatch => ApiError::stale_version(&format!("{resource} {id:?}")),
        e => other(e),
    }
}

/// Trims an optional text field; `None` stays `None`.
pub fn text(v: Option<String>) -> String {
    v.map(|s| s.trim().to_owned()).unwrap_or_default()
}

pub fn now() -> boundary_wire::api::Timestamp {
    boundary_wire::api::time_format::now()
}

/// An optional numeric field must be positive when given.
pub fn positive(name: &str, v: Option<u32>) -> Result<Option<u32>, ApiError> {
    match v {
        Some(0) => Err(ApiError::invalid_field(name, "Must be greater than 0.")),
        other => Ok(other),
    }
}

pub use crate::segment::Seg;
