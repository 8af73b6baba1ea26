//! The common part of an ordinary list over the scope tree (`GET /v1/<collection>`): the
//! query, the scopes it covers, the caller's right to list in each, and the page.

use crate::authz::{Authz, Res};
use crate::error::{ApiError, ApiResult};
use crate::listing::{ListParams, Listed, paginate};
use crate::store::ScopeKind;
use axum::Json;
use boundary_wire::api::ListResponse;
use boundary_wire::api::ids::GLOBAL_SCOPE;
use serde::Serialize;

/// A list request over a scope and, with `recursive`, the scopes below it.
pub struct ScopedList {
    pub params: ListParams,
    /// The scope the list starts at.
    pub root: String,
    /// The covered scopes where the caller may list the resource (never empty).
    pub scopes: Vec<String>,
    /// The caller and grants part of the list tokens' key ([`Authz::list_key`]).
    caller_key: String,
}

impl ScopedList {
    /// Parses the query (filters are refused) and starts at its `scope_id`, `global` when
    /// absent. `kind` is the resource type grants name (`target`, `auth-method`, …).
    pub async fn from_query(authz: &mut Authz, query: Option<&str>, kind: &str) -> ApiResult<Self> {
        let params = ListParams::from_query(query)?;
        params.reject_filter()?;
        let root = params
            .scope_id
            .clone()
            .unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
        Self::from_root(authz, params, root, kind).await
    }

    /// Like [`ScopedList::from_query`], for a list that chose its own root.
    pub async fn from_root(
        authz: &mut Authz,
        params: ListParams,
        root: String,
        kind: &str,
    ) -> ApiResult<Self> {
        let scopes = scopes_under(authz, &root, params.recursive).await?;
        let scopes = listable_scopes(authz, kind, scopes).await?;
        Ok(Self {
            caller_key: authz.list_key(""),
            params,
            root,
            scopes,
        })
    }

    /// What list tokens of `collection` are bound to: the list (collection, scope,
    /// `recursive`), the caller and the caller's grants.
    pub fn key(&self, collection: &str) -> String {
        format!(
            "{collection}:{}:{}{}",
            self.root, self.params.recursive, self.caller_key
        )
    }

    /// The page of `items` (any order) this request asks for.
    pub fn page<T: Listed + Serialize>(
        &self,
        items: Vec<T>,
        collection: &str,
    ) -> ApiResult<Json<ListResponse<T>>> {
        Ok(Json(paginate(items, &self.params, &self.key(collection))?))
    }
}

/// The scopes a list covers: `root`, plus everything under it when `recursive`.
async fn scopes_under(
    authz: &mut Authz,
    root: &str,
    recursive: bool,
) -> Result<Vec<String>, ApiError> {
    let root_scope = authz.scope(root).await?;
    let mut out = vec![root_scope.id.clone()];
    if recursive && root_scope.kind != ScopeKind::Project {
        let mut frontier = vec![root_scope.id];
        while let Some(parent) = frontier.pop() {
            for child in authz.state.store.list_scopes(&parent).await? {
                out.push(child.id.clone());
                if child.kind != ScopeKind::Project {
                    frontier.push(child.id);
                }
            }
        }
    }
    Ok(out)
}

/// The subset of `scopes` where the caller may list `kind`; refused when there is none.
async fn listable_scopes(
    authz: &mut Authz,
    kind: &str,
    scopes: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let mut allowed = vec![];
    for s in scopes {
        if authz.allows("list", Res::collection(kind, &s)).await? {
            allowed.push(s);
        }
    }
    if allowed.is_empty() {
        return Err(authz.denied());
    }
    Ok(allowed)
}
