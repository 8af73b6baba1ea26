//! First start on an empty database (what `boundary database init` does for Boundary):
//! the global scope, the default roles for anonymous and authenticated callers, a global
//! password auth method, and an administrator who may do everything.

use crate::error::ApiError;
use crate::passwords::hash_password;
use crate::store::{
    AccountRecord, AuthMethodRecord, RoleRecord, ScopeKind, ScopeRecord, Store, StoreError,
    UserRecord,
};
use boundary_wire::api::ids::{self, ANONYMOUS_USER, AUTHENTICATED_USER, GLOBAL_SCOPE};
use boundary_wire::api::{Secret, time_format};

/// Grants of the administrator's role.
pub const ADMIN_GRANTS: &[&str] = &[
    "ids=*;type=*;actions=*",
    "ids=*;type=target;actions=authorize-session",
    "ids=*;type=auth-token;actions=read:self",
    "ids=*;type=user;actions=list-resolvable-aliases",
];

/// What every caller may do: see scopes and auth methods, and log in.
pub const ANONYMOUS_GRANTS: &[&str] = &[
    "ids=*;type=scope;actions=list,no-op",
    "ids=*;type=auth-method;actions=authenticate,list",
];

/// What every logged-in user may do with their own things.
pub const AUTHENTICATED_GRANTS: &[&str] = &[
    "ids=*;type=scope;actions=list,no-op",
    "ids=*;type=auth-method;actions=authenticate",
    "ids={{.Account.Id}};actions=read,change-password",
    "ids=*;type=auth-token;actions=list,read:self,delete:self",
    "ids={{.User.Id}};actions=list-resolvable-aliases",
    "ids=*;type=session;actions=list,read:self,cancel:self",
];

/// Ids and credentials of the initial administrator.
#[derive(Clone, Debug)]
pub struct InitialAdmin {
    pub auth_method_id: String,
    pub user_id: String,
    pub account_id: String,
    pub login_name: String,
    pub password: Secret,
}

impl InitialAdmin {
    /// Random ids and a random 20-character password.
    pub fn generated() -> Self {
        Self {
            auth_method_id: ids::new_public_id(ids::PASSWORD_AUTH_METHOD),
            user_id: ids::new_public_id(ids::USER),
            account_id: ids::new_public_id(ids::PASSWORD_ACCOUNT),
            login_name: "admin".to_owned(),
            password: Secret::new(ids::random_base62(20)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("initialising the database: {0}")]
    Store(#[from] StoreError),
    #[error("initialising the database: {0}")]
    Api(#[from] ApiError),
}

/// The initial admin's password hash, on the blocking pool: one hash at start-up, before
/// the controller (and its [`crate::passwords::PasswordWorkers`]) exists.
async fn hash_initial_password(password: Secret) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal("password hashing task failed", e))?
        .map_err(|e| ApiError::internal("password hashing failed", e))
}

/// Creates the initial data when the global scope does not exist yet. Returns `false` when
/// the database was already initialised (by an earlier start or another controller).
pub async fn ensure_initialized(
    store: &dyn Store,
    admin: &InitialAdmin,
) -> Result<bool, BootstrapError> {
    match store.get_scope(GLOBAL_SCOPE).await {
        Ok(_) => return Ok(false),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let now = time_format::now();
    let global = ScopeRecord {
        id: GLOBAL_SCOPE.to_owned(),
        parent_id: None,
        kind: ScopeKind::Global,
        name: "global".to_owned(),
        description: "Global Scope".to_owned(),
        primary_auth_method_id: None,
        created: now,
        updated: now,
        version: 1,
    };
    match store.create_scope(&global).await {
        Ok(_) => {}
        // Another controller on the same database got there first.
        Err(StoreError::AlreadyExists(_)) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let role = |name: &str, description: &str, grants: &[&str], principal: &str| RoleRecord {
        id: ids::new_public_id(ids::ROLE),
        scope_id: GLOBAL_SCOPE.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        grant_scope_ids: vec!["this".to_owned(), "descendants".to_owned()],
        grant_strings: grants.iter().map(|g| (*g).to_owned()).collect(),
        principal_ids: vec![principal.to_owned()],
        created: now,
        updated: now,
        version: 1,
    };
    store
        .create_role(&role(
            "Login and Default Grants",
            "Role created for login capability and default grants for anonymous callers",
            ANONYMOUS_GRANTS,
            ANONYMOUS_USER,
        ))
        .await?;
    store
        .create_role(&role(
            "Authenticated User Grants",
            "Default grants for authenticated users",
            AUTHENTICATED_GRANTS,
            AUTHENTICATED_USER,
        ))
        .await?;
    store
        .create_auth_method(&AuthMethodRecord {
            id: admin.auth_method_id.clone(),
            scope_id: GLOBAL_SCOPE.to_owned(),
            name: "Generated global scope initial password auth method".to_owned(),
            description:
                "Provides initial administrative and unprivileged authentication into Boundary"
                    .to_owned(),
            min_login_name_length: 3,
            min_password_length: 8,
            created: now,
            updated: now,
            version: 1,
        })
        .await?;
    let mut global = store.get_scope(GLOBAL_SCOPE).await?;
    let version = global.version;
    global.primary_auth_method_id = Some(admin.auth_method_id.clone());
    store.update_scope(&global, version).await?;
    store
        .create_user(&UserRecord {
            id: admin.user_id.clone(),
            scope_id: GLOBAL_SCOPE.to_owned(),
            name: admin.login_name.clone(),
            description: "Initial admin user".to_owned(),
            created: now,
            updated: now,
            version: 1,
        })
        .await?;
    store
        .create_account(&AccountRecord {
            id: admin.account_id.clone(),
            auth_method_id: admin.auth_method_id.clone(),
            scope_id: GLOBAL_SCOPE.to_owned(),
            login_name: admin.login_name.clone(),
            password_hash: hash_initial_password(admin.password.clone()).await?,
            user_id: None,
            name: String::new(),
            description: "Initial admin account".to_owned(),
            created: now,
            updated: now,
            version: 1,
        })
        .await?;
    store
        .add_user_accounts(
            &admin.user_id,
            1,
            std::slice::from_ref(&admin.account_id),
            now,
        )
        .await?;
    store
        .create_role(&role(
            "Administration",
            "Provides admin grants within all scopes to the initial admin user",
            ADMIN_GRANTS,
            &admin.user_id,
        ))
        .await?;
    Ok(true)
}
