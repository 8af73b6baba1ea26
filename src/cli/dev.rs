//! `boundary dev`: a controller with demo data on an in-memory database, and a worker on
//! `-proxy-listen-address` registered with it; with `-client-agent` (as root) also the
//! client agent, holding the dev admin's token for the invoking user.

use super::server_process::{ShutdownSignals, init_logging};
use anyhow::{Context, anyhow};
use base64::Engine;
use boundary_config::with_default_port;
use boundary_controller::config::{
    ControllerConfig, DEFAULT_API_ADDRESS, DEFAULT_API_PORT, DEFAULT_CLUSTER_ADDRESS,
    DEFAULT_CLUSTER_PORT, IN_MEMORY_DATABASE_URL, KmsKey, ListenerConfig, TlsFiles,
};
use boundary_controller::dev::{self, DevSeedOptions};
use boundary_controller::seal::SealKey;
use boundary_controller::server;
use boundary_controller::store::{open_store, redact_url};
use boundary_wire::api::Secret;
use boundary_worker::{DEFAULT_PROXY_PORT, Worker, WorkerAuthKey, WorkerConfig};
use clap::Args;
use std::path::PathBuf;

pub const DEFAULT_PROXY_ADDRESS: &str = "127.0.0.1:9202";

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Address of the REST API listener.
    #[arg(long, default_value = DEFAULT_API_ADDRESS)]
    pub api_listen_address: String,
    /// Address of the listener workers talk to.
    #[arg(long, default_value = DEFAULT_CLUSTER_ADDRESS)]
    pub cluster_listen_address: String,
    /// Address of the dev worker's proxy listener.
    #[arg(long, default_value = DEFAULT_PROXY_ADDRESS)]
    pub proxy_listen_address: String,
    /// Address clients dial to reach the dev worker (defaults to the proxy address).
    #[arg(long)]
    pub worker_public_address: Option<String>,
    /// Database URL; the default keeps everything in memory.
    #[arg(long, default_value = IN_MEMORY_DATABASE_URL)]
    pub database_url: Secret,
    /// Base64 of the 32-byte key workers authenticate with; generated when absent.
    #[arg(long)]
    pub worker_auth_key: Option<Secret>,
    /// Login name of the generated admin.
    #[arg(long, default_value = "admin")]
    pub login_name: String,
    /// Password of the generated admin.
    #[arg(long, default_value = "password")]
    pub password: Secret,
    /// Address of the generated target.
    #[arg(long, default_value = "127.0.0.1")]
    pub target_address: String,
    /// Port of the generated target.
    #[arg(long, default_value_t = 22)]
    pub target_default_port: u16,
    /// Start only the dev controller, without the dev worker (as Boundary's flag).
    #[arg(long)]
    pub controller_only: bool,
    /// Also run the client agent (needs root).
    #[arg(long)]
    pub client_agent: bool,
    /// Serve the API over HTTPS with this PEM certificate (chain); needs
    /// `-api-tls-key-file`. With `-client-agent`, the agent trusts the certificates in
    /// this file (so a self-signed certificate, or a chain file that holds its CA, works).
    #[arg(long, requires = "api_tls_key_file", value_name = "PATH")]
    pub api_tls_cert_file: Option<PathBuf>,
    /// The PEM private key of `-api-tls-cert-file`.
    #[arg(long, requires = "api_tls_cert_file", value_name = "PATH")]
    pub api_tls_key_file: Option<PathBuf>,
}

/// Where the dev worker listens and what clients dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevWorkerAddresses {
    pub proxy_listen_address: String,
    pub public_address: String,
}

