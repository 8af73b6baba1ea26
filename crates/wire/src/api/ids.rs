//! Boundary public ids (`<prefix>_<10 base62>`) and the auth token string format.

use rand::Rng;

pub const AUTH_TOKEN: &str = "at";
pub const USER: &str = "u";
pub const PASSWORD_AUTH_METHOD: &str = "ampw";
pub const PASSWORD_ACCOUNT: &str = "acctpw";
pub const SESSION: &str = "s";
pub const SESSION_CONNECTION: &str = "sc";
pub const TCP_TARGET: &str = "ttcp";
pub const SSH_TARGET: &str = "tssh";
pub const STATIC_HOST: &str = "hst";
pub const STATIC_HOST_SET: &str = "hsst";
pub const ALIAS: &str = "alt";
pub const WORKER: &str = "w";
pub const ORG: &str = "o";
pub const PROJECT: &str = "p";
pub const ROLE: &str = "r";
pub const GROUP: &str = "g";
pub const STATIC_CREDENTIAL_STORE: &str = "csst";
pub const USERNAME_PASSWORD_CREDENTIAL: &str = "credup";
pub const SSH_PRIVATE_KEY_CREDENTIAL: &str = "credspk";

/// The global scope's id is literally this string.
pub const GLOBAL_SCOPE: &str = "global";
/// Built-in principals: every caller, and every authenticated caller.
pub const ANONYMOUS_USER: &str = "u_anon";
pub const AUTHENTICATED_USER: &str = "u_auth";

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random base62 characters from the OS RNG.
pub fn random_base62(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// A fresh public id such as `ttcp_Ab3dE5gH9k`.
pub fn new_public_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(10))
}

/// True when `id` is `<prefix>_<10 base62>`.
pub fn is_public_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|tail| tail.len() == 10 && tail.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The prefix of a public id (`"ttcp"` for `ttcp_1234567890`), if it has the id shape.
pub fn id_prefix(id: &str) -> Option<&str> {
    let (prefix, tail) = id.split_once('_')?;
    (tail.len() == 10 && tail.bytes().all(|b| b.is_ascii_alphanumeric()) && !prefix.is_empty())
        .then_some(prefix)
}

/// An auth token as issued to a client: `at_<10 base62>_s1<base58 secret>`.
///
/// Boundary treats anything that does not split into exactly these three parts as an
/// anonymous request, and so do we: [`AuthTokenString::parse`] returns `None`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthTokenString {
    /// The public id, `at_<10>`.
    pub id: String,
    /// The part after `_s1`, base58.
    secret: String,
}

impl AuthTokenString {
    pub fn parse(token: &str) -> Option<Self> {
        let mut parts = token.split('_');
        let (prefix, tail, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || prefix != AUTH_TOKEN {
            return None;
        }
        let id = format!("{prefix}_{tail}");
        if !is_public_id(&id, AUTH_TOKEN) {
            return None;
        }
        let secret = secret.strip_prefix("s1")?;
        if secret.is_empty() || bs58::decode(secret).into_vec().is_err() {
            return None;
        }
        Some(Self {
            id,
            secret: secret.to_owned(),
        })
    }

    /// A new token with 32 random bytes of secret.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        Self {
            id: new_public_id(AUTH_TOKEN),
            secret: bs58::encode(bytes).into_string(),
        }
    }

    /// The secret part only (what the controller hashes and stores).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The whole string a client sends as `Bearer`.
    pub fn to_token_string(&self) -> String {
        format!("{}_s1{}", self.id, self.secret)
    }
}

impl std::fmt::Debug for AuthTokenString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthTokenString")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_ids_have_the_public_id_shape() {
        let id = new_public_id(TCP_TARGET);
        assert!(is_public_id(&id, TCP_TARGET), "{id}");
        assert_eq!(id_prefix(&id), Some(TCP_TARGET));
        assert!(!is_public_id("ttcp_123", TCP_TARGET));
        assert!(!is_public_id("ttcp_12345678901", TCP_TARGET));
        assert!(!is_public_id("tssh_1234567890", TCP_TARGET));
    }

    #[test]
    fn token_string_round_trips_and_debug_hides_the_secret() {
        let t = AuthTokenString::generate();
        let s = t.to_token_string();
        let parsed = AuthTokenString::parse(&s).expect("parses");
        assert_eq!(parsed, t);
        assert!(!format!("{parsed:?}").contains(parsed.secret()));
    }

    #[test]
    fn malformed_tokens_are_anonymous() {
        for bad in [
            "",
            "at_1234567890",
            "at_1234567890_s1",
            "at_1234567890_x1abc",
            "at_12345_s1abc",
            "u_1234567890_s1abc",
            "at_1234567890_s1abc_extra",
            "at_1234567890_s10OIl",
        ] {
            assert!(AuthTokenString::parse(bad).is_none(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = AuthTokenString::parse(&s);
            let _ = id_prefix(&s);
        }
    }
}
