//! The token `authenticate` keeps in the OS keyring, in Boundary's format: service
//! `HashiCorp Boundary Auth Token`, user = the token name (`-token-name`, default
//! `default`), secret = unpadded base64 of the auth token's JSON (with its `token`).
//!
//! On Linux the store is the kernel keyring (keyutils): per user, no D-Bus needed, so it
//! works headless; it does not survive a reboot. keyring calls block, so the async
//! functions here run them on tokio's blocking pool.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use boundary_wire::api::Secret;
use boundary_wire::api::auth::AuthToken;

/// Boundary's keyring service name for stored tokens.
pub const KEYRING_SERVICE: &str = "HashiCorp Boundary Auth Token";
/// `-token-name` default.
pub const DEFAULT_TOKEN_NAME: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("no OS keyring is supported on this platform; use -keyring-type none")]
    Unsupported,
    #[error("the keyring cannot be opened: {0}")]
    Open(String),
    #[error("keyring entry {name:?}: {reason}")]
    Entry { name: String, reason: String },
    #[error("the token stored under {name:?} is not readable: {reason}")]
    Corrupt { name: String, reason: String },
    #[error("the keyring task failed: {0}")]
    Task(String),
}

/// What is read back: the bearer token and, when the stored JSON has it, its id.
#[derive(Clone, Debug)]
pub struct StoredToken {
    pub id: Option<String>,
    pub token: Secret,
}

/// Stores `token` (which must carry its `token` secret) under `name`, replacing any
/// previous one.
pub async fn save(name: &str, token: &AuthToken) -> anyhow::Result<()> {
    let encoded = encode(token)?;
    let name = name.to_owned();
    blocking(move || platform::save(&name, &encoded)).await
}

/// The token stored under `name`, or `None` when there is none.
pub async fn load(name: &str) -> anyhow::Result<Option<StoredToken>> {
    let owned = name.to_owned();
    let Some(encoded) = blocking(move || platform::load(&owned)).await? else {
        return Ok(None);
    };
    decode(name, encoded.expose()).map(Some).map_err(Into::into)
}

/// Forgets the token stored under `name`; `false` when there was none.
pub async fn remove(name: &str) -> anyhow::Result<bool> {
    let name = name.to_owned();
    blocking(move || platform::remove(&name)).await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, TokenStoreError> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TokenStoreError::Task(e.to_string()))?
        .map_err(Into::into)
}

fn encode(token: &AuthToken) -> anyhow::Result<Secret> {
    if token.token.as_ref().is_none_or(Secret::is_empty) {
        anyhow::bail!("the auth token to store has no token secret");
    }
    let json = serde_json::to_vec(token)?;
    Ok(Secret::new(STANDARD_NO_PAD.encode(json)))
}

