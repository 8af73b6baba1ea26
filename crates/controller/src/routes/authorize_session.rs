//! `POST /v1/targets/{id}:authorize-session` (docs/wire-contract.md §1.5, §2).
//!
//! `{id}` is a target id, a target name when the body has `scope_id`/`scope_name`, or an
//! alias value (an id without `_`). Checks, in order: unknown alias/target → 404; an alias
//! `host_id` that differs from the request's → 400; a caller without a token or with a
//! bad one → 401; no `authorize-session` grant → 403; a host id reaching a target that only has a
//! direct address → 400 naming `host_id`; no `default_port` → 400; no live worker → 400.
//!
//! The session starts `pending` with a fresh certificate; the private key is stored sealed
//! with the root key. The response carries the base58 token (certificate, key, workers,
//! `default_client_port`) and any brokered credentials.

use crate::auth::Caller;
use crate::authz::Authz;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::routes::common::{now, require_id};
use crate::routes::targets;
use crate::store::{ScopeKind, SessionRecord, StoreError, WorkerRecord};
use boundary_session_cert as session_cert;
use boundary_wire::api::ids::{self, GLOBAL_SCOPE};
use boundary_wire::api::session::{AuthorizeSessionRequest, SessionAuthorization, status};
use boundary_wire::api::target::TCP_TARGET_TYPE;
use boundary_wire::proto::{self, SessionAuthorizationData, WorkerInfo};
use rand::seq::SliceRandom;

const OP: &str = "targets.(Service).AuthorizeSession";

pub async fn authorize(
    authz: &mut Authz,
    id: &str,
    body: &JsonBody,
) -> ApiResult<SessionAuthorization> {
    let req: AuthorizeSessionRequest = body.parse()?;
    authorize_inner(authz, id, req)
        .await
        .map_err(|e| e.with_op(OP))
}

async fn authorize_inner(
    authz: &mut Authz,
    id: &str,
    req: AuthorizeSessionRequest,
) -> ApiResult<SessionAuthorization> {
    let store = authz.state.store.clone();
    let mut host_id = req.host_id.clone().filter(|h| !h.is_empty());
    let by_name = req.scope_id.as_deref().is_some_and(|s| !s.is_empty())
        || req.scope_name.as_deref().is_some_and(|s| !s.is_empty());
    let target = if by_name {
        let name = req
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| id.to_owned());
        let scope_id = project_for(authz, &req).await?;
        store.find_target_by_name(&scope_id, &name).await?
    } else if !id.contains('_') {
        let alias = store.find_alias_by_value(id).await?;
        if let Some(alias_host) = alias.host_id.filter(|h| !h.is_empty()) {
            if host_id.as_ref().is_some_and(|h| *h != alias_host) {
                return Err(ApiError::invalid_field(
                    "host_id",
                    "The alias names a different host id than the request.",
                ));
            }
            host_id = Some(alias_host);
        }
        let dest = alias.destination_id.ok_or_else(ApiError::not_found)?;
        store.get_target(&dest).await?
    } else {
        store
            .get_target(require_id(id, &[ids::TCP_TARGET, ids::SSH_TARGET])?)
            .await?
    };

    let token = match &authz.caller {
        // Boundary answers a caller without a token 401, like every other refusal of one.
        Caller::Anonymous | Caller::BadToken => return Err(ApiError::unauthenticated()),
        Caller::Authenticated(t) => (**t).clone(),
    };
    authz
        .check("authorize-session", targets::res(&target))
        .await?;

    if host_id.is_some() {
        return Err(ApiError::invalid_field(
            "host_id",
            "This target has a direct address and no host sources, so a host id cannot be used.",
        ));
    }
    let port = target
        .default_port
        .filter(|p| *p > 0)
        .ok_or_else(|| ApiError::precondition("Target does not have default port defined."))?;
    if target.address.is_empty() {
        return Err(ApiError::precondition(
            "Target has no address and no host sources.",
        ));
    }
    let mut workers = live_workers(authz).await?;
    if workers.is_empty() {
        return Err(ApiError::precondition(
            "No workers are available to handle this session.",
        ));
    }
    workers.shuffle(&mut rand::rng());
    // Recorded with the session: only these workers may later fetch its TLS material or
    // act on it (see `worker_api`).
    let offered_worker_ids: Vec<String> = workers.iter().map(|w| w.id.clone()).collect();
    let worker_addresses: Vec<String> = workers.into_iter().map(|w| w.address).collect();

    let now = now();
    let expiration = now + time::Duration::seconds(i64::from(target.session_max_seconds));
    let session_id = ids::new_public_id(ids::SESSION);
    let cert = session_cert::issue(&session_id, &worker_addresses, now, expiration)
        .map_err(|e| ApiError::internal("session certificate", e))?;
    let endpoint = endpoint(&target.address, port);
    let sealed_key = authz
        .state
        .root_key
        .seal(cert.private_key(), &session_id)
        .map_err(|e| ApiError::internal("sealing the session key", e))?;
    let record = SessionRecord {
        id: session_id.clone(),
        target_id: target.id.clone(),
        scope_id: target.scope_id.clone(),
        user_id: token.user_id.clone(),
        auth_token_id: token.id.clone(),
        host_id: String::new(),
        host_set_id: String::new(),
        kind: TCP_TARGET_TYPE.to_owned(),
        endpoint: endpoint.clone(),
        certificate: cert.der.clone(),
        encrypted_private_key: sealed_key,
        tofu_hash: None,
        offered_worker_ids,
        connection_limit: target.session_connection_limit,
        connections_used: 0,
        expiration,
        status: status::PENDING.to_owned(),
        termination_reason: None,
        created: now,
        updated: now,
        version: 1,
    };
    let session = store.create_session(&record).await?;
    tracing::info!(session_id = %session.id, target_id = %target.id, user_id = %token.user_id, "session authorized");
    let credentials = super::credentials::brokered_for(authz, &target).await?;
    let scope = authz.scope_info(&target.scope_id).await?;
    let (der, private_key) = cert.into_parts();
    let data = SessionAuthorizationData {
        session_id: session.id.clone(),
        target_id: target.id.clone(),
        scope: Some(proto::ScopeInfo {
            id: scope.id.clone(),
            r#type: scope.kind.clone(),
            name: scope.name.clone(),
            description: scope.description.clone(),
            parent_scope_id: scope.parent_scope_id.clone(),
        }),
        created_time: Some(proto::to_timestamp(session.created)),
        r#type: TCP_TARGET_TYPE.to_owned(),
        connection_limit: session.connection_limit,
        endpoint_port: port,
        expiration: Some(proto::to_timestamp(session.expiration)),
        certificate: der,
        private_key,
        host_id: String::new(),
        endpoint: endpoint.clone(),
        worker_info: worker_addresses
            .into_iter()
            .map(|address| WorkerInfo { address })
            .collect(),
        default_client_port: target.default_client_port.unwrap_or(0),
    };
    Ok(SessionAuthorization {
        session_id: session.id,
        target_id: target.id.clone(),
        scope,
        created_time: session.created,
        user_id: token.user_id,
        host_id: String::new(),
        host_set_id: String::new(),
        kind: TCP_TARGET_TYPE.to_owned(),
        authorization_token: proto::encode_authorization_token(&data).into(),
        connection_limit: session.connection_limit,
        endpoint,
        endpoint_port: port,
        expiration: session.expiration,
        credentials,
    })
}

