//! The worker's table of live (spliced) connections, by session.
//!
//! It answers three needs: the heartbeat reports which sessions have live connections; a
//! session the controller reports `canceling`/`terminated` has its connections stopped;
//! graceful shutdown stops whatever is left after the drain period. Each
//! entry is removed when its [`LiveConnection`] is dropped, so a connection task that ends
//! in any way (including a panic) cannot leave a stale entry.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio_util::sync::CancellationToken;

/// Why the worker stopped a live connection from its side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The session was canceled (by a client's SESSION_CANCEL or at the controller).
    SessionCanceled,
    /// The worker is shutting down and the drain period is over.
    Shutdown,
}

/// Tells a connection task to stop, and why.
#[derive(Clone, Debug, Default)]
pub struct StopSignal {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
}

impl StopSignal {
    /// The first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    /// Completes once [`Self::stop`] was called.
    pub async fn stopped(&self) -> StopReason {
        self.token.cancelled().await;
        self.reason.get().copied().unwrap_or(StopReason::Shutdown)
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.reason.get().copied()
    }
}

#[derive(Debug, Default)]
pub struct LiveConnections {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_key: u64,
    by_session: HashMap<String, HashMap<u64, StopSignal>>,
}

/// A registered connection; dropping it removes the entry.
#[derive(Debug)]
pub struct LiveConnection {
    table: Arc<LiveConnections>,
    session_id: String,
    key: u64,
    signal: StopSignal,
}

impl LiveConnection {
    pub fn signal(&self) -> &StopSignal {
        &self.signal
    }
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        let mut state = self.table.lock();
        if let Some(connections) = state.by_session.get_mut(&self.session_id) {
            connections.remove(&self.key);
            if connections.is_empty() {
                state.by_session.remove(&self.session_id);
            }
        }
    }
}

impl LiveConnections {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn register(self: &Arc<Self>, session_id: &str) -> LiveConnection {
        let signal = StopSignal::default();
        let mut state = self.lock();
        let key = state.next_key;
        state.next_key += 1;
        state
            .by_session
            .entry(session_id.to_owned())
            .or_default()
            .insert(key, signal.clone());
        LiveConnection {
            table: Arc::clone(self),
            session_id: session_id.to_owned(),
            key,
            signal,
        }
    }

    /// Sessions with at least one live connection, sorted.
    pub fn session_ids(&self) -> Vec<String> {
        let state = self.lock();
        let ids: BTreeSet<&String> = state.by_session.keys().collect();
        ids.into_iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().by_session.values().map(HashMap::len).sum()
    }

    /// Stops every live connection of one session; returns how many were signalled.
    pub fn stop_session(&self, session_id: &str, reason: StopReason) -> usize {
        let state = self.lock();
        match state.by_session.get(session_id) {
            Some(connections) => {
                connections.values().for_each(|s| s.stop(reason));
                connections.len()
            }
            None => 0,
        }
    }

    pub fn stop_all(&self, reason: StopReason) {
        let state = self.lock();
        for connections in state.by_session.values() {
            connections.values().for_each(|s| s.stop(reason));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_follow_their_guards_and_stops_reach_only_their_session() {
        let table = LiveConnections::new();
        let a1 = table.register("s_a");
        let a2 = table.register("s_a");
        let b = table.register("s_b");
        assert_eq!(table.session_ids(), vec!["s_a", "s_b"]);
        assert_eq!(table.len(), 3);

        assert_eq!(table.stop_session("s_a", StopReason::SessionCanceled), 2);
        assert_eq!(a1.signal().stopped().await, StopReason::SessionCanceled);
        assert_eq!(a2.signal().reason(), Some(StopReason::SessionCanceled));
        assert_eq!(b.signal().reason(), None);

        // The first reason wins.
        table.stop_all(StopReason::Shutdown);
        assert_eq!(a1.signal().reason(), Some(StopReason::SessionCanceled));
        assert_eq!(b.signal().reason(), Some(StopReason::Shutdown));

        drop(a1);
        drop(a2);
        assert_eq!(table.session_ids(), vec!["s_b"]);
        drop(b);
        assert_eq!(table.len(), 0);
    }
}
