//! `boundary users …`: users and the accounts they log in with.

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_args::IdArgs;
use super::resource_command::ResourceCommand;
use super::values::join;
use boundary_wire::api::ids::GLOBAL_SCOPE;
use boundary_wire::api::user::{CreateUserRequest, User};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user.
    Create(CreateArgs),
    /// Read a user.
    Read(IdArgs),
    /// Link accounts to a user.
    AddAccounts(AddAccountsArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    #[arg(long, default_value = GLOBAL_SCOPE)]
    pub scope_id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddAccountsArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The user's id.
    #[arg(long)]
    pub id: String,
    /// The version being updated; read from the controller when not given.
    #[arg(long)]
    pub version: Option<u32>,
    /// An account id; repeat for several.
    #[arg(long = "account", required = true)]
    pub accounts: Vec<String>,
}

impl ResourceCommand for UsersCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            UsersCommand::Create(a) => &a.client,
            UsersCommand::Read(a) => &a.client,
            UsersCommand::AddAccounts(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        match self {
            UsersCommand::Create(a) => {
                let request = CreateUserRequest {
                    scope_id: Some(a.scope_id),
                    name: a.name,
                    description: a.description,
                };
                let user = client.create_user(&request).await?;
                Output::item(&user, user_block(&user))
            }
            UsersCommand::Read(a) => {
                let user = client.read_user(&a.id).await?;
                Output::item(&user, user_block(&user))
            }
            UsersCommand::AddAccounts(a) => {
                let version = match a.version {
                    Some(v) => v,
                    None => client.read_user(&a.id).await?.version,
                };
                let user = client
                    .add_user_accounts(&a.id, version, &a.accounts)
                    .await?;
                Output::item(&user, user_block(&user))
            }
        }
    }
}

pub fn user_block(u: &User) -> String {
    output::block(
        "User information",
        &[
            ("ID", u.id.clone()),
            ("Version", u.version.to_string()),
            ("Name", u.name.clone()),
            ("Description", u.description.clone()),
            ("Scope ID", u.scope_id.clone()),
            ("Login Name", u.login_name.clone()),
            ("Primary Account ID", u.primary_account_id.clone()),
            ("Account IDs", join(u.account_ids.iter().cloned())),
            ("Created Time", output::time(u.created_time)),
            ("Updated Time", output::time(u.updated_time)),
            (
                "Authorized Actions",
                join(u.authorized_actions.iter().cloned()),
            ),
        ],
    )
}
