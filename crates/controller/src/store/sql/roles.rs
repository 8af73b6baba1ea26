//! Roles: grants, grant scopes and principals, kept as ordered JSON lists.

/// Expands (inside `impl_store!`'s `queries` module) to one free function per trait method
/// of this area, taking the store first.
macro_rules! roles_sql {
    ($store:ident, $db:ty) => {
        pub(super) async fn create_role(s: &$store, role: &RoleRecord) -> StoreResult<RoleRecord> {
            let row = sqlx::query(
                "INSERT INTO roles (id, scope_id, name, description, grant_scope_ids, grant_strings, \
                 principal_ids, created, updated, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
            )
            .bind(&role.id)
            .bind(&role.scope_id)
            .bind(&role.name)
            .bind(&role.description)
            .bind(rows::json_list(&role.grant_scope_ids)?)
            .bind(rows::json_list(&role.grant_strings)?)
            .bind(rows::json_list(&role.principal_ids)?)
            .bind(rows::micros(role.created))
            .bind(rows::micros(role.updated))
            .bind(i64::from(role.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("role {:?}", role.id),
                    || format!("scope {:?} does not exist", role.scope_id),
                )
            })?;
            rows::role(&row)
        }

        pub(super) async fn get_role(s: &$store, id: &str) -> StoreResult<RoleRecord> {
            get_by_id!(&s.pool, "roles", id, rows::role)
        }

        pub(super) async fn list_roles(s: &$store) -> StoreResult<Vec<RoleRecord>> {
            let found = sqlx::query("SELECT * FROM roles ORDER BY created DESC, id DESC")
                .fetch_all(&s.pool)
                .await?;
            rows::all(&found, rows::role)
        }

        pub(super) async fn update_role(
            s: &$store,
            role: &RoleRecord,
            expected_version: u32,
        ) -> StoreResult<RoleRecord> {
            let row = sqlx::query(
                "UPDATE roles SET name = $3, description = $4, grant_scope_ids = $5, \
                 grant_strings = $6, principal_ids = $7, updated = $8, version = version + 1 \
                 WHERE id = $1 AND version = $2 RETURNING *",
            )
            .bind(&role.id)
            .bind(i64::from(expected_version))
            .bind(&role.name)
            .bind(&role.description)
            .bind(rows::json_list(&role.grant_scope_ids)?)
            .bind(rows::json_list(&role.grant_strings)?)
            .bind(rows::json_list(&role.principal_ids)?)
            .bind(rows::micros(role.updated))
            .fetch_optional(&s.pool)
            .await?;
            match row {
                Some(row) => rows::role(&row),
                None => Err(version_miss!(&s.pool, "roles", &role.id)?),
            }
        }

        pub(super) async fn delete_role(s: &$store, id: &str) -> StoreResult<()> {
            delete_by_id!(&s.pool, "roles", id)
        }
    };
}
pub(crate) use roles_sql;
