//! The client agent inside `boundary dev -client-agent`: the same agent, configured with
//! defaults and state files in a temporary directory, logging through the embedding
//! process, with the dev admin's token registered for the user who ran `boundary dev`
//! (`SUDO_UID` under sudo, else the current uid) through the same path the local API
//! takes.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::platform;
use super::running::RunningAgent;
use super::startup::{AgentOptions, RESOLV_CONF};
use crate::agent::config::AgentConfig;
use crate::api::Secret;
use crate::api::agent::AddTokenRequest;
use crate::client::{CaSource, ClientOptions, ControllerClient, TlsOptions};

/// The running dev agent.
pub struct DevAgent {
    stop: CancellationToken,
    task: JoinHandle<bool>,
    dir: PathBuf,
    /// The uid the dev token was registered for.
    pub uid: u32,
}

/// The dev controller's login, used to get a token for the agent.
pub struct DevLogin<'a> {
    /// `http://127.0.0.1:9200`.
    pub controller_addr: &'a str,
    pub auth_method_id: &'a str,
    pub login_name: &'a str,
    pub password: &'a Secret,
    /// Trusted for an `https://` controller_addr, by the login and by the agent.
    pub controller_ca_file: Option<&'a Path>,
}

impl DevAgent {
    /// Starts the agent (root only) and registers the dev login's token with it.
    pub async fn start(login: DevLogin<'_>) -> anyhow::Result<DevAgent> {
        platform::check()?;
        let dir =
            std::env::temp_dir().join(format!("boundary-dev-client-agent-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let config = AgentConfig {
            state_file: dir.join("state.json"),
            operational_state_file: dir.join("operational-state.json"),
            controller_ca_file: login.controller_ca_file.map(Path::to_path_buf),
            ..AgentConfig::default()
        };
        let options = AgentOptions {
            config,
            config_path: None,
            resolv_conf: RESOLV_CONF.into(),
            logging: None,
        };
        let agent = RunningAgent::start(options, None)
            .await
            .context("the dev client agent did not start")?;
        let control = agent.control();
        let stop = CancellationToken::new();
        let task = tokio::spawn(agent.run_until(stop.clone().cancelled_owned()));
        let mut dev = DevAgent {
            stop,
            task,
            dir,
            uid: invoking_uid(),
        };
        if let Err(error) = dev.register_token(&login, control.as_ref()).await {
            dev.stop().await;
            return Err(error);
        }
        Ok(dev)
    }

    async fn register_token(
        &mut self,
        login: &DevLogin<'_>,
        control: &dyn crate::agent::api::AgentControl,
    ) -> anyhow::Result<()> {
        let options = ClientOptions {
            tls: TlsOptions {
                extra_ca: login
                    .controller_ca_file
                    .map(|f| CaSource::File(f.to_path_buf())),
                insecure: false,
            },
            ..ClientOptions::default()
        };
        let client = ControllerClient::new(login.controller_addr, options)?;
        let response = client
            .authenticate_password(login.auth_method_id, login.login_name, login.password)
            .await
            .context("logging in to the dev controller for the client agent")?;
        let Some(token) = response.attributes.token else {
            bail!("the dev controller's login answer holds no token");
        };
        let request = AddTokenRequest {
            boundary_addr: login.controller_addr.to_owned(),
            token,
        };
        control
            .add_token(self.uid, request)
            .await
            .context("registering the dev token with the client agent")?;
        Ok(())
    }

    /// Stops the agent (the resolver configuration and addresses go back) and removes its
    /// state directory. Returns whether everything was undone.
    pub async fn stop(self) -> bool {
        self.stop.cancel();
        let clean = self.task.await.unwrap_or(false);
        if clean && let Err(error) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), %error, "cannot remove the dev client agent's state directory");
        }
        clean
    }
}

/// The user who ran `boundary dev`: `SUDO_UID` under sudo, else the current uid.
fn invoking_uid() -> u32 {
    std::env::var("SUDO_UID")
        .ok()
        .and_then(|uid| uid.trim().parse().ok())
        .unwrap_or_else(|| nix::unistd::getuid().as_raw())
}
