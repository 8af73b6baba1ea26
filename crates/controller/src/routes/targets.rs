//! `/v1/targets`: tcp targets with a direct address, their brokered credentials, and
//! `:authorize-session` (in its own file).

use super::common::*;
use super::list_op::ListOp;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{ScopeKind, StoreError, TargetRecord};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ids;
use boundary_wire::api::target::{
    CreateTargetRequest, CredentialSourcesRequest, DEFAULT_SESSION_MAX_SECONDS, TCP_TARGET_TYPE,
    Target, TargetAlias, TcpTargetAttributes, UNLIMITED_CONNECTIONS, UpdateTargetRequest,
};
use boundary_wire::api::{ListResponse, split_action};
use serde::Deserialize;

/// Target ids are tcp (`ttcp_`) or ssh (`tssh_`).
const TARGET_PREFIXES: &[&str] = &[ids::TCP_TARGET, ids::SSH_TARGET];

const ACTIONS: &[&str] = &[
    "read",
    "update",
    "delete",
    "authorize-session",
    "add-credential-sources",
    "set-credential-sources",
    "remove-credential-sources",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/targets", get(list).post(create))
        .route(
            "/v1/targets/{id}",
            get(read).patch(update).delete(delete).post(action),
        )
}

pub fn res(t: &TargetRecord) -> Res<'_> {
    Res::item("target", &t.id, &t.scope_id)
}

async fn view(authz: &mut Authz, t: &TargetRecord) -> ApiResult<Target> {
    let aliases = authz.state.store.aliases_for_destination(&t.id).await?;
    view_with(authz, t, aliases).await
}

/// A target as read, with `aliases` pointing at it; a list leaves them out, as Boundary's
/// does (an alias change does not touch the target, so a refreshed list would show stale
/// ones).
async fn view_with(
    authz: &mut Authz,
    t: &TargetRecord,
    aliases: Vec<crate::store::AliasRecord>,
) -> ApiResult<Target> {
    let aliases = aliases
        .into_iter()
        .map(|a| TargetAlias {
            id: a.id,
            value: a.value,
            scope_id: a.scope_id,
        })
        .collect();
    Ok(Target {
        id: t.id.clone(),
        scope_id: t.scope_id.clone(),
        scope: Some(authz.scope_info(&t.scope_id).await?),
        name: t.name.clone(),
        description: t.description.clone(),
        created_time: t.created,
        updated_time: t.updated,
        version: t.version,
        kind: t.kind.clone(),
        host_source_ids: vec![],
        session_max_seconds: t.session_max_seconds,
        session_connection_limit: t.session_connection_limit,
        worker_filter: t.worker_filter.clone(),
        brokered_credential_source_ids: t.credential_source_ids.clone(),
        address: t.address.clone(),
        attributes: TcpTargetAttributes {
            default_port: t.default_port,
            default_client_port: t.default_client_port,
        },
        aliases,
        authorized_actions: authz.actions(ACTIONS, res(t)).await?,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<Target>>> {
    let list = ScopedList::from_query(&mut authz, q.as_deref(), "target").await?;
    let mut items = vec![];
    for scope in &list.scopes {
        for t in authz.state.store.list_targets(Some(scope)).await? {
            if authz.allows("list", res(&t)).await? {
                items.push(view_with(&mut authz, &t, vec![]).await?);
            }
        }
    }
    list.page(items, "targets")
}

/// Filter fields Boundary has and this controller does not implement.
#[derive(Deserialize)]
struct WorkerFilters {
    worker_filter: Option<String>,
    egress_worker_filter: Option<String>,
    ingress_worker_filter: Option<String>,
}

fn reject_worker_filters(body: &JsonBody) -> ApiResult<()> {
    let f: WorkerFilters = body.parse()?;
    for (name, value) in [
        ("worker_filter", f.worker_filter),
        ("egress_worker_filter", f.egress_worker_filter),
        ("ingress_worker_filter", f.ingress_worker_filter),
    ] {
        if value.is_some_and(|v| !v.trim().is_empty()) {
            return Err(ApiError::invalid_field(
                name,
                "Worker filters are not supported by this controller yet.",
            ));
        }
    }
    Ok(())
}

async fn create(mut authz: Authz, body: JsonBody) -> ApiResult<Json<Target>> {
    let req: CreateTargetRequest = body.parse()?;
    reject_worker_filters(&body)?;
    match req.kind.as_deref() {
        None | Some(TCP_TARGET_TYPE) => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "Only \"tcp\" targets are supported.",
            ));
        }
    }
    let scope_id = req
        .scope_id
        .clone()
        .ok_or_else(|| ApiError::invalid_field("scope_id", "This is a required field."))?;
    let scope = authz.scope_named_in(&scope_id, "scope_id").await?;
    if scope.kind != ScopeKind::Project {
        return Err(ApiError::invalid_field(
            "scope_id",
            "Targets live in a project scope.",
        ));
    }
    authz
        .check("create", Res::collection("target", &scope.id))
        .await?;
    let name = text(req.name.clone());
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "This is a required field."));
    }
    let attrs = req.attributes.clone().unwrap_or_default();
    let now = now();
    let record = TargetRecord {
        id: ids::new_public_id(ids::TCP_TARGET),
        scope_id: scope.id,
        kind: TCP_TARGET_TYPE.to_owned(),
        name,
        description: text(req.description),
        address: check_address(req.address.as_deref().unwrap_or(""))?,
        default_port: port("attributes.default_port", attrs.default_port)?,
        default_client_port: port("attributes.default_client_port", attrs.default_client_port)?,
        session_max_seconds: req
            .session_max_seconds
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_SESSION_MAX_SECONDS),
        session_connection_limit: connection_limit(req.session_connection_limit)?,
        worker_filter: String::new(),
        credential_source_ids: vec![],
        created: now,
        updated: now,
        version: 1,
    };
    let created = authz
        .state
        .store
        .create_target(&record)
        .await
        .map_err(name_clash)?;
    Ok(Json(view(&mut authz, &created).await?))
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<Target>> {
    let id = id_without_action(&seg, TARGET_PREFIXES)?;
    let t = authz.state.store.get_target(id).await?;
    authz.check("read", res(&t)).await?;
    Ok(Json(view(&mut authz, &t).await?))
}

