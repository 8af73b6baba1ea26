//! `boundary roles …`: grant strings and the principals they apply to.

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_args::IdArgs;
use super::resource_command::ResourceCommand;
use super::values::join;
use boundary_wire::api::ids::GLOBAL_SCOPE;
use boundary_wire::api::role::{CreateRoleRequest, Role};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// Create a role.
    Create(CreateArgs),
    /// Read a role.
    Read(IdArgs),
    /// Add principals (users, groups, `u_anon`, `u_auth`) to a role.
    AddPrincipals(AddPrincipalsArgs),
    /// Add grant strings to a role.
    AddGrants(AddGrantsArgs),
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
    /// A scope the grants apply to (`this`, `children`, `descendants` or an id); repeat
    /// for several. Default: the role's own scope.
    #[arg(long = "grant-scope-id")]
    pub grant_scope_ids: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddPrincipalsArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    #[arg(long)]
    pub id: String,
    /// The version being updated; read from the controller when not given.
    #[arg(long)]
    pub version: Option<u32>,
    /// A principal id; repeat for several.
    #[arg(long = "principal", required = true)]
    pub principals: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddGrantsArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    #[arg(long)]
    pub id: String,
    /// The version being updated; read from the controller when not given.
    #[arg(long)]
    pub version: Option<u32>,
    /// A grant string such as `type=target;ids=*;actions=authorize-session`; repeat for
    /// several.
    #[arg(long = "grant", required = true)]
    pub grants: Vec<String>,
}

impl ResourceCommand for RolesCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            RolesCommand::Create(a) => &a.client,
            RolesCommand::Read(a) => &a.client,
            RolesCommand::AddPrincipals(a) => &a.client,
            RolesCommand::AddGrants(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        let role = match self {
            RolesCommand::Create(a) => {
                let request = CreateRoleRequest {
                    scope_id: Some(a.scope_id),
                    name: a.name,
                    description: a.description,
                    grant_scope_ids: (!a.grant_scope_ids.is_empty()).then_some(a.grant_scope_ids),
                };
                client.create_role(&request).await?
            }
            RolesCommand::Read(a) => client.read_role(&a.id).await?,
            RolesCommand::AddPrincipals(a) => {
                let version = match a.version {
                    Some(v) => v,
                    None => client.read_role(&a.id).await?.version,
                };
                client
                    .add_role_principals(&a.id, version, &a.principals)
                    .await?
            }
            RolesCommand::AddGrants(a) => {
                let version = match a.version {
                    Some(v) => v,
                    None => client.read_role(&a.id).await?.version,
                };
                client.add_role_grants(&a.id, version, &a.grants).await?
            }
        };
        Output::item(&role, role_block(&role))
    }
}

pub fn role_block(r: &Role) -> String {
    let principals = if r.principals.is_empty() {
        join(r.principal_ids.iter().cloned())
    } else {
        join(r.principals.iter().map(|p| p.id.clone()))
    };
    output::block(
        "Role information",
        &[
            ("ID", r.id.clone()),
            ("Version", r.version.to_string()),
            ("Name", r.name.clone()),
            ("Description", r.description.clone()),
            ("Scope ID", r.scope_id.clone()),
            ("Grant Scope IDs", join(r.grant_scope_ids.iter().cloned())),
            ("Principals", principals),
            ("Grants", join(r.grant_strings.iter().cloned())),
            ("Created Time", output::time(r.created_time)),
            ("Updated Time", output::time(r.updated_time)),
        ],
    )
}
