//! `boundary authenticate password`: log in and keep the token in the keyring (or print
//! it with `-keyring-type none`).

use super::client_agent::token_handoff::register_token;
use super::flags::{ClientFlags, KeyringType, OutputFormat};
use super::output::{self, Output};
use super::{secret_source, token_store};
use anyhow::{Context, bail};
use boundary_net::client::ControllerClient;
use boundary_wire::api::Secret;
use boundary_wire::api::agent::AddTokenRequest;
use boundary_wire::api::auth::{AuthToken, AuthenticateResponse};
use clap::{Args, Subcommand};
use std::io::IsTerminal;

#[derive(Debug, Subcommand)]
pub enum AuthenticateCommand {
    /// Log in with a login name and password.
    Password(PasswordArgs),
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    #[command(flatten)]
    pub client: ClientFlags,

    /// The password auth method; without it, the scope's primary auth method.
    #[arg(long, env = "BOUNDARY_AUTH_METHOD_ID")]
    pub auth_method_id: Option<String>,

    /// Scope whose primary auth method is used when -auth-method-id is not given.
    #[arg(long, default_value = boundary_wire::api::ids::GLOBAL_SCOPE)]
    pub scope_id: String,

    /// The account's login name.
    #[arg(long, env = "BOUNDARY_AUTHENTICATE_PASSWORD_LOGIN_NAME")]
    pub login_name: String,

    /// The password: `env://VAR`, `file://PATH` or the password itself. Without it, it is
    /// asked for on the terminal.
    #[arg(
        long,
        env = "BOUNDARY_AUTHENTICATE_PASSWORD_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// Do not hand the new token to the local client agent.
    #[arg(long, env = "BOUNDARY_SKIP_CLIENT_AGENT", value_parser = clap::builder::BoolishValueParser::new(),
          action = clap::ArgAction::SetTrue)]
    pub skip_client_agent: bool,

    /// The port on which the client agent is listening.
    #[arg(long = "client-agent-port", env = super::client_agent::ENV_PORT,
          default_value_t = boundary_wire::api::agent::DEFAULT_PORT,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub client_agent_port: u16,
}

pub async fn run(command: AuthenticateCommand) -> i32 {
    match command {
        AuthenticateCommand::Password(args) => {
            let format = args.client.format;
            output::emit(format, password(args).await)
        }
    }
}

async fn password(args: PasswordArgs) -> anyhow::Result<Output> {
    let password = match &args.password {
        Some(value) => secret_source::read(value, "-password")?,
        None => prompt_password()?,
    };
    let client = args.client.client_with(None)?;
    let auth_method_id = match &args.auth_method_id {
        Some(id) => id.clone(),
        None => primary_auth_method(&client, &args.scope_id).await?,
    };
    let response = client
        .authenticate_password(&auth_method_id, &args.login_name, &password)
        .await
        .context("authentication failed")?;
    let token = &response.attributes;
    if token.token.as_ref().is_none_or(Secret::is_empty) {
        bail!("the controller's login answer holds no token");
    }
    let output = store_or_print(&args.client, &response).await?;
    if !args.skip_client_agent
        && let Some(secret) = &token.token
    {
        let request = AddTokenRequest {
            boundary_addr: args.client.addr.clone(),
            token: secret.clone(),
        };
        match register_token(args.client_agent_port, &request).await {
            Ok(()) => {}
            Err(error) if error.is_refusal() => output::stderr(&format!(
                "Warning: the token was not handed to the client agent: {error}. The login \
                 itself succeeded. Pass -skip-client-agent to stop trying.\n"
            )),
            Err(error) => output::stderr(&format!(
                "Note: the token was not handed to the client agent ({error}); pass \
                 -skip-client-agent to stop trying.\n"
            )),
        }
    }
    Ok(output)
}

