//! `/v1/auth-methods`: password auth methods and `:authenticate` (docs/wire-contract.md §1.1).

use super::common::*;
use super::scoped_list::ScopedList;
use crate::auth::{TOKEN_TIME_TO_LIVE, hash_token_secret};
use crate::authz::{Authz, Res};
use crate::body::{ApiJson, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{
    AccountRecord, AuthMethodRecord, AuthTokenRecord, ScopeKind, StoreError, UserRecord,
};
use axum::extract::RawQuery;
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::auth::{AuthMethod, AuthenticateRequest, AuthenticateResponse};
use boundary_wire::api::ids::{self, AuthTokenString, GLOBAL_SCOPE};
use boundary_wire::api::{ListResponse, split_action};
use serde::Deserialize;

const ACTIONS: &[&str] = &["read", "authenticate"];
pub const PASSWORD_TYPE: &str = "password";
const DEFAULT_MIN_LOGIN_NAME_LENGTH: u32 = 3;
const DEFAULT_MIN_PASSWORD_LENGTH: u32 = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/auth-methods", get(list).post(create))
        .route("/v1/auth-methods/{id}", get(read).post(action))
}

fn res(m: &AuthMethodRecord) -> Res<'_> {
    Res::item("auth-method", &m.id, &m.scope_id)
}

async fn view(authz: &mut Authz, m: &AuthMethodRecord) -> ApiResult<AuthMethod> {
    let scope = authz.scope(&m.scope_id).await?;
    Ok(AuthMethod {
        id: m.id.clone(),
        scope_id: m.scope_id.clone(),
        scope: Some(crate::authz::scope_info(&scope)),
        name: m.name.clone(),
        description: m.description.clone(),
        created_time: Some(m.created),
        updated_time: Some(m.updated),
        version: m.version,
        kind: PASSWORD_TYPE.to_owned(),
        attributes: Some(serde_json::json!({
            "min_login_name_length": m.min_login_name_length,
            "min_password_length": m.min_password_length,
        })),
        is_primary: scope.primary_auth_method_id.as_deref() == Some(m.id.as_str()),
        authorized_actions: authz.actions(ACTIONS, res(m)).await?,
    })
}

