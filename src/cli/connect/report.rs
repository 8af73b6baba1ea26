//! What `boundary connect` prints, in Boundary's shapes: the proxy's session information,
//! connection counts and the termination reason, as text blocks or one JSON object each.

use std::net::SocketAddr;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::authorize::Authorized;
use super::proxy::Ending;
use crate::cli::flags::OutputFormat;
use crate::cli::output;
use boundary_net::tunnel::TunnelSession;
use boundary_wire::api::credential::SessionCredential;

/// Boundary's `SessionInfo` (its JSON keys and order).
#[derive(Serialize)]
pub struct SessionInfo {
    pub address: String,
    pub port: u16,
    pub protocol: String,
    #[serde(serialize_with = "rfc3339")]
    pub expiration: Option<OffsetDateTime>,
    pub connection_limit: i32,
    pub session_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<SessionCredential>,
    #[serde(skip)]
    pub target_id: String,
    #[serde(skip)]
    pub host_id: String,
}

impl SessionInfo {
    pub fn new(session: &TunnelSession, authorized: &Authorized, local: SocketAddr) -> Self {
        let data = session.data();
        Self {
            address: local.ip().to_string(),
            port: local.port(),
            protocol: data.r#type.clone(),
            expiration: session.expiration(),
            connection_limit: data.connection_limit,
            session_id: data.session_id.clone(),
            credentials: authorized.credentials.clone(),
            target_id: data.target_id.clone(),
            host_id: data.host_id.clone(),
        }
    }
}

fn rfc3339<S: serde::Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t.and_then(|t| t.format(&Rfc3339).ok()) {
        Some(text) => s.serialize_str(&text),
        None => s.serialize_none(),
    }
}

pub fn session_info(info: &SessionInfo, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => json_line(info),
        OutputFormat::Table => {
            let expiration = info.expiration.map(output::time).unwrap_or_default();
            let mut text = format!(
                "\n{}",
                output::block(
                    "Proxy listening information",
                    &[
                        ("Address", info.address.clone()),
                        ("Connection Limit", info.connection_limit.to_string()),
                        ("Expiration", expiration),
                        ("Port", info.port.to_string()),
                        ("Protocol", info.protocol.clone()),
                        ("Session ID", info.session_id.clone()),
                    ],
                )
            );
            if !info.credentials.is_empty() {
                text.push('\n');
                text.push_str(&credential_blocks(&info.credentials, 2));
            }
            text
        }
    }
}

/// Credentials on their own (the helpers print those they did not use).
pub fn credentials(credentials: &[SessionCredential], format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => json_line(&json!({ "credentials": credentials })),
        OutputFormat::Table => credential_blocks(credentials, 0),
    }
}

fn credential_blocks(credentials: &[SessionCredential], indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut text = format!("{pad}Credentials:\n");
    for credential in credentials {
        let source = &credential.credential_source;
        text.push_str(&output::key_values(
            &[
                ("Credential Source ID", source.id.clone()),
                ("Credential Source Name", source.name.clone()),
                ("Credential Store ID", source.credential_store_id.clone()),
                ("Credential Store Type", source.kind.clone()),
                ("Credential Type", source.credential_type.clone()),
            ],
            indent + 2,
        ));
        text.push_str(&format!("{pad}  Secret:\n"));
        if let Some(serde_json::Value::Object(fields)) = credential.typed() {
            let rows: Vec<(&str, String)> = fields
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect();
            text.push_str(&output::key_values(&rows, indent + 4));
        }
        text.push('\n');
    }
    text
}

pub fn connections_left(left: i32, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => json_line(&json!({ "connections_left": left })),
        OutputFormat::Table => format!(
            "\n{}",
            output::block(
                "Connection information",
                &[("Connections Left", left.to_string())]
            )
        ),
    }
}

pub fn termination(ending: &Ending, format: OutputFormat) -> String {
    let reason = match ending {
        Ending::Shutdown => "Received shutdown signal".to_string(),
        Ending::Expired => "Session has expired".to_string(),
        Ending::NoConnectionsLeft => "No connections left in session".to_string(),
        Ending::SessionUnusable(why) => format!("Session is no longer usable: {why}"),
        Ending::CommandExited(code) => format!("Command exited with code {code}"),
        Ending::ConnectionEnded => "The connection ended".to_string(),
    };
    match format {
        OutputFormat::Json => json_line(&json!({ "termination_reason": reason })),
        OutputFormat::Table => format!(
            "\n{}",
            output::block("Termination information", &[("Reason", reason)])
        ),
    }
}

fn json_line<T: Serialize>(value: &T) -> String {
    match serde_json::to_string(value) {
        Ok(text) => format!("{text}\n"),
        Err(e) => format!("{}\n", json!({ "error": e.to_string() })),
    }
}
