//! What a command prints, in both formats, and how failures are reported.
//!
//! Commands build an [`Output`] and return it; [`emit`] writes it. In JSON mode stdout gets
//! exactly one document: Boundary's `{"status_code":200,"item":{…}}` for one resource,
//! `{"status_code":200,"items":[…]}` for a list, `{"status":401,"api_error":{…}}` for a
//! controller error and `{"error":"…"}` for anything else. Errors are also described on
//! stderr, in both formats.

use super::flags::OutputFormat;
use boundary_net::client::ClientError;
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use serde_json::{Value, json};

/// Exit codes, as Boundary's CLI uses them.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    /// The controller answered with an error.
    pub const API_ERROR: i32 = 1;
    /// The command could not do its job (bad flag value, controller unreachable, …).
    pub const CLI_ERROR: i32 = 2;
}

/// A command's result, ready for either format.
#[derive(Debug)]
pub struct Output {
    /// The JSON document for `-format json`.
    pub json: Value,
    /// The text for `-format table`.
    pub table: String,
    /// Extra lines for stderr in table mode (warnings, hints).
    pub notes: Vec<String>,
}

impl Output {
    /// One resource: `{"status_code":200,"item":…}`.
    pub fn item<T: Serialize>(item: &T, table: String) -> anyhow::Result<Self> {
        Ok(Self {
            json: json!({"status_code": 200, "item": serde_json::to_value(item)?}),
            table,
            notes: vec![],
        })
    }

    /// A list: `{"status_code":200,"items":[…]}` (always an array, also when empty).
    pub fn items<T: Serialize>(items: &[T], table: String) -> anyhow::Result<Self> {
        Ok(Self {
            json: json!({"status_code": 200, "items": serde_json::to_value(items)?}),
            table,
            notes: vec![],
        })
    }

