//! The bundled Boundary worker: terminates the session-pinned TLS, speaks the proxy
//! protocol (docs/wire-contract.md §3 and our v2), dials the target, enforces session limits through
//! the controller and reports bytes.
//!
//! The controller is the single source of truth for session state (tofu binding,
//! connection counts, cancellation), so any worker the session was offered to can serve
//! any of its connections. The worker authenticates as itself (a credential derived from
//! the worker-auth key and its configured name) and passes the client's tofu token along
//! with every call that changes a session.
//!
//! ```no_run
//! # async fn example(config: boundary_worker::WorkerConfig) -> Result<(), boundary_worker::WorkerError> {
//! let worker = boundary_worker::Worker::bind(&config).await?;
//! worker.run(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```

mod config;
mod dial;
mod handshake;
mod heartbeat;
mod live;
mod proxy;
mod session_cache;
mod tls;
mod tofu_binding;
mod upstream;

pub use boundary_config::ConfigError;
pub use config::{DEFAULT_PROXY_PORT, WorkerAuthKey, WorkerConfig};
/// The first steps of a proxied connection after TLS, for in-process callers (the fuzz
/// targets): the upgrade and the client's first message.
pub use handshake::{Refusal, Request, TOFU_TOKEN_LEN, parse_request, read_request};
pub use proxy::accept_upgrade;
pub use upstream::{ControllerLink, UpstreamError};

use boundary_wire::api::worker::RegisterWorkerRequest;
use live::{LiveConnections, StopReason};
use session_cache::SessionCache;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long shutdown waits for live connections to end on their own.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// After the drain, how long stopped connections get to close and report.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot listen for proxy connections on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up the controller link: {0}")]
    Upstream(#[from] UpstreamError),
    #[error("the worker name {name:?} {problem}")]
    Name { name: String, problem: &'static str },
    #[error("the public address {addr:?} {reason}")]
    PublicAddr { addr: String, reason: String },
}

/// What every connection task shares.
struct Shared {
    link: ControllerLink,
    sessions: Arc<SessionCache>,
    live: Arc<LiveConnections>,
}

/// A worker whose proxy listener is bound; [`Worker::run`] serves it.
pub struct Worker {
    listener: TcpListener,
    registration: RegisterWorkerRequest,
    shared: Arc<Shared>,
    drain_timeout: Duration,
}

impl Worker {
    /// Binds the proxy listener (so a bad address fails at once) and prepares the
    /// controller link. Nothing is contacted yet.
    pub async fn bind(config: &WorkerConfig) -> Result<Self, WorkerError> {
        if let Some(problem) = boundary_net::worker_auth::worker_name_problem(&config.name) {
            return Err(WorkerError::Name {
                name: config.name.clone(),
                problem,
            });
        }
        let listener = TcpListener::bind(config.proxy_listen_addr)
            .await
            .map_err(|source| WorkerError::Bind {
                addr: config.proxy_listen_addr,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| WorkerError::Bind {
            addr: config.proxy_listen_addr,
            source,
        })?;
        let public_addr = match &config.public_addr {
            Some(addr) => {
                boundary_config::with_default_port(addr, bound.port()).map_err(|reason| {
                    WorkerError::PublicAddr {
                        addr: addr.clone(),
                        reason,
                    }
                })?
            }
            None => bound.to_string(),
        };
        // Bound to this worker's name: the controller lets it act as this worker only.
        let credential = boundary_net::worker_auth::derive_credential(
            config.worker_auth_key.expose(),
            &config.name,
        );
        let link = ControllerLink::new(
            &config.initial_upstreams,
            credential,
            &config.upstream_ca_certs,
        )?;
        Ok(Self {
            listener,
            registration: RegisterWorkerRequest {
                name: config.name.clone(),
                address: public_addr,
                description: config.description.clone(),
            },
            shared: Arc::new(Shared {
                sessions: Arc::new(SessionCache::new(link.clone(), session_cache::DEFAULT_TTL)),
                link,
                live: LiveConnections::new(),
            }),
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        })
    }

    /// The bound proxy address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address this worker registers for clients to dial.
    pub fn public_addr(&self) -> &str {
        &self.registration.address
    }

    /// How long shutdown waits for live connections before stopping them.
    pub fn with_drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Registers (retrying while the controller is down), serves until `shutdown`
    /// completes, then stops accepting, drains live connections for the drain timeout,
    /// stops the rest and returns once they have closed and reported.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Self {
            listener,
            registration,
            shared,
            drain_timeout,
        } = self;
        let stop = CancellationToken::new();
        tokio::pin!(shutdown);

        let registered = tokio::select! {
            registered = heartbeat::register(&shared.link, &registration, &stop) => registered,
            _ = &mut shutdown => None,
        };
        let Some(registered) = registered else {
            return;
        };
        let heartbeats = tokio::spawn(heartbeat::run(
            shared.link.clone(),
            registration,
            registered.heartbeat_interval_seconds,
            Arc::clone(&shared.live),
            Arc::clone(&shared.sessions),
            stop.clone(),
        ));

        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let shared = Arc::clone(&shared);
                        connections.spawn(async move { proxy::serve(tcp, peer, &shared).await });
                    }
                    Err(e) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "cannot accept a proxy connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(finished) = connections.join_next(), if !connections.is_empty() => {
                    if let Err(e) = finished && e.is_panic() {
                        tracing::error!(error = %e, "a proxy connection task panicked");
                    }
                }
            }
        }
        drop(listener);
        tracing::info!(
            connections = connections.len(),
            "worker stopping: no new connections, draining live ones"
        );
        if tokio::time::timeout(drain_timeout, drain(&mut connections))
            .await
            .is_err()
        {
            tracing::info!(
                live = shared.live.len(),
                "drain period over; closing the remaining connections"
            );
            shared.live.stop_all(StopReason::Shutdown);
            let _ = tokio::time::timeout(STOP_GRACE, drain(&mut connections)).await;
            connections.shutdown().await;
        }
        stop.cancel();
        let _ = heartbeats.await;
    }
}

async fn drain(connections: &mut JoinSet<()>) {
    while connections.join_next().await.is_some() {}
}