async fn update(mut authz: Authz, Seg(seg): Seg, body: JsonBody) -> ApiResult<Json<Target>> {
    let (id, action) = split_action(&seg);
    no_action(action)?;
    let req: UpdateTargetRequest = body.parse()?;
    reject_worker_filters(&body)?;
    let mut t = authz
        .state
        .store
        .get_target(require_id(id, TARGET_PREFIXES)?)
        .await?;
    authz.check("update", res(&t)).await?;
    let version = require_version(req.version)?;
    if let Some(name) = req.name {
        t.name = text(name);
        if t.name.is_empty() {
            return Err(ApiError::invalid_field(
                "name",
                "A target must have a name.",
            ));
        }
    }
    if let Some(d) = req.description {
        t.description = text(d);
    }
    if let Some(a) = req.address {
        t.address = check_address(a.as_deref().unwrap_or(""))?;
    }
    if let Some(attrs) = req.attributes {
        if attrs.default_port.is_some() {
            t.default_port = port("attributes.default_port", attrs.default_port)?;
        }
        if attrs.default_client_port.is_some() {
            t.default_client_port =
                port("attributes.default_client_port", attrs.default_client_port)?;
        }
    }
    if let Some(s) = req.session_max_seconds {
        t.session_max_seconds = if s == 0 {
            DEFAULT_SESSION_MAX_SECONDS
        } else {
            s
        };
    }
    if req.session_connection_limit.is_some() {
        t.session_connection_limit = connection_limit(req.session_connection_limit)?;
    }
    t.updated = now();
    let updated = authz
        .state
        .store
        .update_target(&t, version)
        .await
        .map_err(stale_or("Target", &t.id, name_clash))?;
    Ok(Json(view(&mut authz, &updated).await?))
}