/// Stores the token as `-keyring-type` says and builds what to print. A keyring failure
/// is not fatal: the token is printed instead, as Boundary does.
async fn store_or_print(
    flags: &ClientFlags,
    response: &AuthenticateResponse,
) -> anyhow::Result<Output> {
    let token = &response.attributes;
    let info = output::block(
        "Authentication information",
        &[
            ("Account ID", token.account_id.clone()),
            ("Auth Method ID", token.auth_method_id.clone()),
            ("Expiration Time", output::time(token.expiration_time)),
            ("User ID", token.user_id.clone()),
        ],
    );
    let stored = match flags.keyring_type {
        KeyringType::None => Stored::Disabled,
        KeyringType::Auto | KeyringType::Keyutils => {
            match token_store::save(&flags.token_name, token).await {
                Ok(()) => Stored::Saved,
                Err(e) => Stored::Failed(format!("{e:#}")),
            }
        }
    };
    let out = Output::item(response, with_token_text(info, token, &stored, flags))?;
    Ok(match (&stored, flags.format) {
        (Stored::Disabled, _) => out
            .with_note("Storing the token in a keyring was disabled. The token is printed below;")
            .with_note("please be sure to store it safely!"),
        (Stored::Failed(reason), OutputFormat::Table) => out.with_note(format!(
            "Warning: the token was not stored in the keyring ({reason}). It is printed \
             below; pass it with BOUNDARY_TOKEN or -token env://VAR / file://PATH, or skip \
             the keyring with -keyring-type none."
        )),
        (Stored::Failed(reason), OutputFormat::Json) => {
            // JSON mode prints only the document on stdout; the warning still matters.
            output::warn(&format!(
                "the token was not stored in the keyring ({reason})."
            ));
            out
        }
        (Stored::Saved, _) => out,
    })
}

enum Stored {
    Saved,
    Disabled,
    Failed(String),
}

fn with_token_text(
    info: String,
    token: &AuthToken,
    stored: &Stored,
    flags: &ClientFlags,
) -> String {
    let secret = token.token.as_ref().map(Secret::expose).unwrap_or_default();
    match stored {
        Stored::Saved => format!(
            "{info}\nThe token name {:?} was successfully stored in the chosen keyring and is \
             not displayed here.\n",
            flags.token_name
        ),
        Stored::Disabled | Stored::Failed(_) => format!("{info}\n{secret}\n"),
    }
}

/// Asks on the terminal without echo; refuses when stdin is not a terminal, so a script
/// never hangs waiting for input.
fn prompt_password() -> anyhow::Result<Secret> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password given: use -password env://VAR or -password file://PATH (or set \
             BOUNDARY_AUTHENTICATE_PASSWORD_PASSWORD), or run on a terminal to be asked"
        );
    }
    let value = rpassword::prompt_password("Please enter the password (it will be hidden): ")
        .context("cannot read the password from the terminal")?;
    let value = value.trim();
    if value.is_empty() {
        bail!("the password is empty");
    }
    Ok(Secret::new(value))
}

/// The scope's primary auth method, which must be a password method.
async fn primary_auth_method(client: &ControllerClient, scope_id: &str) -> anyhow::Result<String> {
    let methods = client.list_auth_methods(scope_id).await.with_context(|| {
        format!(
            "no -auth-method-id given (or BOUNDARY_AUTH_METHOD_ID) and the auth methods of \
             scope {scope_id} could not be listed"
        )
    })?;
    let primary = methods
        .items
        .into_iter()
        .find(|m| m.is_primary)
        .with_context(|| {
            format!(
                "scope {scope_id} has no primary auth method; pass -auth-method-id (or set \
                 BOUNDARY_AUTH_METHOD_ID)"
            )
        })?;
    if !primary.id.starts_with("ampw_") {
        bail!(
            "the primary auth method of scope {scope_id} is {}, not a password auth method; \
             pass -auth-method-id",
            primary.id
        );
    }
    Ok(primary.id)
}
