//! `boundary dev`'s demo data, with Boundary's well-known dev ids: org `o_1234567890`,
//! project `p_1234567890`, password auth method `ampw_1234567890` with login
//! `admin`/`password`, tcp target `ttcp_1234567890` and the alias `localhost.boundary.dev`.

use crate::bootstrap::{BootstrapError, InitialAdmin, ensure_initialized};
use crate::store::{AliasRecord, ScopeKind, ScopeRecord, Store, TargetRecord};
use boundary_wire::api::ids::GLOBAL_SCOPE;
use boundary_wire::api::target::{
    DEFAULT_SESSION_MAX_SECONDS, TCP_TARGET_TYPE, UNLIMITED_CONNECTIONS,
};
use boundary_wire::api::{Secret, time_format};

pub const DEV_ORG_ID: &str = "o_1234567890";
pub const DEV_PROJECT_ID: &str = "p_1234567890";
pub const DEV_AUTH_METHOD_ID: &str = "ampw_1234567890";
pub const DEV_USER_ID: &str = "u_1234567890";
pub const DEV_ACCOUNT_ID: &str = "acctpw_1234567890";
pub const DEV_TARGET_ID: &str = "ttcp_1234567890";
pub const DEV_ALIAS_ID: &str = "alt_1234567890";
pub const DEV_ALIAS_VALUE: &str = "localhost.boundary.dev";

/// What `boundary dev` can change about the demo data.
#[derive(Clone, Debug)]
pub struct DevSeedOptions {
    pub login_name: String,
    pub password: Secret,
    pub target_address: String,
    pub target_default_port: u16,
}

/// Creates the demo data. Returns `false` when the database already held it (a persistent
/// `-database-url` used before).
pub async fn seed(store: &dyn Store, opts: &DevSeedOptions) -> Result<bool, BootstrapError> {
    let admin = InitialAdmin {
        auth_method_id: DEV_AUTH_METHOD_ID.to_owned(),
        user_id: DEV_USER_ID.to_owned(),
        account_id: DEV_ACCOUNT_ID.to_owned(),
        login_name: opts.login_name.clone(),
        password: opts.password.clone(),
    };
    if !ensure_initialized(store, &admin).await? {
        return Ok(false);
    }
    let now = time_format::now();
    let scope = |id: &str, parent: &str, kind, name: &str| ScopeRecord {
        id: id.to_owned(),
        parent_id: Some(parent.to_owned()),
        kind,
        name: name.to_owned(),
        description: format!("Provides an initial {} scope in Boundary", kind_name(kind)),
        primary_auth_method_id: None,
        created: now,
        updated: now,
        version: 1,
    };
    store
        .create_scope(&scope(
            DEV_ORG_ID,
            GLOBAL_SCOPE,
            ScopeKind::Org,
            "Generated org scope",
        ))
        .await?;
    store
        .create_scope(&scope(
            DEV_PROJECT_ID,
            DEV_ORG_ID,
            ScopeKind::Project,
            "Generated project scope",
        ))
        .await?;
    store
        .create_target(&TargetRecord {
            id: DEV_TARGET_ID.to_owned(),
            scope_id: DEV_PROJECT_ID.to_owned(),
            kind: TCP_TARGET_TYPE.to_owned(),
            name: "Generated target".to_owned(),
            description: "Provides an initial target in Boundary".to_owned(),
            address: opts.target_address.clone(),
            default_port: Some(u32::from(opts.target_default_port)),
            default_client_port: None,
            session_max_seconds: DEFAULT_SESSION_MAX_SECONDS,
            session_connection_limit: UNLIMITED_CONNECTIONS,
            worker_filter: String::new(),
            credential_source_ids: vec![],
            created: now,
            updated: now,
            version: 1,
        })
        .await?;
    store
        .create_alias(&AliasRecord {
            id: DEV_ALIAS_ID.to_owned(),
            scope_id: GLOBAL_SCOPE.to_owned(),
            value: DEV_ALIAS_VALUE.to_owned(),
            destination_id: Some(DEV_TARGET_ID.to_owned()),
            host_id: None,
            name: "Generated target alias".to_owned(),
            description: "Provides an initial alias in Boundary".to_owned(),
            created: now,
            updated: now,
            version: 1,
            change_seq: 0,
        })
        .await?;
    Ok(true)
}

fn kind_name(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::Global => "global",
        ScopeKind::Org => "organization",
        ScopeKind::Project => "project",
    }
}
