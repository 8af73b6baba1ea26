//! `boundary connect`: authorize a session (or take an authorization token), then carry
//! local TCP connections through the worker.
//!
//! Modes: a local listener (default; `-exec` also runs a program against it), the `ssh`
//! helper (runs `ssh` against the listener), and `-stdio` (ours: exactly one connection on
//! stdin/stdout, for `ProxyCommand boundary connect -stdio %h`). Every mode cancels the
//! session at the worker when it ends.

mod authorize;
mod exec;
mod proxy;
mod report;
mod signals;
mod stdio;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::flags::{ClientFlags, OutputFormat};
use super::output;
use boundary_net::tunnel::TunnelSession;
use boundary_wire::api::Secret;

use authorize::Authorized;
use proxy::{Ending, LocalProxy};
use report::SessionInfo;
use signals::Signals;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConnectArgs {
    #[command(subcommand)]
    pub helper: Option<ConnectHelper>,
    #[command(flatten)]
    pub target: TargetFlags,
    /// Address to listen on (an IP address).
    #[arg(
        long,
        env = "BOUNDARY_CONNECT_LISTEN_ADDR",
        default_value = "127.0.0.1"
    )]
    pub listen_addr: IpAddr,
    /// Port to listen on; 0 uses the target's default client port, else a free port.
    #[arg(long, env = "BOUNDARY_CONNECT_LISTEN_PORT", default_value_t = 0)]
    pub listen_port: u16,
    /// Program to run once the proxy listens. `{{boundary.ip}}`, `{{boundary.port}}` and
    /// `{{boundary.addr}}` in the arguments after `--` are replaced by the proxy's address.
    #[arg(long, env = "BOUNDARY_CONNECT_EXEC", value_name = "PROGRAM")]
    pub exec: Option<String>,
    /// Carry exactly one connection on stdin/stdout instead of listening (for ssh's
    /// ProxyCommand). Nothing else is written to stdout.
    #[arg(long, conflicts_with = "exec")]
    pub stdio: bool,
    /// Arguments for -exec, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConnectHelper {
    /// Authorize a session and run an SSH client through it.
    Ssh(SshArgs),
}

#[derive(Debug, Args)]
pub struct SshArgs {
    #[command(flatten)]
    pub target: TargetFlags,
    /// How to invoke the SSH client; only `ssh` is supported.
    #[arg(long, env = "BOUNDARY_CONNECT_SSH_STYLE", default_value = "ssh")]
    pub style: String,
    /// The SSH client program (default: `ssh` from PATH).
    #[arg(long, env = "BOUNDARY_CONNECT_EXEC", value_name = "PROGRAM")]
    pub exec: Option<String>,
    /// User name for the remote host; default: the brokered credential's.
    #[arg(long, env = "BOUNDARY_CONNECT_USERNAME")]
    pub username: Option<String>,
    /// Command to run on the remote host (split on spaces).
    #[arg(long)]
    pub remote_command: Option<String>,
    /// Extra arguments for ssh, after `--` (they come before the generated ones).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// Which target to connect to, and the controller to ask.
#[derive(Debug, Args)]
pub struct TargetFlags {
    #[command(flatten)]
    pub client: ClientFlags,
    /// A target alias, such as `db.prod.example`.
    #[arg(value_name = "ALIAS")]
    pub alias: Option<String>,
    /// An authorization token from `targets authorize-session` (its JSON output works too;
    /// `-` reads it from stdin). The controller is not contacted.
    #[arg(long, env = "BOUNDARY_CONNECT_AUTHZ_TOKEN", hide_env_values = true,
          value_parser = secret_value, value_name = "TOKEN")]
    pub authz_token: Option<Secret>,
    /// The target's id.
    #[arg(long)]
    pub target_id: Option<String>,
    /// The target's name; needs -target-scope-id or -target-scope-name.
    #[arg(long)]
    pub target_name: Option<String>,
    #[arg(long, env = "BOUNDARY_CONNECT_TARGET_SCOPE_ID")]
    pub target_scope_id: Option<String>,
    #[arg(
        long,
        env = "BOUNDARY_CONNECT_TARGET_SCOPE_NAME",
        conflicts_with = "target_scope_id"
    )]
    pub target_scope_name: Option<String>,
    /// A specific host of the target's host sets.
    #[arg(long)]
    pub host_id: Option<String>,
}

fn secret_value(value: &str) -> Result<Secret, Infallible> {
    Ok(Secret::new(value))
}