async fn delete(mut authz: Authz, Seg(seg): Seg) -> ApiResult<StatusCode> {
    let id = id_without_action(&seg, TARGET_PREFIXES)?;
    let t = authz.state.store.get_target(id).await?;
    authz.check("delete", res(&t)).await?;
    authz.state.store.delete_target(&t.id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn action(mut authz: Authz, Seg(seg): Seg, body: JsonBody) -> ApiResult<Response> {
    let (id, action) = split_action(&seg);
    let action = action.unwrap_or("");
    if action == "authorize-session" {
        let auth = super::authorize_session::authorize(&mut authz, id, &body).await?;
        return Ok(Json(auth).into_response());
    }
    let Some((op, "credential-sources")) = ListOp::parse(action) else {
        return Err(ApiError::unknown_action(action));
    };
    let req: CredentialSourcesRequest = body.parse()?;
    let mut t = authz
        .state
        .store
        .get_target(require_id(id, TARGET_PREFIXES)?)
        .await?;
    authz.check(action, res(&t)).await?;
    let version = require_version(req.version)?;
    let given = req.brokered_credential_source_ids;
    if op != ListOp::Remove {
        check_credential_sources(&authz, &t, &given).await?;
    }
    op.apply(&mut t.credential_source_ids, given);
    t.updated = now();
    let updated = authz
        .state
        .store
        .update_target(&t, version)
        .await
        .map_err(stale_or("Target", &t.id, ApiError::from))?;
    Ok(Json(view(&mut authz, &updated).await?).into_response())
}

async fn check_credential_sources(
    authz: &Authz,
    t: &TargetRecord,
    given: &[String],
) -> ApiResult<()> {
    const FIELD: &str = "brokered_credential_source_ids";
    if given.is_empty() {
        return Err(ApiError::invalid_field(
            FIELD,
            "Must contain at least one credential id.",
        ));
    }
    for id in given {
        if !ids::is_public_id(id, ids::USERNAME_PASSWORD_CREDENTIAL)
            && !ids::is_public_id(id, ids::SSH_PRIVATE_KEY_CREDENTIAL)
        {
            return Err(ApiError::invalid_field(
                FIELD,
                format!("{id:?} is not a static credential id."),
            ));
        }
        let cred = match authz.state.store.get_credential(id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid_field(
                    FIELD,
                    format!("Credential {id} does not exist."),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let store = authz
            .state
            .store
            .get_credential_store(&cred.store_id)
            .await?;
        if store.scope_id != t.scope_id {
            return Err(ApiError::invalid_field(
                FIELD,
                format!("Credential {id} is in another project than the target."),
            ));
        }
    }
    Ok(())
}

/// A host name or IP address without port or scheme (Boundary's rule for `address`).
fn check_address(address: &str) -> ApiResult<String> {
    let a = address.trim();
    if a.is_empty() || a.parse::<std::net::IpAddr>().is_ok() {
        return Ok(a.to_owned());
    }
    let host_like = a.len() < 254
        && a.split('.').all(|l| {
            !l.is_empty()
                && l.len() < 64
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !host_like {
        return Err(ApiError::invalid_field(
            "address",
            "Must be a host name or an IP address, without a port or scheme.",
        ));
    }
    Ok(a.to_owned())
}

/// 0 means unset (protobuf's default); above 65535 is an error.
fn port(name: &str, p: Option<u32>) -> ApiResult<Option<u32>> {
    match p {
        Some(0) | None => Ok(None),
        Some(p) if p > u32::from(u16::MAX) => Err(ApiError::invalid_field(
            name,
            "Must be a TCP port (1-65535).",
        )),
        Some(p) => Ok(Some(p)),
    }
}

fn connection_limit(v: Option<i32>) -> ApiResult<i32> {
    match v {
        None => Ok(UNLIMITED_CONNECTIONS),
        Some(n) if n == UNLIMITED_CONNECTIONS || n > 0 => Ok(n),
        Some(_) => Err(ApiError::invalid_field(
            "session_connection_limit",
            "Must be -1 (unlimited) or greater than 0.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_port_and_limit_rules() {
        assert_eq!(check_address(" 10.0.0.5 ").unwrap(), "10.0.0.5");
        assert_eq!(check_address("fd00::1").unwrap(), "fd00::1");
        assert_eq!(check_address("db.prod.example").unwrap(), "db.prod.example");
        for bad in ["10.0.0.5:22", "tcp://x", "a b", "[fd00::1]", "x..y"] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
        assert_eq!(port("p", Some(0)).unwrap(), None);
        assert!(port("p", Some(70000)).is_err());
        assert_eq!(connection_limit(None).unwrap(), -1);
        assert!(connection_limit(Some(0)).is_err());
        assert!(connection_limit(Some(-2)).is_err());
        assert_eq!(connection_limit(Some(3)).unwrap(), 3);
    }
}
