//! `boundary worker -config FILE`: run a worker until SIGINT or SIGTERM, then drain.

use super::server_process::{ShutdownSignals, init_logging};
use anyhow::Context;
use boundary_worker::{Worker, WorkerConfig};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The worker's HCL config file (worker, listener "tcp" and kms "aead" blocks).
    #[arg(long)]
    pub config: PathBuf,
}

pub async fn run(args: WorkerArgs) -> anyhow::Result<i32> {
    init_logging();
    let mut signals = ShutdownSignals::install()?;
    // The error already names the file, the line and the key.
    let config = WorkerConfig::load(&args.config)?;
    let worker = Worker::bind(&config)
        .await
        .context("cannot start the worker")?;
    let listening = worker.local_addr().context("proxy listener address")?;
    println!("Worker started.");
    println!("  Name: {}", config.name);
    println!("  Proxy address: {listening}");
    println!("  Public address: {}", worker.public_addr());
    println!("  Upstreams: {}", config.initial_upstreams.join(", "));
    worker
        .run(async move {
            let signal = signals.recv().await;
            tracing::info!(signal, "shutting down: draining live connections");
        })
        .await;
    Ok(0)
}
