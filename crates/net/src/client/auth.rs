//! Password login, auth methods and auth tokens (docs/wire-contract.md §1.1, §1.2).

use super::{ControllerClient, Result};
use boundary_wire::api::auth::{
    AuthMethod, AuthToken, AuthenticateRequest, AuthenticateResponse, PasswordCredentials,
};
use boundary_wire::api::{ListQuery, ListResponse, Secret};

impl ControllerClient {
    /// `POST /v1/auth-methods/{id}:authenticate` with a login name and password. The
    /// answer's `attributes.token` is the new bearer token; this client keeps acting with
    /// its own token (use [`ControllerClient::with_token`] to switch).
    pub async fn authenticate_password(
        &self,
        auth_method_id: &str,
        login_name: &str,
        password: &Secret,
    ) -> Result<AuthenticateResponse> {
        let body = AuthenticateRequest {
            command: Some("login".into()),
            kind: Some("token".into()),
            attributes: Some(PasswordCredentials {
                login_name: Some(login_name.to_owned()),
                password: Some(password.clone()),
            }),
        };
        let action = format!("{auth_method_id}:authenticate");
        self.post(&["auth-methods", &action], &body, "authenticate")
            .await
    }

    /// `GET /v1/auth-methods?scope_id=…`, all pages.
    pub async fn list_auth_methods(&self, scope_id: &str) -> Result<ListResponse<AuthMethod>> {
        let query = ListQuery {
            scope_id: Some(scope_id.to_owned()),
            ..ListQuery::default()
        };
        self.list_all(&["auth-methods"], &query, "auth-methods list")
            .await
    }

    /// `GET /v1/auth-tokens/{id}` (the token's secret is not included).
    pub async fn read_auth_token(&self, id: &str) -> Result<AuthToken> {
        self.get(&["auth-tokens", id], "auth-tokens read").await
    }

    /// `GET /v1/auth-tokens?scope_id=…&recursive=…`, all pages.
    pub async fn list_auth_tokens(&self, query: &ListQuery) -> Result<ListResponse<AuthToken>> {
        self.list_all(&["auth-tokens"], query, "auth-tokens list")
            .await
    }

    /// `DELETE /v1/auth-tokens/{id}`: the token stops working at once.
    pub async fn delete_auth_token(&self, id: &str) -> Result<()> {
        self.delete(&["auth-tokens", id]).await
    }
}
