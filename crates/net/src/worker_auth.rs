//! How a worker proves *which* worker it is on the controller's cluster listener.
//!
//! Controller and workers share a 32-byte worker-auth key (a `kms "aead"` block with
//! `purpose = "worker-auth"` in both configs). Nobody sends the key. Each worker sends a
//! credential bound to its configured name:
//!
//! ```text
//! Authorization: Bearer worker-v2.<base64url(name)>.<base64url(HMAC-SHA256(key, "boundary worker-auth v2\0" ‖ name))>
//! ```
//!
//! The controller recomputes the tag from the name and its copy of the key (constant-time
//! comparison) and from then on treats the request as coming from that name; the worker
//! record with that name, its id and everything bound to the id (heartbeats, connections)
//! belong to it alone.
//!
//! Why a derived credential rather than a secret issued at registration:
//! - nothing to store or lose: a restarted worker (or one whose controller lost its
//!   database) derives the same credential from its config and is the same worker;
//! - several controllers sharing one PostgreSQL database all accept it, because each holds
//!   the key, with no state to replicate;
//! - a registration secret would not be stronger: registering still needs something
//!   shared, and whoever holds that can register under any name.
//!
//! The trust model, stated plainly: **the worker-auth key is the root of worker identity**,
//! as in Boundary's KMS worker authentication. Whoever holds the key can derive every
//! worker's credential and so act as any worker. What this scheme guarantees is that a
//! *credential* speaks for exactly one name: a worker (or anything that captured its
//! `Authorization` header) cannot use it to heartbeat as, or act on the connections of,
//! another worker. What the client's tofu token protects (authorizing connections of an
//! activated session, activating or cancelling it under another token) is enforced per
//! session in `worker_api` and holds even against a holder of the key; a pending session,
//! which has no token bound yet, is protected by which workers it was offered to.
//!
//! The first scheme (`HMAC(key, "boundary worker-auth v1")`, one credential shared by all
//! workers) is no longer accepted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boundary_wire::api::Secret;
use ring::hmac;

/// Separates this derivation from any other use of the key (and from the retired v1
/// credential, whose message was `boundary worker-auth v1` without the NUL).
const LABEL: &[u8] = b"boundary worker-auth v2\0";
/// Starts every credential, so a retired or foreign bearer value is recognisably wrong.
pub const CREDENTIAL_PREFIX: &str = "worker-v2.";
/// Longest worker name, in bytes.
pub const MAX_WORKER_NAME_LEN: usize = 128;

/// Why `name` cannot be a worker name, if it cannot. Names are compared byte for byte, so
/// surrounding whitespace (which a config edit could silently add) is refused rather than
/// trimmed.
pub fn worker_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_WORKER_NAME_LEN {
        Some("is longer than 128 bytes")
    } else if name.trim() != name {
        Some("starts or ends with whitespace")
    } else if name.chars().any(char::is_control) {
        Some("contains control characters")
    } else {
        None
    }
}

/// The bearer credential of the worker named `worker_name`. Workers call this with their
/// configured name; tests call it to act as a given worker.
pub fn derive_credential(worker_auth_key: &[u8], worker_name: &str) -> Secret {
    let key = hmac::Key::new(hmac::HMAC_SHA256, worker_auth_key);
    let tag = hmac::sign(&key, &message(worker_name));
    Secret::new(format!(
        "{CREDENTIAL_PREFIX}{}.{}",
        URL_SAFE_NO_PAD.encode(worker_name.as_bytes()),
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    ))
}

fn message(worker_name: &str) -> Vec<u8> {
    [LABEL, worker_name.as_bytes()].concat()
}

/// The worker a request authenticated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedWorker {
    /// The configured name the credential was derived for.
    pub name: String,
}

/// Checks `Authorization` header values and says which worker sent them.
#[derive(Clone)]
pub struct WorkerAuthVerifier {
    key: hmac::Key,
}

