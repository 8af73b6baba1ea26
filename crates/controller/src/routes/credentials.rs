//! `/v1/credentials`: static credentials (`username_password`, `ssh_private_key`), stored
//! sealed with the root key, shown with HMACs instead of secrets, and brokered into
//! authorize-session responses (docs/wire-contract.md §1.8).

use super::common::*;
use crate::authz::{Authz, Res};
use crate::body::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::listing::{ListParams, paginate};
use crate::state::AppState;
use crate::store::{CredentialRecord, CredentialStoreRecord, StoreError, TargetRecord};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use boundary_wire::api::credential::{
    CreateCredentialRequest, Credential, CredentialSource, SSH_PRIVATE_KEY, STATIC_STORE_TYPE,
    SessionCredential, SessionSecret, USERNAME_PASSWORD,
};
use boundary_wire::api::{ListResponse, ids};
use serde_json::{Map, Value};

const ACTIONS: &[&str] = &["read", "delete"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/credentials", get(list).post(create))
        .route("/v1/credentials/{id}", get(read).delete(delete))
}

fn res<'a>(c: &'a CredentialRecord, store: &'a CredentialStoreRecord) -> Res<'a> {
    Res::item("credential", &c.id, &store.scope_id).in_parent(&store.id)
}

/// The secret fields of a credential type, in the order Boundary shows them.
fn secret_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        USERNAME_PASSWORD => &["password"],
        _ => &["private_key", "private_key_passphrase"],
    }
}

/// The typed credential (username plus secrets) as sealed at rest.
fn open(authz: &Authz, c: &CredentialRecord) -> ApiResult<Map<String, Value>> {
    let plain = authz
        .state
        .root_key
        .open(&c.encrypted_secret, &c.id)
        .map_err(|e| ApiError::internal("opening a credential secret", e))?;
    serde_json::from_slice(&plain)
        .map_err(|e| ApiError::internal("credential secret is not JSON", e))
}

async fn view(
    authz: &mut Authz,
    c: &CredentialRecord,
    store: &CredentialStoreRecord,
) -> ApiResult<Credential> {
    let secret = open(authz, c)?;
    let mut attributes = Map::new();
    attributes.insert("username".into(), Value::String(c.username.clone()));
    for field in secret_fields(&c.kind) {
        if let Some(Value::String(v)) = secret.get(*field) {
            attributes.insert(
                format!("{field}_hmac"),
                Value::String(authz.state.root_key.hmac_hex(v.as_bytes())),
            );
        }
    }
    Ok(Credential {
        id: c.id.clone(),
        credential_store_id: c.store_id.clone(),
        scope: Some(authz.scope_info(&store.scope_id).await?),
        name: c.name.clone(),
        description: c.description.clone(),
        created_time: c.created,
        updated_time: c.updated,
        version: c.version,
        kind: c.kind.clone(),
        attributes: Value::Object(attributes),
        authorized_actions: authz.actions(ACTIONS, res(c, store)).await?,
    })
}

