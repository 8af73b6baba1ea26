//! The `boundary` command line: one module per command group.
//!
//! Boundary's CLI uses Go-style flags (`-auth-method-id x`, `-format=json`); we accept those
//! and clap's `--long` form alike (see [`args::normalize_go_style_flags`]).

pub mod args;
pub mod client_agent;
pub mod common;
pub mod controller;
pub mod dev;
mod server_process;

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
    Worker(common::NotBuiltArgs),
    /// Log in and store the token in the OS keyring.
    #[command(subcommand)]
    Authenticate(common::NotBuiltSubcommand),
    /// Connect to a target through a worker.
    Connect(common::NotBuiltArgs),
    /// Talk to the local client agent.
    #[command(name = "client-agent", subcommand)]
    ClientAgent(client_agent::ClientAgentCommand),
    #[command(subcommand)]
    Targets(common::NotBuiltSubcommand),
    #[command(subcommand)]
    Aliases(common::NotBuiltSubcommand),
    #[command(subcommand)]
    Sessions(common::NotBuiltSubcommand),
    #[command(name = "auth-tokens", subcommand)]
    AuthTokens(common::NotBuiltSubcommand),
    #[command(subcommand)]
    Accounts(common::NotBuiltSubcommand),
    #[command(subcommand)]
    Users(common::NotBuiltSubcommand),
}

/// Parses (after normalising Go-style flags) and runs; the exit code is the return value.
pub async fn main_with_args(argv: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(args::normalize_go_style_flags(argv)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let name = command_name(&cli.command);
    // Each command group replaces its arm here as it is built.
    let result: anyhow::Result<i32> = match cli.command {
        Command::ClientAgent(c) => Ok(client_agent::run(c).await),
        Command::Dev(args) => dev::run(args).await,
        Command::Controller(args) => controller::run(args).await,
        _ => Err(anyhow::anyhow!("`boundary {name}` is not built yet")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            1
        }
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Dev(_) => "dev",
        Command::Controller(_) => "controller",
        Command::Worker(_) => "worker",
        Command::Authenticate(_) => "authenticate",
        Command::Connect(_) => "connect",
        Command::ClientAgent(_) => "client-agent",
        Command::Targets(_) => "targets",
        Command::Aliases(_) => "aliases",
        Command::Sessions(_) => "sessions",
        Command::AuthTokens(_) => "auth-tokens",
        Command::Accounts(_) => "accounts",
        Command::Users(_) => "users",
    }
}
