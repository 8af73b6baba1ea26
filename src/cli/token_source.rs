//! Which auth token a command uses, in Boundary's order: the `-token` flag
//! (`file://`/`env://`), then `BOUNDARY_TOKEN` (the token itself), then the keyring.

use boundary_wire::api::Secret;
use boundary_wire::api::ids::AuthTokenString;
use std::future::Future;

/// The environment variable holding the token itself.
pub const ENV_TOKEN: &str = "BOUNDARY_TOKEN";

/// Where the token came from; `auth-tokens delete` without `-id` uses it to also forget a
/// keyring entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenOrigin {
    Flag,
    Env,
    Keyring,
    /// No token anywhere: requests are anonymous.
    Absent,
}

#[derive(Clone, Debug)]
pub struct FoundToken {
    pub token: Option<Secret>,
    pub origin: TokenOrigin,
}

impl FoundToken {
    /// The token's public id (`at_…`), when the token has Boundary's format.
    pub fn id(&self) -> Option<String> {
        self.token
            .as_ref()
            .and_then(|t| AuthTokenString::parse(t.expose()))
            .map(|t| t.id)
    }
}

/// Applies the lookup order. `keyring` is asked only when neither the flag nor the
/// environment gave a token; a keyring failure is reported on stderr and the command goes
/// on without a token, as Boundary's CLI does.
pub async fn find_token<F, Fut>(
    flag: Option<Secret>,
    env_token: Option<String>,
    keyring: F,
) -> anyhow::Result<FoundToken>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<Secret>>>,
{
    if let Some(token) = flag {
        return Ok(FoundToken {
            token: Some(token),
            origin: TokenOrigin::Flag,
        });
    }
    if let Some(token) = env_token
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    {
        return Ok(FoundToken {
            token: Some(Secret::new(token)),
            origin: TokenOrigin::Env,
        });
    }
    match keyring().await {
        Ok(Some(token)) => Ok(FoundToken {
            token: Some(token),
            origin: TokenOrigin::Keyring,
        }),
        Ok(None) => Ok(FoundToken {
            token: None,
            origin: TokenOrigin::Absent,
        }),
        Err(e) => {
            super::output::warn(&format!(
                "cannot read the token from the keyring ({e:#}); continuing without one. Give \
                 it with BOUNDARY_TOKEN or -token, or skip the keyring with -keyring-type none."
            ));
            Ok(FoundToken {
                token: None,
                origin: TokenOrigin::Absent,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn flag_beats_env_beats_keyring() {
        let asked = Cell::new(0);
        let keyring = || async {
            asked.set(asked.get() + 1);
            Ok(Some(Secret::new("from-keyring")))
        };
        let found = block(find_token(
            Some(Secret::new("from-flag")),
            Some("from-env".into()),
            keyring,
        ))
        .unwrap();
        assert_eq!(found.origin, TokenOrigin::Flag);
        assert_eq!(found.token.unwrap().expose(), "from-flag");

        let found = block(find_token(None, Some("from-env\n".into()), keyring)).unwrap();
        assert_eq!(found.origin, TokenOrigin::Env);
        assert_eq!(found.token.unwrap().expose(), "from-env");
        assert_eq!(asked.get(), 0, "the keyring is not read when not needed");

        let found = block(find_token(None, Some(String::new()), keyring)).unwrap();
        assert_eq!(found.origin, TokenOrigin::Keyring);
        assert_eq!(found.token.unwrap().expose(), "from-keyring");
        assert_eq!(asked.get(), 1);
    }

    #[test]
    fn no_token_or_a_broken_keyring_means_anonymous() {
        let found = block(find_token(None, None, || async { Ok(None) })).unwrap();
        assert_eq!(found.origin, TokenOrigin::Absent);
        assert!(found.token.is_none());
        let found = block(find_token(None, None, || async {
            Err(anyhow::anyhow!("keyring unavailable"))
        }))
        .unwrap();
        assert_eq!(found.origin, TokenOrigin::Absent);
    }

    #[test]
    fn the_token_id_comes_from_the_token_string() {
        let t = AuthTokenString::generate();
        let found = FoundToken {
            token: Some(Secret::new(t.to_token_string())),
            origin: TokenOrigin::Env,
        };
        assert_eq!(found.id(), Some(t.id));
        let found = FoundToken {
            token: Some(Secret::new("garbage")),
            origin: TokenOrigin::Env,
        };
        assert_eq!(found.id(), None);
    }
}
