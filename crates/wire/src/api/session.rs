//! Session authorization and session resources (docs/wire-contract.md §1.5, §1.6).

use super::{
    ScopeInfo, Secret, Timestamp, credential::SessionCredential, int64_string, time_format::rfc3339,
};
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/targets/{id}:authorize-session`; every field is optional.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuthorizeSessionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_name: Option<String>,
}

/// The authorize-session response (a bare object, not wrapped). Worker addresses, the
/// certificate and `default_client_port` are only inside `authorization_token`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionAuthorization {
    pub session_id: String,
    pub target_id: String,
    pub scope: ScopeInfo,
    #[serde(with = "rfc3339")]
    pub created_time: Timestamp,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_set_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub authorization_token: Secret,
    pub connection_limit: i32,
    pub endpoint: String,
    pub endpoint_port: u32,
    #[serde(with = "rfc3339")]
    pub expiration: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<SessionCredential>,
}

pub mod status {
    pub const PENDING: &str = "pending";
    pub const ACTIVE: &str = "active";
    pub const CANCELING: &str = "canceling";
    pub const TERMINATED: &str = "terminated";
}

/// Session termination and connection close reasons, as Boundary spells them.
pub mod reason {
    pub const TIMED_OUT: &str = "timed out";
    pub const CLOSED_BY_END_USER: &str = "closed by end-user";
    pub const TERMINATED: &str = "terminated";
    pub const NETWORK_ERROR: &str = "network error";
    pub const SYSTEM_ERROR: &str = "system error";
    pub const CONNECTION_LIMIT: &str = "connection limit";
    pub const CANCELED: &str = "canceled";
    pub const UNKNOWN: &str = "unknown";
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    /// Boundary leaves `target_id` and `type` out once the session's target is deleted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeInfo>,
    pub scope_id: String,
    #[serde(with = "rfc3339")]
    pub created_time: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_time: Timestamp,
    pub version: u32,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(with = "rfc3339")]
    pub expiration_time: Timestamp,
    pub auth_token_id: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_set_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_id: String,
    pub endpoint: String,
    #[serde(default)]
    pub states: Vec<SessionState>,
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub termination_reason: String,
    /// The session certificate, base64 of its DER (the one inside the authorization
    /// token). Boundary sends it in reads and lists.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub certificate: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
    /// Only in a read: Boundary's list leaves connections out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<SessionConnection>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub status: String,
    #[serde(with = "rfc3339")]
    pub start_time: Timestamp,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionConnection {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_tcp_address: String,
    #[serde(default)]
    pub client_tcp_port: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint_tcp_address: String,
    #[serde(default)]
    pub endpoint_tcp_port: u32,
    /// 64-bit counters: JSON strings, left out when 0 ([`int64_string`]).
    #[serde(
        default,
        with = "int64_string",
        skip_serializing_if = "int64_string::is_zero"
    )]
    pub bytes_up: u64,
    #[serde(
        default,
        with = "int64_string",
        skip_serializing_if = "int64_string::is_zero"
    )]
    pub bytes_down: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub closed_reason: String,
}

/// `POST /v1/sessions/{id}:cancel`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CancelSessionRequest {
    pub version: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_debug_hides_the_token() {
        let now = crate::api::time_format::now();
        let a = SessionAuthorization {
            session_id: "s_1234567890".into(),
            target_id: "ttcp_1234567890".into(),
            scope: ScopeInfo::default(),
            created_time: now,
            user_id: "u_1234567890".into(),
            host_id: String::new(),
            host_set_id: String::new(),
            kind: "tcp".into(),
            authorization_token: Secret::new("SECRETTOKEN"),
            connection_limit: -1,
            endpoint: "tcp://127.0.0.1:22".into(),
            endpoint_port: 22,
            expiration: now,
            credentials: vec![],
        };
        assert!(!format!("{a:?}").contains("SECRETTOKEN"));
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["authorization_token"], "SECRETTOKEN");
        assert!(v.get("host_id").is_none());
        assert_eq!(
            serde_json::from_value::<SessionAuthorization>(v).unwrap(),
            a
        );
    }
}
