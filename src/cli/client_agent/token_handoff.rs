//! `POST /v1/tokens` after a login (what the stock CLI does): hands the new token to the
//! client agent, but only to the agent.
//!
//! The agent listens on a fixed loopback port. While it is not running, any local user can
//! listen there instead and collect the token of everyone who logs in. So the CLI
//! connects first, asks the kernel who owns the server's end of *that* connection (the
//! process that accepted it; sock_diag, as the agent identifies its callers), and sends
//! the request over the same connection only if that is root, as the agent runs. Checking
//! the connection that carries the token, rather than the port before connecting, leaves
//! no window in which the listener can change hands.
//!
//! Only loopback addresses are ever used (`localhost:<port>` as Boundary's CLI calls it:
//! 127.0.0.1, then [::1]); there is no setting for another address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{ENV_PORT, REQUEST_TIMEOUT};
use boundary_wire::api::ApiErrorBody;
use boundary_wire::api::agent::AddTokenRequest;

/// How long the agent may take to accept the connection (it does so at once; this only
/// bounds a listener that never does).
const ACCEPT_WAIT: Duration = Duration::from_secs(5);
const ACCEPT_POLL: Duration = Duration::from_millis(10);
/// Largest answer read from the agent (its answers are error bodies of a few hundred bytes).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why the token was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// Someone other than root serves the port: nothing was sent.
    #[error(
        "{address} is served by {owner}, not by root as the client agent is (whoever \
         listens on its port would receive the token)"
    )]
    NotTheAgent { address: SocketAddr, owner: String },
    /// The listener never accepted the connection, so its owner is unknown: nothing was sent.
    #[error(
        "the listener on {address} did not accept the connection within {}s, so who \
         serves it is unknown",
        ACCEPT_WAIT.as_secs()
    )]
    NotAccepted { address: SocketAddr },
    /// Not a loopback address: nothing was sent.
    #[error("{address} is not a loopback address")]
    NotLoopback { address: SocketAddr },
    /// The agent could not be reached, or refused the token.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

impl HandoffError {
    /// Whether the token was held back because the port is not (known to be) the agent's:
    /// a warning, as opposed to the agent simply not running.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, HandoffError::Failed(_))
    }
}

/// Sends `request` to the client agent on `localhost:<port>` if, and only if, root
/// serves that connection. An error answer or an unreachable agent is an error too.
pub async fn register_token(port: u16, request: &AddTokenRequest) -> Result<(), HandoffError> {
    let stream = connect(port).await?;
    let server = stream
        .peer_addr()
        .context("the connection has no peer address")?;
    let client = stream
        .local_addr()
        .context("the connection has no local address")?;
    if !server.ip().is_loopback() {
        return Err(HandoffError::NotLoopback { address: server });
    }
    match server_owner(client, server).await? {
        0 => {}
        uid => {
            return Err(HandoffError::NotTheAgent {
                address: server,
                owner: describe_user(uid),
            });
        }
    }
    tokio::time::timeout(REQUEST_TIMEOUT, post_token(stream, port, request))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "no answer within {}s from the client agent at {server}",
                REQUEST_TIMEOUT.as_secs()
            )
        })??;
    Ok(())
}

/// Connects to 127.0.0.1:`port`, then [::1]:`port`.
async fn connect(port: u16) -> anyhow::Result<TcpStream> {
    let mut last_error = None;
    for ip in [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ] {
        let address = SocketAddr::new(ip, port);
        match tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(error)) => last_error = Some(error.to_string()),
            Err(_) => last_error = Some("timed out".to_owned()),
        }
    }
    anyhow::bail!(
        "cannot connect to the client agent at localhost:{port} (127.0.0.1:{port}, \
         [::1]:{port}): {}. Is boundary-client-agent running? If it listens on another \
         port, pass -client-agent-port or set {ENV_PORT}.",
        last_error.unwrap_or_default()
    )
}

/// The uid of the process that accepted our connection, waiting (at most
/// [`ACCEPT_WAIT`]) until one has.
#[cfg(target_os = "linux")]
async fn server_owner(client: SocketAddr, server: SocketAddr) -> Result<u32, HandoffError> {
    use boundary_agent::os::linux::{ServerEnd, SockDiagPeerLookup};

    let lookup = SockDiagPeerLookup::new().context("cannot check who serves the port")?;
    let deadline = tokio::time::Instant::now() + ACCEPT_WAIT;
    loop {
        let end = lookup
            .tcp_server_end(client, server)
            .await
            .context("cannot check who serves the port")?;
        // `Gone` is retried too: under a SYN flood (syncookies) the server's socket only
        // appears once our handshake's last packet has been processed.
        match end {
            ServerEnd::Accepted { uid } => return Ok(uid),
            _ if tokio::time::Instant::now() < deadline => tokio::time::sleep(ACCEPT_POLL).await,
            ServerEnd::NotAccepted => return Err(HandoffError::NotAccepted { address: server }),
            ServerEnd::Gone => {
                return Err(anyhow::anyhow!("{server} closed the connection").into());
            }
        }
    }
}

/// Without sock_diag nothing tells who serves the port; the agent runs on Linux only.
#[cfg(not(target_os = "linux"))]
async fn server_owner(_client: SocketAddr, server: SocketAddr) -> Result<u32, HandoffError> {
    Err(anyhow::anyhow!("cannot check who serves {server} on this operating system").into())
}

/// `uid 1001 (mallory)`, or `uid 1001` for a uid without a user entry.
fn describe_user(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("uid {uid} ({})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// The request itself, over the checked connection.
async fn post_token(
    stream: TcpStream,
    port: u16,
    request: &AddTokenRequest,
) -> Result<(), HandoffError> {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("cannot talk HTTP to the client agent")?;
    let connection = tokio::spawn(connection);
    let body = serde_json::to_vec(request).context("cannot encode the token request")?;
    let http_request = axum::http::Request::post("/v1/tokens")
        .header(axum::http::header::HOST, format!("localhost:{port}"))
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .context("cannot build the token request")?;
    let response = sender
        .send_request(http_request)
        .await
        .context("the request to the client agent failed")?;
    let status = response.status().as_u16();
    let answer = axum::body::to_bytes(Body::new(response.into_body()), MAX_ANSWER_BYTES)
        .await
        .unwrap_or_default();
    connection.abort();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let message = serde_json::from_slice::<ApiErrorBody>(&answer)
        .map(|b| b.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(&answer).into_owned());
    Err(anyhow::anyhow!("the client agent answered {status}: {message}").into())
}
