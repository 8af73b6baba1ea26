//! Sessions, their state history and connections, the background sweep, and workers.

/// Expands (inside `impl_store!`'s `queries` module) to one free function per trait method
/// of this area, taking the store first.
macro_rules! sessions_sql {
    ($store:ident, $db:ty) => {
        /// Ends the session's current state row and opens one for `status`.
        async fn enter_state(
            conn: &mut <$db as sqlx::Database>::Connection,
            session_id: &str,
            status: &str,
            now: Timestamp,
        ) -> StoreResult<()> {
            sqlx::query(
                "UPDATE session_states SET end_time = $2 WHERE session_id = $1 AND end_time IS NULL",
            )
            .bind(session_id)
            .bind(rows::micros(now))
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO session_states (session_id, status, start_time) VALUES ($1, $2, $3)",
            )
            .bind(session_id)
            .bind(status)
            .bind(rows::micros(now))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        /// Marks the session terminated, keeping an earlier termination reason if any.
        /// `false` when it already was (another controller's sweep got there first).
        async fn terminate(
            conn: &mut <$db as sqlx::Database>::Connection,
            session_id: &str,
            reason: &str,
            now: Timestamp,
        ) -> StoreResult<bool> {
            let done = sqlx::query(
                "UPDATE sessions SET status = 'terminated', \
                 termination_reason = COALESCE(termination_reason, $2), updated = $3, \
                 version = version + 1 WHERE id = $1 AND status <> 'terminated'",
            )
            .bind(session_id)
            .bind(reason)
            .bind(rows::micros(now))
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            enter_state(conn, session_id, "terminated", now).await?;
            Ok(true)
        }

        /// Ids from a single-column `id` result.
        fn ids(found: &[<$db as sqlx::Database>::Row]) -> StoreResult<Vec<String>> {
            found.iter().map(|r| rows::RowRead::text(r, "id")).collect()
        }

        // ---- sessions ----

        pub(super) async fn create_session(
            s: &$store,
            session: &SessionRecord,
        ) -> StoreResult<SessionRecord> {
            let mut tx = s.begin_write().await?;
            let row = sqlx::query(
                "INSERT INTO sessions (id, target_id, scope_id, user_id, auth_token_id, host_id, \
                 host_set_id, kind, endpoint, certificate, encrypted_private_key, tofu_hash, \
                 connection_limit, connections_used, expiration, status, termination_reason, \
                 created, updated, version, offered_worker_ids) VALUES ($1, $2, $3, $4, $5, $6, \
                 $7, $8, $9, $10, $11, $12, $13, $14, $15, 'pending', $16, $17, $18, $19, $20) \
                 RETURNING *",
            )
            .bind(&session.id)
            .bind(&session.target_id)
            .bind(&session.scope_id)
            .bind(&session.user_id)
            .bind(&session.auth_token_id)
            .bind(&session.host_id)
            .bind(&session.host_set_id)
            .bind(&session.kind)
            .bind(&session.endpoint)
            .bind(&session.certificate)
            .bind(&session.encrypted_private_key)
            .bind(&session.tofu_hash)
            .bind(i64::from(session.connection_limit))
            .bind(i64::from(session.connections_used))
            .bind(rows::micros(session.expiration))
            .bind(&session.termination_reason)
            .bind(rows::micros(session.created))
            .bind(rows::micros(session.updated))
            .bind(i64::from(session.version))
            .bind(rows::json_list(&session.offered_worker_ids)?)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| write_error(e, || format!("session {:?}", session.id), String::new))?;
            sqlx::query(
                "INSERT INTO session_states (session_id, status, start_time) VALUES ($1, 'pending', $2)",
            )
            .bind(&session.id)
            .bind(rows::micros(session.created))
            .execute(&mut *tx)
            .await?;
            let stored = rows::session(&row)?;
            tx.commit().await?;
            Ok(stored)
        }

        pub(super) async fn get_session(s: &$store, id: &str) -> StoreResult<SessionRecord> {
            get_by_id!(&s.pool, "sessions", id, rows::session)
        }

        pub(super) async fn list_sessions(
            s: &$store,
            scope_id: Option<&str>,
        ) -> StoreResult<Vec<SessionRecord>> {
            let found = sqlx::query(
                "SELECT * FROM sessions WHERE ($1 IS NULL OR scope_id = $1) ORDER BY created DESC, id DESC",
            )
            .bind(scope_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::session)
        }

        pub(super) async fn session_states(
            s: &$store,
            session_id: &str,
        ) -> StoreResult<Vec<SessionStateRecord>> {
            let found = sqlx::query(
                "SELECT * FROM session_states WHERE session_id = $1 ORDER BY start_time, \
                 CASE status WHEN 'pending' THEN 0 WHEN 'active' THEN 1 WHEN 'canceling' THEN 2 ELSE 3 END",
            )
            .bind(session_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::session_state)
        }

        pub(super) async fn session_connections(
            s: &$store,
            session_id: &str,
        ) -> StoreResult<Vec<ConnectionRecord>> {
            let found = sqlx::query(
                "SELECT * FROM session_connections WHERE session_id = $1 ORDER BY created, id",
            )
            .bind(session_id)
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::connection)
        }

        pub(super) async fn activate_session(
            s: &$store,
            session_id: &str,
            tofu_hash: &str,
            now: Timestamp,
        ) -> Result<SessionRecord, ActivateError> {
            match try_activate(s, session_id, tofu_hash, now).await {
                Ok(outcome) => outcome,
                Err(StoreError::NotFound) => Err(ActivateError::NotFound),
                Err(e) => Err(ActivateError::Store(e.to_string())),
            }
        }

        async fn try_activate(
            s: &$store,
            session_id: &str,
            tofu_hash: &str,
            now: Timestamp,
        ) -> StoreResult<Result<SessionRecord, ActivateError>> {
            let mut tx = s.begin_write().await?;
            let row = sqlx::query(
                "UPDATE sessions SET status = 'active', tofu_hash = $2, updated = $3, \
                 version = version + 1 WHERE id = $1 AND status = 'pending' AND expiration > $3 \
                 RETURNING *",
            )
            .bind(session_id)
            .bind(tofu_hash)
            .bind(rows::micros(now))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                enter_state(&mut tx, session_id, "active", now).await?;
                let stored = rows::session(&row)?;
                tx.commit().await?;
                return Ok(Ok(stored));
            }
            let row = sqlx::query("SELECT * FROM sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let current = rows::session(&row)?;
            Ok(match current.tofu_hash.as_deref() {
                Some(bound) if bound != tofu_hash => Err(ActivateError::TofuMismatch),
                Some(_) if current.status == "active" => Ok(current),
                _ => Err(ActivateError::NotActivatable),
            })
        }

        pub(super) async fn authorize_connection(
            s: &$store,
            connection: &ConnectionRecord,
            now: Timestamp,
        ) -> Result<(ConnectionRecord, i32), ConnectionRefused> {
            match try_authorize(s, connection, now).await {
                Ok(outcome) => outcome,
                Err(StoreError::NotFound) => Err(ConnectionRefused::NotFound),
                Err(e) => Err(ConnectionRefused::Store(e.to_string())),
            }
        }

        async fn try_authorize(
            s: &$store,
            connection: &ConnectionRecord,
            now: Timestamp,
        ) -> StoreResult<Result<(ConnectionRecord, i32), ConnectionRefused>> {
            let mut tx = s.begin_write().await?;
            // The condition and the increment are one statement: concurrent callers queue
            // on the row (PostgreSQL re-checks the WHERE clause on the updated row; SQLite
            // has one writer), so the limit can never be overshot.
            let counted = sqlx::query(
                "UPDATE sessions SET connections_used = connections_used + 1 \
                 WHERE id = $1 AND status = 'active' AND expiration > $2 \
                 AND (connection_limit = -1 OR connections_used < connection_limit) \
                 RETURNING connection_limit, connections_used",
            )
            .bind(&connection.session_id)
            .bind(rows::micros(now))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(counted) = counted else {
                let row = sqlx::query("SELECT * FROM sessions WHERE id = $1")
                    .bind(&connection.session_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let current = rows::session(&row)?;
                return Ok(Err(if current.status != "active" {
                    ConnectionRefused::NotActive
                } else if current.expiration <= now {
                    ConnectionRefused::Expired
                } else {
                    ConnectionRefused::LimitReached
                }));
            };
            let limit = rows::RowRead::i32(&counted, "connection_limit")?;
            let used = rows::RowRead::i32(&counted, "connections_used")?;
            let row = sqlx::query(
                "INSERT INTO session_connections (id, session_id, worker_id, client_tcp_address, \
                 client_tcp_port, endpoint_tcp_address, endpoint_tcp_port, bytes_up, bytes_down, \
                 status, closed_reason, created, updated) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'authorized', $10, $11, $12) RETURNING *",
            )
            .bind(&connection.id)
            .bind(&connection.session_id)
            .bind(&connection.worker_id)
            .bind(&connection.client_tcp_address)
            .bind(i64::from(connection.client_tcp_port))
            .bind(&connection.endpoint_tcp_address)
            .bind(i64::from(connection.endpoint_tcp_port))
            .bind(rows::clamp_u64(connection.bytes_up))
            .bind(rows::clamp_u64(connection.bytes_down))
            .bind(&connection.closed_reason)
            .bind(rows::micros(connection.created))
            .bind(rows::micros(connection.updated))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| write_error(e, || format!("connection {:?}", connection.id), String::new))?;
            let stored = rows::connection(&row)?;
            tx.commit().await?;
            let left = if limit == -1 { -1 } else { limit - used };
            Ok(Ok((stored, left)))
        }

        pub(super) async fn get_connection(
            s: &$store,
            id: &str,
        ) -> StoreResult<ConnectionRecord> {
            get_by_id!(&s.pool, "session_connections", id, rows::connection)
        }

        pub(super) async fn connect_connection(
            s: &$store,
            connection_id: &str,
            endpoint_address: &str,
            endpoint_port: u32,
            now: Timestamp,
        ) -> StoreResult<ConnectionRecord> {
            let row = sqlx::query(
                "UPDATE session_connections SET status = 'connected', endpoint_tcp_address = $2, \
                 endpoint_tcp_port = $3, updated = $4 WHERE id = $1 AND status = 'authorized' \
                 RETURNING *",
            )
            .bind(connection_id)
            .bind(endpoint_address)
            .bind(i64::from(endpoint_port))
            .bind(rows::micros(now))
            .fetch_optional(&s.pool)
            .await?;
            if let Some(row) = row {
                return rows::connection(&row);
            }
            let row = sqlx::query("SELECT * FROM session_connections WHERE id = $1")
                .bind(connection_id)
                .fetch_optional(&s.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
            let current = rows::connection(&row)?;
            Err(StoreError::Precondition(format!(
                "connection {connection_id} is {}, not authorized",
                current.status
            )))
        }

        pub(super) async fn close_connection(
            s: &$store,
            connection_id: &str,
            bytes_up: u64,
            bytes_down: u64,
            reason: &str,
            now: Timestamp,
        ) -> StoreResult<ConnectionRecord> {
            // One statement for the first close and any later one: the first reason stays,
            // byte counts only grow. The sweep closes the connections of an expired session
            // with zero counts; the worker's own report, which may arrive afterwards, still
            // brings the real counts. (SET expressions see the row as it was.)
            let row = sqlx::query(
                "UPDATE session_connections SET \
                 bytes_up = CASE WHEN bytes_up < $2 THEN $2 ELSE bytes_up END, \
                 bytes_down = CASE WHEN bytes_down < $3 THEN $3 ELSE bytes_down END, \
                 closed_reason = CASE WHEN status = 'closed' THEN closed_reason ELSE $4 END, \
                 updated = CASE WHEN status = 'closed' THEN updated ELSE $5 END, \
                 status = 'closed' \
                 WHERE id = $1 RETURNING *",
            )
            .bind(connection_id)
            .bind(rows::clamp_u64(bytes_up))
            .bind(rows::clamp_u64(bytes_down))
            .bind(reason)
            .bind(rows::micros(now))
            .fetch_optional(&s.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
            rows::connection(&row)
        }

        pub(super) async fn cancel_session(
            s: &$store,
            session_id: &str,
            expected_version: Option<u32>,
            reason: &str,
            now: Timestamp,
        ) -> StoreResult<SessionRecord> {
            let mut tx = s.begin_write().await?;
            let row = sqlx::query(
                "UPDATE sessions SET status = 'canceling', termination_reason = $3, updated = $4, \
                 version = version + 1 WHERE id = $1 AND status IN ('pending', 'active') \
                 AND ($2 IS NULL OR version = $2) RETURNING *",
            )
            .bind(session_id)
            .bind(expected_version.map(i64::from))
            .bind(reason)
            .bind(rows::micros(now))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                enter_state(&mut tx, session_id, "canceling", now).await?;
                let stored = rows::session(&row)?;
                tx.commit().await?;
                return Ok(stored);
            }
            let row = sqlx::query("SELECT * FROM sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let current = rows::session(&row)?;
            match current.status.as_str() {
                "canceling" | "terminated" => Ok(current),
                _ => Err(StoreError::VersionMismatch),
            }
        }

        pub(super) async fn sweep_sessions(s: &$store, now: Timestamp) -> StoreResult<Vec<String>> {
            let mut tx = s.begin_write().await?;
            let at = rows::micros(now);
            let expired = sqlx::query(
                "SELECT id FROM sessions WHERE status IN ('pending', 'active', 'canceling') \
                 AND expiration <= $1",
            )
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
            let canceled = sqlx::query(
                "SELECT id FROM sessions s WHERE status = 'canceling' AND NOT EXISTS \
                 (SELECT 1 FROM session_connections c WHERE c.session_id = s.id AND c.status <> 'closed')",
            )
            .fetch_all(&mut *tx)
            .await?;
            let used_up = sqlx::query(
                "SELECT id FROM sessions s WHERE status = 'active' AND connection_limit <> -1 \
                 AND connections_used >= connection_limit AND NOT EXISTS \
                 (SELECT 1 FROM session_connections c WHERE c.session_id = s.id AND c.status <> 'closed')",
            )
            .fetch_all(&mut *tx)
            .await?;

            // One pass in id order, expiry taking precedence: every sweep locks sessions
            // in the same order, so sweeps of several controllers cannot deadlock.
            let mut plan = std::collections::BTreeMap::new();
            for (found, reason) in [(expired, "timed out"), (canceled, "canceled"), (used_up, "connection limit")] {
                for id in ids(&found)? {
                    plan.entry(id).or_insert(reason);
                }
            }
            let mut terminated = Vec::new();
            for (id, reason) in plan {
                // The session first: once it is terminated no connection can be authorized
                // on it, so closing its connections afterwards leaves none open.
                if !terminate(&mut tx, &id, reason, now).await? {
                    continue;
                }
                if reason == "timed out" {
                    sqlx::query(
                        "UPDATE session_connections SET status = 'closed', closed_reason = 'timed out', \
                         updated = $2 WHERE session_id = $1 AND status <> 'closed'",
                    )
                    .bind(&id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                terminated.push(id);
            }
            tx.commit().await?;
            Ok(terminated)
        }
    };
}
pub(crate) use sessions_sql;
