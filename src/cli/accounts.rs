//! `boundary accounts …`: password accounts (login name + password) of an auth method.

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_command::ResourceCommand;
use super::secret_source;
use super::values::join;
use boundary_wire::api::user::{
    Account, AccountAttributes, CreateAccountRequest, PASSWORD_ACCOUNT_TYPE,
};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create an account.
    #[command(subcommand)]
    Create(AccountKind),
    /// List the accounts of an auth method.
    List(ListArgs),
}

/// Boundary names the account type as a subcommand (`accounts create password`).
#[derive(Debug, Subcommand)]
pub enum AccountKind {
    /// A login name and password account.
    Password(CreateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    #[arg(long, env = "BOUNDARY_AUTH_METHOD_ID")]
    pub auth_method_id: String,
    #[arg(long)]
    pub login_name: String,
    /// `env://VAR`, `file://PATH` or the password itself.
    #[arg(long)]
    pub password: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    #[arg(long, env = "BOUNDARY_AUTH_METHOD_ID")]
    pub auth_method_id: String,
}

impl ResourceCommand for AccountsCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            AccountsCommand::Create(AccountKind::Password(a)) => &a.client,
            AccountsCommand::List(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        match self {
            AccountsCommand::Create(AccountKind::Password(a)) => {
                let password = secret_source::read(&a.password, "-password")?;
                let request = CreateAccountRequest {
                    auth_method_id: Some(a.auth_method_id),
                    kind: Some(PASSWORD_ACCOUNT_TYPE.into()),
                    name: a.name,
                    description: a.description,
                    attributes: Some(AccountAttributes {
                        login_name: Some(a.login_name),
                        password: Some(password),
                    }),
                };
                let account = client.create_account(&request).await?;
                Output::item(&account, account_block(&account))
            }
            AccountsCommand::List(a) => {
                let list = client.list_accounts(&a.auth_method_id).await?;
                Output::items(&list.items, accounts_table(&list.items))
            }
        }
    }
}

fn login_name(a: &Account) -> String {
    a.attributes.login_name.clone().unwrap_or_default()
}

pub fn account_block(a: &Account) -> String {
    output::block(
        "Account information",
        &[
            ("ID", a.id.clone()),
            ("Version", a.version.to_string()),
            ("Type", a.kind.clone()),
            ("Login Name", login_name(a)),
            ("Name", a.name.clone()),
            ("Description", a.description.clone()),
            ("Auth Method ID", a.auth_method_id.clone()),
            ("Created Time", output::time(a.created_time)),
            ("Updated Time", output::time(a.updated_time)),
            (
                "Authorized Actions",
                join(a.authorized_actions.iter().cloned()),
            ),
        ],
    )
}

pub fn accounts_table(accounts: &[Account]) -> String {
    output::table(
        &["id", "login name", "name", "auth method"],
        accounts
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    login_name(a),
                    a.name.clone(),
                    a.auth_method_id.clone(),
                ]
            })
            .collect(),
        "No accounts found",
    )
}
