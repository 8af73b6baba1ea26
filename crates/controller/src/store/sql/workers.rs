//! Worker registration and heartbeats.

/// Expands (inside `impl_store!`'s `queries` module) to one free function per trait method
/// of this area, taking the store first.
macro_rules! workers_sql {
    ($store:ident, $db:ty) => {
        pub(super) async fn upsert_worker(
            s: &$store,
            worker: &WorkerRecord,
        ) -> StoreResult<WorkerRecord> {
            let row = sqlx::query(
                "INSERT INTO workers (id, name, address, description, last_heartbeat, created, updated) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET \
                 address = excluded.address, description = excluded.description, \
                 last_heartbeat = excluded.last_heartbeat, updated = excluded.updated RETURNING *",
            )
            .bind(&worker.id)
            .bind(&worker.name)
            .bind(&worker.address)
            .bind(&worker.description)
            .bind(rows::micros(worker.last_heartbeat))
            .bind(rows::micros(worker.created))
            .bind(rows::micros(worker.updated))
            .fetch_one(&s.pool)
            .await
            .map_err(|e| write_error(e, || format!("worker id {:?}", worker.id), String::new))?;
            rows::worker(&row)
        }

        pub(super) async fn get_worker_by_name(
            s: &$store,
            name: &str,
        ) -> StoreResult<WorkerRecord> {
            match sqlx::query("SELECT * FROM workers WHERE name = $1")
                .bind(name)
                .fetch_optional(&s.pool)
                .await?
            {
                Some(row) => rows::worker(&row),
                None => Err(StoreError::NotFound),
            }
        }

        pub(super) async fn worker_heartbeat(
            s: &$store,
            worker_id: &str,
            address: &str,
            now: Timestamp,
        ) -> StoreResult<()> {
            let done = sqlx::query(
                "UPDATE workers SET address = $2, last_heartbeat = $3, updated = $3 WHERE id = $1",
            )
            .bind(worker_id)
            .bind(address)
            .bind(rows::micros(now))
            .execute(&s.pool)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }

        pub(super) async fn live_workers(
            s: &$store,
            since: Timestamp,
        ) -> StoreResult<Vec<WorkerRecord>> {
            let found = sqlx::query(
                "SELECT * FROM workers WHERE last_heartbeat >= $1 ORDER BY last_heartbeat DESC, id DESC",
            )
            .bind(rows::micros(since))
            .fetch_all(&s.pool)
            .await?;
            rows::all(&found, rows::worker)
        }
    };
}
pub(crate) use workers_sql;
