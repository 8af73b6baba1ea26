//! TLS pieces shared by the controller client, the tunnel and the worker.
//!
//! rustls is built without aws-lc, so every configuration starts from [`ring_provider`].
//! A verifier that replaces certificate-path validation must still check handshake
//! signatures, since they prove the peer holds the key of the certificate it showed:
//! [`HandshakeSignatures`] does that with the provider's algorithms. The session
//! certificate (docs/wire-contract.md §2), which both ends of a session connection present, is
//! accepted by [`PinnedCertificate`].

mod pinned;
mod signatures;

pub use pinned::PinnedCertificate;
pub use signatures::HandshakeSignatures;

use rustls::crypto::CryptoProvider;
use std::sync::Arc;

/// The crypto provider of every rustls configuration in the project (ring; see the
/// module docs). Pass it to `ClientConfig`/`ServerConfig::builder_with_provider`.
pub fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
