//! The `boundary` command line: one module per command group.
//!
//! Boundary's CLI uses Go-style flags (`-auth-method-id x`, `-format=json`); we accept those
//! and clap's `--long` form alike (see [`boundary_wire::go_flags::normalize_go_style_flags`]).

pub mod accounts;
pub mod aliases;
pub mod auth_tokens;
pub mod authenticate;
pub mod client_agent;
pub mod connect;
pub mod controller;
pub mod dev;
pub mod flags;
pub mod output;
pub mod resource_args;
mod resource_command;
pub mod roles;
pub mod scopes;
pub mod secret_source;
mod server_process;
pub mod sessions;
pub mod targets;
pub mod token_source;
pub mod token_store;
pub mod users;
pub mod values;
pub mod worker;

use boundary_wire::go_flags::normalize_go_style_flags;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "boundary",
    version,
    about = "Transparent Boundary sessions: agent, controller, worker and admin CLI"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a controller, a worker and (with -client-agent) the client agent in one process,
    /// with seeded demo data.
    Dev(dev::DevArgs),
    /// Run a controller from an HCL config file.
    Controller(controller::ControllerArgs),
    /// Run a worker from an HCL config file.
    Worker(worker::WorkerArgs),
    /// Log in and store the token in the OS keyring.
    #[command(subcommand)]
    Authenticate(authenticate::AuthenticateCommand),
    /// Connect to a target through a worker.
    Connect(Box<connect::ConnectArgs>),
    /// Talk to the local client agent.
    #[command(name = "client-agent", subcommand)]
    ClientAgent(client_agent::ClientAgentCommand),
    /// Manage targets.
    #[command(subcommand)]
    Targets(targets::TargetsCommand),
    /// Manage aliases.
    #[command(subcommand)]
    Aliases(aliases::AliasesCommand),
    /// List, read and cancel sessions.
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
    /// Read, list and delete auth tokens.
    #[command(name = "auth-tokens", subcommand)]
    AuthTokens(auth_tokens::AuthTokensCommand),
    /// Manage accounts.
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Manage roles.
    #[command(subcommand)]
    Roles(roles::RolesCommand),
    /// Manage scopes.
    #[command(subcommand)]
    Scopes(scopes::ScopesCommand),
}