/// Reads Boundary's stored form leniently: only `token` (and `id`) are needed.
fn decode(name: &str, encoded: &str) -> Result<StoredToken, TokenStoreError> {
    #[derive(serde::Deserialize)]
    struct Stored {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        token: Option<Secret>,
    }
    let corrupt = |reason: String| TokenStoreError::Corrupt {
        name: name.to_owned(),
        reason,
    };
    let json = STANDARD_NO_PAD
        .decode(encoded.trim().trim_end_matches('='))
        .map_err(|e| corrupt(format!("not base64: {e}")))?;
    let stored: Stored =
        serde_json::from_slice(&json).map_err(|e| corrupt(format!("not an auth token: {e}")))?;
    match stored.token {
        Some(token) if !token.is_empty() => Ok(StoredToken {
            id: stored.id,
            token,
        }),
        _ => Err(corrupt("it has no token".into())),
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use super::TokenStoreError;
    use boundary_wire::api::Secret;
    use keyring_core::{Entry, Error};
    use std::sync::OnceLock;

    /// `keyring_core::set_default_store` is process-global; do it once.
    fn ensure_store() -> Result<(), TokenStoreError> {
        static STORE: OnceLock<Result<(), String>> = OnceLock::new();
        STORE
            .get_or_init(|| {
                let store =
                    linux_keyutils_keyring_store::Store::new().map_err(|e| e.to_string())?;
                keyring_core::set_default_store(store);
                Ok(())
            })
            .clone()
            .map_err(TokenStoreError::Open)
    }

    /// Gives the calling thread a session keyring of its own when it has none (or only the
    /// per-user default one), as in a shell without `pam_keyinit`, a container or a test
    /// harness. keyutils credentials are per thread, and the store adds keys to the
    /// session keyring and links them into the persistent keyring; without this the
    /// first call on a thread adds to the shared user-session keyring but cannot link the
    /// key (EACCES), and a later process cannot find it. A real login session keyring is
    /// left as it is.
    fn ensure_session_keyring() -> Result<(), TokenStoreError> {
        linux_keyutils::KeyRing::from_special_id(linux_keyutils::KeyRingIdentifier::Session, true)
            .map(drop)
            .map_err(|e| TokenStoreError::Open(format!("no session keyring: {e}")))
    }

    fn entry(name: &str) -> Result<Entry, TokenStoreError> {
        ensure_store()?;
        ensure_session_keyring()?;
        Entry::new(super::KEYRING_SERVICE, name).map_err(|e| entry_error(name, e))
    }

    fn entry_error(name: &str, e: Error) -> TokenStoreError {
        TokenStoreError::Entry {
            name: name.to_owned(),
            reason: e.to_string(),
        }
    }

    pub fn save(name: &str, encoded: &Secret) -> Result<(), TokenStoreError> {
        entry(name)?
            .set_password(encoded.expose())
            .map_err(|e| entry_error(name, e))
    }

    pub fn load(name: &str) -> Result<Option<Secret>, TokenStoreError> {
        match entry(name)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(entry_error(name, e)),
        }
    }

    pub fn remove(name: &str) -> Result<bool, TokenStoreError> {
        match entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(e) => Err(entry_error(name, e)),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::TokenStoreError;
    use boundary_wire::api::Secret;

    pub fn save(_: &str, _: &Secret) -> Result<(), TokenStoreError> {
        Err(TokenStoreError::Unsupported)
    }

    pub fn load(_: &str) -> Result<Option<Secret>, TokenStoreError> {
        Err(TokenStoreError::Unsupported)
    }

    pub fn remove(_: &str) -> Result<bool, TokenStoreError> {
        Err(TokenStoreError::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_wire::api::ids::AuthTokenString;

    fn sample_token() -> AuthToken {
        let now = boundary_wire::api::time_format::now();
        let t = AuthTokenString::generate();
        AuthToken {
            id: t.id.clone(),
            scope_id: "global".into(),
            scope: None,
            token: Some(Secret::new(t.to_token_string())),
            user_id: "u_1234567890".into(),
            auth_method_id: "ampw_1234567890".into(),
            account_id: "acctpw_1234567890".into(),
            created_time: now,
            updated_time: now,
            approximate_last_used_time: now,
            expiration_time: now,
            authorized_actions: vec![],
        }
    }

    #[test]
    fn the_stored_form_is_unpadded_base64_json_and_round_trips() {
        let token = sample_token();
        let encoded = encode(&token).unwrap();
        assert!(!encoded.expose().ends_with('='));
        let json: serde_json::Value =
            serde_json::from_slice(&STANDARD_NO_PAD.decode(encoded.expose()).unwrap()).unwrap();
        assert_eq!(json["id"], token.id.as_str());
        let back = decode("t", encoded.expose()).unwrap();
        assert_eq!(back.id.as_deref(), Some(token.id.as_str()));
        assert_eq!(back.token, token.token.unwrap());
    }

    #[test]
    fn a_token_without_secret_is_not_stored_and_garbage_is_not_read() {
        let mut token = sample_token();
        token.token = None;
        assert!(encode(&token).is_err());
        assert!(matches!(
            decode("t", "!!!"),
            Err(TokenStoreError::Corrupt { .. })
        ));
        let no_token = STANDARD_NO_PAD.encode(br#"{"id":"at_1234567890"}"#);
        assert!(matches!(
            decode("t", &no_token),
            Err(TokenStoreError::Corrupt { .. })
        ));
    }

    /// The real kernel keyring: store, read back, remove. Uses a unique name and removes
    /// it even when an assertion fails.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn keyutils_round_trip() {
        struct Cleanup(String);
        impl Drop for Cleanup {
            fn drop(&mut self) {
                let _ = platform::remove(&self.0);
            }
        }
        let name = format!("unit-test-{}", boundary_wire::api::ids::random_base62(10));
        let _cleanup = Cleanup(name.clone());
        assert!(load(&name).await.unwrap().is_none());
        let token = sample_token();
        save(&name, &token).await.unwrap();
        let back = load(&name).await.unwrap().expect("stored");
        assert_eq!(back.token, token.token.clone().unwrap());
        assert_eq!(back.id.as_deref(), Some(token.id.as_str()));
        assert!(remove(&name).await.unwrap());
        assert!(!remove(&name).await.unwrap());
    }
}
