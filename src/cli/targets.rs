//! `boundary targets …`: create, read, list, update and delete tcp targets, and
//! authorize sessions to them.

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_args::{IdArgs, ListArgs};
use super::resource_command::ResourceCommand;
use super::values::{join, nullable, opt};
use anyhow::{Context, bail};
use boundary_net::client::SessionTarget;
use boundary_wire::api::session::SessionAuthorization;
use boundary_wire::api::target::{
    CreateTargetRequest, TCP_TARGET_TYPE, Target, TcpTargetAttributes, UpdateTargetRequest,
};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum TargetsCommand {
    /// Create a target.
    #[command(subcommand)]
    Create(TargetKind<CreateArgs>),
    /// Read a target.
    Read(IdArgs),
    /// List the targets of a scope.
    List(ListArgs),
    /// Update a target.
    #[command(subcommand)]
    Update(TargetKind<UpdateArgs>),
    /// Delete a target (its aliases stay, without a destination).
    Delete(IdArgs),
    /// Authorize a session to a target, by id or by name within a scope.
    AuthorizeSession(AuthorizeArgs),
}

/// Boundary names the target type as a subcommand (`targets create tcp`).
#[derive(Debug, Subcommand)]
pub enum TargetKind<A: Args> {
    /// A tcp target.
    Tcp(A),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The project to create the target in.
    #[arg(long)]
    pub scope_id: String,
    #[command(flatten)]
    pub fields: TargetFields,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The target's id.
    #[arg(long)]
    pub id: String,
    /// The version being updated; read from the controller when not given.
    #[arg(long)]
    pub version: Option<u32>,
    #[command(flatten)]
    pub fields: TargetFields,
}

/// The settable fields; on update, `null` clears name, description and address.
#[derive(Debug, Args)]
pub struct TargetFields {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// The host the worker dials.
    #[arg(long)]
    pub address: Option<String>,
    /// The port the worker dials.
    #[arg(long)]
    pub default_port: Option<u32>,
    /// The local port clients listen on by default.
    #[arg(long)]
    pub default_client_port: Option<u32>,
    /// Lifetime of a session, in seconds.
    #[arg(long)]
    pub session_max_seconds: Option<u32>,
    /// Connections allowed per session; -1 for unlimited.
    #[arg(long, allow_negative_numbers = true)]
    pub session_connection_limit: Option<i32>,
}

impl TargetFields {
    fn attributes(&self) -> Option<TcpTargetAttributes> {
        (self.default_port.is_some() || self.default_client_port.is_some()).then_some(
            TcpTargetAttributes {
                default_port: self.default_port,
                default_client_port: self.default_client_port,
            },
        )
    }
}

#[derive(Debug, Args)]
pub struct AuthorizeArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The target's id.
    #[arg(long, conflicts_with = "name", required_unless_present = "name")]
    pub id: Option<String>,
    /// The target's name; needs -scope-id or -scope-name.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub scope_id: Option<String>,
    #[arg(long, conflicts_with = "scope_id")]
    pub scope_name: Option<String>,
    /// The host to connect to, for targets with host sources.
    #[arg(long)]
    pub host_id: Option<String>,
}