/// How long to wait for the worker to confirm a session cancel on exit.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(args: ConnectArgs) -> i32 {
    let format = match &args.helper {
        Some(ConnectHelper::Ssh(ssh)) => ssh.target.client.format,
        None => args.target.client.format,
    };
    // In -stdio mode stdout is the connection: errors only go to stderr.
    let stdout_is_data = args.stdio && args.helper.is_none();
    match execute(args).await {
        Ok(code) => code,
        Err(error) => {
            let (code, json, text) = output::describe_error(&error);
            if format == OutputFormat::Json && !stdout_is_data {
                output::stdout(&format!("{json}\n"));
            }
            output::stderr(&text);
            code
        }
    }
}

async fn execute(args: ConnectArgs) -> anyhow::Result<i32> {
    // Handlers first, so that a signal during authorization is not fatal.
    let mut signals = Signals::new().context("cannot install signal handlers")?;
    match args.helper {
        Some(ConnectHelper::Ssh(ssh)) => run_ssh(ssh, &mut signals).await,
        None if args.stdio => run_stdio(args, &mut signals).await,
        None => run_listener(args, &mut signals).await,
    }
}

async fn open_session(
    target: &TargetFlags,
    stdin_is_data: bool,
) -> anyhow::Result<(Authorized, Arc<TunnelSession>)> {
    let authorized = authorize::authorize(target, stdin_is_data).await?;
    let session = TunnelSession::from_token(authorized.token.expose())
        .context("the session's authorization token is unusable")?;
    Ok((authorized, Arc::new(session)))
}

async fn bind(addr: IpAddr, port: u16, session: &Arc<TunnelSession>) -> anyhow::Result<LocalProxy> {
    let port = match port {
        0 => u16::try_from(session.data().default_client_port).unwrap_or(0),
        p => p,
    };
    let address = SocketAddr::new(addr, port);
    LocalProxy::bind(address, session.clone())
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

async fn run_listener(args: ConnectArgs, signals: &mut Signals) -> anyhow::Result<i32> {
    let format = args.target.client.format;
    let (authorized, session) = open_session(&args.target, false).await?;
    let proxy = bind(args.listen_addr, args.listen_port, &session).await?;
    let local = proxy.local_addr();
    let info = SessionInfo::new(&session, &authorized, local);
    output::stdout(&report::session_info(&info, format));

    let show_connections = args.exec.is_none();
    let on_connections_left = move |left: i32| {
        if show_connections {
            output::stdout(&report::connections_left(left, format));
        }
    };
    let (ending, exit_code) = match &args.exec {
        None => {
            let ending = proxy.run(signals.shutdown(), on_connections_left).await;
            (ending, 0)
        }
        Some(program) => {
            let command = exec::Invocation::new(program.clone(), args.args.clone(), vec![], local);
            exec::run_with_proxy(command, proxy, signals, on_connections_left).await?
        }
    };
    finish(&session, &ending).await;
    if args.exec.is_none() {
        output::stdout(&report::termination(&ending, format));
    }
    Ok(exit_code)
}

async fn run_ssh(args: SshArgs, signals: &mut Signals) -> anyhow::Result<i32> {
    if !args.style.eq_ignore_ascii_case("ssh") {
        anyhow::bail!(
            "-style {:?} is not supported; only \"ssh\" is (use -exec for another client)",
            args.style
        );
    }
    let (authorized, session) = open_session(&args.target, false).await?;
    let proxy = bind(IpAddr::from([127, 0, 0, 1]), 0, &session).await?;
    let local = proxy.local_addr();
    let info = SessionInfo::new(&session, &authorized, local);
    let plan = exec::ssh_plan(&args, &info)?;
    if !plan.unused_credentials.is_empty() {
        output::stdout(&report::credentials(
            &plan.unused_credentials,
            args.target.client.format,
        ));
    }
    let (ending, exit_code) = exec::run_with_proxy(plan.invocation, proxy, signals, |_| {}).await?;
    finish(&session, &ending).await;
    Ok(exit_code)
}

async fn run_stdio(args: ConnectArgs, signals: &mut Signals) -> anyhow::Result<i32> {
    let (_authorized, session) = open_session(&args.target, true).await?;
    let ending = stdio::carry_stdio(&session, signals).await?;
    finish(&session, &ending).await;
    Ok(0)
}

/// Cancels the session at the worker unless it already ended there (expired, or refused
/// by the worker).
async fn finish(session: &TunnelSession, ending: &Ending) {
    if matches!(ending, Ending::Expired | Ending::SessionUnusable(_)) {
        return;
    }
    match tokio::time::timeout(CANCEL_TIMEOUT, session.cancel()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => output::warn(&format!(
            "could not cancel session {}: {e}",
            session.session_id()
        )),
        Err(_) => output::warn(&format!(
            "the worker did not confirm the cancel of session {} in time",
            session.session_id()
        )),
    }
}

#[cfg(test)]
mod tests;
