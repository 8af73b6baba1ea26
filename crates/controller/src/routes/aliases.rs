//! `/v1/aliases` (docs/wire-contract.md §1.4): global-scope aliases of targets.

use super::common::*;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::body::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{AliasRecord, StoreError};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ListResponse;
use boundary_wire::api::alias::{
    Alias, AliasAttributes, AuthorizeSessionArguments, CreateAliasRequest, TARGET_ALIAS_TYPE,
    UpdateAliasRequest, validate_alias_value,
};
use boundary_wire::api::ids::{self, GLOBAL_SCOPE};

const ACTIONS: &[&str] = &["read", "update", "delete"];
const HOST_ID_FIELD: &str = "attributes.authorize_session_arguments.host_id";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/aliases", get(list).post(create))
        .route("/v1/aliases/{id}", get(read).patch(update).delete(delete))
}

fn res(a: &AliasRecord) -> Res<'_> {
    Res::item("alias", &a.id, &a.scope_id)
}

async fn view(authz: &mut Authz, a: &AliasRecord) -> ApiResult<Alias> {
    Ok(Alias {
        id: a.id.clone(),
        scope_id: a.scope_id.clone(),
        scope: Some(authz.scope_info(&a.scope_id).await?),
        name: a.name.clone(),
        description: a.description.clone(),
        created_time: a.created,
        updated_time: a.updated,
        version: a.version,
        value: a.value.clone(),
        destination_id: a.destination_id.clone(),
        kind: TARGET_ALIAS_TYPE.to_owned(),
        attributes: a.host_id.as_ref().map(|h| AliasAttributes {
            authorize_session_arguments: Some(AuthorizeSessionArguments {
                host_id: Some(h.clone()),
            }),
        }),
        authorized_actions: authz.actions(ACTIONS, res(a)).await?,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<Alias>>> {
    let list = ScopedList::from_query(&mut authz, q.as_deref(), "alias").await?;
    let mut items = vec![];
    for a in authz.state.store.list_aliases().await? {
        if list.scopes.contains(&a.scope_id) && authz.allows("list", res(&a)).await? {
            items.push(view(&mut authz, &a).await?);
        }
    }
    list.page(items, "aliases")
}

fn check_value(value: Option<&str>) -> ApiResult<String> {
    let v = value.map(str::trim).unwrap_or_default();
    validate_alias_value(v).map_err(|e| ApiError::invalid_field("value", format!("{e}.")))?;
    Ok(v.to_owned())
}

async fn check_destination(authz: &Authz, dest: Option<String>) -> ApiResult<Option<String>> {
    let Some(d) = dest.filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if !ids::is_public_id(&d, ids::TCP_TARGET) && !ids::is_public_id(&d, ids::SSH_TARGET) {
        return Err(ApiError::invalid_field(
            "destination_id",
            "Must be a target id (ttcp_ or tssh_).",
        ));
    }
    match authz.state.store.get_target(&d).await {
        Ok(_) => Ok(Some(d)),
        Err(StoreError::NotFound) => Err(ApiError::invalid_field(
            "destination_id",
            "Target not found.",
        )),
        Err(e) => Err(e.into()),
    }
}

fn host_id_of(attrs: Option<AliasAttributes>) -> ApiResult<Option<String>> {
    let host = attrs
        .and_then(|a| a.authorize_session_arguments)
        .and_then(|a| a.host_id)
        .filter(|h| !h.is_empty());
    if let Some(h) = &host
        && !ids::is_public_id(h, ids::STATIC_HOST)
    {
        return Err(ApiError::invalid_field(
            HOST_ID_FIELD,
            "Must be a host id (hst_).",
        ));
    }
    Ok(host)
}

fn value_clash(e: StoreError) -> ApiError {
    match e {
        StoreError::AlreadyExists(_) => ApiError::already_exists(
            "value",
            "An alias with this value already exists (values are unique ignoring case).",
        ),
        other => other.into(),
    }
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateAliasRequest>,
) -> ApiResult<Json<Alias>> {
    let scope_id = req
        .scope_id
        .clone()
        .unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
    if scope_id != GLOBAL_SCOPE {
        return Err(ApiError::invalid_field(
            "scope_id",
            "Aliases live in the global scope.",
        ));
    }
    match req.kind.as_deref() {
        None | Some(TARGET_ALIAS_TYPE) => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "Only \"target\" aliases are supported.",
            ));
        }
    }
    authz
        .check("create", Res::collection("alias", GLOBAL_SCOPE))
        .await?;
    let value = check_value(req.value.as_deref())?;
    let destination_id = check_destination(&authz, req.destination_id).await?;
    let host_id = host_id_of(req.attributes)?;
    if host_id.is_some() && destination_id.is_none() {
        return Err(ApiError::invalid_field(
            HOST_ID_FIELD,
            "A host id needs a destination_id.",
        ));
    }
    let now = now();
    let record = AliasRecord {
        id: ids::new_public_id(ids::ALIAS),
        scope_id: GLOBAL_SCOPE.to_owned(),
        value,
        destination_id,
        host_id,
        name: text(req.name),
        description: text(req.description),
        created: now,
        updated: now,
        version: 1,
        change_seq: 0,
    };
    let created = authz
        .state
        .store
        .create_alias(&record)
        .await
        .map_err(value_clash)?;
    Ok(Json(view(&mut authz, &created).await?))
}

async fn load(authz: &Authz, seg: &str) -> ApiResult<AliasRecord> {
    let id = id_without_action(seg, &[ids::ALIAS])?;
    Ok(authz.state.store.get_alias(id).await?)
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<Alias>> {
    let a = load(&authz, &seg).await?;
    authz.check("read", res(&a)).await?;
    Ok(Json(view(&mut authz, &a).await?))
}

async fn update(
    mut authz: Authz,
    Seg(seg): Seg,
    ApiJson(req): ApiJson<UpdateAliasRequest>,
) -> ApiResult<Json<Alias>> {
    let mut a = load(&authz, &seg).await?;
    authz.check("update", res(&a)).await?;
    let version = require_version(req.version)?;
    if let Some(v) = req.value {
        a.value = check_value(Some(&v))?;
    }
    if let Some(d) = req.destination_id {
        a.destination_id = check_destination(&authz, d).await?;
        if a.destination_id.is_none() {
            a.host_id = None;
        }
    }
    if let Some(attrs) = req.attributes {
        a.host_id = host_id_of(attrs)?;
    }
    if a.host_id.is_some() && a.destination_id.is_none() {
        return Err(ApiError::invalid_field(
            HOST_ID_FIELD,
            "A host id needs a destination_id.",
        ));
    }
    if let Some(n) = req.name {
        a.name = text(n);
    }
    if let Some(d) = req.description {
        a.description = text(d);
    }
    a.updated = now();
    let updated = authz
        .state
        .store
        .update_alias(&a, version)
        .await
        .map_err(stale_or("Alias", &a.id, value_clash))?;
    Ok(Json(view(&mut authz, &updated).await?))
}

async fn delete(mut authz: Authz, Seg(seg): Seg) -> ApiResult<StatusCode> {
    let a = load(&authz, &seg).await?;
    authz.check("delete", res(&a)).await?;
    authz.state.store.delete_alias(&a.id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
