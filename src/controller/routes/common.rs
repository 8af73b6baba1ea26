//! Small helpers every resource uses.

use crate::api::ids;
use crate::controller::authz::{Authz, Res};
use crate::controller::error::ApiError;
use crate::controller::store::ScopeKind;

/// The id part of a path segment must have one of the expected prefixes (Boundary answers
/// a malformed id with 400 rather than 404).
pub fn require_id<'a>(id: &'a str, prefixes: &[&str]) -> Result<&'a str, ApiError> {
    if prefixes.iter().any(|p| ids::is_public_id(id, p)) {
        Ok(id)
    } else {
        Err(ApiError::invalid_field(
            "id",
            "Invalid formatted identifier.",
        ))
    }
}

/// `version` is required on updates and custom actions.
pub fn require_version(version: Option<u32>) -> Result<u32, ApiError> {
    version.ok_or_else(|| ApiError::invalid_field("version", "Required field."))
}

/// A path segment without a custom action, or 405.
pub fn no_action(action: Option<&str>) -> Result<(), ApiError> {
    match action {
        None => Ok(()),
        Some(a) => Err(ApiError::unknown_action(a)),
    }
}

/// Trims an optional text field; `None` stays `None`.
pub fn text(v: Option<String>) -> String {
    v.map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// The scopes a list covers: `root`, plus everything under it when `recursive`.
pub async fn scopes_under(
    authz: &mut Authz,
    root: &str,
    recursive: bool,
) -> Result<Vec<String>, ApiError> {
    let root_scope = authz.scope(root).await?;
    let mut out = vec![root_scope.id.clone()];
    if recursive && root_scope.kind != ScopeKind::Project {
        let mut frontier = vec![root_scope.id];
        while let Some(parent) = frontier.pop() {
            for child in authz.state.store.list_scopes(&parent).await? {
                out.push(child.id.clone());
                if child.kind != ScopeKind::Project {
                    frontier.push(child.id);
                }
            }
        }
    }
    Ok(out)
}

/// The subset of `scopes` where the caller may list `kind`; refused when there is none.
pub async fn listable_scopes(
    authz: &mut Authz,
    kind: &str,
    scopes: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let mut allowed = vec![];
    for s in scopes {
        if authz.allows("list", Res::collection(kind, &s)).await? {
            allowed.push(s);
        }
    }
    if allowed.is_empty() {
        return Err(authz.denied());
    }
    Ok(allowed)
}

pub fn now() -> crate::api::Timestamp {
    crate::api::time_format::now()
}

/// An optional numeric field must be positive when given.
pub fn positive(name: &str, v: Option<u32>) -> Result<Option<u32>, ApiError> {
    match v {
        Some(0) => Err(ApiError::invalid_field(name, "Must be greater than 0.")),
        other => Ok(other),
    }
}

pub use crate::controller::segment::Seg;
