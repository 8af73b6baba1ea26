//! `/v1/users`: users, `:add-accounts`, and `:list-resolvable-aliases` (in its own file).

use super::common::*;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::body::{ApiJson, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::listing::ListParams;
use crate::state::AppState;
use crate::store::{ScopeKind, StoreError, UserRecord};
use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ids::{self, GLOBAL_SCOPE};
use boundary_wire::api::user::{CreateUserRequest, User, UserAccountsRequest};
use boundary_wire::api::{ListResponse, split_action};

const ACTIONS: &[&str] = &["read", "add-accounts", "list-resolvable-aliases"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(list).post(create))
        .route("/v1/users/{id}", get(read).post(action))
}

pub fn res(u: &UserRecord) -> Res<'_> {
    Res::item("user", &u.id, &u.scope_id)
}

async fn view(authz: &mut Authz, u: &UserRecord) -> ApiResult<User> {
    let account_ids = authz.state.store.user_account_ids(&u.id).await?;
    let login_name = match account_ids.first() {
        Some(a) => authz
            .state
            .store
            .get_account(a)
            .await
            .map(|a| a.login_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(User {
        id: u.id.clone(),
        scope_id: u.scope_id.clone(),
        scope: Some(authz.scope_info(&u.scope_id).await?),
        name: u.name.clone(),
        description: u.description.clone(),
        created_time: u.created,
        updated_time: u.updated,
        version: u.version,
        primary_account_id: account_ids.first().cloned().unwrap_or_default(),
        account_ids,
        login_name,
        authorized_actions: authz.actions(ACTIONS, res(u)).await?,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<User>>> {
    let list = ScopedList::from_query(&mut authz, q.as_deref(), "user").await?;
    let mut items = vec![];
    for scope in &list.scopes {
        for u in authz.state.store.list_users(scope).await? {
            if authz.allows("list", res(&u)).await? {
                items.push(view(&mut authz, &u).await?);
            }
        }
    }
    list.page(items, "users")
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<Json<User>> {
    let scope_id = req.scope_id.unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
    let scope = authz.scope_named_in(&scope_id, "scope_id").await?;
    if scope.kind == ScopeKind::Project {
        return Err(ApiError::invalid_field(
            "scope_id",
            "Users live in the global scope or an org.",
        ));
    }
    authz
        .check("create", Res::collection("user", &scope.id))
        .await?;
    let now = now();
    let record = UserRecord {
        id: ids::new_public_id(ids::USER),
        scope_id: scope.id,
        name: text(req.name),
        description: text(req.description),
        created: now,
        updated: now,
        version: 1,
    };
    let created = authz
        .state
        .store
        .create_user(&record)
        .await
        .map_err(name_clash)?;
    Ok(Json(view(&mut authz, &created).await?))
}

async fn read(mut authz: Authz, Seg(seg): Seg, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let (id, action) = split_action(&seg);
    let user = authz
        .state
        .store
        .get_user(require_id(id, &[ids::USER])?)
        .await?;
    match action {
        None => {
            authz.check("read", res(&user)).await?;
            Ok(Json(view(&mut authz, &user).await?).into_response())
        }
        Some("list-resolvable-aliases") => {
            let params = ListParams::from_query(q.as_deref())?;
            let list = super::resolvable_aliases::list(&mut authz, &user, &params).await?;
            Ok(Json(list).into_response())
        }
        Some(other) => Err(ApiError::unknown_action(other)),
    }
}

async fn action(mut authz: Authz, Seg(seg): Seg, body: JsonBody) -> ApiResult<Json<User>> {
    let (id, action) = split_action(&seg);
    match action {
        Some("add-accounts") => {}
        other => return Err(ApiError::unknown_action(other.unwrap_or(""))),
    }
    let req: UserAccountsRequest = body.parse()?;
    let user = authz
        .state
        .store
        .get_user(require_id(id, &[ids::USER])?)
        .await?;
    authz.check("add-accounts", res(&user)).await?;
    let version = require_version(req.version)?;
    if req.account_ids.is_empty() {
        return Err(ApiError::invalid_field(
            "account_ids",
            "Must contain at least one account id.",
        ));
    }
    for a in &req.account_ids {
        if !ids::is_public_id(a, ids::PASSWORD_ACCOUNT) {
            return Err(ApiError::invalid_field(
                "account_ids",
                format!("{a:?} is not an account id."),
            ));
        }
        match authz.state.store.get_account(a).await {
            Ok(acct) if acct.scope_id == user.scope_id => {}
            Ok(_) => {
                return Err(ApiError::invalid_field(
                    "account_ids",
                    format!("Account {a} is not in the user's scope."),
                ));
            }
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid_field(
                    "account_ids",
                    format!("Account {a} does not exist."),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let updated = authz
        .state
        .store
        .add_user_accounts(&user.id, version, &req.account_ids, now())
        .await
        .map_err(stale_or("User", &user.id, ApiError::from))?;
    Ok(Json(view(&mut authz, &updated).await?))
}