/// Parses (after normalising Go-style flags) and runs; the exit code is the return value.
pub async fn main_with_args(argv: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(normalize_go_style_flags(argv)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let result: anyhow::Result<i32> = match cli.command {
        Command::ClientAgent(c) => Ok(client_agent::run(c).await),
        Command::Dev(args) => dev::run(args).await,
        Command::Controller(args) => controller::run(args).await,
        Command::Authenticate(c) => Ok(authenticate::run(c).await),
        Command::Targets(c) => Ok(resource_command::run(c).await),
        Command::Aliases(c) => Ok(resource_command::run(c).await),
        Command::Sessions(c) => Ok(resource_command::run(c).await),
        Command::AuthTokens(c) => Ok(resource_command::run(c).await),
        Command::Accounts(c) => Ok(resource_command::run(c).await),
        Command::Users(c) => Ok(resource_command::run(c).await),
        Command::Roles(c) => Ok(resource_command::run(c).await),
        Command::Scopes(c) => Ok(resource_command::run(c).await),
        Command::Connect(c) => Ok(connect::run(*c).await),
        Command::Worker(args) => worker::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let argv = args.iter().map(|s| s.to_string()).collect();
        Cli::try_parse_from(normalize_go_style_flags(argv))
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn go_style_and_double_dash_flags_parse_the_same() {
        for argv in [
            &[
                "boundary",
                "targets",
                "create",
                "tcp",
                "-scope-id",
                "p_1234567890",
                "-name",
                "ssh",
                "-default-port=22",
                "-session-connection-limit",
                "-1",
                "-format",
                "json",
            ][..],
            &[
                "boundary",
                "targets",
                "create",
                "tcp",
                "--scope-id=p_1234567890",
                "--name",
                "ssh",
                "--default-port",
                "22",
                "--session-connection-limit=-1",
                "--format=json",
            ][..],
        ] {
            let cli = parse(argv).unwrap();
            let Command::Targets(targets::TargetsCommand::Create(targets::TargetKind::Tcp(a))) =
                cli.command
            else {
                panic!("wrong command for {argv:?}");
            };
            assert_eq!(a.scope_id, "p_1234567890");
            assert_eq!(a.fields.name.as_deref(), Some("ssh"));
            assert_eq!(a.fields.default_port, Some(22));
            assert_eq!(a.fields.session_connection_limit, Some(-1));
            assert_eq!(a.client.format, flags::OutputFormat::Json);
        }
    }

    #[test]
    fn shared_flags_have_boundarys_defaults() {
        let cli = parse(&["boundary", "aliases", "list"]).unwrap();
        let Command::Aliases(aliases::AliasesCommand::List(a)) = cli.command else {
            panic!("wrong command");
        };
        // The variables may be set in a developer's shell; only check when they are not.
        if std::env::var_os("BOUNDARY_ADDR").is_none() {
            assert_eq!(a.client.addr, "http://127.0.0.1:9200");
        }
        if std::env::var_os("BOUNDARY_KEYRING_TYPE").is_none() {
            assert_eq!(a.client.keyring_type, flags::KeyringType::Auto);
        }
        if std::env::var_os("BOUNDARY_TOKEN_NAME").is_none() {
            assert_eq!(a.client.token_name, "default");
        }
        assert_eq!(a.scope_id, "global");
        assert!(a.client.token.is_none());
    }

    #[test]
    fn version_repeatable_and_keyring_flags_parse() {
        let cli = parse(&[
            "boundary",
            "users",
            "add-accounts",
            "-id",
            "u_1234567890",
            "-version",
            "3",
            "-account",
            "acctpw_1",
            "-account",
            "acctpw_2",
            "-keyring-type",
            "none",
            "-token-name",
            "ci",
            "-tls-insecure",
            "-token",
            "env://TOK",
        ])
        .unwrap();
        let Command::Users(users::UsersCommand::AddAccounts(a)) = cli.command else {
            panic!("wrong command");
        };
        assert_eq!(a.version, Some(3));
        assert_eq!(a.accounts, ["acctpw_1", "acctpw_2"]);
        assert_eq!(a.client.keyring_type, flags::KeyringType::None);
        assert_eq!(a.client.token_name, "ci");
        assert!(a.client.tls_insecure);
        assert_eq!(a.client.token.as_deref(), Some("env://TOK"));
    }

    #[test]
    fn authenticate_and_alias_flags_parse() {
        let cli = parse(&[
            "boundary",
            "authenticate",
            "password",
            "-auth-method-id",
            "ampw_1234567890",
            "-login-name",
            "admin",
            "-password",
            "env://PW",
        ])
        .unwrap();
        let Command::Authenticate(authenticate::AuthenticateCommand::Password(a)) = cli.command
        else {
            panic!("wrong command");
        };
        assert_eq!(a.auth_method_id.as_deref(), Some("ampw_1234567890"));
        assert_eq!(a.login_name, "admin");
        assert_eq!(a.password.as_deref(), Some("env://PW"));

        let cli = parse(&[
            "boundary",
            "aliases",
            "create",
            "target",
            "-value",
            "db.prod.example",
            "-destination-id",
            "ttcp_1234567890",
            "-authorize-session-host-id",
            "hst_1234567890",
        ])
        .unwrap();
        let Command::Aliases(aliases::AliasesCommand::Create(aliases::AliasKind::Target(a))) =
            cli.command
        else {
            panic!("wrong command");
        };
        assert_eq!(a.value, "db.prod.example");
        assert_eq!(a.destination_id.as_deref(), Some("ttcp_1234567890"));
        assert_eq!(
            a.authorize_session_host_id.as_deref(),
            Some("hst_1234567890")
        );
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(
            parse(&["boundary", "targets", "read"]).is_err(),
            "-id is required"
        );
        assert!(parse(&["boundary", "targets", "list", "-format", "yaml"]).is_err());
        assert!(parse(&["boundary", "targets", "list", "-keyring-type", "pass"]).is_err());
        assert!(parse(&["boundary", "targets", "create", "tcp", "-default-port", "x"]).is_err());
    }
}
