//! Session authorization and sessions (docs/wire-contract.md §1.5, §1.6).

use super::{ControllerClient, Result};
use boundary_wire::api::session::{
    AuthorizeSessionRequest, CancelSessionRequest, Session, SessionAuthorization,
};
use boundary_wire::api::{ListQuery, ListResponse};

/// Which target `:authorize-session` is about. The controller tells these apart by the
/// path segment: a target id, a name together with a scope, or an alias value (anything
/// without `_`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionTarget<'a> {
    /// A target id such as `ttcp_1234567890`.
    Id(&'a str),
    /// A target name inside the project given by id.
    NameInScopeId { name: &'a str, scope_id: &'a str },
    /// A target name inside the project given by name.
    NameInScopeName { name: &'a str, scope_name: &'a str },
    /// An alias value such as `db.prod.example`.
    Alias(&'a str),
}

impl SessionTarget<'_> {
    fn path_segment(&self) -> &str {
        match self {
            SessionTarget::Id(id) => id,
            SessionTarget::NameInScopeId { name, .. }
            | SessionTarget::NameInScopeName { name, .. } => name,
            SessionTarget::Alias(value) => value,
        }
    }

    fn request(&self, host_id: Option<&str>) -> AuthorizeSessionRequest {
        let mut request = AuthorizeSessionRequest {
            host_id: host_id.map(str::to_owned),
            ..AuthorizeSessionRequest::default()
        };
        match self {
            SessionTarget::NameInScopeId { name, scope_id } => {
                request.name = Some((*name).to_owned());
                request.scope_id = Some((*scope_id).to_owned());
            }
            SessionTarget::NameInScopeName { name, scope_name } => {
                request.name = Some((*name).to_owned());
                request.scope_name = Some((*scope_name).to_owned());
            }
            SessionTarget::Id(_) | SessionTarget::Alias(_) => {}
        }
        request
    }
}

impl ControllerClient {
    /// `POST /v1/targets/{id|name|alias}:authorize-session`. The answer's
    /// `authorization_token` carries the worker addresses and the session certificate.
    pub async fn authorize_session(
        &self,
        target: SessionTarget<'_>,
        host_id: Option<&str>,
    ) -> Result<SessionAuthorization> {
        let action = format!("{}:authorize-session", target.path_segment());
        self.post(
            &["targets", &action],
            &target.request(host_id),
            "authorize-session",
        )
        .await
    }

    /// `GET /v1/sessions?scope_id=…&recursive=…&filter=…`, all pages.
    pub async fn list_sessions(&self, query: &ListQuery) -> Result<ListResponse<Session>> {
        self.list_all(&["sessions"], query, "sessions list").await
    }

    /// `GET /v1/sessions/{id}`.
    pub async fn read_session(&self, id: &str) -> Result<Session> {
        self.get(&["sessions", id], "sessions read").await
    }

    /// `POST /v1/sessions/{id}:cancel`; `version` must be the session's current version.
    pub async fn cancel_session(&self, id: &str, version: u32) -> Result<Session> {
        let action = format!("{id}:cancel");
        let body = CancelSessionRequest {
            version: Some(version),
        };
        self.post(&["sessions", &action], &body, "sessions cancel")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_target_form_uses_the_right_segment_and_body() {
        let by_id = SessionTarget::Id("ttcp_1234567890");
        assert_eq!(by_id.path_segment(), "ttcp_1234567890");
        assert_eq!(
            serde_json::to_value(by_id.request(Some("hst_1"))).unwrap(),
            serde_json::json!({"host_id":"hst_1"})
        );
        let by_name = SessionTarget::NameInScopeId {
            name: "db",
            scope_id: "p_1234567890",
        };
        assert_eq!(by_name.path_segment(), "db");
        assert_eq!(
            serde_json::to_value(by_name.request(None)).unwrap(),
            serde_json::json!({"name":"db","scope_id":"p_1234567890"})
        );
        let by_scope_name = SessionTarget::NameInScopeName {
            name: "db",
            scope_name: "prod",
        };
        assert_eq!(
            serde_json::to_value(by_scope_name.request(None)).unwrap(),
            serde_json::json!({"name":"db","scope_name":"prod"})
        );
        let by_alias = SessionTarget::Alias("db.prod.example");
        assert_eq!(by_alias.path_segment(), "db.prod.example");
        assert_eq!(
            serde_json::to_value(by_alias.request(None)).unwrap(),
            serde_json::json!({})
        );
    }
}
