//! `/v1/roles`: grants, grant scopes and principals.

use super::common::*;
use super::list_op::ListOp;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::body::{ApiJson, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::grants::parse_grant;
use crate::state::AppState;
use crate::store::{RoleRecord, ScopeKind, StoreError};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ids::{self, ANONYMOUS_USER, AUTHENTICATED_USER, GLOBAL_SCOPE};
use boundary_wire::api::role::{CreateRoleRequest, Grant, GrantJson, Principal, Role};
use boundary_wire::api::{ListResponse, alias::double_option, split_action};
use serde::Deserialize;

const ACTIONS: &[&str] = &[
    "read",
    "update",
    "delete",
    "add-principals",
    "set-principals",
    "remove-principals",
    "add-grants",
    "set-grants",
    "remove-grants",
    "add-grant-scopes",
    "set-grant-scopes",
    "remove-grant-scopes",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/roles", get(list).post(create))
        .route(
            "/v1/roles/{id}",
            get(read).patch(update).delete(delete).post(action),
        )
}

fn res(r: &RoleRecord) -> Res<'_> {
    Res::item("role", &r.id, &r.scope_id)
}

async fn view(authz: &mut Authz, r: &RoleRecord) -> ApiResult<Role> {
    let mut principals = vec![];
    for p in &r.principal_ids {
        let scope_id = if p == ANONYMOUS_USER || p == AUTHENTICATED_USER {
            GLOBAL_SCOPE.to_owned()
        } else {
            authz
                .state
                .store
                .get_user(p)
                .await
                .map(|u| u.scope_id)
                .unwrap_or_default()
        };
        principals.push(Principal {
            id: p.clone(),
            kind: "user".to_owned(),
            scope_id,
        });
    }
    let grants = r
        .grant_strings
        .iter()
        .filter_map(|raw| {
            let g = parse_grant(raw).ok()?;
            Some(Grant {
                raw: raw.clone(),
                canonical: g.canonical(),
                json: GrantJson {
                    ids: g.id_strings(),
                    kind: g.kind.clone().unwrap_or_default(),
                    actions: g.actions.clone(),
                },
            })
        })
        .collect();
    Ok(Role {
        id: r.id.clone(),
        scope_id: r.scope_id.clone(),
        scope: Some(authz.scope_info(&r.scope_id).await?),
        name: r.name.clone(),
        description: r.description.clone(),
        created_time: r.created,
        updated_time: r.updated,
        version: r.version,
        grant_scope_ids: r.grant_scope_ids.clone(),
        principal_ids: r.principal_ids.clone(),
        principals,
        grant_strings: r.grant_strings.clone(),
        grants,
        authorized_actions: authz.actions(ACTIONS, res(r)).await?,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<Role>>> {
    let list = ScopedList::from_query(&mut authz, q.as_deref(), "role").await?;
    let mut items = vec![];
    for r in authz.state.store.list_roles().await? {
        if list.scopes.contains(&r.scope_id) && authz.allows("list", res(&r)).await? {
            items.push(view(&mut authz, &r).await?);
        }
    }
    list.page(items, "roles")
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateRoleRequest>,
) -> ApiResult<Json<Role>> {
    let scope_id = req.scope_id.unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
    let scope = authz.scope_named_in(&scope_id, "scope_id").await?;
    authz
        .check("create", Res::collection("role", &scope.id))
        .await?;
    let grant_scope_ids = req
        .grant_scope_ids
        .unwrap_or_else(|| vec!["this".to_owned()]);
    check_grant_scopes(&mut authz, &scope.id, &grant_scope_ids).await?;
    let now = now();
    let record = RoleRecord {
        id: ids::new_public_id(ids::ROLE),
        scope_id: scope.id,
        name: text(req.name),
        description: text(req.description),
        grant_scope_ids,
        grant_strings: vec![],
        principal_ids: vec![],
        created: now,
        updated: now,
        version: 1,
    };
    let created = authz
        .state
        .store
        .create_role(&record)
        .await
        .map_err(name_clash)?;
    Ok(Json(view(&mut authz, &created).await?))
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<Role>> {
    let id = id_without_action(&seg, &[ids::ROLE])?;
    let r = authz.state.store.get_role(id).await?;
    authz.check("read", res(&r)).await?;
    Ok(Json(view(&mut authz, &r).await?))
}

#[derive(Deserialize)]
struct UpdateRoleRequest {
    version: Option<u32>,
    #[serde(default, with = "double_option")]
    name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    description: Option<Option<String>>,
}

async fn update(
    mut authz: Authz,
    Seg(seg): Seg,
    ApiJson(req): ApiJson<UpdateRoleRequest>,
) -> ApiResult<Json<Role>> {
    let id = id_without_action(&seg, &[ids::ROLE])?;
    let mut r = authz.state.store.get_role(id).await?;
    authz.check("update", res(&r)).await?;
    let version = require_version(req.version)?;
    if let Some(n) = req.name {
        r.name = text(n);
    }
    if let Some(d) = req.description {
        r.description = text(d);
    }
    r.updated = now();
    let updated = authz
        .state
        .store
        .update_role(&r, version)
        .await
        .map_err(stale_or("Role", &r.id, name_clash))?;
    Ok(Json(view(&mut authz, &updated).await?))
}

async fn delete(mut authz: Authz, Seg(seg): Seg) -> ApiResult<StatusCode> {
    let id = id_without_action(&seg, &[ids::ROLE])?;
    let r = authz.state.store.get_role(id).await?;
    authz.check("delete", res(&r)).await?;
    authz.state.store.delete_role(&r.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ListChange {
    version: Option<u32>,
    #[serde(default)]
    principal_ids: Vec<String>,
    #[serde(default)]
    grant_strings: Vec<String>,
    #[serde(default)]
    grant_scope_ids: Vec<String>,
}

async fn action(mut authz: Authz, Seg(seg): Seg, body: JsonBody) -> ApiResult<Json<Role>> {
    let (id, action) = split_action(&seg);
    let action = action.unwrap_or("");
    let (op, what) = match ListOp::parse(action) {
        Some((op, what @ ("principals" | "grants" | "grant-scopes"))) => (op, what),
        _ => return Err(ApiError::unknown_action(action)),
    };
    let req: ListChange = body.parse()?;
    let mut r = authz
        .state
        .store
        .get_role(require_id(id, &[ids::ROLE])?)
        .await?;
    authz.check(action, res(&r)).await?;
    let version = require_version(req.version)?;
    match what {
        "principals" => {
            if op != ListOp::Remove {
                check_principals(&authz, &req.principal_ids).await?;
            }
            op.apply(&mut r.principal_ids, req.principal_ids);
        }
        "grants" => {
            if op != ListOp::Remove {
                check_grants(&req.grant_strings)?;
            }
            op.apply(&mut r.grant_strings, req.grant_strings);
        }
        _ => {
            if op != ListOp::Remove {
                check_grant_scopes(&mut authz, &r.scope_id.clone(), &req.grant_scope_ids).await?;
            }
            op.apply(&mut r.grant_scope_ids, req.grant_scope_ids);
        }
    }
    r.updated = now();
    let updated = authz
        .state
        .store
        .update_role(&r, version)
        .await
        .map_err(stale_or("Role", &r.id, ApiError::from))?;
    Ok(Json(view(&mut authz, &updated).await?))
}

fn check_grants(grants: &[String]) -> ApiResult<()> {
    for g in grants {
        parse_grant(g)
            .map_err(|e| ApiError::invalid_field("grant_strings", format!("Grant {g:?}: {e}.")))?;
    }
    Ok(())
}

async fn check_principals(authz: &Authz, principals: &[String]) -> ApiResult<()> {
    for p in principals {
        if p == ANONYMOUS_USER || p == AUTHENTICATED_USER {
            continue;
        }
        if ids::is_public_id(p, ids::GROUP) {
            return Err(ApiError::invalid_field(
                "principal_ids",
                format!("{p}: groups are not supported by this controller yet."),
            ));
        }
        if !ids::is_public_id(p, ids::USER) {
            return Err(ApiError::invalid_field(
                "principal_ids",
                format!("{p:?} is not a user id."),
            ));
        }
        match authz.state.store.get_user(p).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid_field(
                    "principal_ids",
                    format!("User {p} does not exist."),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `this` anywhere; `children` in global or an org; `descendants` in global; a scope id
/// below the role's scope.
async fn check_grant_scopes(authz: &mut Authz, role_scope: &str, ids: &[String]) -> ApiResult<()> {
    let kind = authz.scope(role_scope).await?.kind;
    for id in ids {
        let ok = match id.as_str() {
            "this" => true,
            "children" => kind != ScopeKind::Project,
            "descendants" => kind == ScopeKind::Global,
            other => match authz.state.store.get_scope(other).await {
                Ok(_) => authz
                    .scope_path(other)
                    .await?
                    .0
                    .iter()
                    .skip(1)
                    .any(|s| s == role_scope),
                Err(StoreError::NotFound) => false,
                Err(e) => return Err(e.into()),
            },
        };
        if !ok {
            return Err(ApiError::invalid_field(
                "grant_scope_ids",
                format!(
                    "{id:?} is not a valid grant scope for a role in {role_scope}: use this, children (global or org), descendants (global) or the id of a scope below it."
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_grants_name_the_field() {
        let e = check_grants(&["ids=*;type=target;actions=read".into(), "nonsense".into()])
            .unwrap_err();
        assert_eq!(
            e.body().details.as_ref().unwrap().request_fields[0].name,
            "grant_strings"
        );
    }
}
