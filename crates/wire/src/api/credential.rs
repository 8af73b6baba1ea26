//! Static credential stores, their credentials, and credentials brokered into a session
//! (docs/wire-contract.md §1.8).

use super::{ScopeInfo, Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

pub const STATIC_STORE_TYPE: &str = "static";
pub const USERNAME_PASSWORD: &str = "username_password";
pub const SSH_PRIVATE_KEY: &str = "ssh_private_key";

/// One credential in the `credentials[]` of an authorize-session response.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionCredential {
    pub credential_source: CredentialSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SessionSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<serde_json::Value>,
}

impl std::fmt::Debug for SessionCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredential")
            .field("credential_source", &self.credential_source)
            .finish_non_exhaustive()
    }
}

impl SessionCredential {
    /// The typed secret: `credential` first, else `secret.decoded` (what clients do).
    pub fn typed(&self) -> Option<&serde_json::Value> {
        self.credential
            .as_ref()
            .or_else(|| self.secret.as_ref().and_then(|s| s.decoded.as_ref()))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialSource {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential_store_id: String,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential_type: String,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSecret {
    /// Base64 of the JSON secret.
    #[serde(default)]
    pub raw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<serde_json::Value>,
}

/// `/v1/credential-stores` resource (static stores only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialStore {
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
    pub authorized_actions: Vec<String>,
}

/// `/v1/credentials` resource. Secret attributes are write-only: `attributes` shows the
/// username and an HMAC of each secret, never the secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    pub credential_store_id: String,
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
    #[serde(default)]
    pub attributes: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateCredentialStoreRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /v1/credentials`. `attributes` by type: `username_password` {username, password};
/// `ssh_private_key` {username, private_key, private_key_passphrase}.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct CreateCredentialRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_store_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<serde_json::Value>,
}

impl std::fmt::Debug for CreateCredentialRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateCredentialRequest")
            .field("credential_store_id", &self.credential_store_id)
            .field("type", &self.kind)
            .finish_non_exhaustive()
    }
}
