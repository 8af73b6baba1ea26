//! `boundary client-agent status|pause|resume|sessions`: talk to the local client agent
//! over its API (docs/wire-contract.md §4) as the calling OS user. Handing it a token after a login
//! is [`token_handoff`].

pub mod render;
pub mod token_handoff;

#[cfg(test)]
mod render_tests;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::flags::OutputFormat;
use boundary_wire::api::ApiErrorBody;
use boundary_wire::api::agent::{AgentSessions, AgentStatus, DEFAULT_PORT};

/// Environment variable for `-client-agent-port` (Boundary's name).
pub const ENV_PORT: &str = "BOUNDARY_CLIENT_AGENT_LISTENING_PORT";
/// Bounds a hung agent; never reached by a working one.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Subcommand)]
pub enum ClientAgentCommand {
    /// Show the client agent's status and your token.
    Status(ClientAgentFlags),
    /// Pause the client agent: DNS goes back to the previous resolvers for everyone.
    Pause(ClientAgentFlags),
    /// Resume a paused client agent.
    Resume(ClientAgentFlags),
    /// List your transparent sessions.
    Sessions(ClientAgentFlags),
}

#[derive(Debug, Args)]
pub struct ClientAgentFlags {
    /// Output format.
    #[arg(long, value_enum, env = "BOUNDARY_CLI_FORMAT", default_value = "table")]
    pub format: OutputFormat,
    /// The port on which the client agent is listening.
    #[arg(long = "client-agent-port", env = ENV_PORT, default_value_t = DEFAULT_PORT,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub client_agent_port: u16,
}

/// Runs the command; the exit code is the return value (1 on any error).
pub async fn run(command: ClientAgentCommand) -> i32 {
    let (flags, action) = match &command {
        ClientAgentCommand::Status(flags) => (flags, Action::Status),
        ClientAgentCommand::Pause(flags) => (flags, Action::Pause),
        ClientAgentCommand::Resume(flags) => (flags, Action::Resume),
        ClientAgentCommand::Sessions(flags) => (flags, Action::Sessions),
    };
    match execute(flags, action).await {
        Ok(output) => {
            println!("{output}");
            0
        }
        Err(failure) => {
            eprintln!("{}", failure.render(flags.format, action));
            1
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Status,
    Pause,
    Resume,
    Sessions,
}

impl Action {
    fn method_and_path(self) -> (reqwest::Method, &'static str) {
        match self {
            Action::Status => (reqwest::Method::GET, "/v1/status"),
            Action::Pause => (reqwest::Method::POST, "/v1/pause"),
            Action::Resume => (reqwest::Method::POST, "/v1/resume"),
            Action::Sessions => (reqwest::Method::GET, "/v1/sessions"),
        }
    }

    /// Boundary's wording for an error answer.
    fn error_context(self) -> &'static str {
        match self {
            Action::Status => "Error from client agent when getting its status",
            Action::Pause => "Error from client agent when attempting to pause",
            Action::Resume => "Error from client agent when attempting to resume",
            Action::Sessions => "Error from client agent when getting its Sessions",
        }
    }
}

/// Why a command failed.
enum Failure {
    /// The agent answered with an error.
    Api { status: u16, body: ApiErrorBody },
    /// No usable answer (not running, wrong port, garbage).
    Cli(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Cli(error)
    }
}

impl Failure {
    fn render(&self, format: OutputFormat, action: Action) -> String {
        match (self, format) {
            (Failure::Api { status, body }, OutputFormat::Table) => {
                render::api_error(action.error_context(), *status, body)
            }
            (Failure::Api { status, body }, OutputFormat::Json) => json!({
                "context": action.error_context(),
                "status": status,
                "api_error": body,
            })
            .to_string(),
            (Failure::Cli(error), OutputFormat::Table) => format!("Error: {error:#}"),
            (Failure::Cli(error), OutputFormat::Json) => {
                json!({ "error": format!("{error:#}") }).to_string()
            }
        }
    }
}

async fn execute(flags: &ClientAgentFlags, action: Action) -> Result<String, Failure> {
    let (status, body) = call(flags.client_agent_port, action).await?;
    if !(200..300).contains(&status) {
        let body = serde_json::from_slice::<ApiErrorBody>(&body).unwrap_or_else(|_| {
            ApiErrorBody::new("Unknown", String::from_utf8_lossy(&body).into_owned())
        });
        return Err(Failure::Api { status, body });
    }
    let unexpected = |what: &str| {
        format!(
            "the client agent on port {} sent {what} that is not what boundary expects",
            flags.client_agent_port
        )
    };
    let document: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).with_context(|| unexpected("an answer"))?
    };
    let output = match (action, flags.format) {
        (Action::Sessions, OutputFormat::Json) => {
            json!({ "status_code": status, "items": document.get("items").cloned().unwrap_or(json!([])) })
                .to_string()
        }
        (_, OutputFormat::Json) if document.is_null() => json!({ "status_code": status }).to_string(),
        (_, OutputFormat::Json) => json!({ "status_code": status, "item": document }).to_string(),
        (Action::Status, OutputFormat::Table) => {
            let status: AgentStatus =
                serde_json::from_value(document).with_context(|| unexpected("a status"))?;
            render::status(&status, time::OffsetDateTime::now_utc())
        }
        (Action::Sessions, OutputFormat::Table) => {
            let sessions: AgentSessions =
                serde_json::from_value(document).with_context(|| unexpected("a session list"))?;
            render::sessions(&sessions)
        }
        (Action::Pause, OutputFormat::Table) => render::PAUSED.to_owned(),
        (Action::Resume, OutputFormat::Table) => render::RESUMED.to_owned(),
    };
    Ok(output)
}

/// One request to the agent at `localhost:<port>`, as Boundary's CLI calls it: 127.0.0.1
/// (the default `api_listen_address`) first, then [::1], without consulting name
/// resolution. Returns the status and body.
async fn call(port: u16, action: Action) -> anyhow::Result<(u16, Vec<u8>)> {
    let (method, path) = action.method_and_path();
    let url = format!("http://localhost:{port}{path}");
    let response = http_client(port)?
        .request(method, &url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .send()
        .await
        .map_err(|error| unreachable_agent(port, &error))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|error| unreachable_agent(port, &error))?;
    Ok((status, body.to_vec()))
}

fn unreachable_agent(port: u16, error: &reqwest::Error) -> anyhow::Error {
    let what = if error.is_connect() {
        "cannot connect to".to_owned()
    } else if error.is_timeout() {
        format!("no answer within {}s from", REQUEST_TIMEOUT.as_secs())
    } else {
        "the request failed for".to_owned()
    };
    // The innermost cause says why (e.g. "Connection refused (os error 111)").
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    anyhow::anyhow!(
        "{what} the client agent at localhost:{port} (127.0.0.1:{port}, [::1]:{port}): \
         {cause}. Is boundary-client-agent running? If it listens on another port, pass \
         -client-agent-port or set {ENV_PORT}."
    )
}

/// Plain HTTP to loopback: no proxy (HTTP_PROXY must not see local API calls). reqwest
/// insists on a TLS configuration even for http://, so give it a ring-based one.
fn http_client(port: u16) -> anyhow::Result<reqwest::Client> {
    let loopback = [
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ];
    let tls = rustls::ClientConfig::builder_with_provider(boundary_net::tls::ring_provider())
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS defaults")?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .resolve_to_addrs("localhost", &loopback)
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot set up the HTTP client")
}
