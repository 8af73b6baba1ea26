//! Starting a controller: open the store, bind the API and cluster listeners (TLS when the
//! listener has a certificate), run the session sweep, and stop gracefully.

use crate::config::{ControllerConfig, ListenerConfig, TlsFiles};
use crate::passwords::PasswordWorkers;
use crate::seal::SealKey;
use crate::state::{AppState, ControllerState};
use crate::store::{Store, open_store, redact_url};
use crate::{routes, sweep, worker_api};
use axum::Router;
use boundary_net::http_serve::{ConnectionLimits, serve_connection};
use boundary_net::worker_auth::WorkerAuthVerifier;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often workers are asked to heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// A client that does not finish its TLS handshake in this time is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Slow-client bounds (slowloris): a connection with no request in progress must deliver
/// the next request's head within 30 s (also how long an idle keep-alive connection
/// lasts: the CLI makes a few requests in a row), and a body (at most 1 MiB, usually a few
/// hundred bytes) must arrive within 30 s of its head, which still allows a slow link.
const CONNECTION_LIMITS: ConnectionLimits = ConnectionLimits {
    idle_timeout: Duration::from_secs(30),
    body_timeout: Duration::from_secs(30),
};
/// Open connections get this long to finish after shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database {url}: {message}")]
    Store { url: String, message: String },
    #[error("cannot listen on {address} ({purpose}): {source}")]
    Bind {
        purpose: &'static str,
        address: String,
        source: std::io::Error,
    },
    #[error("TLS for the {purpose} listener: {message}")]
    Tls {
        purpose: &'static str,
        message: String,
    },
    #[error("the root key: {0}")]
    Key(#[from] crate::seal::SealError),
    #[error("cannot start the password hashing threads: {0}")]
    Threads(#[source] std::io::Error),
}

/// A running controller.
pub struct ControllerHandle {
    pub api_addr: SocketAddr,
    pub cluster_addr: SocketAddr,
    pub api_tls: bool,
    pub cluster_tls: bool,
    pub state: AppState,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl ControllerHandle {
    /// `http(s)://addr` of the API listener.
    pub fn api_url(&self) -> String {
        url(self.api_tls, self.api_addr)
    }

    pub fn cluster_url(&self) -> String {
        url(self.cluster_tls, self.cluster_addr)
    }

    /// A token that stops the controller when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until shutdown is requested and every task has finished.
    pub async fn wait(mut self) {
        while let Some(r) = self.tasks.join_next().await {
            if let Err(e) = r {
                tracing::error!(error = %e, "a controller task ended abnormally");
                self.shutdown.cancel();
            }
        }
    }
}

fn url(tls: bool, addr: SocketAddr) -> String {
    format!("{}://{addr}", if tls { "https" } else { "http" })
}

/// Opens the store named in the config and starts the controller.
pub async fn start(config: &ControllerConfig) -> Result<ControllerHandle, StartError> {
    let url = config.database_url.expose();
    let store = open_store(url).await.map_err(|e| StartError::Store {
        url: redact_url(url),
        message: e.to_string(),
    })?;
    start_with_store(config, store).await
}

/// Starts the controller on an already opened store.
pub async fn start_with_store(
    config: &ControllerConfig,
    store: Arc<dyn Store>,
) -> Result<ControllerHandle, StartError> {
    let root_key = match &config.root_key {
        Some(k) => SealKey::new(&k.key)?,
        None => SealKey::new(&SealKey::generate_bytes()?)?,
    };
    let state: AppState = Arc::new(ControllerState {
        store: store.clone(),
        root_key,
        worker_auth: WorkerAuthVerifier::new(&config.worker_auth_key.key),
        heartbeat_interval: HEARTBEAT_INTERVAL,
        passwords: PasswordWorkers::start().map_err(StartError::Threads)?,
    });
    let (api_listener, api_tls) = bind("api", &config.api).await?;
    let (cluster_listener, cluster_tls) = bind("cluster", &config.cluster).await?;
    let local = |l: &TcpListener, purpose: &'static str, address: &str| {
        l.local_addr().map_err(|source| StartError::Bind {
            purpose,
            address: address.to_owned(),
            source,
        })
    };
    let api_addr = local(&api_listener, "api", &config.api.address)?;
    let cluster_addr = local(&cluster_listener, "cluster", &config.cluster.address)?;

    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();
    tasks.spawn(serve(
        api_listener,
        api_tls.clone(),
        routes::api_router(state.clone()),
        shutdown.clone(),
    ));
    tasks.spawn(serve(
        cluster_listener,
        cluster_tls.clone(),
        worker_api::cluster_router(state.clone()),
        shutdown.clone(),
    ));
    tasks.spawn(sweep::run(store, sweep::SWEEP_INTERVAL, shutdown.clone()));
    tracing::info!(api = %api_addr, cluster = %cluster_addr, "controller listening");
    Ok(ControllerHandle {
        api_addr,
        cluster_addr,
        api_tls: api_tls.is_some(),
        cluster_tls: cluster_tls.is_some(),
        state,
        shutdown,
        tasks,
    })
}

async fn bind(
    purpose: &'static str,
    l: &ListenerConfig,
) -> Result<(TcpListener, Option<TlsAcceptor>), StartError> {
    let listener = TcpListener::bind(&l.address)
        .await
        .map_err(|source| StartError::Bind {
            purpose,
            address: l.address.clone(),
            source,
        })?;
    let tls = match &l.tls {
        None => None,
        Some(files) => {
            Some(tls_acceptor(files).map_err(|message| StartError::Tls { purpose, message })?)
        }
    };
    Ok((listener, tls))
}

fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "cannot read certificates from {}: {e}",
                files.cert_file.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no certificate",
            files.cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key_file).map_err(|e| {
        format!(
            "cannot read a private key from {}: {e}",
            files.key_file.display()
        )
    })?;
    let mut config =
        rustls::ServerConfig::builder_with_provider(boundary_net::tls::ring_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("certificate and key do not form a usable pair: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until shutdown, then lets open ones finish (bounded).
async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: CancellationToken,
) {
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // serve_connection takes a hyper service; the router is a tower one.
        let router = TowerToHyperService::new(router.clone());
        let (tls, shutdown) = (tls.clone(), shutdown.clone());
        connections.spawn(async move {
            match tls {
                None => serve_connection(stream, router, CONNECTION_LIMITS, shutdown).await,
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(tls_stream)) => {
                            serve_connection(tls_stream, router, CONNECTION_LIMITS, shutdown).await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
}
