//! Serving the local API: bind, run on the current tokio runtime, stop gracefully.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use boundary_net::http_serve::TimedBody;
use hyper::service::service_fn;
use hyper::{Method, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::guard::Caller;
use super::response::Response;
use super::user_connections::{UserConnections, refuse_over_limit};
use super::{AgentControl, guard, handlers, response};
use crate::os::PeerUidLookup;
use boundary_net::http_serve::{ConnectionLimits, serve_connection};

/// How long [`ApiServer::shutdown`] lets requests in flight finish before it cuts them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Local clients (the CLI, Desktop) send their request at once and keep no connection
/// open for long: one with no request in progress is closed after this, and a request
/// body (a few hundred bytes) must arrive within it.
pub const IDLE_AND_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// A CLI command uses one connection, Desktop a few; more than this from one user at once
/// is someone piling them up.
pub const CONNECTIONS_PER_USER: usize = 16;
/// Connections over their user's limit that are being answered 503 at the same time;
/// beyond this they are closed without an answer, so refusing costs no more descriptors
/// than this either.
const REFUSALS_AT_ONCE: usize = 8;

/// The local API's bounds on its clients. [`ApiServer::start`] uses the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiLimits {
    pub connection: ConnectionLimits,
    /// Connections one local user (socket owner) may hold open at once; more are answered
    /// 503 `Unavailable` and closed.
    pub connections_per_user: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            connection: ConnectionLimits {
                idle_timeout: IDLE_AND_BODY_TIMEOUT,
                body_timeout: IDLE_AND_BODY_TIMEOUT,
            },
            connections_per_user: CONNECTIONS_PER_USER,
        }
    }
}

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
    /// current tokio runtime with the default [`ApiLimits`]. `peers` identifies callers; it
    /// must look up sockets in the network namespace the listener lives in.
    pub async fn start(
        address: SocketAddr,
        control: Arc<dyn AgentControl>,
        peers: Arc<dyn PeerUidLookup>,
    ) -> Result<ApiServer, ApiServerError> {
        ApiServer::start_with_limits(address, control, peers, ApiLimits::default()).await
    }

    /// [`ApiServer::start`] with other limits.
    pub async fn start_with_limits(
        address: SocketAddr,
        control: Arc<dyn AgentControl>,
        peers: Arc<dyn PeerUidLookup>,
        limits: ApiLimits,
    ) -> Result<ApiServer, ApiServerError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ApiServerError::Bind { address, source })?;
        ApiServer::from_listener(listener, control, peers, limits)
    }

    /// Serves on an already bound listener (socket activation, tests with port 0).
    pub fn from_listener(
        listener: TcpListener,
        control: Arc<dyn AgentControl>,
        peers: Arc<dyn PeerUidLookup>,
        limits: ApiLimits,
    ) -> Result<ApiServer, ApiServerError> {
        let local_addr = listener.local_addr().map_err(ApiServerError::LocalAddr)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let clients = Clients {
            api: Arc::new(Api {
                control,
                peers: peers.clone(),
            }),
            peers,
            users: UserConnections::new(limits.connections_per_user),
            refusals: Arc::new(Semaphore::new(REFUSALS_AT_ONCE)),
            limits,
        };
        let task = tokio::spawn(serve(listener, Arc::new(clients), stopped));
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
/// socket owner lookup needs both ends. The guard gets it with each request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionAddrs {
    pub peer: SocketAddr,
    /// `None` only if the kernel could not report it (the request is then refused).
    pub local: Option<SocketAddr>,
}

/// What every connection's task needs.
struct Clients {
    api: Arc<Api>,
    peers: Arc<dyn PeerUidLookup>,
    users: Arc<UserConnections>,
    refusals: Arc<Semaphore>,
    limits: ApiLimits,
}

/// Accepts connections until `stopped` fires (or its sender is dropped), then lets
/// requests in flight finish while idle keep-alive connections close at once; the caller
/// bounds that wait ([`SHUTDOWN_GRACE`]). Each connection is bounded by
/// [`ApiLimits`]: a local user can pile up neither slow nor many connections (and the
/// root agent's file descriptors).
async fn serve(
    listener: TcpListener,
    clients: Arc<Clients>,
    stopped: oneshot::Receiver<()>,
) -> io::Result<()> {
    let shutdown = CancellationToken::new();
    let connections = TaskTracker::new();
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
        connections.spawn(serve_client(
            stream,
            addrs,
            clients.clone(),
            shutdown.clone(),
        ));
    }
    drop(listener);
    shutdown.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Serves one connection if its owner has a connection to spare, answers 503 otherwise.
