//! The client agent's local API (PROTOCOL.md §4), as served by the agent and called by
//! the CLI and Boundary Desktop.

use super::{Secret, Timestamp, session::SessionAuthorization, time_format::rfc3339};
use serde::{Deserialize, Serialize};

/// Default port of the local API; CLI flag `-client-agent-port`, env
/// `BOUNDARY_CLIENT_AGENT_LISTENING_PORT`.
pub const DEFAULT_PORT: u16 = 9300;

/// `POST /v1/tokens`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AddTokenRequest {
    pub boundary_addr: String,
    pub token: Secret,
}

pub mod status {
    pub const RUNNING: &str = "running";
    pub const PAUSED: &str = "paused";
}

/// `GET /v1/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    #[serde(default)]
    pub boundary_addr: String,
    #[serde(default)]
    pub auth_token_id: String,
    /// RFC 3339, or `null` when the caller has no token.
    #[serde(default, with = "rfc3339::option")]
    pub auth_token_expiry: Option<Timestamp>,
    #[serde(default)]
    pub version: String,
    pub status: String,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// `GET /v1/sessions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentSessions {
    #[serde(default)]
    pub items: Vec<AgentSession>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSession {
    pub alias: String,
    pub session_authorization: SessionAuthorization,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_without_token_has_null_expiry() {
        let s = AgentStatus {
            boundary_addr: String::new(),
            auth_token_id: String::new(),
            auth_token_expiry: None,
            version: "0.1.0".into(),
            status: status::RUNNING.into(),
            errors: vec![],
            warnings: vec![],
        };
        let v = serde_json::to_value(&s).unwrap();
        assert!(v["auth_token_expiry"].is_null());
        assert_eq!(serde_json::from_value::<AgentStatus>(v).unwrap(), s);
    }
}
