//! Placeholders for command groups that are not built yet: they parse anything and the
//! dispatcher answers with a clear "not built yet" error.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct NotBuiltArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum NotBuiltSubcommand {
    #[command(external_subcommand)]
    Any(Vec<String>),
}
