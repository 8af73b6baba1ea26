//! Password login (`:authenticate`) and auth tokens (docs/wire-contract.md §1.1, §1.2).

use super::{ScopeInfo, Secret, Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

/// `POST /v1/auth-methods/{ampw_id}:authenticate`. `command` defaults to `login`.
/// Fields are optional here so that a missing one becomes a 400 naming it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuthenticateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<PasswordCredentials>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PasswordCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthenticateResponse {
    #[serde(default)]
    pub command: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub attributes: AuthToken,
}

/// An auth token resource. `token` (the bearer secret) is present only in the login
/// response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthToken {
    pub id: String,
    #[serde(default)]
    pub scope_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    pub user_id: String,
    #[serde(default)]
    pub auth_method_id: String,
    #[serde(default)]
    pub account_id: String,
    #[serde(with = "rfc3339")]
    pub created_time: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_time: Timestamp,
    #[serde(with = "rfc3339")]
    pub approximate_last_used_time: Timestamp,
    #[serde(with = "rfc3339")]
    pub expiration_time: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

/// An auth method. Ours are password methods (`ampw_`); a Boundary controller lists its
/// OIDC and LDAP ones too. To a caller without a token (the CLI looking for the primary
/// method before it has logged in) Boundary shows only `id`, `scope_id`, `scope`, `name`,
/// `description`, `type`, `is_primary` and `authorized_actions`: the times, `version` and
/// `attributes` are absent then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthMethod {
    pub id: String,
    pub scope_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeInfo>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_time: Option<Timestamp>,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_time: Option<Timestamp>,
    /// 0 when not shown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_primary: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_request_defaults_and_missing_fields_parse() {
        let req: AuthenticateRequest =
            serde_json::from_str(r#"{"attributes":{"login_name":"alice"}}"#).unwrap();
        assert!(req.command.is_none());
        let attrs = req.attributes.unwrap();
        assert_eq!(attrs.login_name.as_deref(), Some("alice"));
        assert!(attrs.password.is_none());
    }

    #[test]
    fn auth_token_without_secret_omits_the_token_key() {
        let now = crate::api::time_format::now();
        let t = AuthToken {
            id: "at_1234567890".into(),
            scope_id: "global".into(),
            scope: None,
            token: None,
            user_id: "u_1234567890".into(),
            auth_method_id: "ampw_1234567890".into(),
            account_id: "acctpw_1234567890".into(),
            created_time: now,
            updated_time: now,
            approximate_last_used_time: now,
            expiration_time: now,
            authorized_actions: vec![],
        };
        let v = serde_json::to_value(&t).unwrap();
        assert!(v.get("token").is_none());
        assert_eq!(serde_json::from_value::<AuthToken>(v).unwrap(), t);
    }
}
