//! `boundary auth-tokens …`. Without `-id`, `read` and `delete` act on the token the
//! command itself uses; deleting that token also forgets it in the keyring (a logout).

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_args::ListArgs;
use super::resource_command::ResourceCommand;
use super::token_source::{FoundToken, TokenOrigin};
use super::token_store;
use super::values::join;
use anyhow::Context;
use boundary_wire::api::auth::AuthToken;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum AuthTokensCommand {
    /// Read an auth token (default: the one in use).
    Read(IdArgs),
    /// List auth tokens.
    List(ListArgs),
    /// Delete an auth token (default: the one in use, also removed from the keyring).
    Delete(IdArgs),
}

#[derive(Debug, Args)]
pub struct IdArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The token's id (`at_…`); default: the token this command authenticates with.
    #[arg(long)]
    pub id: Option<String>,
}

impl ResourceCommand for AuthTokensCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            AuthTokensCommand::Read(a) | AuthTokensCommand::Delete(a) => &a.client,
            AuthTokensCommand::List(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        match self {
            AuthTokensCommand::Read(a) => {
                let id = id_or_current(a.id, &conn.token)?;
                let token = client.read_auth_token(&id).await?;
                Output::item(&token, token_block(&token))
            }
            AuthTokensCommand::List(a) => {
                let list = client.list_auth_tokens(&a.query()).await?;
                Output::items(&list.items, tokens_table(&list.items))
            }
            AuthTokensCommand::Delete(a) => {
                let own = a.id.is_none();
                let id = id_or_current(a.id, &conn.token)?;
                client.delete_auth_token(&id).await?;
                let mut out = Output::deleted();
                if own && conn.token.origin == TokenOrigin::Keyring {
                    let name = &a.client.token_name;
                    if let Err(e) = token_store::remove(name).await {
                        out = out.with_note(format!(
                            "Warning: the token was deleted but could not be removed from the \
                             keyring: {e:#}"
                        ));
                    }
                }
                Ok(out)
            }
        }
    }
}

fn id_or_current(id: Option<String>, found: &FoundToken) -> anyhow::Result<String> {
    match id {
        Some(id) => Ok(id),
        None => found.id().context(
            "no -id given and no usable token in use (from -token, BOUNDARY_TOKEN or the keyring)",
        ),
    }
}

pub fn token_block(t: &AuthToken) -> String {
    output::block(
        "Auth Token information",
        &[
            ("ID", t.id.clone()),
            ("User ID", t.user_id.clone()),
            ("Account ID", t.account_id.clone()),
            ("Auth Method ID", t.auth_method_id.clone()),
            ("Scope ID", t.scope_id.clone()),
            ("Created Time", output::time(t.created_time)),
            ("Updated Time", output::time(t.updated_time)),
            (
                "Approximate Last Used Time",
                output::time(t.approximate_last_used_time),
            ),
            ("Expiration Time", output::time(t.expiration_time)),
            (
                "Authorized Actions",
                join(t.authorized_actions.iter().cloned()),
            ),
        ],
    )
}

pub fn tokens_table(tokens: &[AuthToken]) -> String {
    output::table(
        &["id", "user", "auth method", "expiration"],
        tokens
            .iter()
            .map(|t| {
                vec![
                    t.id.clone(),
                    t.user_id.clone(),
                    t.auth_method_id.clone(),
                    output::time(t.expiration_time),
                ]
            })
            .collect(),
        "No auth tokens found",
    )
}
