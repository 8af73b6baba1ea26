//! Table output of `boundary client-agent …`, laid out like Boundary's CLI (docs/wire-contract.md
//! §4): `Key: value` blocks with values aligned two columns after the longest key.

use base64::Engine;
use time::OffsetDateTime;

use boundary_wire::api::ApiErrorBody;
use boundary_wire::api::agent::{AgentSessions, AgentStatus, ResolverStatus};
use boundary_wire::api::credential::SessionCredential;
use boundary_wire::api::time_format;

pub const PAUSED: &str = "The client agent has been successfully paused.";
pub const RESUMED: &str = "The client agent has been successfully resumed.";
pub const NO_SESSIONS: &str = "No sessions found";

/// `status`: the caller's token (when they have one), the agent's state, then recent
/// errors and warnings as the agent listed them (most recent first).
pub fn status(status: &AgentStatus, now: OffsetDateTime) -> String {
    let mut rows: Vec<(&str, String)> = Vec::new();
    if !status.boundary_addr.is_empty() {
        rows.push(("Address", status.boundary_addr.clone()));
    }
    if let Some(expiry) = status.auth_token_expiry {
        rows.push(("Auth Token Expiration", go_duration(expiry - now)));
    }
    if !status.auth_token_id.is_empty() {
        rows.push(("Auth Token Id", status.auth_token_id.clone()));
    }
    rows.push(("Status", status.status.clone()));
    rows.push(("Version", status.version.clone()));
    let width = key_width(&rows) + 2;

    let mut lines = vec![String::new(), "Status:".to_owned()];
    lines.extend(aligned(&rows, 2, width));
    if let Some(resolver) = &status.resolver {
        lines.push(String::new());
        lines.push("  System resolver:".to_owned());
        let rows = resolver_rows(resolver);
        lines.extend(aligned(&rows, 4, key_width(&rows) + 2));
    }
    for (title, entries) in [
        ("Recent errors:", &status.errors),
        ("Recent warnings:", &status.warnings),
    ] {
        if !entries.is_empty() {
            lines.push(String::new());
            lines.push(format!("  {title}"));
            lines.extend(entries.iter().map(|entry| format!("    {entry}")));
        }
    }
    lines.join("\n")
}

/// Our `resolver` status block: mode, link, routing, who manages it, upstreams.
fn resolver_rows(resolver: &ResolverStatus) -> Vec<(&'static str, String)> {
    let mut rows = vec![("Mode", resolver.mode.clone())];
    let optional = [
        ("Link", &resolver.link),
        ("Routing", &resolver.routing),
        ("Managed By", &resolver.managed_by),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            rows.push((key, value.clone()));
        }
    }
    let upstreams = if resolver.upstreams.is_empty() {
        "none".to_owned()
    } else {
        resolver.upstreams.join(", ")
    };
    rows.push(("Upstreams", upstreams));
    rows
}

