//! The client side of the worker proxy protocol (docs/wire-contract.md §3, docs/proxy-protocol-v2.md)
//! and the byte splice that both the client and the worker run once a tunnel is open.
//!
//! ```text
//! let session = TunnelSession::from_token(&authorization_token)?;   // once per session
//! let tunnel = session.connect().await?;                            // once per TCP connection
//! let report = tunnel.splice(accepted_tcp, cancel.cancelled_owned()).await;
//! session.cancel().await?;                                          // when done
//! ```

mod error;
mod handshake;
mod session;
pub mod splice;
mod tls;
mod worker_address;

pub use error::TunnelError;
pub use handshake::ProtocolOffer;
pub use session::{TOFU_TOKEN_LEN, Tunnel, TunnelSession};
pub use splice::{CHUNK_SIZE, HALF_CLOSE, Side, SpliceEnd, SpliceMode, SpliceReport, splice};
pub use tls::session_client_config;
pub use worker_address::{DEFAULT_WORKER_PORT, WorkerAddress};

#[cfg(any(test, feature = "test-worker"))]
pub mod test_worker;
