//! Credential stores and credentials (secrets arrive sealed; the store never sees them in
//! the clear).

/// Expands (inside `impl_store!`'s `queries` module) to one free function per trait method
/// of this area, taking the store first.
macro_rules! credentials_sql {
    ($store:ident, $db:ty) => {
        /// Removes credential `id` from every target's `credential_source_ids`, bumping
        /// the version of each target it changes.
        async fn remove_credential_source(
            conn: &mut <$db as sqlx::Database>::Connection,
            id: &str,
        ) -> StoreResult<()> {
            // LIKE narrows the scan (`_` in ids is a wildcard, so it may over-match); the
            // exact membership test happens on the decoded list.
            let found = sqlx::query("SELECT * FROM targets WHERE credential_source_ids LIKE $1")
                .bind(format!("%\"{id}\"%"))
                .fetch_all(&mut *conn)
                .await?;
            for target in rows::all(&found, rows::target)? {
                if !target.credential_source_ids.iter().any(|c| c == id) {
                    continue;
                }
                let kept: Vec<String> =
                    target.credential_source_ids.into_iter().filter(|c| c != id).collect();
                sqlx::query(
                    "UPDATE targets SET credential_source_ids = $2, version = version + 1 WHERE id = $1",
                )
                .bind(&target.id)
                .bind(rows::json_list(&kept)?)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        }

        pub(super) async fn create_credential_store(
            s: &$store,
            store: &CredentialStoreRecord,
        ) -> StoreResult<CredentialStoreRecord> {
            let row = sqlx::query(
                "INSERT INTO credential_stores (id, scope_id, name, description, created, updated, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            )
            .bind(&store.id)
            .bind(&store.scope_id)
            .bind(&store.name)
            .bind(&store.description)
            .bind(rows::micros(store.created))
            .bind(rows::micros(store.updated))
            .bind(i64::from(store.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("credential store {:?}", store.id),
                    || format!("scope {:?} does not exist", store.scope_id),
                )
            })?;
            rows::credential_store(&row)
        }

        pub(super) async fn get_credential_store(
            s: &$store,
            id: &str,
        ) -> StoreResult<CredentialStoreRecord> {
            get_by_id!(&s.pool, "credential_stores", id, rows::credential_store)
        }

        pub(super) async fn list_credential_stores(
            s: &$store,
            scope_id: &str,
        ) -> StoreResult<Vec<CredentialStoreRecord>> {
            let found = sqlx::query(
                "SELECT * FROM credential_stores WHERE scope_id = $1 ORDER BY created DESC, id DESC",
            )
            .bind(scope_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::credential_store)
        }

        pub(super) async fn delete_credential_store(s: &$store, id: &str) -> StoreResult<()> {
            let mut tx = s.begin_write().await?;
            let held = sqlx::query("SELECT id FROM credentials WHERE store_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            for row in &held {
                let credential_id = rows::RowRead::text(row, "id")?;
                remove_credential_source(&mut tx, &credential_id).await?;
            }
            sqlx::query("DELETE FROM credentials WHERE store_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            delete_by_id!(&mut *tx, "credential_stores", id)?;
            tx.commit().await?;
            Ok(())
        }

        pub(super) async fn create_credential(
            s: &$store,
            credential: &CredentialRecord,
        ) -> StoreResult<CredentialRecord> {
            let row = sqlx::query(
                "INSERT INTO credentials (id, store_id, kind, name, description, username, \
                 encrypted_secret, secret_hmac, created, updated, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *",
            )
            .bind(&credential.id)
            .bind(&credential.store_id)
            .bind(&credential.kind)
            .bind(&credential.name)
            .bind(&credential.description)
            .bind(&credential.username)
            .bind(&credential.encrypted_secret)
            .bind(&credential.secret_hmac)
            .bind(rows::micros(credential.created))
            .bind(rows::micros(credential.updated))
            .bind(i64::from(credential.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("credential {:?}", credential.id),
                    || format!("credential store {:?} does not exist", credential.store_id),
                )
            })?;
            rows::credential(&row)
        }

        pub(super) async fn get_credential(s: &$store, id: &str) -> StoreResult<CredentialRecord> {
            get_by_id!(&s.pool, "credentials", id, rows::credential)
        }

        pub(super) async fn list_credentials(
            s: &$store,
            store_id: &str,
        ) -> StoreResult<Vec<CredentialRecord>> {
            let found = sqlx::query(
                "SELECT * FROM credentials WHERE store_id = $1 ORDER BY created DESC, id DESC",
            )
            .bind(store_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::credential)
        }

        pub(super) async fn delete_credential(s: &$store, id: &str) -> StoreResult<()> {
            let mut tx = s.begin_write().await?;
            delete_by_id!(&mut *tx, "credentials", id)?;
            remove_credential_source(&mut tx, id).await?;
            tx.commit().await?;
            Ok(())
        }
    };
}
pub(crate) use credentials_sql;
