//! `/v1/accounts`: password accounts of a password auth method.

use super::common::*;
use crate::authz::{Authz, Res};
use crate::body::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::listing::{ListParams, paginate};
use crate::state::AppState;
use crate::store::{AccountRecord, StoreError};
use axum::extract::RawQuery;
use axum::routing::get;
use axum::{Json, Router};
use boundary_wire::api::ListResponse;
use boundary_wire::api::ids;
use boundary_wire::api::user::{
    Account, AccountAttributes, CreateAccountRequest, PASSWORD_ACCOUNT_TYPE,
};

const ACTIONS: &[&str] = &["read"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", get(list).post(create))
        .route("/v1/accounts/{id}", get(read))
}

fn res(a: &AccountRecord) -> Res<'_> {
    Res::item("account", &a.id, &a.scope_id).in_parent(&a.auth_method_id)
}

async fn view(authz: &mut Authz, a: &AccountRecord) -> ApiResult<Account> {
    Ok(Account {
        id: a.id.clone(),
        scope: Some(authz.scope_info(&a.scope_id).await?),
        name: a.name.clone(),
        description: a.description.clone(),
        created_time: a.created,
        updated_time: a.updated,
        version: a.version,
        kind: PASSWORD_ACCOUNT_TYPE.to_owned(),
        auth_method_id: a.auth_method_id.clone(),
        attributes: AccountAttributes {
            login_name: Some(a.login_name.clone()),
            password: None,
        },
        authorized_actions: authz.actions(ACTIONS, res(a)).await?,
    })
}

async fn list(mut authz: Authz, RawQuery(q): RawQuery) -> ApiResult<Json<ListResponse<Account>>> {
    let params = ListParams::from_query(q.as_deref())?;
    params.reject_filter()?;
    let am_id = params
        .get("auth_method_id")
        .ok_or_else(|| ApiError::invalid_field("auth_method_id", "This is a required field."))?
        .to_owned();
    let method = authz
        .state
        .store
        .get_auth_method(require_id(&am_id, &[ids::PASSWORD_AUTH_METHOD])?)
        .await?;
    if !authz
        .allows(
            "list",
            Res::collection("account", &method.scope_id).in_parent(&method.id),
        )
        .await?
    {
        return Err(authz.denied());
    }
    let mut items = vec![];
    for a in authz.state.store.list_accounts(&method.id).await? {
        if authz.allows("list", res(&a)).await? {
            items.push(view(&mut authz, &a).await?);
        }
    }
    Ok(Json(paginate(
        items,
        &params,
        &authz.list_key(&format!("accounts:{am_id}")),
    )?))
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateAccountRequest>,
) -> ApiResult<Json<Account>> {
    let am_id = req
        .auth_method_id
        .clone()
        .ok_or_else(|| ApiError::invalid_field("auth_method_id", "This is a required field."))?;
    require_id(&am_id, &[ids::PASSWORD_AUTH_METHOD])
        .map_err(|_| ApiError::invalid_field("auth_method_id", "Not a password auth method id."))?;
    let method = match authz.state.store.get_auth_method(&am_id).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => {
            return Err(ApiError::invalid_field(
                "auth_method_id",
                "Auth method not found.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    match req.kind.as_deref() {
        None | Some("") | Some(PASSWORD_ACCOUNT_TYPE) => {}
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "Only \"password\" accounts are supported.",
            ));
        }
    }
    authz
        .check(
            "create",
            Res::collection("account", &method.scope_id).in_parent(&method.id),
        )
        .await?;
    let attrs = req.attributes.unwrap_or_default();
    let login_name = attrs.login_name.unwrap_or_default().trim().to_owned();
    let mut errors = vec![];
    if let Err(why) = check_login_name(&login_name, method.min_login_name_length) {
        errors.push(("attributes.login_name".to_owned(), why));
    }
    let password = attrs.password.unwrap_or_default();
    if password.expose().chars().count() < method.min_password_length as usize {
        errors.push((
            "attributes.password".to_owned(),
            format!(
                "Password must be at least {} characters.",
                method.min_password_length
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let now = now();
    let record = AccountRecord {
        id: ids::new_public_id(ids::PASSWORD_ACCOUNT),
        auth_method_id: method.id.clone(),
        scope_id: method.scope_id.clone(),
        login_name,
        password_hash: authz.state.passwords.hash(password).await?,
        user_id: None,
        name: text(req.name),
        description: text(req.description),
        created: now,
        updated: now,
        version: 1,
    };
    let created = authz
        .state
        .store
        .create_account(&record)
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists(_) => ApiError::already_exists(
                "attributes.login_name",
                "This login name is already in use in the auth method.",
            ),
            other => other.into(),
        })?;
    Ok(Json(view(&mut authz, &created).await?))
}

/// Lower-case letters, digits, `.`, `-`, `_`, `@`; at least the method's minimum length.
pub fn check_login_name(name: &str, min_len: u32) -> Result<(), String> {
    if name.chars().count() < min_len as usize {
        return Err(format!("Login name must be at least {min_len} characters."));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '@'))
    {
        return Err(
            "Login name must be lower-case letters, digits, '.', '-', '_' or '@'.".to_owned(),
        );
    }
    Ok(())
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<Account>> {
    let id = id_without_action(&seg, &[ids::PASSWORD_ACCOUNT])?;
    let a = authz.state.store.get_account(id).await?;
    authz.check("read", res(&a)).await?;
    Ok(Json(view(&mut authz, &a).await?))
}

#[cfg(test)]
mod tests {
    use super::check_login_name;

    #[test]
    fn login_names() {
        assert!(check_login_name("admin", 3).is_ok());
        assert!(check_login_name("alice.smith@corp", 3).is_ok());
        assert!(check_login_name("ab", 3).is_err());
        assert!(check_login_name("Admin", 3).is_err());
        assert!(check_login_name("a b c", 3).is_err());
    }
}
