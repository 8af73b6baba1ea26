//! `/v1/roles`: grants, grant scopes and principals.

use super::common::*;
use crate::api::ids::{self, ANONYMOUS_USER, AUTHENTICATED_USER, GLOBAL_SCOPE};
use crate::api::role::{CreateRoleRequest, Grant, GrantJson, Principal, Role};
use crate::api::{ListResponse, alias::double_option, split_action};
use crate::controller::authz::{Authz, Res};
use crate::controller::body::{ApiJson, JsonBody};
use crate::controller::error::{ApiError, ApiResult};
use crate::controller::grants::parse_grant;
use crate::controller::listing::{ListParams, Listed, micros, paginate};
use crate::controller::state::AppState;
use crate::controller::store::{RoleRecord, ScopeKind, StoreError};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
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

impl Listed for Role {
    fn created_micros(&self) -> i64 {
        micros(self.created_time)
    }
    fn list_id(&self) -> &str {
        &self.id
    }
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
    let params = ListParams::from_query(q.as_deref())?;
    params.reject_filter()?;
    let root = params
        .scope_id
        .clone()
        .unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
    let scopes = scopes_under(&mut authz, &root, params.recursive).await?;
    let allowed = listable_scopes(&mut authz, "role", scopes).await?;
    let mut items = vec![];
    for r in authz.state.store.list_roles().await? {
        if allowed.contains(&r.scope_id) && authz.allows("list", res(&r)).await? {
            items.push(view(&mut authz, &r).await?);
        }
    }
    let key = format!("roles:{root}:{}", params.recursive);
    Ok(Json(paginate(items, &params, &key)?))
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
    let (id, action) = split_action(&seg);
    no_action(action)?;
    let r = authz
        .state
        .store
        .get_role(require_id(id, &[ids::ROLE])?)
        .await?;
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
    let (id, action) = split_action(&seg);
    no_action(action)?;
    let mut r = authz
        .state
        .store
        .get_role(require_id(id, &[ids::ROLE])?)
        .await?;
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
        .map_err(name_clash)?;
    Ok(Json(view(&mut authz, &updated).await?))
}

async fn delete(mut authz: Authz, Seg(seg): Seg) -> ApiResult<StatusCode> {
    let (id, action) = split_action(&seg);
    no_action(action)?;
    let r = authz
        .state
        .store
        .get_role(require_id(id, &[ids::ROLE])?)
        .await?;
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

#[derive(Clone, Copy)]
enum Op {
    Add,
    Set,
    Remove,
}

async fn action(mut authz: Authz, Seg(seg): Seg, body: JsonBody) -> ApiResult<Json<Role>> {
    let (id, action) = split_action(&seg);
    let action = action.unwrap_or("");
    let (op, what) = match action.split_once('-') {
        Some(("add", w)) => (Op::Add, w),
        Some(("set", w)) => (Op::Set, w),
        Some(("remove", w)) => (Op::Remove, w),
        _ => return Err(ApiError::unknown_action(action)),
    };
    if !matches!(what, "principals" | "grants" | "grant-scopes") {
        return Err(ApiError::unknown_action(action));
    }
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
            if !matches!(op, Op::Remove) {
                check_principals(&authz, &req.principal_ids).await?;
            }
            apply(&mut r.principal_ids, req.principal_ids, op);
        }
        "grants" => {
            if !matches!(op, Op::Remove) {
                check_grants(&req.grant_strings)?;
            }
            apply(&mut r.grant_strings, req.grant_strings, op);
        }
        _ => {
            if !matches!(op, Op::Remove) {
                check_grant_scopes(&mut authz, &r.scope_id.clone(), &req.grant_scope_ids).await?;
            }
            apply(&mut r.grant_scope_ids, req.grant_scope_ids, op);
        }
    }
    r.updated = now();
    let updated = authz.state.store.update_role(&r, version).await?;
    Ok(Json(view(&mut authz, &updated).await?))
}

/// Applies add/set/remove keeping order and without duplicates.
fn apply(list: &mut Vec<String>, given: Vec<String>, op: Op) {
    match op {
        Op::Add => {
            for g in given {
                if !list.contains(&g) {
                    list.push(g);
                }
            }
        }
        Op::Set => {
            list.clear();
            apply(list, given, Op::Add);
        }
        Op::Remove => list.retain(|x| !given.contains(x)),
    }
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

fn name_clash(e: StoreError) -> ApiError {
    match e {
        StoreError::AlreadyExists(w) => {
            ApiError::already_exists("name", format!("{w} already exists."))
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_set_remove_keep_order_without_duplicates() {
        let mut l = vec!["a".to_owned(), "b".to_owned()];
        apply(&mut l, vec!["b".into(), "c".into()], Op::Add);
        assert_eq!(l, ["a", "b", "c"]);
        apply(&mut l, vec!["a".into()], Op::Remove);
        assert_eq!(l, ["b", "c"]);
        apply(&mut l, vec!["x".into(), "x".into()], Op::Set);
        assert_eq!(l, ["x"]);
    }

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