/// `sessions`: `No sessions found`, or per session its alias, id, creation time and the
/// brokered credentials with their decoded secrets.
pub fn sessions(sessions: &AgentSessions) -> String {
    if sessions.items.is_empty() {
        return NO_SESSIONS.to_owned();
    }
    let mut lines = vec![String::new(), "Session information:".to_owned()];
    for (i, item) in sessions.items.iter().enumerate() {
        if i > 0 && lines.last().is_some_and(|l| !l.is_empty()) {
            lines.push(String::new());
        }
        let authorization = &item.session_authorization;
        lines.push(format!("  Alias:                     {}", item.alias));
        lines.push("  Session authorization:".to_owned());
        lines.push(format!(
            "    Session ID:              {}",
            authorization.session_id
        ));
        lines.push(format!(
            "    Created time:            {}",
            time_format::format(authorization.created_time)
        ));
        if !authorization.credentials.is_empty() {
            lines.push("    Credentials:".to_owned());
            for credential in &authorization.credentials {
                lines.extend(credential_lines(credential, 6));
                lines.push(String::new());
            }
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// An error answer from the agent, like Boundary's `Error information:` block.
pub fn api_error(context: &str, status: u16, body: &ApiErrorBody) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("Kind", body.kind.clone()),
        ("Message", body.message.clone()),
        ("Status", status.to_string()),
    ];
    if !body.op.is_empty() {
        rows.push(("Operation", body.op.clone()));
    }
    rows.sort_by_key(|(key, _)| *key);
    let width = key_width(&rows) + 2;
    let mut lines = vec![
        format!("{context}:"),
        String::new(),
        "Error information:".to_owned(),
    ];
    lines.extend(aligned(&rows, 2, width));
    let fields = body
        .details
        .as_ref()
        .map(|d| d.request_fields.as_slice())
        .unwrap_or_default();
    if !fields.is_empty() {
        lines.push(String::new());
        lines.push("  Field-specific Errors:".to_owned());
        for field in fields {
            lines.push(format!("    Name:              {}", field.name));
            lines.push(format!("      Error:           {}", field.description));
        }
    }
    lines.join("\n")
}

/// A duration as Go prints a `time.Duration` rounded to the second: `167h58m9s`,
/// `1m0s`, `45s`, `0s`, `-2m5s`.
pub fn go_duration(duration: time::Duration) -> String {
    let millis = duration.whole_milliseconds();
    // Round half away from zero, as Go's Duration.Round does.
    let seconds = (millis.abs() + 500) / 1000;
    let sign = if millis < 0 && seconds > 0 { "-" } else { "" };
    let (hours, minutes, secs) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{secs}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m{secs}s")
    } else {
        format!("{sign}{secs}s")
    }
}

fn credential_lines(credential: &SessionCredential, indent: usize) -> Vec<String> {
    let source = &credential.credential_source;
    let mut rows: Vec<(&str, String)> = vec![
        ("Credential Source ID", source.id.clone()),
        ("Credential Store ID", source.credential_store_id.clone()),
        ("Credential Store Type", source.kind.clone()),
    ];
    if !source.name.is_empty() {
        rows.push(("Credential Source Name", source.name.clone()));
    }
    if !source.description.is_empty() {
        rows.push(("Credential Source Description", source.description.clone()));
    }
    if !source.credential_type.is_empty() {
        rows.push(("Credential Type", source.credential_type.clone()));
    }
    rows.sort_by_key(|(key, _)| *key);
    let mut lines = aligned(&rows, indent, key_width(&rows));
    lines.push(format!("{}Secret:", " ".repeat(indent)));
    let secret_indent = " ".repeat(indent + 4);
    match decoded_secret(credential) {
        Some(value) => {
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            lines.extend(pretty.lines().map(|line| format!("{secret_indent}{line}")));
        }
        None => {
            let raw = credential.secret.as_ref().map(|s| s.raw.as_str());
            lines.push(format!("{secret_indent}{}", raw.unwrap_or("")));
        }
    }
    lines
}

/// The secret as JSON: the typed `credential`, else `secret.decoded`, else `secret.raw`
/// decoded from base64 (what Boundary's CLI does).
fn decoded_secret(credential: &SessionCredential) -> Option<serde_json::Value> {
    if let Some(value) = credential.typed() {
        return Some(value.clone());
    }
    let raw = credential.secret.as_ref()?.raw.trim_matches('"');
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The longest key, but at least Boundary's baseline of `len("Parent Scope ID") + 2`
/// (so short blocks line up with the rest of its output).
fn key_width(rows: &[(&str, String)]) -> usize {
    const BASELINE: usize = "Parent Scope ID".len() + 2;
    rows.iter()
        .map(|(key, _)| key.len())
        .max()
        .unwrap_or(0)
        .max(BASELINE)
}

/// `Key: value` lines; values start `width` columns after the key's first column, plus
/// the `: `.
fn aligned(rows: &[(&str, String)], indent: usize, width: usize) -> Vec<String> {
    rows.iter()
        .map(|(key, value)| {
            let padding = width.saturating_sub(key.len());
            format!(
                "{}{key}: {}{value}",
                " ".repeat(indent),
                " ".repeat(padding)
            )
        })
        .collect()
}
