//! The credential workers present on the controller's cluster listener.
//!
//! Controller and worker share a 32-byte worker-auth key (a `kms "aead"` block with
//! `purpose = "worker-auth"` in both configs). Neither sends the key itself: both derive
//! `base64url(HMAC-SHA256(key, "boundary worker-auth v1"))` with [`derive_credential`] and
//! the worker sends it as `Authorization: Bearer <credential>`. The controller compares in
//! constant time.

use crate::api::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use subtle::ConstantTimeEq;

const LABEL: &[u8] = b"boundary worker-auth v1";

/// The bearer credential for a worker-auth key. Worker and controller both call this.
pub fn derive_credential(worker_auth_key: &[u8]) -> Secret {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, worker_auth_key), LABEL);
    Secret::new(URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Checks `Authorization` header values against the expected credential.
#[derive(Clone)]
pub struct WorkerAuthVerifier {
    expected: Secret,
}

impl WorkerAuthVerifier {
    pub fn new(worker_auth_key: &[u8]) -> Self {
        Self {
            expected: derive_credential(worker_auth_key),
        }
    }

    /// True when `header` is `Bearer <credential>` (scheme case-insensitive).
    pub fn verify_header(&self, header: Option<&str>) -> bool {
        let Some(presented) = header.and_then(bearer_value) else {
            return false;
        };
        let expected = self.expected.expose().as_bytes();
        // Lengths are public (fixed-size credential); the bytes are compared in constant time.
        presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected))
    }
}

impl std::fmt::Debug for WorkerAuthVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkerAuthVerifier(<redacted>)")
    }
}

/// The credential of an `Authorization: Bearer …` header value; `None` for another scheme.
pub fn bearer_value(header: &str) -> Option<&str> {
    let (scheme, value) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| value.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_deterministic_and_keyed() {
        let a = derive_credential(&[1u8; 32]);
        assert_eq!(a, derive_credential(&[1u8; 32]));
        assert_ne!(a, derive_credential(&[2u8; 32]));
        assert_eq!(a.expose().len(), 43);
    }

    #[test]
    fn verifies_only_the_right_bearer() {
        let v = WorkerAuthVerifier::new(&[1u8; 32]);
        let cred = derive_credential(&[1u8; 32]);
        assert!(v.verify_header(Some(&format!("Bearer {}", cred.expose()))));
        assert!(v.verify_header(Some(&format!("bearer  {}", cred.expose()))));
        assert!(!v.verify_header(None));
        assert!(!v.verify_header(Some(cred.expose())));
        assert!(!v.verify_header(Some("Bearer ")));
        assert!(!v.verify_header(Some("Basic abc")));
        let other = derive_credential(&[2u8; 32]);
        assert!(!v.verify_header(Some(&format!("Bearer {}", other.expose()))));
        assert!(!v.verify_header(Some(&format!("Bearer {}x", cred.expose()))));
    }
}