/// Workers that heartbeated within the last three intervals.
pub async fn live_workers(authz: &Authz) -> ApiResult<Vec<WorkerRecord>> {
    let window = authz.state.heartbeat_interval * 3;
    let since = now() - time::Duration::try_from(window).unwrap_or(time::Duration::seconds(30));
    Ok(authz.state.store.live_workers(since).await?)
}

/// `tcp://host:port`, with brackets around an IPv6 address.
pub fn endpoint(address: &str, port: u32) -> String {
    if address.contains(':') {
        format!("tcp://[{address}]:{port}")
    } else {
        format!("tcp://{address}:{port}")
    }
}

/// The project named by `scope_id` or `scope_name` (names are searched under every org).
async fn project_for(authz: &mut Authz, req: &AuthorizeSessionRequest) -> ApiResult<String> {
    if let Some(id) = req.scope_id.as_deref().filter(|s| !s.is_empty()) {
        let scope = authz.scope(id).await?;
        if scope.kind != ScopeKind::Project {
            return Err(ApiError::invalid_field(
                "scope_id",
                "Targets live in a project scope.",
            ));
        }
        return Ok(scope.id);
    }
    let name = req.scope_name.as_deref().unwrap_or_default();
    let mut found = vec![];
    for org in authz.state.store.list_scopes(GLOBAL_SCOPE).await? {
        for p in authz.state.store.list_scopes(&org.id).await? {
            if p.name == name {
                found.push(p.id);
            }
        }
    }
    match found.len() {
        0 => Err(StoreError::NotFound.into()),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::invalid_field(
            "scope_name",
            "Several projects have this name; use scope_id.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("127.0.0.1", 22), "tcp://127.0.0.1:22");
        assert_eq!(endpoint("fd00::1", 22), "tcp://[fd00::1]:22");
        assert_eq!(endpoint("db.example", 5432), "tcp://db.example:5432");
    }
}
