//! `/v1/auth-tokens`: read, list and delete (log out). Callers usually hold only
//! `read:self`/`delete:self`, which reach their own tokens.

use super::common::*;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::AuthTokenRecord;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ListResponse;
use boundary_wire::api::auth::AuthToken;
use boundary_wire::api::ids::{self};

const ACTIONS: &[&str] = &["read", "delete"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/auth-tokens", get(list))
        .route("/v1/auth-tokens/{id}", get(read).delete(delete))
}

fn res(t: &AuthTokenRecord) -> Res<'_> {
    Res::item("auth-token", &t.id, &t.scope_id).owned_by(&t.user_id)
}

/// The token resource; `token` (the bearer secret) is only filled in by `:authenticate`.
pub async fn view(authz: &mut Authz, t: &AuthTokenRecord) -> ApiResult<AuthToken> {
    Ok(AuthToken {
        id: t.id.clone(),
        scope_id: t.scope_id.clone(),
        scope: Some(authz.scope_info(&t.scope_id).await?),
        token: None,
        user_id: t.user_id.clone(),
        auth_method_id: t.auth_method_id.clone(),
        account_id: t.account_id.clone(),
        created_time: t.created,
        updated_time: t.updated,
        approximate_last_used_time: t.approximate_last_used,
        expiration_time: t.expiration,
        authorized_actions: authz.actions(ACTIONS, res(t)).await?,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<AuthToken>>> {
    let list = ScopedList::from_query(&mut authz, q.as_deref(), "auth-token").await?;
    let mut items = vec![];
    for t in authz.state.store.list_auth_tokens().await? {
        // Listing shows what the caller could also read (so `read:self` shows their own).
        if list.scopes.contains(&t.scope_id)
            && authz.allows("list", res(&t)).await?
            && authz.allows("read", res(&t)).await?
        {
            items.push(view(&mut authz, &t).await?);
        }
    }
    list.page(items, "auth-tokens")
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<AuthToken>> {
    let id = id_without_action(&seg, &[ids::AUTH_TOKEN])?;
    let t = authz.state.store.get_auth_token(id).await?;
    authz.check("read", res(&t)).await?;
    Ok(Json(view(&mut authz, &t).await?))
}

async fn delete(mut authz: Authz, Seg(seg): Seg) -> ApiResult<StatusCode> {
    let id = id_without_action(&seg, &[ids::AUTH_TOKEN])?;
    let t = authz.state.store.get_auth_token(id).await?;
    authz.check("delete", res(&t)).await?;
    authz.state.store.delete_auth_token(&t.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
