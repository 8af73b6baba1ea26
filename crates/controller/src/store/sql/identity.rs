//! Scopes, auth methods, accounts, users and auth tokens.

/// Expands (inside `impl_store!`'s `queries` module) to one free function per trait method
/// of this area, taking the store first.
macro_rules! identity_sql {
    ($store:ident, $db:ty) => {
        // ---- scopes ----

        pub(super) async fn create_scope(
            s: &$store,
            scope: &ScopeRecord,
        ) -> StoreResult<ScopeRecord> {
            let row = sqlx::query(
                "INSERT INTO scopes (id, parent_id, kind, name, description, primary_auth_method_id, \
                 created, updated, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
            )
            .bind(&scope.id)
            .bind(&scope.parent_id)
            .bind(scope.kind.as_str())
            .bind(&scope.name)
            .bind(&scope.description)
            .bind(&scope.primary_auth_method_id)
            .bind(rows::micros(scope.created))
            .bind(rows::micros(scope.updated))
            .bind(i64::from(scope.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("scope {:?}", scope.id),
                    || format!("parent scope {:?} does not exist", scope.parent_id),
                )
            })?;
            rows::scope(&row)
        }

        pub(super) async fn get_scope(s: &$store, id: &str) -> StoreResult<ScopeRecord> {
            get_by_id!(&s.pool, "scopes", id, rows::scope)
        }

        pub(super) async fn list_scopes(
            s: &$store,
            parent_id: &str,
        ) -> StoreResult<Vec<ScopeRecord>> {
            let found = sqlx::query(
                "SELECT * FROM scopes WHERE parent_id = $1 ORDER BY created DESC, id DESC",
            )
            .bind(parent_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::scope)
        }

        pub(super) async fn update_scope(
            s: &$store,
            scope: &ScopeRecord,
            expected_version: u32,
        ) -> StoreResult<ScopeRecord> {
            let row = sqlx::query(
                "UPDATE scopes SET name = $3, description = $4, primary_auth_method_id = $5, \
                 updated = $6, version = version + 1 WHERE id = $1 AND version = $2 RETURNING *",
            )
            .bind(&scope.id)
            .bind(i64::from(expected_version))
            .bind(&scope.name)
            .bind(&scope.description)
            .bind(&scope.primary_auth_method_id)
            .bind(rows::micros(scope.updated))
            .fetch_optional(&s.pool)
            .await?;
            match row {
                Some(row) => rows::scope(&row),
                None => Err(version_miss!(&s.pool, "scopes", &scope.id)?),
            }
        }

        // ---- auth methods ----

        pub(super) async fn create_auth_method(
            s: &$store,
            method: &AuthMethodRecord,
        ) -> StoreResult<AuthMethodRecord> {
            let row = sqlx::query(
                "INSERT INTO auth_methods (id, scope_id, name, description, min_login_name_length, \
                 min_password_length, created, updated, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
            )
            .bind(&method.id)
            .bind(&method.scope_id)
            .bind(&method.name)
            .bind(&method.description)
            .bind(i64::from(method.min_login_name_length))
            .bind(i64::from(method.min_password_length))
            .bind(rows::micros(method.created))
            .bind(rows::micros(method.updated))
            .bind(i64::from(method.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("auth method {:?}", method.id),
                    || format!("scope {:?} does not exist", method.scope_id),
                )
            })?;
            rows::auth_method(&row)
        }

        pub(super) async fn get_auth_method(s: &$store, id: &str) -> StoreResult<AuthMethodRecord> {
            get_by_id!(&s.pool, "auth_methods", id, rows::auth_method)
        }

        pub(super) async fn list_auth_methods(
            s: &$store,
            scope_id: &str,
        ) -> StoreResult<Vec<AuthMethodRecord>> {
            let found = sqlx::query(
                "SELECT * FROM auth_methods WHERE scope_id = $1 ORDER BY created DESC, id DESC",
            )
            .bind(scope_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::auth_method)
        }

        // ---- accounts ----

        pub(super) async fn create_account(
            s: &$store,
            account: &AccountRecord,
        ) -> StoreResult<AccountRecord> {
            let row = sqlx::query(
                "INSERT INTO accounts (id, auth_method_id, scope_id, login_name, password_hash, \
                 user_id, name, description, created, updated, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *",
            )
            .bind(&account.id)
            .bind(&account.auth_method_id)
            .bind(&account.scope_id)
            .bind(&account.login_name)
            .bind(&account.password_hash)
            .bind(&account.user_id)
            .bind(&account.name)
            .bind(&account.description)
            .bind(rows::micros(account.created))
            .bind(rows::micros(account.updated))
            .bind(i64::from(account.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("login name {:?} (or account id {:?})", account.login_name, account.id),
                    || {
                        format!(
                            "auth method {:?} or user {:?} does not exist",
                            account.auth_method_id, account.user_id
                        )
                    },
                )
            })?;
            rows::account(&row)
        }

        pub(super) async fn get_account(s: &$store, id: &str) -> StoreResult<AccountRecord> {
            get_by_id!(&s.pool, "accounts", id, rows::account)
        }

        pub(super) async fn find_account(
            s: &$store,
            auth_method_id: &str,
            login_name: &str,
        ) -> StoreResult<AccountRecord> {
            let row = sqlx::query(
                "SELECT * FROM accounts WHERE auth_method_id = $1 AND lower(login_name) = lower($2)",
            )
            .bind(auth_method_id)
            .bind(login_name)
            .fetch_optional(&s.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
            rows::account(&row)
        }

        pub(super) async fn list_accounts(
            s: &$store,
            auth_method_id: &str,
        ) -> StoreResult<Vec<AccountRecord>> {
            let found = sqlx::query(
                "SELECT * FROM accounts WHERE auth_method_id = $1 ORDER BY created DESC, id DESC",
            )
            .bind(auth_method_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::account)
        }

        // ---- users ----

        pub(super) async fn create_user(s: &$store, user: &UserRecord) -> StoreResult<UserRecord> {
            let row = sqlx::query(
                "INSERT INTO users (id, scope_id, name, description, created, updated, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            )
            .bind(&user.id)
            .bind(&user.scope_id)
            .bind(&user.name)
            .bind(&user.description)
            .bind(rows::micros(user.created))
            .bind(rows::micros(user.updated))
            .bind(i64::from(user.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("user {:?}", user.id),
                    || format!("scope {:?} does not exist", user.scope_id),
                )
            })?;
            rows::user(&row)
        }

        pub(super) async fn get_user(s: &$store, id: &str) -> StoreResult<UserRecord> {
            get_by_id!(&s.pool, "users", id, rows::user)
        }

        pub(super) async fn list_users(s: &$store, scope_id: &str) -> StoreResult<Vec<UserRecord>> {
            let found =
                sqlx::query("SELECT * FROM users WHERE scope_id = $1 ORDER BY created DESC, id DESC")
                    .bind(scope_id)
                    .fetch_all(&s.pool)
                    .await?;
            rows::all(&found, rows::user)
        }

        pub(super) async fn add_user_accounts(
            s: &$store,
            user_id: &str,
            expected_version: u32,
            account_ids: &[String],
            now: Timestamp,
        ) -> StoreResult<UserRecord> {
            let mut tx = s.begin_write().await?;
            let row = sqlx::query(
                "UPDATE users SET version = version + 1, updated = $3 \
                 WHERE id = $1 AND version = $2 RETURNING *",
            )
            .bind(user_id)
            .bind(i64::from(expected_version))
            .bind(rows::micros(now))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Err(version_miss!(&mut *tx, "users", user_id)?);
            };
            for account_id in account_ids {
                let linked = sqlx::query(
                    "UPDATE accounts SET user_id = $1 \
                     WHERE id = $2 AND (user_id IS NULL OR user_id = $1)",
                )
                .bind(user_id)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
                if linked.rows_affected() == 0 {
                    let exists = sqlx::query("SELECT id FROM accounts WHERE id = $1")
                        .bind(account_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    return Err(StoreError::Precondition(match exists {
                        Some(_) => format!("account {account_id:?} belongs to another user"),
                        None => format!("account {account_id:?} does not exist"),
                    }));
                }
            }
            let user = rows::user(&row)?;
            tx.commit().await?;
            Ok(user)
        }

        pub(super) async fn user_account_ids(
            s: &$store,
            user_id: &str,
        ) -> StoreResult<Vec<String>> {
            let found = sqlx::query("SELECT id FROM accounts WHERE user_id = $1 ORDER BY created, id")
                .bind(user_id)
                .fetch_all(&s.pool)
                .await?;
            found.iter().map(|r| rows::RowRead::text(r, "id")).collect()
        }

        // ---- auth tokens ----

        pub(super) async fn create_auth_token(
            s: &$store,
            token: &AuthTokenRecord,
        ) -> StoreResult<AuthTokenRecord> {
            let row = sqlx::query(
                "INSERT INTO auth_tokens (id, secret_hash, scope_id, user_id, auth_method_id, \
                 account_id, created, updated, approximate_last_used, expiration) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
            )
            .bind(&token.id)
            .bind(&token.secret_hash)
            .bind(&token.scope_id)
            .bind(&token.user_id)
            .bind(&token.auth_method_id)
            .bind(&token.account_id)
            .bind(rows::micros(token.created))
            .bind(rows::micros(token.updated))
            .bind(rows::micros(token.approximate_last_used))
            .bind(rows::micros(token.expiration))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("auth token {:?}", token.id),
                    || {
                        format!(
                            "user {:?}, auth method {:?} or account {:?} does not exist",
                            token.user_id, token.auth_method_id, token.account_id
                        )
                    },
                )
            })?;
            rows::auth_token(&row)
        }

        pub(super) async fn get_auth_token(s: &$store, id: &str) -> StoreResult<AuthTokenRecord> {
            get_by_id!(&s.pool, "auth_tokens", id, rows::auth_token)
        }

        pub(super) async fn list_auth_tokens(s: &$store) -> StoreResult<Vec<AuthTokenRecord>> {
            let found = sqlx::query("SELECT * FROM auth_tokens ORDER BY created DESC, id DESC")
                .fetch_all(&s.pool)
                .await?;
            rows::all(&found, rows::auth_token)
        }

        pub(super) async fn touch_auth_token(
            s: &$store,
            id: &str,
            now: Timestamp,
        ) -> StoreResult<()> {
            let done = sqlx::query("UPDATE auth_tokens SET approximate_last_used = $2 WHERE id = $1")
                .bind(id)
                .bind(rows::micros(now))
                .execute(&s.pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }

        pub(super) async fn delete_auth_token(s: &$store, id: &str) -> StoreResult<()> {
            delete_by_id!(&s.pool, "auth_tokens", id)
        }
    };
}
pub(crate) use identity_sql;