    /// A deletion: `{"status_code":204}`, and Boundary's sentence in table mode.
    pub fn deleted() -> Self {
        Self {
            json: json!({"status_code": 204}),
            table: "The delete operation completed successfully.".to_owned(),
            notes: vec![],
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// Prints a command's result in `format` and returns the process exit code.
pub fn emit(format: OutputFormat, result: anyhow::Result<Output>) -> i32 {
    match result {
        Ok(output) => {
            match format {
                OutputFormat::Json => stdout(&format!("{}\n", output.json)),
                OutputFormat::Table => {
                    for note in &output.notes {
                        stderr(&format!("{note}\n"));
                    }
                    stdout(&ensure_newline(&output.table));
                }
            }
            exit::SUCCESS
        }
        Err(error) => {
            let (code, json_doc, text) = describe_error(&error);
            if format == OutputFormat::Json {
                stdout(&format!("{json_doc}\n"));
            }
            stderr(&ensure_newline(&text));
            code
        }
    }
}

/// Writes to stdout; a closed pipe (`boundary … | head -1`) is not worth a panic.
///
/// Unit tests go through `print!` instead, which the test harness captures (it cannot
/// capture writes to the raw stream), so expected output stays out of the test log.
pub fn stdout(text: &str) {
    #[cfg(test)]
    print!("{text}");
    #[cfg(not(test))]
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }
}

/// Writes to stderr, ignoring a closed stream (captured under unit tests, as [`stdout`]).
pub fn stderr(text: &str) {
    #[cfg(test)]
    eprint!("{text}");
    #[cfg(not(test))]
    {
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// A warning line on stderr, in both formats.
pub fn warn(message: &str) {
    stderr(&format!("Warning: {message}\n"));
}

/// Exit code, JSON document and human text for a failed command.
pub fn describe_error(error: &anyhow::Error) -> (i32, Value, String) {
    let client_error = error.chain().find_map(|e| e.downcast_ref::<ClientError>());
    let api = client_error.and_then(|e| match e {
        ClientError::Api { status, body } => Some((e, *status, body)),
        _ => None,
    });
    match api {
        Some((client_error, status, body)) => {
            // A context added by the command ("authentication failed") comes first.
            let top = error.to_string();
            let mut text = if top == client_error.to_string() {
                String::new()
            } else {
                format!("{top}\n")
            };
            text.push_str("Error from controller:\n");
            let mut rows = vec![
                ("Status", status.to_string()),
                ("Kind", body.kind.clone()),
                ("Message", body.message.clone()),
            ];
            if !body.op.is_empty() {
                rows.push(("Operation", body.op.clone()));
            }
            text.push_str(&key_values(&rows, 2));
            if let Some(details) = &body.details
                && !details.request_fields.is_empty()
            {
                text.push_str("\n  Field-specific errors:\n");
                for field in &details.request_fields {
                    text.push_str(&format!(
                        "    -{}: {}\n",
                        field
                            .name
                            .trim_start_matches("attributes.")
                            .replace('_', "-"),
                        field.description
                    ));
                }
            }
            let doc = json!({"status": status, "api_error": body});
            (exit::API_ERROR, doc, text)
        }
        None => {
            let message = format!("{error:#}");
            let doc = json!({"error": message});
            (exit::CLI_ERROR, doc, format!("Error: {message}\n"))
        }
    }
}

/// `Title:` followed by aligned `Key: value` lines; rows with an empty value are left out.
pub fn block(title: &str, rows: &[(&str, String)]) -> String {
    format!("{title}:\n{}", key_values(rows, 2))
}

/// Aligned `Key:  value` lines indented by `indent`, one per non-empty row.
pub fn key_values(rows: &[(&str, String)], indent: usize) -> String {
    let rows: Vec<_> = rows.iter().filter(|(_, v)| !v.is_empty()).collect();
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in rows {
        let pad = width - key.len();
        out.push_str(&format!(
            "{:indent$}{key}:{:pad$} {value}\n",
            "",
            "",
            indent = indent,
            pad = pad
        ));
    }
    out
}

/// A borderless table with upper-case headers, or `empty` when there are no rows.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>, empty: &str) -> String {
    if rows.is_empty() {
        return format!("{empty}\n");
    }
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().map(|h| h.to_uppercase()));
    for row in rows {
        t.add_row(row);
    }
    let text = t
        .lines()
        .map(|l| l.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    format!("{text}\n")
}

/// RFC 3339 for tables.
pub fn time(t: boundary_wire::api::Timestamp) -> String {
    boundary_wire::api::time_format::format(t)
}

fn ensure_newline(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_empty() || s.ends_with('\n') {
        s.into()
    } else {
        format!("{s}\n").into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_wire::api::ApiErrorBody;

    #[test]
    fn json_documents_have_boundarys_shape() {
        let item = Output::item(&json!({"id": "ttcp_1"}), String::new()).unwrap();
        assert_eq!(
            item.json.to_string(),
            r#"{"item":{"id":"ttcp_1"},"status_code":200}"#
        );
        let items = Output::items::<Value>(&[], String::new()).unwrap();
        assert_eq!(items.json["items"], json!([]));
        assert_eq!(items.json["status_code"], 200);
        assert_eq!(Output::deleted().json, json!({"status_code": 204}));
    }

    #[test]
    fn api_errors_exit_1_with_the_body_and_others_exit_2() {
        let err = anyhow::Error::new(ClientError::Api {
            status: 400,
            body: ApiErrorBody::invalid_field("attributes.default_port", "must be set"),
        })
        .context("creating the target");
        let (code, doc, text) = describe_error(&err);
        assert_eq!(code, exit::API_ERROR);
        assert_eq!(doc["status"], 400);
        assert_eq!(doc["api_error"]["kind"], "InvalidArgument");
        assert!(text.contains("-default-port: must be set"), "{text}");
        assert!(text.contains("Status:  400"), "{text}");
        assert!(
            text.starts_with("creating the target\nError from controller:"),
            "{text}"
        );

        let (code, doc, text) = describe_error(&anyhow::anyhow!("no password given"));
        assert_eq!(code, exit::CLI_ERROR);
        assert_eq!(doc, json!({"error": "no password given"}));
        assert_eq!(text, "Error: no password given\n");
    }

    #[test]
    fn blocks_align_values_and_skip_empty_ones() {
        let text = block(
            "Target information",
            &[
                ("ID", "ttcp_1".into()),
                ("Name", String::new()),
                ("Default Port", "22".into()),
            ],
        );
        assert_eq!(
            text,
            "Target information:\n  ID:           ttcp_1\n  Default Port: 22\n"
        );
    }

    #[test]
    fn tables_have_headers_and_rows_or_the_empty_text() {
        let text = table(
            &["id", "name"],
            vec![
                vec!["ttcp_1".into(), "ssh".into()],
                vec!["ttcp_22".into(), "db".into()],
            ],
            "No targets found",
        );
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].contains("ID") && lines[0].contains("NAME"),
            "{text}"
        );
        assert!(
            lines[2].contains("ttcp_22") && lines[2].contains("db"),
            "{text}"
        );
        let col = lines[0].find("NAME").unwrap();
        assert_eq!(
            lines[1].find("ssh"),
            Some(col),
            "columns are aligned:\n{text}"
        );
        assert_eq!(
            table(&["id"], vec![], "No targets found"),
            "No targets found\n"
        );
    }
}