async fn serve_client(
    stream: TcpStream,
    addrs: ConnectionAddrs,
    clients: Arc<Clients>,
    shutdown: CancellationToken,
) {
    let uid = socket_owner(&clients, addrs).await;
    let Some(_slot) = clients.users.try_open(uid) else {
        let limit = clients.limits.connections_per_user;
        tracing::warn!(
            ?uid,
            limit,
            "local API connection over the per-user limit refused"
        );
        if let Ok(_refusing) = clients.refusals.clone().try_acquire_owned() {
            refuse_over_limit(stream, uid, limit).await;
        }
        return;
    };
    serve_io(
        stream,
        addrs,
        clients.api.clone(),
        clients.limits.connection,
        shutdown,
    )
    .await;
}

/// Serves the requests of one accepted connection: `io` is its byte stream and `addrs`
/// its two ends (what the guard looks the caller up by). Every request passes the guard
/// and the routes, under `limits.connection` (idle, head and body deadlines), until the
/// client is done, a deadline cuts it or `shutdown` fires. [`ApiServer`] does this for
/// each connection it accepts, after the per-user connection limit (which needs a
/// socket); in-process callers such as the fuzz targets bring their own stream.
pub async fn serve_api_connection<I>(
    io: I,
    addrs: ConnectionAddrs,
    control: Arc<dyn AgentControl>,
    peers: Arc<dyn PeerUidLookup>,
    limits: ApiLimits,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let api = Arc::new(Api { control, peers });
    serve_io(io, addrs, api, limits.connection, shutdown).await;
}

async fn serve_io<I>(
    io: I,
    addrs: ConnectionAddrs,
    api: Arc<Api>,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(api.handle(request, addrs).await) }
    });
    serve_connection(io, service, limits, shutdown).await;
}

/// Whose connection this is, for the per-user limit. A client socket with no local owner,
/// or one the lookup fails for, counts as `None` (one shared allowance): its requests are
/// refused by [`guard::check_caller`] anyway, which reports why.
async fn socket_owner(clients: &Clients, addrs: ConnectionAddrs) -> Option<u32> {
    let local = addrs.local?;
    let lookup = clients.peers.tcp_client_uid(addrs.peer, local);
    match tokio::time::timeout(clients.limits.connection.idle_timeout, lookup).await {
        Ok(Ok(uid)) => uid,
        Ok(Err(error)) => {
            tracing::debug!(peer = %addrs.peer, %error, "cannot look up a local API client's owner");
            None
        }
        Err(_) => {
            tracing::debug!(peer = %addrs.peer, "the local API client's owner lookup timed out");
            None
        }
    }
}

/// The routes and what they need.
struct Api {
    control: handlers::Control,
    peers: Arc<dyn PeerUidLookup>,
}

impl Api {
    /// Every request passes [`guard::check_caller`] first (unknown paths too), then goes
    /// to its route: a GET route also answers HEAD (with the GET answer's headers and no
    /// body), a known path with another method gets 405 naming the methods it takes in
    /// `Allow`, and an unknown path 404.
    async fn handle(&self, request: Request<TimedBody>, addrs: ConnectionAddrs) -> Response {
        let caller = match guard::check_caller(self.peers.as_ref(), addrs, &request).await {
            Ok(caller) => caller,
            Err(refused) => return refused,
        };
        let method = request.method().clone();
        let response = self.route(request, caller).await;
        response::finish(response, &method)
    }

