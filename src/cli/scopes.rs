//! `boundary scopes …`: orgs under `global` and projects under orgs (targets live in
//! projects).

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_args::{IdArgs, ListArgs};
use super::resource_command::ResourceCommand;
use boundary_wire::api::ids::GLOBAL_SCOPE;
use boundary_wire::api::scope::{CreateScopeRequest, Scope};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ScopesCommand {
    /// Create an org (in `global`) or a project (in an org).
    Create(CreateArgs),
    /// Read a scope.
    Read(IdArgs),
    /// List the child scopes of a scope.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The parent scope.
    #[arg(long, default_value = GLOBAL_SCOPE)]
    pub scope_id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

impl ResourceCommand for ScopesCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            ScopesCommand::Create(a) => &a.client,
            ScopesCommand::Read(a) => &a.client,
            ScopesCommand::List(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        match self {
            ScopesCommand::Create(a) => {
                let request = CreateScopeRequest {
                    scope_id: Some(a.scope_id),
                    name: a.name,
                    description: a.description,
                };
                let scope = client.create_scope(&request).await?;
                Output::item(&scope, scope_block(&scope))
            }
            ScopesCommand::Read(a) => {
                let scope = client.read_scope(&a.id).await?;
                Output::item(&scope, scope_block(&scope))
            }
            ScopesCommand::List(a) => {
                let list = client.list_scopes(&a.query()).await?;
                Output::items(&list.items, scopes_table(&list.items))
            }
        }
    }
}

pub fn scope_block(s: &Scope) -> String {
    output::block(
        "Scope information",
        &[
            ("ID", s.id.clone()),
            ("Version", s.version.to_string()),
            ("Type", s.kind.clone()),
            ("Name", s.name.clone()),
            ("Description", s.description.clone()),
            ("Parent Scope ID", s.scope_id.clone()),
            ("Primary Auth Method ID", s.primary_auth_method_id.clone()),
            ("Created Time", output::time(s.created_time)),
            ("Updated Time", output::time(s.updated_time)),
        ],
    )
}

pub fn scopes_table(scopes: &[Scope]) -> String {
    output::table(
        &["id", "type", "name", "parent"],
        scopes
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.kind.clone(),
                    s.name.clone(),
                    s.scope_id.clone(),
                ]
            })
            .collect(),
        "No scopes found",
    )
}
