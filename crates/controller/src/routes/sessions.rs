//! `/v1/sessions` (docs/wire-contract.md §1.6): list, read, `:cancel`. Users usually hold
//! `read:self`/`cancel:self`, which reach their own sessions.

use super::common::*;
use super::scoped_list::ScopedList;
use crate::authz::{Authz, Res};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::listing::{paginate, token_is_for};
use crate::state::AppState;
use crate::store::SessionRecord;
use axum::extract::RawQuery;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use boundary_wire::api::ids::{self};
use boundary_wire::api::session::{
    CancelSessionRequest, Session, SessionConnection, SessionState, reason, status,
};
use boundary_wire::api::{ListResponse, split_action};

const ACTIONS: &[&str] = &["read", "cancel"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sessions", get(list))
        .route("/v1/sessions/{id}", get(read).post(action))
}

fn res(s: &SessionRecord) -> Res<'_> {
    Res::item("session", &s.id, &s.scope_id).owned_by(&s.user_id)
}

/// A session as read (`with_connections`) or listed: Boundary's list leaves the
/// connections out.
async fn view(authz: &mut Authz, s: &SessionRecord, with_connections: bool) -> ApiResult<Session> {
    let store = authz.state.store.clone();
    let states = store
        .session_states(&s.id)
        .await?
        .into_iter()
        .rev()
        .map(|st| SessionState {
            status: st.status,
            start_time: st.start,
            end_time: st.end,
        })
        .collect();
    let connections = if with_connections {
        store.session_connections(&s.id).await?
    } else {
        vec![]
    };
    let connections = connections
        .into_iter()
        .map(|c| SessionConnection {
            client_tcp_address: c.client_tcp_address,
            client_tcp_port: c.client_tcp_port,
            endpoint_tcp_address: c.endpoint_tcp_address,
            endpoint_tcp_port: c.endpoint_tcp_port,
            bytes_up: c.bytes_up,
            bytes_down: c.bytes_down,
            closed_reason: c.closed_reason.unwrap_or_default(),
        })
        .collect();
    Ok(Session {
        id: s.id.clone(),
        target_id: s.target_id.clone(),
        scope: Some(authz.scope_info(&s.scope_id).await?),
        scope_id: s.scope_id.clone(),
        created_time: s.created,
        updated_time: s.updated,
        version: s.version,
        kind: s.kind.clone(),
        expiration_time: s.expiration,
        auth_token_id: s.auth_token_id.clone(),
        user_id: s.user_id.clone(),
        host_set_id: s.host_set_id.clone(),
        host_id: s.host_id.clone(),
        endpoint: s.endpoint.clone(),
        states,
        status: s.status.clone(),
        termination_reason: s.termination_reason.clone().unwrap_or_default(),
        certificate: BASE64.encode(&s.certificate),
        authorized_actions: authz.actions(ACTIONS, res(s)).await?,
        connections,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<Session>>> {
    let list = ScopedList::from_query(&mut authz, q.as_deref(), "session").await?;
    let key = |include_terminated: bool| format!("{}:{include_terminated}", list.key("sessions"));
    // Boundary's Go client leaves `include_terminated` out when it asks for the next page
    // of a listing (it sends only scope, recursive, page size and token): a token of a
    // listing with terminated sessions goes on including them.
    let include_terminated = match list.params.get("include_terminated") {
        Some(v) => matches!(v, "true" | "1"),
        None => token_is_for(&list.params, &key(true)),
    };
    let mut items = vec![];
    for s in authz.state.store.list_sessions(None).await? {
        if !list.scopes.contains(&s.scope_id)
            || (!include_terminated && s.status == status::TERMINATED)
        {
            continue;
        }
        // Listing shows what the caller could also read (so `read:self` shows their own).
        if authz.allows("list", res(&s)).await? && authz.allows("read", res(&s)).await? {
            items.push(view(&mut authz, &s, false).await?);
        }
    }
    Ok(Json(paginate(
        items,
        &list.params,
        &key(include_terminated),
    )?))
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<Session>> {
    let id = id_without_action(&seg, &[ids::SESSION])?;
    let s = authz.state.store.get_session(id).await?;
    authz.check("read", res(&s)).await?;
    Ok(Json(view(&mut authz, &s, true).await?))
}

async fn action(mut authz: Authz, Seg(seg): Seg, body: JsonBody) -> ApiResult<Json<Session>> {
    let (id, action) = split_action(&seg);
    match action {
        Some("cancel") => {}
        other => return Err(ApiError::unknown_action(other.unwrap_or(""))),
    }
    let req: CancelSessionRequest = body.parse()?;
    let s = authz
        .state
        .store
        .get_session(require_id(id, &[ids::SESSION])?)
        .await?;
    authz.check("cancel", res(&s)).await?;
    let version = require_version(req.version)?;
    let canceled = authz
        .state
        .store
        .cancel_session(&s.id, Some(version), reason::CANCELED, now())
        .await
        .map_err(stale_or("Session", &s.id, ApiError::from))?;
    Ok(Json(view(&mut authz, &canceled, true).await?))
}
