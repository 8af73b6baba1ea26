//! The agent as a whole: start it, run it until told to stop, stop it cleanly. Used by
//! the `boundary-client-agent` binary ([`main`]) and in-process by `boundary dev
//! -client-agent`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::args::DaemonArgs;
use super::crash_recovery::recover_only;
use super::logging::Logging;
use super::platform;
use super::startup::{self, AgentOptions, RESOLV_CONF, Started};
use crate::api::AgentControl;
use crate::config::{AgentConfig, ReloadTriggers};

/// A started agent: the DNS server answers, the resolver is taken over (unless paused),
/// the local API listens. Call [`RunningAgent::run_until`] to process inputs.
pub struct RunningAgent {
    started: Started,
    reloads: Option<ReloadTriggers>,
}

impl RunningAgent {
    /// Starts the agent (in the order `startup` documents); on error nothing it did is left behind.
    /// `reloads` (SIGHUP and file changes) re-read `options.config_path`.
    pub async fn start(
        options: AgentOptions,
        reloads: Option<ReloadTriggers>,
    ) -> anyhow::Result<RunningAgent> {
        let started = startup::start(options).await?;
        Ok(RunningAgent { started, reloads })
    }

    /// The agent's control surface, as the local API uses it (e.g. to register a token
    /// in-process). Its calls are answered once [`RunningAgent::run_until`] runs.
    pub fn control(&self) -> Arc<dyn AgentControl> {
        self.started.control.clone()
    }

    /// Where the local API listens.
    pub fn api_address(&self) -> SocketAddr {
        self.started.api.local_addr()
    }

    /// Runs until `stop` completes, then stops cleanly. Returns whether every change to
    /// the machine could be undone.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> bool {
        let Started {
            mut actor,
            mut events,
            api,
            control: _,
            lock,
        } = self.started;
        actor.run(&mut events, stop, self.reloads).await;
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        tracing::info!("stopping");
        actor.stand_down().await;
        // Inputs still waiting for the actor get their fail-safe answer (forward, refuse).
        drop(events);
        if let Err(error) = api.shutdown().await {
            tracing::warn!(%error, "the local API did not stop cleanly");
        }
        let clean = actor.teardown().await;
        if clean {
            tracing::info!("stopped; the resolver configuration and addresses are as before");
        }
        drop(lock);
        clean
    }
}

/// `boundary-client-agent`: returns the process exit code.
pub fn main() -> i32 {
    let args = match DaemonArgs::parse(std::env::args().collect()) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error: cannot start the async runtime: {error}");
            return 1;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: DaemonArgs) -> i32 {
    // Before anything else: from here on SIGTERM, SIGINT and SIGHUP no longer kill the
    // process half-way through a change to the machine.
    let mut stop = match StopSignals::register() {
        Ok(stop) => stop,
        Err(error) => {
            eprintln!("Error: cannot handle signals: {error}");
            return 1;
        }
    };
    let config = match AgentConfig::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("Error: {error}");
            return 1;
        }
    };
    let logs_to_file = config.log_file.is_some();
    let logging = match Logging::init(&config) {
        Ok(logging) => logging,
        Err(error) => {
            eprintln!("Error: {error}");
            return 1;
        }
    };
    if let Err(error) = platform::check() {
        return fatal(logs_to_file, &error.into());
    }
    if args.recover {
        return match recover_only(&config, std::path::Path::new(RESOLV_CONF)).await {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(error) => fatal(logs_to_file, &error),
        };
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), config = %args.config.display(), "starting the client agent");
    let reloads = match ReloadTriggers::start(&args.config) {
        Ok(reloads) => Some(reloads),
        Err(error) => {
            tracing::warn!(%error, "configuration reloads on SIGHUP or file change are off");
            None
        }
    };
    let options = AgentOptions {
        config,
        config_path: Some(args.config),
        resolv_conf: RESOLV_CONF.into(),
        logging: Some(logging),
    };
    let agent = match RunningAgent::start(options, reloads).await {
        Ok(agent) => agent,
        Err(error) => return fatal(logs_to_file, &error),
    };
    if let Err(error) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::debug!(%error, "cannot notify systemd");
    }
    tracing::info!(api = %agent.api_address(), "the client agent is ready");
    let stopped = async move {
        let signal = stop.received().await;
        tracing::info!("{signal} received");
    };
    if agent.run_until(stopped).await { 0 } else { 1 }
}

/// Reports an error that stops the start, on stderr (and in the log file, if any: the
/// log otherwise goes to stdout, next to stderr).
fn fatal(logs_to_file: bool, error: &anyhow::Error) -> i32 {
    if logs_to_file {
        tracing::error!("{error:#}");
    }
    eprintln!("Error: {error:#}");
    1
}

/// SIGTERM and SIGINT stop the agent; SIGHUP is caught here first (reloads take it over).
struct StopSignals {
    terminate: Signal,
    interrupt: Signal,
    _hangup: Signal,
}

impl StopSignals {
    fn register() -> io::Result<StopSignals> {
        Ok(StopSignals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            _hangup: signal(SignalKind::hangup())?,
        })
    }

    async fn received(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