async fn list(
    mut authz: Authz,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<AuthMethod>>> {
    let list = ScopedList::from_query(&mut authz, q.as_deref(), "auth-method").await?;
    let mut items = vec![];
    for scope in &list.scopes {
        for m in authz.state.store.list_auth_methods(scope).await? {
            if authz.allows("list", res(&m)).await? {
                items.push(view(&mut authz, &m).await?);
            }
        }
    }
    list.page(items, "auth-methods")
}

#[derive(Deserialize)]
struct CreateAuthMethodRequest {
    scope_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    attributes: PasswordAttributes,
}

#[derive(Default, Deserialize)]
struct PasswordAttributes {
    min_login_name_length: Option<u32>,
    min_password_length: Option<u32>,
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateAuthMethodRequest>,
) -> ApiResult<Json<AuthMethod>> {
    let scope_id = req.scope_id.unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
    let scope = authz.scope_named_in(&scope_id, "scope_id").await?;
    if scope.kind == ScopeKind::Project {
        return Err(ApiError::invalid_field(
            "scope_id",
            "Auth methods live in the global scope or an org.",
        ));
    }
    match req.kind.as_deref() {
        Some(PASSWORD_TYPE) => {}
        _ => {
            return Err(ApiError::invalid_field(
                "type",
                "Only \"password\" auth methods are supported.",
            ));
        }
    }
    authz
        .check("create", Res::collection("auth-method", &scope.id))
        .await?;
    let now = now();
    let record = AuthMethodRecord {
        id: ids::new_public_id(ids::PASSWORD_AUTH_METHOD),
        scope_id: scope.id,
        name: text(req.name),
        description: text(req.description),
        min_login_name_length: positive(
            "attributes.min_login_name_length",
            req.attributes.min_login_name_length,
        )?
        .unwrap_or(DEFAULT_MIN_LOGIN_NAME_LENGTH),
        min_password_length: positive(
            "attributes.min_password_length",
            req.attributes.min_password_length,
        )?
        .unwrap_or(DEFAULT_MIN_PASSWORD_LENGTH),
        created: now,
        updated: now,
        version: 1,
    };
    let created = authz.state.store.create_auth_method(&record).await?;
    Ok(Json(view(&mut authz, &created).await?))
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<AuthMethod>> {
    let id = id_without_action(&seg, &[ids::PASSWORD_AUTH_METHOD])?;
    let m = authz.state.store.get_auth_method(id).await?;
    authz.check("read", res(&m)).await?;
    Ok(Json(view(&mut authz, &m).await?))
}

async fn action(
    mut authz: Authz,
    Seg(seg): Seg,
    body: JsonBody,
) -> ApiResult<Json<AuthenticateResponse>> {
    let (id, action) = split_action(&seg);
    match action {
        Some("authenticate") => {}
        other => return Err(ApiError::unknown_action(other.unwrap_or(""))),
    }
    let req: AuthenticateRequest = body.parse()?;
    let method = authz
        .state
        .store
        .get_auth_method(require_id(id, &[ids::PASSWORD_AUTH_METHOD])?)
        .await?;
    authz.check("authenticate", res(&method)).await?;
    authenticate(&mut authz, &method, req)
        .await
        .map(Json)
        .map_err(|e| e.with_op("authmethod_service.(Service).Authenticate"))
}

async fn authenticate(
    authz: &mut Authz,
    method: &AuthMethodRecord,
    req: AuthenticateRequest,
) -> ApiResult<AuthenticateResponse> {
    match req.command.as_deref() {
        None | Some("") | Some("login") => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "command",
                "Only \"login\" is supported for password auth methods.",
            ));
        }
    }
    match req.kind.as_deref() {
        None | Some("") | Some("token") => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "Only \"token\" is supported.",
            ));
        }
    }
    let attrs = req.attributes.unwrap_or_default();
    let mut missing = vec![];
    if attrs.login_name.as_deref().is_none_or(str::is_empty) {
        missing.push((
            "attributes.login_name".to_owned(),
            "This is a required field.".to_owned(),
        ));
    }
    if attrs.password.as_ref().is_none_or(|p| p.is_empty()) {
        missing.push((
            "attributes.password".to_owned(),
            "This is a required field.".to_owned(),
        ));
    }
    let (Some(login_name), Some(password)) = (attrs.login_name, attrs.password) else {
        return Err(ApiError::invalid_fields(missing));
    };
    if !missing.is_empty() {
        return Err(ApiError::invalid_fields(missing));
    }
    let store = authz.state.store.clone();
    let passwords = &authz.state.passwords;
    let account = match store.find_account(&method.id, &login_name).await {
        Ok(a) => a,
        Err(StoreError::NotFound) => {
            // Spend the same time as a real check, so unknown names are not distinguishable.
            let dummy = DUMMY_HASH
                .get_or_try_init(|| passwords.hash(ids::random_base62(20).into()))
                .await?;
            let _ = passwords.verify(password, dummy.clone()).await?;
            return Err(ApiError::authentication_failed());
        }
        Err(e) => return Err(e.into()),
    };
    if !passwords
        .verify(password, account.password_hash.clone())
        .await?
    {
        return Err(ApiError::authentication_failed());
    }
    let user_id = user_for(authz, &account).await?;
    let now = now();
    let token = AuthTokenString::generate();
    let record = AuthTokenRecord {
        id: token.id.clone(),
        secret_hash: hash_token_secret(token.secret()),
        scope_id: method.scope_id.clone(),
        user_id,
        auth_method_id: method.id.clone(),
        account_id: account.id.clone(),
        created: now,
        updated: now,
        approximate_last_used: now,
        expiration: now + TOKEN_TIME_TO_LIVE,
    };
    let stored = store.create_auth_token(&record).await?;
    // The caller is now this user, for `authorized_actions`.
    let mut as_user = Authz::load(
        authz.state.clone(),
        crate::auth::Caller::Authenticated(Box::new(stored.clone())),
    )
    .await?;
    let mut item = super::auth_tokens::view(&mut as_user, &stored).await?;
    item.token = Some(token.to_token_string().into());
    Ok(AuthenticateResponse {
        command: "login".to_owned(),
        kind: "token".to_owned(),
        attributes: item,
    })
}

/// The account's user, creating one on first login when the account has none (Boundary
/// does the same).
async fn user_for(authz: &Authz, account: &AccountRecord) -> ApiResult<String> {
    if let Some(u) = &account.user_id {
        return Ok(u.clone());
    }
    let store = &authz.state.store;
    let now = now();
    let user = UserRecord {
        id: ids::new_public_id(ids::USER),
        scope_id: account.scope_id.clone(),
        name: String::new(),
        description: String::new(),
        created: now,
        updated: now,
        version: 1,
    };
    let user = store.create_user(&user).await?;
    match store
        .add_user_accounts(
            &user.id,
            user.version,
            std::slice::from_ref(&account.id),
            now,
        )
        .await
    {
        Ok(_) => Ok(user.id),
        // A concurrent login linked it first: use that user.
        Err(StoreError::Precondition(_)) => store
            .get_account(&account.id)
            .await?
            .user_id
            .ok_or_else(|| ApiError::internal("login", "account has no user after linking")),
        Err(e) => Err(e.into()),
    }
}

/// The hash of a random string, checked against when the login name is unknown.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
