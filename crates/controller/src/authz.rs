//! Per-request authorization context: the caller, the roles that apply to them, and a small
//! cache of scopes (each grant check needs the resource's scope path).
//!
//! Handlers take an [`Authz`] argument (an axum extractor that authenticates the caller and
//! loads the roles), look the resource up (404 comes before any permission check) and then
//! call [`Authz::check`]. A refusal is 403 for an authenticated caller and 401 otherwise
//! (no token, or a bad one), so that a client without a valid token knows to log in.

use crate::auth::{Caller, authenticate};
use crate::error::ApiError;
use crate::grants::{Acl, Principal, Resource, ScopePath};
use crate::state::AppState;
use crate::store::{RoleRecord, ScopeRecord, StoreError};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use boundary_wire::api::ScopeInfo;
use std::collections::HashMap;

/// A resource as a permission check sees it.
#[derive(Clone, Copy, Debug)]
pub struct Res<'a> {
    pub kind: &'a str,
    /// `None` for a collection action.
    pub id: Option<&'a str>,
    pub scope_id: &'a str,
    pub parent_id: Option<&'a str>,
    pub owner: Option<&'a str>,
}

impl<'a> Res<'a> {
    pub fn item(kind: &'a str, id: &'a str, scope_id: &'a str) -> Self {
        Self {
            kind,
            id: Some(id),
            scope_id,
            parent_id: None,
            owner: None,
        }
    }

    pub fn collection(kind: &'a str, scope_id: &'a str) -> Self {
        Self {
            kind,
            id: None,
            scope_id,
            parent_id: None,
            owner: None,
        }
    }

    pub fn owned_by(mut self, user_id: &'a str) -> Self {
        self.owner = Some(user_id);
        self
    }

    pub fn in_parent(mut self, parent_id: &'a str) -> Self {
        self.parent_id = Some(parent_id);
        self
    }
}

pub struct Authz {
    pub state: AppState,
    pub caller: Caller,
    roles: Vec<RoleRecord>,
    acl: Acl,
    scopes: HashMap<String, ScopeRecord>,
}

impl FromRequestParts<AppState> for Authz {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let caller = authenticate(state.store.as_ref(), header).await?;
        Authz::load(state.clone(), caller).await
    }
}

impl Authz {
    pub async fn load(state: AppState, caller: Caller) -> Result<Self, ApiError> {
        let roles = state.store.list_roles().await?;
        let principal = match &caller {
            Caller::Authenticated(t) => Principal::user(&t.user_id, Some(&t.account_id)),
            _ => Principal::anonymous(),
        };
        let acl = Acl::from_records(principal, &roles);
        Ok(Self {
            state,
            caller,
            roles,
            acl,
            scopes: HashMap::new(),
        })
    }

    /// The permissions another (authenticated) user holds: for listing what *they* may
    /// resolve.
    pub fn acl_for_user(&self, user_id: &str) -> Acl {
        Acl::from_records(Principal::user(user_id, None), &self.roles)
    }

    /// What a list token is bound to besides its list: the caller (a user, or anonymous)
    /// and the grants that apply to them, so that a token is worthless to anyone else and
    /// after any change to those grants. `list` names the list itself.
    pub fn list_key(&self, list: &str) -> String {
        let who = self.caller.token().map_or("u_anon", |t| t.user_id.as_str());
        format!("{list}|{who}|{}", self.acl.fingerprint())
    }

    pub fn is_authenticated(&self) -> bool {
        matches!(self.caller, Caller::Authenticated(_))
    }

    /// The refusal for this caller: 403 when authenticated, else 401.
    pub fn denied(&self) -> ApiError {
        if self.is_authenticated() {
            ApiError::forbidden()
        } else {
            ApiError::unauthenticated()
        }
    }

    pub async fn scope(&mut self, id: &str) -> Result<ScopeRecord, ApiError> {
        if let Some(s) = self.scopes.get(id) {
            return Ok(s.clone());
        }
        let s = self.state.store.get_scope(id).await?;
        self.scopes.insert(id.to_owned(), s.clone());
        Ok(s)
    }

    /// The scope and its ancestors, nearest first.
    pub async fn scope_path(&mut self, id: &str) -> Result<ScopePath, ApiError> {
        let mut path = vec![];
        let mut next = Some(id.to_owned());
        while let Some(id) = next {
            if path.len() > 3 || path.contains(&id) {
                return Err(ApiError::internal("scope tree", format!("cycle at {id}")));
            }
            let scope = self.scope(&id).await.map_err(|e| {
                if e.status() == axum::http::StatusCode::NOT_FOUND {
                    ApiError::internal("scope tree", format!("missing scope {id}"))
                } else {
                    e
                }
            })?;
            path.push(id);
            next = scope.parent_id;
        }
        Ok(ScopePath(path))
    }

    pub async fn scope_info(&mut self, id: &str) -> Result<ScopeInfo, ApiError> {
        let s = self.scope(id).await?;
        Ok(scope_info(&s))
    }

    pub async fn allows(&mut self, action: &str, res: Res<'_>) -> Result<bool, ApiError> {
        let path = self.scope_path(res.scope_id).await?;
        Ok(self.acl.allows(action, &to_resource(&res, &path)))
    }

    /// `Ok` when allowed, else the caller's refusal (401/403).
    pub async fn check(&mut self, action: &str, res: Res<'_>) -> Result<(), ApiError> {
        if self.allows(action, res).await? {
            Ok(())
        } else {
            Err(self.denied())
        }
    }

    /// The `authorized_actions` of a resource.
    pub async fn actions(
        &mut self,
        actions: &[&str],
        res: Res<'_>,
    ) -> Result<Vec<String>, ApiError> {
        let path = self.scope_path(res.scope_id).await?;
        Ok(self.acl.allowed_actions(actions, &to_resource(&res, &path)))
    }

    /// Looks a scope up, mapping "not found" to a 400 on `field` (a scope named in a body).
    pub async fn scope_named_in(&mut self, id: &str, field: &str) -> Result<ScopeRecord, ApiError> {
        match self.state.store.get_scope(id).await {
            Ok(s) => Ok(s),
            Err(StoreError::NotFound) => Err(ApiError::invalid_field(
                field,
                format!("Scope {id:?} does not exist."),
            )),
            Err(e) => Err(e.into()),
        }
    }
}

fn to_resource<'a>(res: &Res<'a>, path: &'a ScopePath) -> Resource<'a> {
    Resource {
        kind: res.kind,
        id: res.id,
        parent_id: res.parent_id,
        owner: res.owner,
        scope: path,
    }
}

pub fn scope_info(s: &ScopeRecord) -> ScopeInfo {
    ScopeInfo {
        id: s.id.clone(),
        kind: s.kind.as_str().to_owned(),
        name: s.name.clone(),
        description: s.description.clone(),
        parent_scope_id: s.parent_id.clone().unwrap_or_default(),
    }
}
