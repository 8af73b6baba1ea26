//! Scopes, accounts, users and roles: the admin surface tests and operators use to set up
//! who may do what (docs/wire-contract.md §1.7).

use super::{ControllerClient, Result};
use boundary_wire::api::role::{CreateRoleRequest, Role, RoleGrantsRequest, RolePrincipalsRequest};
use boundary_wire::api::scope::{CreateScopeRequest, Scope};
use boundary_wire::api::user::{
    Account, CreateAccountRequest, CreateUserRequest, User, UserAccountsRequest,
};
use boundary_wire::api::{ListQuery, ListResponse};

impl ControllerClient {
    /// `POST /v1/scopes`: `scope_id` is the parent (`global` for an org, an org for a
    /// project).
    pub async fn create_scope(&self, request: &CreateScopeRequest) -> Result<Scope> {
        self.post(&["scopes"], request, "scopes create").await
    }

    /// `GET /v1/scopes/{id}`.
    pub async fn read_scope(&self, id: &str) -> Result<Scope> {
        self.get(&["scopes", id], "scopes read").await
    }

    /// `GET /v1/scopes?scope_id=…&recursive=…`, all pages.
    pub async fn list_scopes(&self, query: &ListQuery) -> Result<ListResponse<Scope>> {
        self.list_all(&["scopes"], query, "scopes list").await
    }

    /// `POST /v1/accounts` (password accounts carry `login_name` and `password`).
    pub async fn create_account(&self, request: &CreateAccountRequest) -> Result<Account> {
        self.post(&["accounts"], request, "accounts create").await
    }

    /// `GET /v1/accounts?auth_method_id=…`, all pages.
    pub async fn list_accounts(&self, auth_method_id: &str) -> Result<ListResponse<Account>> {
        let query = AccountsQuery {
            auth_method_id: auth_method_id.to_owned(),
        };
        self.list_to_end(&["accounts"], &query, None, "accounts list")
            .await
    }

    /// `POST /v1/users`.
    pub async fn create_user(&self, request: &CreateUserRequest) -> Result<User> {
        self.post(&["users"], request, "users create").await
    }

    /// `GET /v1/users/{id}`.
    pub async fn read_user(&self, id: &str) -> Result<User> {
        self.get(&["users", id], "users read").await
    }

    /// `GET /v1/users?scope_id=…`, all pages.
    pub async fn list_users(&self, query: &ListQuery) -> Result<ListResponse<User>> {
        self.list_all(&["users"], query, "users list").await
    }

    /// `POST /v1/users/{id}:add-accounts`; `version` must be the user's current version.
    pub async fn add_user_accounts(
        &self,
        id: &str,
        version: u32,
        account_ids: &[String],
    ) -> Result<User> {
        let body = UserAccountsRequest {
            version: Some(version),
            account_ids: account_ids.to_vec(),
        };
        let action = format!("{id}:add-accounts");
        self.post(&["users", &action], &body, "users add-accounts")
            .await
    }

    /// `POST /v1/roles`.
    pub async fn create_role(&self, request: &CreateRoleRequest) -> Result<Role> {
        self.post(&["roles"], request, "roles create").await
    }

    /// `GET /v1/roles/{id}`.
    pub async fn read_role(&self, id: &str) -> Result<Role> {
        self.get(&["roles", id], "roles read").await
    }

    /// `POST /v1/roles/{id}:add-principals` (user or group ids, or `u_anon` / `u_auth`).
    pub async fn add_role_principals(
        &self,
        id: &str,
        version: u32,
        principal_ids: &[String],
    ) -> Result<Role> {
        let body = RolePrincipalsRequest {
            version: Some(version),
            principal_ids: principal_ids.to_vec(),
        };
        let action = format!("{id}:add-principals");
        self.post(&["roles", &action], &body, "roles add-principals")
            .await
    }

    /// `POST /v1/roles/{id}:add-grants` with grant strings such as
    /// `type=target;ids=*;actions=authorize-session`.
    pub async fn add_role_grants(
        &self,
        id: &str,
        version: u32,
        grant_strings: &[String],
    ) -> Result<Role> {
        let body = RoleGrantsRequest {
            version: Some(version),
            grant_strings: grant_strings.to_vec(),
        };
        let action = format!("{id}:add-grants");
        self.post(&["roles", &action], &body, "roles add-grants")
            .await
    }
}

/// `accounts` are listed per auth method rather than per scope.
#[derive(serde::Serialize)]
struct AccountsQuery {
    auth_method_id: String,
}
