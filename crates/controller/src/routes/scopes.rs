//! `/v1/scopes`: global → org (`o_`) → project (`p_`).

use super::common::*;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::body::{ApiJson, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::listing::ListParams;
use crate::state::AppState;
use crate::store::{ScopeKind, ScopeRecord, StoreError};
use axum::extract::RawQuery;
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ids::{self, GLOBAL_SCOPE};
use boundary_wire::api::scope::{CreateScopeRequest, Scope};
use boundary_wire::api::{ListResponse, alias::double_option, split_action};
use serde::Deserialize;

const ACTIONS: &[&str] = &["read", "update"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/scopes", get(list).post(create))
        .route("/v1/scopes/{id}", get(read).patch(update).post(action))
}

/// The scope a scope lives in, for permission checks (global lives in itself).
fn container(s: &ScopeRecord) -> &str {
    s.parent_id.as_deref().unwrap_or(GLOBAL_SCOPE)
}

fn check_scope_id(id: &str) -> Result<&str, ApiError> {
    if id == GLOBAL_SCOPE {
        Ok(id)
    } else {
        require_id(id, &[ids::ORG, ids::PROJECT])
    }
}

pub async fn view(authz: &mut Authz, s: &ScopeRecord) -> ApiResult<Scope> {
    let parent = container(s).to_owned();
    let scope = match &s.parent_id {
        Some(p) => Some(authz.scope_info(p).await?),
        None => None,
    };
    Ok(Scope {
        id: s.id.clone(),
        scope_id: s.parent_id.clone().unwrap_or_default(),
        scope,
        name: s.name.clone(),
        description: s.description.clone(),
        created_time: s.created,
        updated_time: s.updated,
        version: s.version,
        kind: s.kind.as_str().to_owned(),
        primary_auth_method_id: s.primary_auth_method_id.clone().unwrap_or_default(),
        authorized_actions: authz
            .actions(ACTIONS, Res::item("scope", &s.id, &parent))
            .await?,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<Scope>>> {
    let params = ListParams::from_query(q.as_deref())?;
    params.reject_filter()?;
    let root = check_scope_id(params.scope_id.as_deref().unwrap_or(GLOBAL_SCOPE))?.to_owned();
    let list = ScopedList::from_root(&mut authz, params, root, "scope").await?;
    let mut items = vec![];
    for parent in &list.scopes {
        for s in authz.state.store.list_scopes(parent).await? {
            if authz
                .allows("list", Res::item("scope", &s.id, parent))
                .await?
            {
                items.push(view(&mut authz, &s).await?);
            }
        }
    }
    list.page(items, "scopes")
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateScopeRequest>,
) -> ApiResult<Json<Scope>> {
    let parent_id = req
        .scope_id
        .clone()
        .unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
    let parent = authz.scope_named_in(&parent_id, "scope_id").await?;
    let (kind, prefix) = match parent.kind {
        ScopeKind::Global => (ScopeKind::Org, ids::ORG),
        ScopeKind::Org => (ScopeKind::Project, ids::PROJECT),
        ScopeKind::Project => {
            return Err(ApiError::invalid_field(
                "scope_id",
                "A project cannot contain scopes.",
            ));
        }
    };
    authz
        .check("create", Res::collection("scope", &parent.id))
        .await?;
    let now = now();
    let record = ScopeRecord {
        id: ids::new_public_id(prefix),
        parent_id: Some(parent.id.clone()),
        kind,
        name: text(req.name),
        description: text(req.description),
        primary_auth_method_id: None,
        created: now,
        updated: now,
        version: 1,
    };
    let created = authz
        .state
        .store
        .create_scope(&record)
        .await
        .map_err(name_clash)?;
    Ok(Json(view(&mut authz, &created).await?))
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<Scope>> {
    let (id, action) = split_action(&seg);
    no_action(action)?;
    let s = authz.scope(check_scope_id(id)?).await?;
    authz
        .check("read", Res::item("scope", &s.id, container(&s)))
        .await?;
    Ok(Json(view(&mut authz, &s).await?))
}

#[derive(Deserialize)]
struct UpdateScopeRequest {
    version: Option<u32>,
    #[serde(default, with = "double_option")]
    name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    description: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    primary_auth_method_id: Option<Option<String>>,
}

async fn update(
    mut authz: Authz,
    Seg(seg): Seg,
    ApiJson(req): ApiJson<UpdateScopeRequest>,
) -> ApiResult<Json<Scope>> {
    let (id, action) = split_action(&seg);
    no_action(action)?;
    let mut s = authz.state.store.get_scope(check_scope_id(id)?).await?;
    authz
        .check("update", Res::item("scope", &s.id, container(&s)))
        .await?;
    let version = require_version(req.version)?;
    if let Some(name) = req.name {
        s.name = text(name);
    }
    if let Some(d) = req.description {
        s.description = text(d);
    }
    if let Some(am) = req.primary_auth_method_id {
        let am = am.filter(|a| !a.is_empty());
        if let Some(am_id) = &am {
            match authz.state.store.get_auth_method(am_id).await {
                Ok(m) if m.scope_id == s.id => {}
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(ApiError::invalid_field(
                        "primary_auth_method_id",
                        "Must be an auth method of this scope.",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        s.primary_auth_method_id = am;
    }
    s.updated = now();
    let updated = authz
        .state
        .store
        .update_scope(&s, version)
        .await
        .map_err(stale_or("Scope", &s.id, name_clash))?;
    Ok(Json(view(&mut authz, &updated).await?))
}

async fn action(Seg(seg): Seg, _body: JsonBody) -> ApiResult<Json<Scope>> {
    let (_, action) = split_action(&seg);
    Err(ApiError::unknown_action(action.unwrap_or("")))
}
