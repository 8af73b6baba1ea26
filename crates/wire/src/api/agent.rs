//! The client agent's local API (docs/wire-contract.md §4), as served by the agent and called by
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
    /// Ours (not in Boundary's API, which clients that do not know it ignore): how the
    /// agent is the system resolver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<ResolverStatus>,
}

/// `resolver` in [`AgentStatus`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolverStatus {
    /// The resolver mode in effect (`resolv-conf`, `systemd-resolved`, `none`).
    pub mode: String,
    /// The agent's own link (systemd-resolved mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// How names reach the agent: per-alias routing domains or `~.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// The program that manages the resolver configuration, when it can be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// Where ordinary names are forwarded (`address:port`).
    #[serde(default)]
    pub upstreams: Vec<String>,
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
            resolver: None,
        };
        let v = serde_json::to_value(&s).unwrap();
        assert!(v["auth_token_expiry"].is_null());
        assert_eq!(serde_json::from_value::<AgentStatus>(v).unwrap(), s);
    }
}
