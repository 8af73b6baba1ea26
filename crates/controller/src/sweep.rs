//! Periodic session housekeeping: expire sessions, finish cancellations, and end sessions
//! whose connection limit is used up (the store's `sweep_sessions` decides; this only calls
//! it on a timer until shutdown).

use crate::store::Store;
use boundary_wire::api::time_format;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

pub async fn run(store: Arc<dyn Store>, interval: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match store.sweep_sessions(time_format::now()).await {
            Ok(ended) if !ended.is_empty() => {
                tracing::debug!(count = ended.len(), sessions = ?ended, "sessions terminated by the sweep");
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "session sweep failed; retrying at the next interval")
            }
        }
    }
}
