//! Getting the session's authorization token: from `-authz-token`, or by authorizing a
//! session at the controller with the token found the usual way.

use anyhow::{Context, bail};
use tokio::io::AsyncReadExt;

use super::TargetFlags;
use boundary_net::client::SessionTarget;
use boundary_wire::api::Secret;
use boundary_wire::api::credential::SessionCredential;

/// What the client needs from an authorization.
pub struct Authorized {
    pub token: Secret,
    /// Brokered credentials; only an authorization through the controller has them.
    pub credentials: Vec<SessionCredential>,
}

/// The lookup the flags ask for, checked the way Boundary's CLI checks it.
#[derive(Debug, PartialEq, Eq)]
enum Lookup<'a> {
    Token(&'a Secret),
    Controller(SessionTarget<'a>),
}

fn lookup(flags: &TargetFlags) -> anyhow::Result<Lookup<'_>> {
    let other_lookups = flags.target_id.is_some()
        || flags.target_name.is_some()
        || flags.target_scope_id.is_some()
        || flags.target_scope_name.is_some();
    if let Some(alias) = &flags.alias {
        if other_lookups || flags.authz_token.is_some() {
            bail!("cannot give a target alias together with other target lookup flags");
        }
        return Ok(Lookup::Controller(SessionTarget::Alias(alias)));
    }
    if let Some(token) = &flags.authz_token {
        if flags.target_id.is_some() || flags.target_name.is_some() {
            bail!("-authz-token cannot be given together with -target-id or -target-name");
        }
        return Ok(Lookup::Token(token));
    }
    match (
        &flags.target_id,
        &flags.target_name,
        &flags.target_scope_id,
        &flags.target_scope_name,
    ) {
        (Some(id), None, None, None) => Ok(Lookup::Controller(SessionTarget::Id(id))),
        (Some(_), ..) => bail!("cannot give -target-id together with other target lookup flags"),
        (None, Some(name), Some(scope_id), _) => {
            Ok(Lookup::Controller(SessionTarget::NameInScopeId {
                name,
                scope_id,
            }))
        }
        (None, Some(name), None, Some(scope_name)) => {
            Ok(Lookup::Controller(SessionTarget::NameInScopeName {
                name,
                scope_name,
            }))
        }
        _ => bail!(
            "say which target to connect to: an alias, -target-id, -target-name with \
             -target-scope-id or -target-scope-name, or -authz-token"
        ),
    }
}

/// `stdin_is_data`: stdin carries the connection (`-stdio`), so `-authz-token -` is refused.
pub async fn authorize(flags: &TargetFlags, stdin_is_data: bool) -> anyhow::Result<Authorized> {
    match lookup(flags)? {
        Lookup::Token(token) => {
            let text = if token.expose() == "-" {
                if stdin_is_data {
                    bail!("-authz-token - reads stdin, which -stdio uses for the connection");
                }
                read_stdin().await?
            } else {
                token.clone()
            };
            Ok(Authorized {
                token: token_from_text(&text)?,
                credentials: vec![],
            })
        }
        Lookup::Controller(target) => {
            let connection = flags.client.connect().await?;
            let authorization = connection
                .client
                .authorize_session(target, flags.host_id.as_deref())
                .await
                .context("authorize-session failed")?;
            Ok(Authorized {
                token: authorization.authorization_token,
                credentials: authorization.credentials,
            })
        }
    }
}

async fn read_stdin() -> anyhow::Result<Secret> {
    let mut text = String::new();
    tokio::io::stdin()
        .read_to_string(&mut text)
        .await
        .context("cannot read the authorization token from stdin")?;
    Ok(Secret::new(text))
}

/// Accepts the bare token, or the JSON of an authorize-session answer (bare, or as
/// `boundary targets authorize-session -format json` prints it, under `item`).
fn token_from_text(text: &Secret) -> anyhow::Result<Secret> {
    let trimmed = text.expose().trim();
    if trimmed.is_empty() {
        bail!("the authorization token is empty");
    }
    if !trimmed.starts_with('{') {
        return Ok(Secret::new(trimmed));
    }
    let value: serde_json::Value = serde_json::from_str(trimmed)
        .context("the authorization token looks like JSON but does not parse")?;
    let token = value
        .get("authorization_token")
        .or_else(|| {
            value
                .get("item")
                .and_then(|item| item.get("authorization_token"))
        })
        .and_then(serde_json::Value::as_str)
        .context("the JSON has no authorization_token")?;
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        flags: TargetFlags,
    }

    fn flags(args: &[&str]) -> TargetFlags {
        let argv = std::iter::once("connect").chain(args.iter().copied());
        Wrapper::try_parse_from(argv).expect("flags parse").flags
    }

    #[test]
    fn lookups_follow_boundarys_rules() {
        let f = flags(&["db.prod.example"]);
        assert_eq!(
            lookup(&f).unwrap(),
            Lookup::Controller(SessionTarget::Alias("db.prod.example"))
        );
        let f = flags(&["--target-id", "ttcp_1234567890"]);
        assert_eq!(
            lookup(&f).unwrap(),
            Lookup::Controller(SessionTarget::Id("ttcp_1234567890"))
        );
        let f = flags(&["--target-name", "db", "--target-scope-name", "prod"]);
        assert_eq!(
            lookup(&f).unwrap(),
            Lookup::Controller(SessionTarget::NameInScopeName {
                name: "db",
                scope_name: "prod"
            })
        );
        let f = flags(&["--authz-token", "abc"]);
        assert!(matches!(lookup(&f).unwrap(), Lookup::Token(t) if t.expose() == "abc"));
    }

    #[test]
    fn conflicting_or_missing_lookups_are_errors() {
        for args in [
            &[][..],
            &["--target-name", "db"],
            &["db.prod.example", "--target-id", "ttcp_1234567890"],
            &["--authz-token", "abc", "--target-id", "ttcp_1234567890"],
            &[
                "--target-id",
                "ttcp_1234567890",
                "--target-scope-id",
                "p_1234567890",
            ],
        ] {
            assert!(lookup(&flags(args)).is_err(), "{args:?}");
        }
    }

    #[test]
    fn token_text_may_be_bare_or_json() {
        let t = |s: &str| token_from_text(&Secret::new(s)).map(|s| s.into_inner());
        assert_eq!(t("  abc\n").unwrap(), "abc");
        assert_eq!(t(r#"{"authorization_token":"abc"}"#).unwrap(), "abc");
        assert_eq!(
            t(r#"{"status_code":200,"item":{"authorization_token":"abc"}}"#).unwrap(),
            "abc"
        );
        assert!(t("").is_err());
        assert!(t("{not json").is_err());
        assert!(t(r#"{"item":{}}"#).is_err());
    }
}
