//! Users and password accounts.

use super::{ScopeInfo, Secret, Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

pub const PASSWORD_ACCOUNT_TYPE: &str = "password";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
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
    pub account_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub primary_account_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub login_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
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
    pub auth_method_id: String,
    pub attributes: AccountAttributes,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

/// Password accounts show their login name; the password is write-only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// `POST /v1/accounts`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateAccountRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AccountAttributes>,
}

/// `POST /v1/users`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /v1/users/{id}:add-accounts` (and `:set-accounts`, `:remove-accounts`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UserAccountsRequest {
    pub version: Option<u32>,
    #[serde(default)]
    pub account_ids: Vec<String>,
}
