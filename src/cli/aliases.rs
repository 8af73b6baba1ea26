//! `boundary aliases …`: target aliases (DNS-like names the client agent resolves).

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_args::{IdArgs, ListArgs};
use super::resource_command::ResourceCommand;
use super::values::{join, nullable};
use boundary_wire::api::alias::{
    Alias, AliasAttributes, AuthorizeSessionArguments, CreateAliasRequest, TARGET_ALIAS_TYPE,
    UpdateAliasRequest,
};
use boundary_wire::api::ids::GLOBAL_SCOPE;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum AliasesCommand {
    /// Create an alias.
    #[command(subcommand)]
    Create(AliasKind<CreateArgs>),
    /// Read an alias.
    Read(IdArgs),
    /// List aliases.
    List(ListArgs),
    /// Update an alias.
    #[command(subcommand)]
    Update(AliasKind<UpdateArgs>),
    /// Delete an alias.
    Delete(IdArgs),
}

/// Boundary names the alias type as a subcommand (`aliases create target`).
#[derive(Debug, Subcommand)]
pub enum AliasKind<A: Args> {
    /// An alias whose destination is a target.
    Target(A),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// Aliases live in the global scope.
    #[arg(long, default_value = GLOBAL_SCOPE)]
    pub scope_id: String,
    /// The alias itself, such as `db.prod.example`.
    #[arg(long)]
    pub value: String,
    /// The target it points at.
    #[arg(long)]
    pub destination_id: Option<String>,
    /// The host sessions through this alias go to (needs -destination-id).
    #[arg(long)]
    pub authorize_session_host_id: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The alias's id.
    #[arg(long)]
    pub id: String,
    /// The version being updated; read from the controller when not given.
    #[arg(long)]
    pub version: Option<u32>,
    #[arg(long)]
    pub value: Option<String>,
    /// The target it points at; `null` clears it.
    #[arg(long)]
    pub destination_id: Option<String>,
    /// `null` clears it.
    #[arg(long)]
    pub authorize_session_host_id: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

impl ResourceCommand for AliasesCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            AliasesCommand::Create(AliasKind::Target(a)) => &a.client,
            AliasesCommand::Update(AliasKind::Target(a)) => &a.client,
            AliasesCommand::Read(a) | AliasesCommand::Delete(a) => &a.client,
            AliasesCommand::List(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        match self {
            AliasesCommand::Create(AliasKind::Target(a)) => {
                let request = CreateAliasRequest {
                    scope_id: Some(a.scope_id),
                    kind: Some(TARGET_ALIAS_TYPE.into()),
                    value: Some(a.value),
                    destination_id: a.destination_id,
                    name: a.name,
                    description: a.description,
                    attributes: a
                        .authorize_session_host_id
                        .map(|h| host_attributes(Some(h))),
                };
                let alias = client.create_alias(&request).await?;
                Output::item(&alias, alias_block(&alias))
            }
            AliasesCommand::Read(a) => {
                let alias = client.read_alias(&a.id).await?;
                Output::item(&alias, alias_block(&alias))
            }
            AliasesCommand::List(a) => {
                let list = client.list_aliases(&a.query()).await?;
                Output::items(&list.items, aliases_table(&list.items))
            }
            AliasesCommand::Update(AliasKind::Target(a)) => {
                let version = match a.version {
                    Some(v) => v,
                    None => client.read_alias(&a.id).await?.version,
                };
                let request = UpdateAliasRequest {
                    version: Some(version),
                    value: a.value,
                    destination_id: nullable(a.destination_id),
                    name: nullable(a.name),
                    description: nullable(a.description),
                    attributes: nullable(a.authorize_session_host_id)
                        .map(|host| Some(host_attributes(host))),
                };
                let alias = client.update_alias(&a.id, &request).await?;
                Output::item(&alias, alias_block(&alias))
            }
            AliasesCommand::Delete(a) => {
                client.delete_alias(&a.id).await?;
                Ok(Output::deleted())
            }
        }
    }
}

fn host_attributes(host_id: Option<String>) -> AliasAttributes {
    AliasAttributes {
        authorize_session_arguments: Some(AuthorizeSessionArguments { host_id }),
    }
}

fn host_id(a: &Alias) -> String {
    a.attributes
        .as_ref()
        .and_then(|at| at.authorize_session_arguments.as_ref())
        .and_then(|args| args.host_id.clone())
        .unwrap_or_default()
}

pub fn alias_block(a: &Alias) -> String {
    output::block(
        "Alias information",
        &[
            ("ID", a.id.clone()),
            ("Version", a.version.to_string()),
            ("Type", a.kind.clone()),
            ("Value", a.value.clone()),
            (
                "Destination ID",
                a.destination_id.clone().unwrap_or_default(),
            ),
            ("Authorize Session Host ID", host_id(a)),
            ("Name", a.name.clone()),
            ("Description", a.description.clone()),
            ("Scope ID", a.scope_id.clone()),
            ("Created Time", output::time(a.created_time)),
            ("Updated Time", output::time(a.updated_time)),
            (
                "Authorized Actions",
                join(a.authorized_actions.iter().cloned()),
            ),
        ],
    )
}

pub fn aliases_table(aliases: &[Alias]) -> String {
    output::table(
        &["id", "value", "destination", "host", "name"],
        aliases
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.value.clone(),
                    a.destination_id.clone().unwrap_or_default(),
                    host_id(a),
                    a.name.clone(),
                ]
            })
            .collect(),
        "No aliases found",
    )
}
