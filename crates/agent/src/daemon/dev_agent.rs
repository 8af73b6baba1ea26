//! The client agent inside `boundary dev -client-agent`: the same agent, configured with
//! defaults and state files in a fresh private directory, logging through the embedding
//! process, with the dev admin's token registered for the user who ran `boundary dev`
//! (`SUDO_UID` under sudo, else the current uid) through the same path the local API
//! takes.
//!
//! The directory is made like `mkdtemp(3)` (random name, mode 0700, refused if the name
//! exists) under `/run` (only root may write there), else the temporary directory: a
//! predictable name that another local user could create first, with a crafted state
//! file and symlinks inside, would let them steer what root writes and removes.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::platform;
use super::running::RunningAgent;
use super::startup::{AgentOptions, RESOLV_CONF};
use crate::config::AgentConfig;
use crate::private_fs::check_private_dir;
use boundary_net::client::{CaSource, ClientOptions, ControllerClient, TlsOptions};
use boundary_wire::api::Secret;
use boundary_wire::api::agent::AddTokenRequest;

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
        let dir = private_state_dir(&state_dir_parent())?;
        let config = AgentConfig {
            state_file: dir.join("state.json"),
            operational_state_file: dir.join("operational-state.json"),
            controller_ca_file: login.controller_ca_file.map(Path::to_path_buf),
            // A developer's playground, run with sudo by the one user it registers: that
            // user pauses and resumes it (README quick start) as the agent did before
            // pausing became root's by default.
            allow_user_pause: true,
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
        control: &dyn crate::api::AgentControl,
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

/// `/run` (root-only, in memory). Never the world-writable temporary directory: the dev
/// agent runs as root, and a root process creates nothing there.
fn state_dir_parent() -> PathBuf {
    PathBuf::from("/run")
}

/// A new directory under `parent` with a random name and mode 0700, created by this
/// process (never an existing one), in a path only root can change.
pub fn private_state_dir(parent: &Path) -> anyhow::Result<PathBuf> {
    let template = parent.join("boundary-dev-client-agent-XXXXXX");
    let dir = nix::unistd::mkdtemp(&template)
        .with_context(|| format!("cannot create a private directory in {}", parent.display()))?;
    if let Err(error) = check_private_dir(&dir) {
        let _ = std::fs::remove_dir(&dir);
        return Err(error.into());
    }
    Ok(dir)
}

/// The user who ran `boundary dev`: `SUDO_UID` under sudo, else the current uid.
fn invoking_uid() -> u32 {
    std::env::var("SUDO_UID")
        .ok()
        .and_then(|uid| uid.trim().parse().ok())
        .unwrap_or_else(|| nix::unistd::getuid().as_raw())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    #[test]
    fn each_start_gets_a_new_private_directory() {
        let parent = tempfile::tempdir().unwrap();
        let first = private_state_dir(parent.path()).unwrap();
        let second = private_state_dir(parent.path()).unwrap();
        assert_ne!(first, second);
        for dir in [&first, &second] {
            let meta = std::fs::metadata(dir).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o700);
            assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
            assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0, "empty");
        }
    }

    #[test]
    fn a_parent_other_users_may_write_without_sticky_bit_is_refused() {
        let parent = tempfile::tempdir().unwrap();
        std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = private_state_dir(parent.path()).unwrap_err();
        assert!(error.to_string().contains("sticky"), "{error}");
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }
}
