//! `/v1/credential-stores`: static credential stores in a project.

use super::common::*;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::body::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::listing::ListParams;
use crate::state::AppState;
use crate::store::{CredentialStoreRecord, ScopeKind};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ListResponse;
use boundary_wire::api::credential::{
    CreateCredentialStoreRequest, CredentialStore, STATIC_STORE_TYPE,
};
use boundary_wire::api::ids;

const ACTIONS: &[&str] = &["read", "delete"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/credential-stores", get(list).post(create))
        .route("/v1/credential-stores/{id}", get(read).delete(delete))
}

fn res(s: &CredentialStoreRecord) -> Res<'_> {
    Res::item("credential-store", &s.id, &s.scope_id)
}

async fn view(authz: &mut Authz, s: &CredentialStoreRecord) -> ApiResult<CredentialStore> {
    Ok(CredentialStore {
        id: s.id.clone(),
        scope_id: s.scope_id.clone(),
        scope: Some(authz.scope_info(&s.scope_id).await?),
        name: s.name.clone(),
        description: s.description.clone(),
        created_time: s.created,
        updated_time: s.updated,
        version: s.version,
        kind: STATIC_STORE_TYPE.to_owned(),
        authorized_actions: authz.actions(ACTIONS, res(s)).await?,
    })
}

async fn list(
    mut authz: Authz,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<CredentialStore>>> {
    let params = ListParams::from_query(q.as_deref())?;
    params.reject_filter()?;
    let root = params
        .scope_id
        .clone()
        .ok_or_else(|| ApiError::invalid_field("scope_id", "This is a required field."))?;
    let list = ScopedList::from_root(&mut authz, params, root, "credential-store").await?;
    let mut items = vec![];
    for scope in &list.scopes {
        for s in authz.state.store.list_credential_stores(scope).await? {
            if authz.allows("list", res(&s)).await? {
                items.push(view(&mut authz, &s).await?);
            }
        }
    }
    list.page(items, "credential-stores")
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateCredentialStoreRequest>,
) -> ApiResult<Json<CredentialStore>> {
    let scope_id = req
        .scope_id
        .clone()
        .ok_or_else(|| ApiError::invalid_field("scope_id", "This is a required field."))?;
    let scope = authz.scope_named_in(&scope_id, "scope_id").await?;
    if scope.kind != ScopeKind::Project {
        return Err(ApiError::invalid_field(
            "scope_id",
            "Credential stores live in a project scope.",
        ));
    }
    match req.kind.as_deref() {
        None | Some(STATIC_STORE_TYPE) => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "Only \"static\" credential stores are supported.",
            ));
        }
    }
    authz
        .check("create", Res::collection("credential-store", &scope.id))
        .await?;
    let now = now();
    let record = CredentialStoreRecord {
        id: ids::new_public_id(ids::STATIC_CREDENTIAL_STORE),
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
        .create_credential_store(&record)
        .await
        .map_err(name_clash)?;
    Ok(Json(view(&mut authz, &created).await?))
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<CredentialStore>> {
    let id = id_without_action(&seg, &[ids::STATIC_CREDENTIAL_STORE])?;
    let s = authz.state.store.get_credential_store(id).await?;
    authz.check("read", res(&s)).await?;
    Ok(Json(view(&mut authz, &s).await?))
}

async fn delete(mut authz: Authz, Seg(seg): Seg) -> ApiResult<StatusCode> {
    let id = id_without_action(&seg, &[ids::STATIC_CREDENTIAL_STORE])?;
    let s = authz.state.store.get_credential_store(id).await?;
    authz.check("delete", res(&s)).await?;
    authz.state.store.delete_credential_store(&s.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
