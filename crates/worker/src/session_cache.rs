//! A short-lived cache of per-session TLS configurations.
//!
//! Every proxied TCP connection starts a TLS handshake, and a client opening many
//! connections of one session would otherwise cost a controller round trip and a key
//! parse each time. Only what the handshake needs is cached (certificate and key, both
//! fixed for the session's life) and the tofu token the session was activated with here
//! ([`TofuBinding`]); the session's state is always checked live at the controller when
//! the connection is authorized, so a stale entry can never admit a canceled, expired or
//! exhausted session. (An expired session still completes
//! TLS, so that its client gets the protocol's close 1011 rather than a bare TLS failure.)

use super::tls::{SessionTlsError, session_server_config};
use super::tofu_binding::TofuBinding;
use super::upstream::{ControllerLink, UpstreamError};
use boundary_wire::api::Timestamp;
use rustls::ServerConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a looked-up session is served from memory.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// Entries kept at most; a flood of distinct session ids cannot grow memory without bound.
const MAX_ENTRIES: usize = 4096;

/// What the TLS handshake of one session needs.
#[derive(Debug)]
pub struct SessionTls {
    pub session_id: String,
    pub server_config: Arc<ServerConfig>,
    /// Fixed for the session's life; the worker refuses connections past it itself.
    pub expiration: Timestamp,
    /// Set once this worker saw the controller activate the session.
    pub tofu: TofuBinding,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionLookupError {
    #[error("unknown session")]
    NotFound,
    #[error(transparent)]
    Upstream(UpstreamError),
    #[error(transparent)]
    Material(#[from] SessionTlsError),
}

#[derive(Debug)]
pub struct SessionCache {
    link: ControllerLink,
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<SessionTls>)>>,
}

impl SessionCache {
    pub fn new(link: ControllerLink, ttl: Duration) -> Self {
        Self {
            link,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(&self, session_id: &str) -> Result<Arc<SessionTls>, SessionLookupError> {
        if let Some(hit) = self.cached(session_id) {
            return Ok(hit);
        }
        let session = self.link.session(session_id).await.map_err(|e| match e {
            UpstreamError::NotFound => SessionLookupError::NotFound,
            other => SessionLookupError::Upstream(other),
        })?;
        let tls = Arc::new(SessionTls {
            session_id: session.session_id.clone(),
            server_config: Arc::new(session_server_config(&session)?),
            expiration: session.expiration,
            tofu: TofuBinding::default(),
        });
        self.insert(session_id, Arc::clone(&tls));
        Ok(tls)
    }

    /// Drops an entry, e.g. after the controller reported the session gone.
    pub fn forget(&self, session_id: &str) {
        self.lock().remove(session_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<SessionTls>)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cached(&self, session_id: &str) -> Option<Arc<SessionTls>> {
        let now = Instant::now();
        let mut entries = self.lock();
        match entries.get(session_id) {
            Some((fetched, tls)) if now.duration_since(*fetched) < self.ttl => {
                Some(Arc::clone(tls))
            }
            Some(_) => {
                entries.remove(session_id);
                None
            }
            None => None,
        }
    }

    fn insert(&self, session_id: &str, tls: Arc<SessionTls>) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (fetched, _)| now.duration_since(*fetched) < self.ttl);
        }
        if entries.len() >= MAX_ENTRIES {
            // Still full of fresh entries: drop the oldest rather than refuse to cache.
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (fetched, _))| *fetched)
                .map(|(id, _)| id.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(session_id.to_owned(), (now, tls));
    }
}