impl ResourceCommand for TargetsCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            TargetsCommand::Create(TargetKind::Tcp(a)) => &a.client,
            TargetsCommand::Update(TargetKind::Tcp(a)) => &a.client,
            TargetsCommand::Read(a) | TargetsCommand::Delete(a) => &a.client,
            TargetsCommand::List(a) => &a.client,
            TargetsCommand::AuthorizeSession(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        match self {
            TargetsCommand::Create(TargetKind::Tcp(a)) => {
                let request = CreateTargetRequest {
                    kind: Some(TCP_TARGET_TYPE.into()),
                    scope_id: Some(a.scope_id.clone()),
                    name: a.fields.name.clone(),
                    description: a.fields.description.clone(),
                    address: a.fields.address.clone(),
                    attributes: a.fields.attributes(),
                    session_max_seconds: a.fields.session_max_seconds,
                    session_connection_limit: a.fields.session_connection_limit,
                    worker_filter: None,
                };
                let target = client.create_target(&request).await?;
                Output::item(&target, target_block(&target))
            }
            TargetsCommand::Read(a) => {
                let target = client.read_target(&a.id).await?;
                Output::item(&target, target_block(&target))
            }
            TargetsCommand::List(a) => {
                let query = a.query();
                let list = client.list_targets(&query).await?;
                Output::items(&list.items, targets_table(&list.items))
            }
            TargetsCommand::Update(TargetKind::Tcp(a)) => {
                let version = match a.version {
                    Some(v) => v,
                    None => client.read_target(&a.id).await?.version,
                };
                let request = UpdateTargetRequest {
                    version: Some(version),
                    name: nullable(a.fields.name.clone()),
                    description: nullable(a.fields.description.clone()),
                    address: nullable(a.fields.address.clone()),
                    attributes: a.fields.attributes(),
                    session_max_seconds: a.fields.session_max_seconds,
                    session_connection_limit: a.fields.session_connection_limit,
                };
                let target = client.update_target(&a.id, &request).await?;
                Output::item(&target, target_block(&target))
            }
            TargetsCommand::Delete(a) => {
                client.delete_target(&a.id).await?;
                Ok(Output::deleted())
            }
            TargetsCommand::AuthorizeSession(a) => {
                let target = match (&a.id, &a.name, &a.scope_id, &a.scope_name) {
                    (Some(id), _, _, _) => SessionTarget::Id(id),
                    (None, Some(name), Some(scope_id), _) => {
                        SessionTarget::NameInScopeId { name, scope_id }
                    }
                    (None, Some(name), None, Some(scope_name)) => {
                        SessionTarget::NameInScopeName { name, scope_name }
                    }
                    (None, Some(_), None, None) => {
                        bail!("-name needs -scope-id or -scope-name")
                    }
                    (None, None, _, _) => bail!("give -id, or -name with -scope-id/-scope-name"),
                };
                let auth = client
                    .authorize_session(target, a.host_id.as_deref())
                    .await
                    .context("authorizing the session failed")?;
                Output::item(&auth, authorization_block(&auth))
            }
        }
    }
}

pub fn target_block(t: &Target) -> String {
    output::block(
        "Target information",
        &[
            ("ID", t.id.clone()),
            ("Version", t.version.to_string()),
            ("Type", t.kind.clone()),
            ("Name", t.name.clone()),
            ("Description", t.description.clone()),
            ("Scope ID", t.scope_id.clone()),
            ("Address", t.address.clone()),
            ("Default Port", opt(t.attributes.default_port)),
            ("Default Client Port", opt(t.attributes.default_client_port)),
            ("Session Max Seconds", t.session_max_seconds.to_string()),
            (
                "Session Connection Limit",
                t.session_connection_limit.to_string(),
            ),
            ("Worker Filter", t.worker_filter.clone()),
            (
                "Aliases",
                join(t.aliases.iter().map(|a| format!("{} ({})", a.value, a.id))),
            ),
            (
                "Credential Sources",
                join(t.brokered_credential_source_ids.iter().cloned()),
            ),
            ("Created Time", output::time(t.created_time)),
            ("Updated Time", output::time(t.updated_time)),
            (
                "Authorized Actions",
                join(t.authorized_actions.iter().cloned()),
            ),
        ],
    )
}

pub fn targets_table(targets: &[Target]) -> String {
    output::table(
        &["id", "name", "type", "address", "port", "scope"],
        targets
            .iter()
            .map(|t| {
                vec![
                    t.id.clone(),
                    t.name.clone(),
                    t.kind.clone(),
                    t.address.clone(),
                    opt(t.attributes.default_port),
                    t.scope_id.clone(),
                ]
            })
            .collect(),
        "No targets found",
    )
}

fn authorization_block(a: &SessionAuthorization) -> String {
    output::block(
        "Target information",
        &[
            ("Session ID", a.session_id.clone()),
            ("Target ID", a.target_id.clone()),
            ("Scope ID", a.scope.id.clone()),
            ("User ID", a.user_id.clone()),
            ("Host ID", a.host_id.clone()),
            ("Type", a.kind.clone()),
            ("Endpoint", a.endpoint.clone()),
            ("Connection Limit", a.connection_limit.to_string()),
            ("Created Time", output::time(a.created_time)),
            ("Expiration", output::time(a.expiration)),
            (
                "Authorization Token",
                a.authorization_token.expose().to_owned(),
            ),
        ],
    )
}