pub async fn run(args: DevArgs) -> anyhow::Result<i32> {
    if args.client_agent {
        boundary_agent::daemon::platform::check()?;
    }
    init_logging();
    let mut signals = ShutdownSignals::install()?;
    let worker_auth_key = match &args.worker_auth_key {
        Some(b64) => decode_key(b64.expose())?,
        None => SealKey::generate_bytes()?,
    };
    let proxy = with_default_port(&args.proxy_listen_address, DEFAULT_PROXY_PORT)
        .map_err(|e| anyhow!("-proxy-listen-address {:?} {e}", args.proxy_listen_address))?;
    let mut worker = DevWorkerAddresses {
        public_address: args
            .worker_public_address
            .clone()
            .unwrap_or_else(|| proxy.clone()),
        proxy_listen_address: proxy,
    };
    let config = ControllerConfig {
        name: "dev-controller".to_owned(),
        description: "boundary dev".to_owned(),
        database_url: args.database_url.clone(),
        api: ListenerConfig {
            tls: args
                .api_tls_cert_file
                .clone()
                .zip(args.api_tls_key_file.clone())
                .map(|(cert_file, key_file)| TlsFiles {
                    cert_file,
                    key_file,
                }),
            ..listener(
                &args.api_listen_address,
                DEFAULT_API_PORT,
                "-api-listen-address",
            )?
        },
        cluster: listener(
            &args.cluster_listen_address,
            DEFAULT_CLUSTER_PORT,
            "-cluster-listen-address",
        )?,
        root_key: None,
        worker_auth_key: KmsKey {
            key: worker_auth_key,
            key_id: "dev-worker-auth".to_owned(),
        },
    };
    if !config.database_is_in_memory() {
        tracing::warn!(
            "dev mode makes a new root key each start: sessions and credentials from earlier runs cannot be opened"
        );
    }
    let url = args.database_url.expose();
    let store = open_store(url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))?;
    let seeded = dev::seed(
        store.as_ref(),
        &DevSeedOptions {
            login_name: args.login_name.clone(),
            password: args.password.clone(),
            target_address: args.target_address.clone(),
            target_default_port: args.target_default_port,
        },
    )
    .await?;
    let handle = server::start_with_store(&config, store).await?;
    let dev_worker = if args.controller_only {
        None
    } else {
        let started = start_dev_worker(
            &worker.proxy_listen_address,
            args.worker_public_address.clone(),
            &handle.cluster_url(),
            worker_auth_key,
        )
        .await?;
        // What was actually bound and registered (port 0 becomes a real port).
        worker.proxy_listen_address = started.proxy_address.to_string();
        worker.public_address = started.public_address.clone();
        Some(started)
    };
    print_banner(&args, seeded, &worker, args.worker_auth_key.is_some());
    println!("  API address: {}", handle.api_url());
    println!("  Cluster address: {}", handle.cluster_url());
    println!();
    println!(
        "Log in with: boundary authenticate password -addr {} -auth-method-id {} -login-name {}",
        handle.api_url(),
        dev::DEV_AUTH_METHOD_ID,
        args.login_name
    );
    let dev_agent = if args.client_agent {
        let agent = boundary_agent::daemon::DevAgent::start(boundary_agent::daemon::DevLogin {
            controller_addr: &handle.api_url(),
            auth_method_id: dev::DEV_AUTH_METHOD_ID,
            login_name: &args.login_name,
            password: &args.password,
            controller_ca_file: args.api_tls_cert_file.as_deref(),
        })
        .await?;
        println!(
            "Client agent: running, with the admin's token for uid {}",
            agent.uid
        );
        Some(agent)
    } else {
        None
    };
    let stop = handle.shutdown_token();
    tokio::select! {
        signal = signals.recv() => tracing::info!(signal, "shutting down"),
        _ = stop.cancelled() => {}
    }
    // The agent first (it cancels its sessions at the worker), then the worker drains,
    // while the controller can still record its closed connections.
    if let Some(agent) = dev_agent {
        agent.stop().await;
    }
    if let Some(dev_worker) = dev_worker {
        dev_worker.stop.cancel();
        let _ = dev_worker.task.await;
    }
    stop.cancel();
    handle.wait().await;
    Ok(0)
}

/// The dev worker, running in this process.
struct DevWorker {
    proxy_address: std::net::SocketAddr,
    public_address: String,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// Binds the worker's proxy listener and starts it (it registers with the controller
/// on its own). Without a public address, clients dial the bound proxy address.
async fn start_dev_worker(
    proxy_listen_address: &str,
    public_address: Option<String>,
    cluster_url: &str,
    worker_auth_key: [u8; 32],
) -> anyhow::Result<DevWorker> {
    let config = WorkerConfig {
        name: "dev-worker".to_owned(),
        description: "boundary dev".to_owned(),
        public_addr: public_address,
        initial_upstreams: vec![cluster_url.to_owned()],
        upstream_ca_certs: vec![],
        proxy_listen_addr: proxy_listen_address.parse().map_err(|_| {
            anyhow!("-proxy-listen-address: {proxy_listen_address:?} is not an IP address and port")
        })?,
        worker_auth_key: WorkerAuthKey::new(worker_auth_key.to_vec())?,
    };
    let worker = Worker::bind(&config).await?;
    let proxy_address = worker.local_addr()?;
    let public_address = worker.public_addr().to_owned();
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    Ok(DevWorker {
        proxy_address,
        public_address,
        stop,
        task,
    })
}

fn listener(address: &str, default_port: u16, flag: &str) -> anyhow::Result<ListenerConfig> {
    Ok(ListenerConfig {
        address: with_default_port(address, default_port)
            .map_err(|e| anyhow!("{flag} {address:?} {e}"))?,
        tls: None,
    })
}

fn decode_key(b64: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| anyhow!("-worker-auth-key is not valid base64"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        anyhow!(
            "-worker-auth-key must be 32 bytes (base64), got {}",
            bytes.len()
        )
    })
}

fn print_banner(args: &DevArgs, seeded: bool, worker: &DevWorkerAddresses, key_given: bool) {
    println!("==> Boundary dev controller started");
    if seeded {
        println!("Initial auth information:");
        println!("  Auth Method ID:  {}", dev::DEV_AUTH_METHOD_ID);
        println!("  Login Name:      {}", args.login_name);
        // Printed on purpose, as Boundary's dev mode does: it is the demo login.
        println!("  Password:        {}", args.password.expose());
        println!("  User ID:         {}", dev::DEV_USER_ID);
        println!("Generated resources:");
        println!("  Org scope:       {}", dev::DEV_ORG_ID);
        println!("  Project scope:   {}", dev::DEV_PROJECT_ID);
        println!(
            "  Target:          {} -> {}:{}",
            dev::DEV_TARGET_ID,
            args.target_address,
            args.target_default_port
        );
        println!(
            "  Alias:           {} -> {}",
            dev::DEV_ALIAS_VALUE,
            dev::DEV_TARGET_ID
        );
    } else {
        println!("The database already holds the dev data; nothing was generated.");
    }
    println!(
        "Worker-auth key: {}",
        if key_given {
            "from -worker-auth-key"
        } else {
            "generated (pass -worker-auth-key to choose one)"
        }
    );
    if args.controller_only {
        println!("Dev worker: not started (-controller-only)");
    } else {
        println!(
            "Dev worker: proxy {}, public address {}",
            worker.proxy_listen_address, worker.public_address
        );
    }
}
