//! Targets (docs/wire-contract.md §1.7). Only `tcp` targets with a direct `address` exist here.

use super::{ScopeInfo, Timestamp, alias::double_option, time_format::rfc3339};
use serde::{Deserialize, Serialize};

pub const TCP_TARGET_TYPE: &str = "tcp";
pub const DEFAULT_SESSION_MAX_SECONDS: u32 = 28800;
/// -1 means unlimited connections per session.
pub const UNLIMITED_CONNECTIONS: i32 = -1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
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
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_source_ids: Vec<String>,
    pub session_max_seconds: u32,
    pub session_connection_limit: i32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub worker_filter: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brokered_credential_source_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(default)]
    pub attributes: TcpTargetAttributes,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<TargetAlias>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TcpTargetAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_client_port: Option<u32>,
}

/// An alias pointing at a target, as shown on the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetAlias {
    pub id: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope_id: String,
}

/// `POST /v1/targets`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateTargetRequest {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<TcpTargetAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_max_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_connection_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_filter: Option<String>,
}

/// `PATCH /v1/targets/{id}`: absent keys are left alone, `null` clears.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UpdateTargetRequest {
    pub version: Option<u32>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub address: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<TcpTargetAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_max_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_connection_limit: Option<i32>,
}

/// `POST /v1/targets/{id}:add-credential-sources` (and `:set-`, `:remove-`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CredentialSourcesRequest {
    pub version: Option<u32>,
    #[serde(default)]
    pub brokered_credential_source_ids: Vec<String>,
}
