//! Targets and aliases, with the alias change counter and tombstones (deleting a target
//! rewrites its aliases, so both live here).

/// Expands (inside `impl_store!`'s `queries` module) to one free function per trait method
/// of this area, taking the store first.
macro_rules! targets_sql {
    ($store:ident, $db:ty) => {
        /// Bumps the alias change counter inside the caller's transaction and returns the
        /// new value. The counter row stays locked until the transaction ends, which
        /// serialises alias writers in counter order.
        async fn next_alias_seq(
            conn: &mut <$db as sqlx::Database>::Connection,
        ) -> StoreResult<i64> {
            let row = sqlx::query(
                "UPDATE alias_change_counter SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
            )
            .fetch_one(&mut *conn)
            .await?;
            rows::RowRead::int(&row, "last_seq")
        }

        // ---- targets ----

        pub(super) async fn create_target(
            s: &$store,
            target: &TargetRecord,
        ) -> StoreResult<TargetRecord> {
            let row = sqlx::query(
                "INSERT INTO targets (id, scope_id, kind, name, description, address, default_port, \
                 default_client_port, session_max_seconds, session_connection_limit, worker_filter, \
                 credential_source_ids, created, updated, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *",
            )
            .bind(&target.id)
            .bind(&target.scope_id)
            .bind(&target.kind)
            .bind(&target.name)
            .bind(&target.description)
            .bind(&target.address)
            .bind(target.default_port.map(i64::from))
            .bind(target.default_client_port.map(i64::from))
            .bind(i64::from(target.session_max_seconds))
            .bind(i64::from(target.session_connection_limit))
            .bind(&target.worker_filter)
            .bind(rows::json_list(&target.credential_source_ids)?)
            .bind(rows::micros(target.created))
            .bind(rows::micros(target.updated))
            .bind(i64::from(target.version))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("target name {:?} in scope {:?}", target.name, target.scope_id),
                    || format!("scope {:?} does not exist", target.scope_id),
                )
            })?;
            rows::target(&row)
        }

        pub(super) async fn get_target(s: &$store, id: &str) -> StoreResult<TargetRecord> {
            get_by_id!(&s.pool, "targets", id, rows::target)
        }

        pub(super) async fn find_target_by_name(
            s: &$store,
            scope_id: &str,
            name: &str,
        ) -> StoreResult<TargetRecord> {
            let row = sqlx::query("SELECT * FROM targets WHERE scope_id = $1 AND name = $2")
                .bind(scope_id)
                .bind(name)
                .fetch_optional(&s.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
            rows::target(&row)
        }

        pub(super) async fn list_targets(
            s: &$store,
            scope_id: Option<&str>,
        ) -> StoreResult<Vec<TargetRecord>> {
            let found = sqlx::query(
                "SELECT * FROM targets WHERE ($1 IS NULL OR scope_id = $1) ORDER BY created DESC, id DESC",
            )
            .bind(scope_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::target)
        }

        pub(super) async fn update_target(
            s: &$store,
            target: &TargetRecord,
            expected_version: u32,
        ) -> StoreResult<TargetRecord> {
            let row = sqlx::query(
                "UPDATE targets SET name = $3, description = $4, address = $5, default_port = $6, \
                 default_client_port = $7, session_max_seconds = $8, session_connection_limit = $9, \
                 worker_filter = $10, credential_source_ids = $11, updated = $12, \
                 version = version + 1 WHERE id = $1 AND version = $2 RETURNING *",
            )
            .bind(&target.id)
            .bind(i64::from(expected_version))
            .bind(&target.name)
            .bind(&target.description)
            .bind(&target.address)
            .bind(target.default_port.map(i64::from))
            .bind(target.default_client_port.map(i64::from))
            .bind(i64::from(target.session_max_seconds))
            .bind(i64::from(target.session_connection_limit))
            .bind(&target.worker_filter)
            .bind(rows::json_list(&target.credential_source_ids)?)
            .bind(rows::micros(target.updated))
            .fetch_optional(&s.pool)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("target name {:?} in scope {:?}", target.name, target.scope_id),
                    String::new,
                )
            })?;
            match row {
                Some(row) => rows::target(&row),
                None => Err(version_miss!(&s.pool, "targets", &target.id)?),
            }
        }

        pub(super) async fn delete_target(s: &$store, id: &str, now: Timestamp) -> StoreResult<()> {
            let mut tx = s.begin_write().await?;
            let seq = next_alias_seq(&mut tx).await?;
            sqlx::query(
                "UPDATE aliases SET destination_id = NULL, host_id = NULL, change_seq = $2, \
                 updated = $3 WHERE destination_id = $1",
            )
            .bind(id)
            .bind(seq)
            .bind(rows::micros(now))
            .execute(&mut *tx)
            .await?;
            delete_by_id!(&mut *tx, "targets", id)?;
            tx.commit().await?;
            Ok(())
        }

        // ---- aliases ----

        pub(super) async fn create_alias(
            s: &$store,
            alias: &AliasRecord,
        ) -> StoreResult<AliasRecord> {
            let mut tx = s.begin_write().await?;
            let seq = next_alias_seq(&mut tx).await?;
            // An id is never reused in practice; if it were, its old tombstone must not
            // hide the new alias from readers.
            sqlx::query("DELETE FROM alias_tombstones WHERE id = $1")
                .bind(&alias.id)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(
                "INSERT INTO aliases (id, scope_id, value, destination_id, host_id, name, description, \
                 created, updated, version, change_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *",
            )
            .bind(&alias.id)
            .bind(&alias.scope_id)
            .bind(&alias.value)
            .bind(&alias.destination_id)
            .bind(&alias.host_id)
            .bind(&alias.name)
            .bind(&alias.description)
            .bind(rows::micros(alias.created))
            .bind(rows::micros(alias.updated))
            .bind(i64::from(alias.version))
            .bind(seq)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("alias value {:?}", alias.value),
                    || format!("destination target {:?} does not exist", alias.destination_id),
                )
            })?;
            let stored = rows::alias(&row)?;
            tx.commit().await?;
            Ok(stored)
        }

        pub(super) async fn get_alias(s: &$store, id: &str) -> StoreResult<AliasRecord> {
            get_by_id!(&s.pool, "aliases", id, rows::alias)
        }

        pub(super) async fn find_alias_by_value(
            s: &$store,
            value: &str,
        ) -> StoreResult<AliasRecord> {
            let row = sqlx::query("SELECT * FROM aliases WHERE lower(value) = lower($1)")
                .bind(value)
                .fetch_optional(&s.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
            rows::alias(&row)
        }

        pub(super) async fn list_aliases(s: &$store) -> StoreResult<Vec<AliasRecord>> {
            let found = sqlx::query("SELECT * FROM aliases ORDER BY created DESC, id DESC")
                .fetch_all(&s.pool)
                .await?;
            rows::all(&found, rows::alias)
        }

        pub(super) async fn aliases_for_destination(
            s: &$store,
            destination_id: &str,
        ) -> StoreResult<Vec<AliasRecord>> {
            let found = sqlx::query(
                "SELECT * FROM aliases WHERE destination_id = $1 ORDER BY created DESC, id DESC",
            )
            .bind(destination_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::alias)
        }

        pub(super) async fn update_alias(
            s: &$store,
            alias: &AliasRecord,
            expected_version: u32,
        ) -> StoreResult<AliasRecord> {
            let mut tx = s.begin_write().await?;
            let seq = next_alias_seq(&mut tx).await?;
            let row = sqlx::query(
                "UPDATE aliases SET value = $3, destination_id = $4, host_id = $5, name = $6, \
                 description = $7, updated = $8, version = version + 1, change_seq = $9 \
                 WHERE id = $1 AND version = $2 RETURNING *",
            )
            .bind(&alias.id)
            .bind(i64::from(expected_version))
            .bind(&alias.value)
            .bind(&alias.destination_id)
            .bind(&alias.host_id)
            .bind(&alias.name)
            .bind(&alias.description)
            .bind(rows::micros(alias.updated))
            .bind(seq)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || format!("alias value {:?}", alias.value),
                    || format!("destination target {:?} does not exist", alias.destination_id),
                )
            })?;
            let Some(row) = row else {
                return Err(version_miss!(&mut *tx, "aliases", &alias.id)?);
            };
            let stored = rows::alias(&row)?;
            tx.commit().await?;
            Ok(stored)
        }

        pub(super) async fn delete_alias(s: &$store, id: &str, now: Timestamp) -> StoreResult<()> {
            let mut tx = s.begin_write().await?;
            let seq = next_alias_seq(&mut tx).await?;
            delete_by_id!(&mut *tx, "aliases", id)?;
            sqlx::query(
                "INSERT INTO alias_tombstones (id, change_seq, deleted) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET change_seq = excluded.change_seq, deleted = excluded.deleted",
            )
            .bind(id)
            .bind(seq)
            .bind(rows::micros(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }

        pub(super) async fn alias_changes_since(
            s: &$store,
            since: i64,
        ) -> StoreResult<AliasChanges> {
            // One snapshot: the counter value and the rows are read as of the same moment,
            // so `high_water` covers exactly what is returned.
            let mut tx = s.begin_snapshot().await?;
            let counter = sqlx::query("SELECT last_seq FROM alias_change_counter WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let high_water = rows::RowRead::int(&counter, "last_seq")?;
            // `created + 0`: an order no index gives, so that SQLite reads the few changed
            // rows through `aliases_change_seq` instead of walking the whole table in
            // `aliases_created` order (which made a refresh after a few renames among
            // 100 000 aliases cost 50 ms instead of 2).
            let changed = sqlx::query(
                "SELECT * FROM aliases WHERE change_seq > $1 ORDER BY created + 0 DESC, id DESC",
            )
            .bind(since)
            .fetch_all(&mut *tx)
            .await?;
            let deleted = sqlx::query(
                "SELECT id FROM alias_tombstones WHERE change_seq > $1 ORDER BY change_seq, id",
            )
            .bind(since)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(AliasChanges {
                changed: rows::all(&changed, rows::alias)?,
                deleted_ids: deleted.iter().map(|r| rows::RowRead::text(r, "id")).collect::<StoreResult<_>>()?,
                high_water,
            })
        }

        pub(super) async fn aliases_page(
            s: &$store,
            after: Option<(i64, &str)>,
            limit: usize,
        ) -> StoreResult<Vec<AliasRecord>> {
            // `created <= $1` bounds the index range; the rest breaks the tie on `id`.
            // From the first: a cursor above every row (one statement, one plan).
            let (created, id) = after.unwrap_or((i64::MAX, ""));
            let found = sqlx::query(
                "SELECT * FROM aliases WHERE created <= $1 AND (created < $1 OR id < $2) \
                 ORDER BY created DESC, id DESC LIMIT $3",
            )
            .bind(created)
            .bind(id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::alias)
        }

        pub(super) async fn alias_listing_start(s: &$store) -> StoreResult<AliasListingStart> {
            let row = sqlx::query(
                "SELECT (SELECT last_seq FROM alias_change_counter WHERE id = 1) AS last_seq, \
                 (SELECT COUNT(*) FROM aliases WHERE destination_id IS NOT NULL) AS listed",
            )
            .fetch_one(&s.pool)
            .await?;
            Ok(AliasListingStart {
                high_water: rows::RowRead::int(&row, "last_seq")?,
                with_destination: u64::try_from(rows::RowRead::int(&row, "listed")?)
                    .unwrap_or_default(),
            })
        }
    };
}
pub(crate) use targets_sql;