    async fn route(&self, request: Request<TimedBody>, caller: Caller) -> Response {
        let (parts, body) = request.into_parts();
        let get = parts.method == Method::GET || parts.method == Method::HEAD;
        let post = parts.method == Method::POST;
        let control = self.control.clone();
        match parts.uri.path() {
            "/v1/tokens" if post => handlers::add_token(control, caller, body).await,
            "/v1/status" if get => handlers::status(control, caller).await,
            "/v1/sessions" if get => handlers::sessions(control, caller).await,
            "/v1/pause" if post => handlers::pause(control, caller).await,
            "/v1/resume" if post => handlers::resume(control, caller).await,
            "/v1/tokens" | "/v1/pause" | "/v1/resume" => response::method_not_allowed("POST"),
            "/v1/status" | "/v1/sessions" => response::method_not_allowed("GET,HEAD"),
            _ => response::not_found(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The routing as axum did it before the port to hyper: over a real connection, with
    //! a caller lookup that always answers uid 1000.

    use async_trait::async_trait;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::api::ControlError;
    use crate::os::PeerLookupError;
    use boundary_wire::api::agent::{AddTokenRequest, AgentSessions, AgentStatus};

    struct Uid1000;

    #[async_trait]
    impl PeerUidLookup for Uid1000 {
        async fn tcp_client_uid(
            &self,
            _: SocketAddr,
            _: SocketAddr,
        ) -> Result<Option<u32>, PeerLookupError> {
            Ok(Some(1000))
        }

        async fn udp_client_uid(
            &self,
            _: SocketAddr,
            _: SocketAddr,
        ) -> Result<Option<u32>, PeerLookupError> {
            Ok(Some(1000))
        }
    }

    /// Answers sessions (empty) and nothing else.
    struct SessionsOnly;

    #[async_trait]
    impl AgentControl for SessionsOnly {
        async fn add_token(&self, _: u32, _: AddTokenRequest) -> Result<(), ControlError> {
            panic!("no token reaches the agent in these tests")
        }
        async fn has_token(&self, _: u32) -> bool {
            false
        }
        async fn status(&self, _: u32) -> AgentStatus {
            panic!("no status is asked for in these tests")
        }
        async fn sessions(&self, _: u32) -> AgentSessions {
            AgentSessions::default()
        }
        async fn pause(&self, _: u32) -> Result<(), ControlError> {
            panic!("no pause in these tests")
        }
        async fn resume(&self, _: u32) -> Result<(), ControlError> {
            panic!("no resume in these tests")
        }
    }

    /// Status code, lower-cased header lines and body of one HTTP/1.1 exchange.
    async fn exchange(address: SocketAddr, head: &str) -> (u16, Vec<String>, String) {
        exchange_with_body(address, head, "").await
    }

    async fn exchange_with_body(
        address: SocketAddr,
        head: &str,
        body: &str,
    ) -> (u16, Vec<String>, String) {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let request = format!("{head}\r\nhost: localhost\r\nconnection: close\r\n\r\n{body}");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap();
        let headers = lines.map(str::to_ascii_lowercase).collect();
        (status.parse().unwrap(), headers, body.to_owned())
    }

    #[tokio::test]
    async fn routes_answer_as_the_axum_router_did() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = ApiServer::from_listener(
            listener,
            Arc::new(SessionsOnly),
            Arc::new(Uid1000),
            ApiLimits::default(),
        )
        .unwrap();
        let address = server.local_addr();
        let json = "content-type: application/json".to_owned();

        let (status, headers, body) = exchange(address, "GET /v1/sessions?x=1 HTTP/1.1").await;
        assert_eq!((status, body.as_str()), (200, r#"{"items":[]}"#));
        assert!(headers.contains(&json), "{headers:?}");
        assert!(
            headers.contains(&"content-length: 12".to_owned()),
            "{headers:?}"
        );

        // HEAD on a GET route: the GET answer's headers, no body.
        let (status, headers, body) = exchange(address, "HEAD /v1/sessions HTTP/1.1").await;
        assert_eq!((status, body.as_str()), (200, ""));
        assert!(
            headers.contains(&"content-length: 12".to_owned()),
            "{headers:?}"
        );

        // A known path with another method: 405 naming the methods it takes.
        for (head, allow) in [
            ("DELETE /v1/status HTTP/1.1", "allow: GET,HEAD"),
            ("POST /v1/sessions HTTP/1.1", "allow: GET,HEAD"),
            ("GET /v1/tokens HTTP/1.1", "allow: POST"),
            ("HEAD /v1/pause HTTP/1.1", "allow: POST"),
            ("OPTIONS /v1/resume HTTP/1.1", "allow: POST"),
        ] {
            let (status, headers, body) = exchange(address, head).await;
            assert_eq!(status, 405, "{head}");
            assert!(
                headers.contains(&allow.to_ascii_lowercase()),
                "{head}: {headers:?}"
            );
            if !head.starts_with("HEAD") {
                assert_eq!(
                    body,
                    r#"{"kind":"Unimplemented","message":"Method not allowed for this path."}"#
                );
                assert!(headers.contains(&json), "{head}: {headers:?}");
            }
        }

        // Unknown paths (exact match: no trailing slash) are 404s.
        for head in ["GET /v1/sessions/ HTTP/1.1", "GET /nope HTTP/1.1"] {
            let (status, headers, body) = exchange(address, head).await;
            assert_eq!(status, 404, "{head}");
            assert_eq!(
                body,
                r#"{"kind":"NotFound","message":"Resource not found."}"#
            );
            assert!(
                headers.iter().all(|h| !h.starts_with("allow:")),
                "{headers:?}"
            );
        }

        // The guard runs before any route, unknown paths included.
        for path in ["/v1/sessions", "/nope"] {
            let head = format!("GET {path} HTTP/1.1\r\norigin: https://evil.example");
            let (status, _, body) = exchange(address, &head).await;
            assert_eq!(status, 403, "{path}: {body}");
            assert!(body.contains("PermissionDenied"), "{body}");
        }

        // A body that is not JSON never reaches the agent.
        let (status, _, body) = exchange_with_body(
            address,
            "POST /v1/tokens HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 3",
            "{x}",
        )
        .await;
        assert_eq!(status, 400, "{body}");

        server.shutdown().await.unwrap();
    }
}
