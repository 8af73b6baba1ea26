//! The spare tunnel: TCP, TLS and the WebSocket upgrade to the worker done ahead of the
//! next connection of a session that is in use.
//!
//! A new connection through the agent otherwise waits for the worker's TCP handshake, a
//! full TLS 1.3 handshake with client certificate and the WebSocket upgrade before the
//! proxy handshake can even be sent (about 2 ms of the 7 ms to the first byte in the
//! harness on a 2-core machine). The spare stops before the proxy handshake: the worker
//! neither activates the session nor counts a connection for it until that handshake
//! arrives, so an unused spare costs one idle TLS connection and nothing at the
//! controller. It is dropped after `max_idle`, so a session that is no longer used holds
//! nothing open.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;

use super::TunnelSession;
use crate::tunnel::SpliceMode;

/// An upgraded WebSocket waiting for its proxy handshake.
pub(super) struct Spare {
    pub ws: WebSocketStream<TlsStream<TcpStream>>,
    pub mode: SpliceMode,
    pub worker: String,
    opened: Instant,
}

impl Spare {
    /// False when the worker already closed this idle connection, or sent anything on it
    /// (it has nothing to say before the handshake); checked without waiting.
    fn still_open(&mut self) -> bool {
        self.ws.next().now_or_never().is_none()
    }
}

/// At most one spare per session, and at most one being opened.
pub(super) struct SpareSlot {
    max_idle: Duration,
    state: Mutex<SlotState>,
}

enum SlotState {
    Empty,
    Opening,
    Ready(Box<Spare>),
}

impl SpareSlot {
    pub fn new(max_idle: Duration) -> SpareSlot {
        SpareSlot {
            max_idle,
            state: Mutex::new(SlotState::Empty),
        }
    }

    /// The spare if one is ready, younger than `max_idle` and not closed by the worker.
    pub fn take(&self) -> Option<Spare> {
        let taken = {
            let mut state = self.lock();
            match std::mem::replace(&mut *state, SlotState::Empty) {
                SlotState::Ready(spare) => Some(*spare),
                SlotState::Empty => None,
                SlotState::Opening => {
                    *state = SlotState::Opening;
                    None
                }
            }
        };
        let mut spare = taken?;
        (spare.opened.elapsed() < self.max_idle && spare.still_open()).then_some(spare)
    }

    /// Opens the next spare in the background unless one is ready or on its way. The task
    /// holds the session only while it opens; the spare expires after `max_idle`.
    pub fn refill(&self, session: &Arc<TunnelSession>) {
        {
            let mut state = self.lock();
            if !matches!(*state, SlotState::Empty) {
                return;
            }
            *state = SlotState::Opening;
        }
        let weak = Arc::downgrade(session);
        tokio::spawn(async move {
            let Some(session) = weak.upgrade() else {
                return;
            };
            let opened = session.open().await;
            // Always `Some`: only a session with spares calls `refill`.
            let Some(slot) = session.spare.as_ref() else {
                return;
            };
            let (ws, mode, worker) = match opened {
                Ok(tunnel) => tunnel,
                Err(error) => {
                    tracing::debug!(%error, "cannot open a spare tunnel; the next connection opens its own");
                    *slot.lock() = SlotState::Empty;
                    return;
                }
            };
            let opened_at = Instant::now();
            *slot.lock() = SlotState::Ready(Box::new(Spare {
                ws,
                mode,
                worker,
                opened: opened_at,
            }));
            let max_idle = slot.max_idle;
            drop(session);
            expire_later(weak, opened_at, max_idle).await;
        });
    }

    /// Whether a spare is open and waiting (for tests).
    #[cfg(test)]
    pub fn is_ready(&self) -> bool {
        matches!(*self.lock(), SlotState::Ready(_))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Closes the spare opened at `opened` (not a later one) once it is too old to be used.
async fn expire_later(session: Weak<TunnelSession>, opened: Instant, max_idle: Duration) {
    tokio::time::sleep(max_idle).await;
    let Some(session) = session.upgrade() else {
        return;
    };
    let Some(slot) = session.spare.as_ref() else {
        return;
    };
    let mut state = slot.lock();
    if matches!(&*state, SlotState::Ready(spare) if spare.opened == opened) {
        *state = SlotState::Empty;
    }
}
