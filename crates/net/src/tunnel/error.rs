//! Why a tunnel could not be opened, one variant per thing the user can act on.

use boundary_wire::proto::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the session's certificate or private key is unusable: {0}")]
    Credentials(rustls::Error),
    #[error("the authorization token lists no worker to connect to")]
    NoWorker,
    #[error("worker address {0:?} is not host:port")]
    WorkerAddress(String),
    #[error("the session expired at {0}")]
    Expired(String),
    #[error("cannot connect to worker {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("TLS handshake with worker {address} failed: {source}")]
    Tls {
        address: String,
        source: std::io::Error,
    },
    #[error("WebSocket connection to worker {address} failed: {source}")]
    WebSocket {
        address: String,
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    #[error(
        "worker {address} did not agree on a proxy protocol (answered {answered:?}; offered {offered})"
    )]
    Subprotocol {
        address: String,
        answered: Option<String>,
        offered: String,
    },
    #[error("timed out {0}")]
    Timeout(String),
    #[error("the worker rejected this client's tofu token (close 1003: {reason})")]
    InvalidTofu { reason: String },
    #[error(
        "the session is already in use by another client: each session belongs to the first \
         client that connects (close 1008: {reason})"
    )]
    TofuNotAllowed { reason: String },
    #[error(
        "the worker refused the connection: {reason} (close 1011); the session may be expired, \
         canceled or out of connections: authorize a new one"
    )]
    Refused { reason: String },
    #[error("the worker could not reach the target endpoint: {reason} (close 3000)")]
    DialFailed { reason: String },
    #[error("the worker closed the connection during the handshake (close {code}: {reason})")]
    Closed { code: u16, reason: String },
    #[error("the worker ended the connection during the handshake without a close frame")]
    Ended,
    #[error("the worker sent an invalid handshake: {0}")]
    BadHandshake(String),
}

impl TunnelError {
    /// True when no further connection of this session can succeed: a new session has to
    /// be authorized (the agent does this on the next use).
    pub fn session_unusable(&self) -> bool {
        matches!(
            self,
            TunnelError::Expired(_)
                | TunnelError::Refused { .. }
                | TunnelError::TofuNotAllowed { .. }
                | TunnelError::InvalidTofu { .. }
                | TunnelError::Token(_)
                | TunnelError::Credentials(_)
                | TunnelError::NoWorker
        )
    }
}