impl WorkerAuthVerifier {
    pub fn new(worker_auth_key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, worker_auth_key),
        }
    }

    /// The worker whose credential `header` carries (`Bearer worker-v2.…`, scheme
    /// case-insensitive); `None` for anything else, including the retired shared v1
    /// credential. The tag is checked in constant time.
    pub fn authenticate(&self, header: Option<&str>) -> Option<AuthenticatedWorker> {
        let credential = header.and_then(bearer_value)?;
        let (encoded_name, encoded_tag) = credential
            .strip_prefix(CREDENTIAL_PREFIX)?
            .split_once('.')?;
        let name = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded_name).ok()?).ok()?;
        if worker_name_problem(&name).is_some() {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(encoded_tag).ok()?;
        hmac::verify(&self.key, &message(&name), &tag).ok()?;
        Some(AuthenticatedWorker { name })
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

    fn bearer(credential: &Secret) -> String {
        format!("Bearer {}", credential.expose())
    }

    #[test]
    fn derivation_is_deterministic_keyed_and_per_name() {
        let a = derive_credential(&[1u8; 32], "worker-a");
        assert_eq!(a, derive_credential(&[1u8; 32], "worker-a"));
        assert_ne!(a, derive_credential(&[2u8; 32], "worker-a"));
        assert_ne!(a, derive_credential(&[1u8; 32], "worker-b"));
        assert!(a.expose().starts_with("worker-v2.d29ya2VyLWE."), "{a}");
    }

    #[test]
    fn a_credential_authenticates_exactly_its_name() {
        let v = WorkerAuthVerifier::new(&[1u8; 32]);
        let cred = derive_credential(&[1u8; 32], "worker-a");
        let who = |h: &str| v.authenticate(Some(h)).map(|w| w.name);
        assert_eq!(who(&bearer(&cred)).as_deref(), Some("worker-a"));
        assert_eq!(
            who(&format!("bearer  {}", cred.expose())).as_deref(),
            Some("worker-a")
        );
        // Another worker's tag under this name, or this tag under another name: refused.
        let other = derive_credential(&[1u8; 32], "worker-b");
        let (_, other_tag) = other.expose().rsplit_once('.').unwrap();
        let (own_prefix, _) = cred.expose().rsplit_once('.').unwrap();
        assert_eq!(who(&format!("Bearer {own_prefix}.{other_tag}")), None);
        // Wrong key, truncated or extended tag, other schemes, no header.
        assert_eq!(
            who(&bearer(&derive_credential(&[2u8; 32], "worker-a"))),
            None
        );
        assert_eq!(who(&format!("Bearer {}x", cred.expose())), None);
        assert_eq!(
            who(&format!(
                "Bearer {}",
                &cred.expose()[..cred.expose().len() - 1]
            )),
            None
        );
        assert_eq!(who(cred.expose()), None);
        assert_eq!(who("Bearer "), None);
        assert_eq!(who("Basic abc"), None);
        assert_eq!(v.authenticate(None), None);
    }

    #[test]
    fn the_retired_shared_credential_is_refused() {
        let key = [1u8; 32];
        let v1 = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &key),
            b"boundary worker-auth v1",
        );
        let header = format!("Bearer {}", URL_SAFE_NO_PAD.encode(v1.as_ref()));
        assert_eq!(
            WorkerAuthVerifier::new(&key).authenticate(Some(&header)),
            None
        );
    }

    #[test]
    fn names_are_checked_before_anything_is_trusted() {
        let key = [1u8; 32];
        let v = WorkerAuthVerifier::new(&key);
        for bad in ["", " padded", "padded ", "tab\there", &"x".repeat(129)] {
            assert!(worker_name_problem(bad).is_some(), "{bad:?}");
            assert_eq!(
                v.authenticate(Some(&bearer(&derive_credential(&key, bad)))),
                None,
                "{bad:?}"
            );
        }
        for good in ["w1", "dev-worker", "worker in rack 7", &"x".repeat(128)] {
            assert_eq!(worker_name_problem(good), None, "{good:?}");
        }
        // A name that is not UTF-8 never reaches the tag check.
        let raw = format!(
            "Bearer {CREDENTIAL_PREFIX}{}.AAAA",
            URL_SAFE_NO_PAD.encode([0xff])
        );
        assert_eq!(v.authenticate(Some(&raw)), None);
    }
}
