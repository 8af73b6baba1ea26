//! `boundary sessions …`: list, read and cancel sessions.

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};
use super::resource_args::{IdArgs, ListArgs};
use super::resource_command::ResourceCommand;
use super::values::join;
use boundary_wire::api::session::Session;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List sessions.
    List(ListArgs),
    /// Read a session, with its state history and connections.
    Read(IdArgs),
    /// Cancel a session: its connections are closed and no new ones are allowed.
    Cancel(IdArgs),
}

impl ResourceCommand for SessionsCommand {
    fn flags(&self) -> &ClientFlags {
        match self {
            SessionsCommand::List(a) => &a.client,
            SessionsCommand::Read(a) | SessionsCommand::Cancel(a) => &a.client,
        }
    }

    async fn execute(self, conn: &Connection) -> anyhow::Result<Output> {
        let client = &conn.client;
        match self {
            SessionsCommand::List(a) => {
                let list = client.list_sessions(&a.query()).await?;
                Output::items(&list.items, sessions_table(&list.items))
            }
            SessionsCommand::Read(a) => {
                let session = client.read_session(&a.id).await?;
                Output::item(&session, session_block(&session))
            }
            SessionsCommand::Cancel(a) => {
                let version = client.read_session(&a.id).await?.version;
                let session = client.cancel_session(&a.id, version).await?;
                Output::item(&session, session_block(&session))
            }
        }
    }
}

pub fn session_block(s: &Session) -> String {
    let mut text = output::block(
        "Session information",
        &[
            ("ID", s.id.clone()),
            ("Status", s.status.clone()),
            ("Termination Reason", s.termination_reason.clone()),
            ("Version", s.version.to_string()),
            ("Type", s.kind.clone()),
            ("Target ID", s.target_id.clone()),
            ("Scope ID", s.scope_id.clone()),
            ("User ID", s.user_id.clone()),
            ("Auth Token ID", s.auth_token_id.clone()),
            ("Host ID", s.host_id.clone()),
            ("Endpoint", s.endpoint.clone()),
            ("Created Time", output::time(s.created_time)),
            ("Updated Time", output::time(s.updated_time)),
            ("Expiration Time", output::time(s.expiration_time)),
            (
                "Authorized Actions",
                join(s.authorized_actions.iter().cloned()),
            ),
        ],
    );
    if !s.states.is_empty() {
        text.push_str("\n  States:\n");
        for state in &s.states {
            let end = state.end_time.map(output::time).unwrap_or_default();
            text.push_str(&output::key_values(
                &[
                    ("Status", state.status.clone()),
                    ("Start Time", output::time(state.start_time)),
                    ("End Time", end),
                ],
                4,
            ));
            text.push('\n');
        }
    }
    if !s.connections.is_empty() {
        text.push_str("  Connections:\n");
        for c in &s.connections {
            text.push_str(&output::key_values(
                &[
                    (
                        "Client",
                        format!("{}:{}", c.client_tcp_address, c.client_tcp_port),
                    ),
                    (
                        "Endpoint",
                        format!("{}:{}", c.endpoint_tcp_address, c.endpoint_tcp_port),
                    ),
                    ("Bytes Up", c.bytes_up.to_string()),
                    ("Bytes Down", c.bytes_down.to_string()),
                    ("Closed Reason", c.closed_reason.clone()),
                ],
                4,
            ));
            text.push('\n');
        }
    }
    text
}

pub fn sessions_table(sessions: &[Session]) -> String {
    output::table(
        &["id", "status", "target", "user", "expiration"],
        sessions
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.status.clone(),
                    s.target_id.clone(),
                    s.user_id.clone(),
                    output::time(s.expiration_time),
                ]
            })
            .collect(),
        "No sessions found",
    )
}
