//! Scopes: `global` → org (`o_`) → project (`p_`).

use super::{Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

/// The compact scope description embedded in most resources.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopeInfo {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent_scope_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeInfo>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(with = "rfc3339")]
    pub created_time: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_time: Timestamp,
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub primary_auth_method_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

/// `POST /v1/scopes`: `scope_id` is the parent (global for an org, an org for a project).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateScopeRequest {
    pub scope_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

pub mod kind {
    pub const GLOBAL: &str = "global";
    pub const ORG: &str = "org";
    pub const PROJECT: &str = "project";
}
