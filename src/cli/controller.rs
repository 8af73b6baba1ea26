//! `boundary controller -config FILE`: run a controller from an HCL config.

use super::server_process::{ShutdownSignals, init_logging};
use anyhow::Context;
use boundary_controller::bootstrap::{InitialAdmin, ensure_initialized};
use boundary_controller::config::ControllerConfig;
use boundary_controller::server;
use boundary_controller::store::{open_store, redact_url};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ControllerArgs {
    /// The controller's HCL configuration file.
    #[arg(long)]
    pub config: PathBuf,
}

pub async fn run(args: ControllerArgs) -> anyhow::Result<i32> {
    init_logging();
    let mut signals = ShutdownSignals::install()?;
    // The error already names the file, the line and the key.
    let config = ControllerConfig::load(&args.config)?;
    let url = config.database_url.expose();
    let store = open_store(url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))?;
    let admin = InitialAdmin::generated();
    if ensure_initialized(store.as_ref(), &admin).await? {
        // Shown once, like `boundary database init`: the only way in to a new database.
        println!("Initial auth information:");
        println!("  Auth Method ID:  {}", admin.auth_method_id);
        println!("  Login Name:      {}", admin.login_name);
        println!("  Password:        {}", admin.password.expose());
        println!("  User ID:         {}", admin.user_id);
        println!();
    }
    let handle = server::start_with_store(&config, store).await?;
    println!("Controller started.");
    println!("  API address: {}", handle.api_url());
    println!("  Cluster address: {}", handle.cluster_url());
    let stop = handle.shutdown_token();
    tokio::select! {
        signal = signals.recv() => {
            tracing::info!(signal, "shutting down");
            stop.cancel();
        }
        _ = stop.cancelled() => {}
    }
    handle.wait().await;
    Ok(0)
}