async fn store_named_in_body(authz: &Authz, id: Option<&str>) -> ApiResult<CredentialStoreRecord> {
    const FIELD: &str = "credential_store_id";
    let id = id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_field(FIELD, "This is a required field."))?;
    if !ids::is_public_id(id, ids::STATIC_CREDENTIAL_STORE) {
        return Err(ApiError::invalid_field(
            FIELD,
            "Not a static credential store id.",
        ));
    }
    match authz.state.store.get_credential_store(id).await {
        Ok(s) => Ok(s),
        Err(StoreError::NotFound) => Err(ApiError::invalid_field(
            FIELD,
            "Credential store not found.",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn list(
    mut authz: Authz,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<Credential>>> {
    let params = ListParams::from_query(q.as_deref())?;
    params.reject_filter()?;
    let store = store_named_in_body(&authz, params.get("credential_store_id")).await?;
    if !authz
        .allows(
            "list",
            Res::collection("credential", &store.scope_id).in_parent(&store.id),
        )
        .await?
    {
        return Err(authz.denied());
    }
    let mut items = vec![];
    for c in authz.state.store.list_credentials(&store.id).await? {
        if authz.allows("list", res(&c, &store)).await? {
            items.push(view(&mut authz, &c, &store).await?);
        }
    }
    Ok(Json(paginate(
        items,
        &params,
        &authz.list_key(&format!("credentials:{}", store.id)),
    )?))
}

async fn create(
    mut authz: Authz,
    ApiJson(req): ApiJson<CreateCredentialRequest>,
) -> ApiResult<Json<Credential>> {
    let store = store_named_in_body(&authz, req.credential_store_id.as_deref()).await?;
    let (kind, prefix) = match req.kind.as_deref() {
        Some(USERNAME_PASSWORD) => (USERNAME_PASSWORD, ids::USERNAME_PASSWORD_CREDENTIAL),
        Some(SSH_PRIVATE_KEY) => (SSH_PRIVATE_KEY, ids::SSH_PRIVATE_KEY_CREDENTIAL),
        _ => {
            return Err(ApiError::invalid_field(
                "type",
                "Must be \"username_password\" or \"ssh_private_key\".",
            ));
        }
    };
    authz
        .check(
            "create",
            Res::collection("credential", &store.scope_id).in_parent(&store.id),
        )
        .await?;
    let attrs = match req.attributes {
        Some(Value::Object(m)) => m,
        None => Map::new(),
        Some(_) => return Err(ApiError::invalid_field("attributes", "Must be an object.")),
    };
    let secret = typed_secret(kind, &attrs)?;
    let id = ids::new_public_id(prefix);
    let plain =
        serde_json::to_vec(&secret).map_err(|e| ApiError::internal("encoding a credential", e))?;
    let encrypted_secret = authz
        .state
        .root_key
        .seal(&plain, &id)
        .map_err(|e| ApiError::internal("sealing a credential", e))?;
    let now = now();
    let record = CredentialRecord {
        id,
        store_id: store.id.clone(),
        kind: kind.to_owned(),
        name: text(req.name),
        description: text(req.description),
        username: secret
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        secret_hmac: authz.state.root_key.hmac_hex(&plain),
        encrypted_secret,
        created: now,
        updated: now,
        version: 1,
    };
    let created = authz
        .state
        .store
        .create_credential(&record)
        .await
        .map_err(name_clash)?;
    Ok(Json(view(&mut authz, &created, &store).await?))
}

/// Checks the attributes of a type and returns the typed credential (§1.8 shapes).
fn typed_secret(kind: &str, attrs: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let field = |name: &str| -> ApiResult<Option<String>> {
        match attrs.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_field(
                &format!("attributes.{name}"),
                "Must be a string.",
            )),
        }
    };
    let required = |name: &str| -> ApiResult<String> {
        field(name)?.ok_or_else(|| {
            ApiError::invalid_field(&format!("attributes.{name}"), "This is a required field.")
        })
    };
    let mut out = Map::new();
    out.insert("username".into(), Value::String(required("username")?));
    if kind == USERNAME_PASSWORD {
        out.insert("password".into(), Value::String(required("password")?));
    } else {
        let key = required("private_key")?;
        if !(key.contains("-----BEGIN") && key.contains("PRIVATE KEY-----")) {
            return Err(ApiError::invalid_field(
                "attributes.private_key",
                "Must be a PEM-encoded private key.",
            ));
        }
        out.insert("private_key".into(), Value::String(key));
        if let Some(p) = field("private_key_passphrase")? {
            out.insert("private_key_passphrase".into(), Value::String(p));
        }
    }
    Ok(out)
}

/// The credential a path segment (without action) names, and its store.
async fn load(authz: &Authz, seg: &str) -> ApiResult<(CredentialRecord, CredentialStoreRecord)> {
    let id = id_without_action(
        seg,
        &[
            ids::USERNAME_PASSWORD_CREDENTIAL,
            ids::SSH_PRIVATE_KEY_CREDENTIAL,
        ],
    )?;
    let c = authz.state.store.get_credential(id).await?;
    let s = authz.state.store.get_credential_store(&c.store_id).await?;
    Ok((c, s))
}

async fn read(mut authz: Authz, Seg(seg): Seg) -> ApiResult<Json<Credential>> {
    let (c, s) = load(&authz, &seg).await?;
    authz.check("read", res(&c, &s)).await?;
    Ok(Json(view(&mut authz, &c, &s).await?))
}

async fn delete(mut authz: Authz, Seg(seg): Seg) -> ApiResult<StatusCode> {
    let (c, s) = load(&authz, &seg).await?;
    authz.check("delete", res(&c, &s)).await?;
    authz.state.store.delete_credential(&c.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The credentials a target brokers into a new session. One deleted meanwhile is skipped.
pub async fn brokered_for(
    authz: &Authz,
    target: &TargetRecord,
) -> ApiResult<Vec<SessionCredential>> {
    let mut out = vec![];
    for id in &target.credential_source_ids {
        let c = match authz.state.store.get_credential(id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let typed = Value::Object(open(authz, &c)?);
        let raw = base64::engine::general_purpose::STANDARD.encode(typed.to_string());
        out.push(SessionCredential {
            credential_source: CredentialSource {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                credential_store_id: c.store_id.clone(),
                kind: STATIC_STORE_TYPE.to_owned(),
                credential_type: c.kind.clone(),
            },
            secret: Some(SessionSecret {
                raw,
                decoded: Some(typed.clone()),
            }),
            credential: Some(typed),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_secrets_check_their_fields() {
        let up = typed_secret(
            USERNAME_PASSWORD,
            json!({"username": "u", "password": "p"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(Value::Object(up), json!({"username": "u", "password": "p"}));
        let e = typed_secret(
            USERNAME_PASSWORD,
            json!({"username": "u"}).as_object().unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            e.body().details.as_ref().unwrap().request_fields[0].name,
            "attributes.password"
        );
        let e = typed_secret(
            USERNAME_PASSWORD,
            json!({"username": 3, "password": "p"}).as_object().unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            e.body().details.as_ref().unwrap().request_fields[0].name,
            "attributes.username"
        );
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
        let spk = typed_secret(
            SSH_PRIVATE_KEY,
            json!({"username": "u", "private_key": key})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert!(spk.get("private_key_passphrase").is_none());
        assert!(
            typed_secret(
                SSH_PRIVATE_KEY,
                json!({"username": "u", "private_key": "nope"})
                    .as_object()
                    .unwrap()
            )
            .is_err()
        );
    }
}
