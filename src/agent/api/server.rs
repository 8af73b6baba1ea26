//! Serving the local API: bind, run on the current tokio runtime, stop gracefully.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::FromRef;
use axum::routing::{get, post};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{AgentControl, guard, handlers, response};
use crate::agent::os::PeerUidLookup;
use crate::http_serve::serve_connection;

/// How long [`ApiServer::shutdown`] lets requests in flight finish before it cuts them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// A connection must deliver a request's headers within this, or it is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The running local API server. Dropping it without [`ApiServer::shutdown`] stops it
/// abruptly.
pub struct ApiServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiServerError {
    #[error(
        "cannot listen on {address} for the local API (api_listen_address): {source}; is \
         another client agent running?"
    )]
    Bind {
        address: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("the local API listener has no local address: {0}")]
    LocalAddr(#[source] io::Error),
    #[error("the local API server failed: {0}")]
    Serve(#[source] io::Error),
    #[error("the local API server task panicked or was cancelled")]
    Task,
}

impl ApiServer {
    /// Binds `address` (the configured `api_listen_address`) and starts serving on the
    /// current tokio runtime. `peers` identifies callers; it must look up sockets in the
    /// network namespace the listener lives in.
    pub async fn start(
        address: SocketAddr,
        control: Arc<dyn AgentControl>,
        peers: Arc<dyn PeerUidLookup>,
    ) -> Result<ApiServer, ApiServerError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ApiServerError::Bind { address, source })?;
        ApiServer::from_listener(listener, control, peers)
    }

    /// Serves on an already bound listener (socket activation, tests with port 0).
    pub fn from_listener(
        listener: TcpListener,
        control: Arc<dyn AgentControl>,
        peers: Arc<dyn PeerUidLookup>,
    ) -> Result<ApiServer, ApiServerError> {
        let local_addr = listener.local_addr().map_err(ApiServerError::LocalAddr)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, router(control, peers), stopped));
        tracing::info!(address = %local_addr, "local API listening");
        Ok(ApiServer {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections, lets requests in flight finish (at most
    /// [`SHUTDOWN_GRACE`]; idle keep-alive connections are closed at once) and returns
    /// once the listener is closed.
    pub async fn shutdown(mut self) -> Result<(), ApiServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        let result = match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(joined) => joined,
            Err(_) => {
                tracing::warn!("local API requests still running after the grace period; cut");
                task.abort();
                return Ok(());
            }
        };
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(ApiServerError::Serve(error)),
            Err(_) => Err(ApiServerError::Task),
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The peer and local address of an accepted connection, captured at accept time: the
/// socket owner lookup needs both ends. Handlers get it as `ConnectInfo<ConnectionAddrs>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionAddrs {
    pub peer: SocketAddr,
    /// `None` only if the kernel could not report it (the request is then refused).
    pub local: Option<SocketAddr>,
}

/// Accepts connections until `stopped` fires (or its sender is dropped), then lets
/// requests in flight finish while idle keep-alive connections close at once; the caller
/// bounds that wait ([`SHUTDOWN_GRACE`]). Local clients send a request at once, so a
/// connection whose headers do not arrive within [`HEADER_READ_TIMEOUT`] is closed: a
/// local user cannot pile up idle connections (and the agent's file descriptors).
async fn serve(
    listener: TcpListener,
    router: Router,
    stopped: oneshot::Receiver<()>,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(stopped);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "local API accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let addrs = ConnectionAddrs {
            peer,
            local: stream.local_addr().ok(),
        };
        let router = router.clone().layer(Extension(ConnectInfo(addrs)));
        tokio::spawn(serve_connection(
            stream,
            router,
            HEADER_READ_TIMEOUT,
            graceful.watcher(),
        ));
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[derive(Clone, FromRef)]
struct ApiState {
    control: handlers::Control,
    peers: Arc<dyn PeerUidLookup>,
}

fn router(control: Arc<dyn AgentControl>, peers: Arc<dyn PeerUidLookup>) -> Router {
    let state = ApiState { control, peers };
    Router::new()
        .route("/v1/tokens", post(handlers::add_token))
        .route("/v1/status", get(handlers::status))
        .route("/v1/sessions", get(handlers::sessions))
        .route("/v1/pause", post(handlers::pause))
        .route("/v1/resume", post(handlers::resume))
        .fallback(response::not_found)
        .method_not_allowed_fallback(response::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check_caller,
        ))
        .with_state(state)
}
