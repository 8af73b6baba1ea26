//! The trust-on-first-use token this worker saw the controller bind a session to.
//!
//! Boundary's worker activates a session only while it knows no token for it; every later
//! connection's token is compared locally, and the controller is asked only to authorize
//! the connection (which checks the token again and the session's state). Doing the same
//! saves one controller round trip per connection. The binding lives with the cached
//! session entry, so after that entry expires the next connection activates again, which
//! the controller answers from its own record.
//!
//! Only a SHA-256 digest of the token is kept: the worker needs equality, not the secret.

use std::sync::OnceLock;

use boundary_wire::api::Secret;
use ring::digest::{SHA256, digest};

/// A session's token as far as this worker knows it.
#[derive(Debug, Default)]
pub struct TofuBinding(OnceLock<[u8; 32]>);

/// How a connection's token compares with the session's binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum TofuCheck {
    /// This worker has not seen the session activated: ask the controller.
    Unknown,
    /// The token the session was activated with.
    Same,
    /// Another token: the connection is refused, as the controller would refuse it.
    Different,
}

impl TofuBinding {
    pub fn check(&self, token: &Secret) -> TofuCheck {
        match self.0.get() {
            None => TofuCheck::Unknown,
            Some(bound) if *bound == fingerprint(token) => TofuCheck::Same,
            Some(_) => TofuCheck::Different,
        }
    }

    /// Records the token the controller accepted at activation. The first binding wins; the
    /// controller never accepts two tokens for one session, so a second call carries the same.
    pub fn bind(&self, token: &Secret) {
        let _ = self.0.set(fingerprint(token));
    }
}

fn fingerprint(token: &Secret) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.expose().as_bytes()).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bound_token_matches_after_activation() {
        let binding = TofuBinding::default();
        let first = Secret::new("a1b2c3d4e5f6g7h8i9j0");
        let other = Secret::new("zzzzzzzzzzzzzzzzzzzz");
        assert_eq!(binding.check(&first), TofuCheck::Unknown);
        binding.bind(&first);
        assert_eq!(binding.check(&first), TofuCheck::Same);
        assert_eq!(binding.check(&other), TofuCheck::Different);
        binding.bind(&other);
        assert_eq!(
            binding.check(&first),
            TofuCheck::Same,
            "the first binding stays"
        );
    }
}
