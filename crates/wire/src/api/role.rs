//! Roles: grant strings plus principals.

use super::{ScopeInfo, Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_scope_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principal_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<Principal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_strings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope_id: String,
}

/// A parsed grant as Boundary shows it: the raw string, its canonical form and JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub raw: String,
    pub canonical: String,
    pub json: GrantJson,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GrantJson {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
}

/// `POST /v1/roles`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateRoleRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_scope_ids: Option<Vec<String>>,
}

/// `POST /v1/roles/{id}:add-principals` / `:set-principals` / `:remove-principals`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RolePrincipalsRequest {
    pub version: Option<u32>,
    #[serde(default)]
    pub principal_ids: Vec<String>,
}

/// `POST /v1/roles/{id}:add-grants` / `:set-grants` / `:remove-grants`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RoleGrantsRequest {
    pub version: Option<u32>,
    #[serde(default)]
    pub grant_strings: Vec<String>,
}
