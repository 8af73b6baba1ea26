//! Who is calling: `Authorization: Bearer at_…_s1…` checked against the stored token.
//!
//! A missing or malformed header is an anonymous caller (Boundary's rule). A well-formed
//! token that is unknown, has the wrong secret, has expired or has gone stale is a
//! [`Caller::BadToken`]: it gets anonymous permissions, and a refusal is a 401 so that the
//! client knows to log in again. Token secrets are stored as SHA-256 hashes and compared in
//! constant time. Passwords are in [`crate::passwords`].

use crate::error::ApiError;
use crate::store::{AuthTokenRecord, Store, StoreError};
use boundary_net::worker_auth::bearer_value;
use boundary_wire::api::ids::AuthTokenString;
use boundary_wire::api::time_format;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::Duration;

/// How long a login lasts (Boundary's default `auth_token_time_to_live`).
pub const TOKEN_TIME_TO_LIVE: Duration = Duration::days(7);
/// A token unused for this long stops working (Boundary's `auth_token_time_to_stale`).
pub const TOKEN_TIME_TO_STALE: Duration = Duration::days(1);
/// `approximate_last_used_time` is only rewritten when older than this.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

#[derive(Clone, Debug)]
pub enum Caller {
    /// No token, or not one of ours in shape.
    Anonymous,
    /// A token in the right shape that does not authenticate anyone.
    BadToken,
    Authenticated(Box<AuthTokenRecord>),
}

impl Caller {
    pub fn token(&self) -> Option<&AuthTokenRecord> {
        match self {
            Caller::Authenticated(t) => Some(t),
            _ => None,
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        self.token().map(|t| t.user_id.as_str())
    }
}

/// SHA-256 of a token's secret part, hex (what the store keeps).
pub fn hash_token_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Resolves the caller from an `Authorization` header value.
pub async fn authenticate(store: &dyn Store, header: Option<&str>) -> Result<Caller, ApiError> {
    let Some(token) = header
        .and_then(bearer_value)
        .and_then(AuthTokenString::parse)
    else {
        return Ok(Caller::Anonymous);
    };
    let record = match store.get_auth_token(&token.id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Ok(Caller::BadToken),
        Err(e) => return Err(e.into()),
    };
    let presented = hash_token_secret(token.secret());
    if !bool::from(presented.as_bytes().ct_eq(record.secret_hash.as_bytes())) {
        return Ok(Caller::BadToken);
    }
    let now = time_format::now();
    if now >= record.expiration || now > record.approximate_last_used + TOKEN_TIME_TO_STALE {
        return Ok(Caller::BadToken);
    }
    if now - record.approximate_last_used > TOUCH_INTERVAL
        && let Err(e) = store.touch_auth_token(&record.id, now).await
    {
        tracing::warn!(token_id = %record.id, error = %e, "could not record the auth token's use");
    }
    Ok(Caller::Authenticated(Box::new(record)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_hex_sha256() {
        assert_eq!(hash_token_secret("abc").len(), 64);
        assert_ne!(hash_token_secret("abc"), hash_token_secret("abd"));
    }
}
