//! What starts a reload: SIGHUP (`systemctl reload`) or a change of the configuration
//! file. Both arrive on one stream so the daemon has one code path: on each trigger call
//! [`reload`], apply the plan if it parsed, keep running unchanged (and report the error)
//! if it did not.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{AgentConfig, ConfigError, ReloadPlan, plan_reload};

/// Editors and config managers write in bursts (truncate, write, rename): wait this long
/// after the last event before reporting one change.
pub const FILE_DEBOUNCE: Duration = Duration::from_millis(500);

/// Why a reload was triggered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadTrigger {
    Signal,
    FileChanged,
}

/// Parses the file again and compares it with the running configuration. An error
/// means: keep running with `running` and report it.
pub fn reload(config_path: &Path, running: &AgentConfig) -> Result<ReloadPlan, ConfigError> {
    AgentConfig::load(config_path).map(|new| plan_reload(running, &new))
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot handle SIGHUP: {0}")]
    Signal(#[source] std::io::Error),
    #[error("cannot watch {dir} for changes of the configuration file: {source}")]
    Watch {
        dir: PathBuf,
        #[source]
        source: notify::Error,
    },
}

/// The stream of reload triggers. Stops watching when dropped.
pub struct ReloadTriggers {
    receiver: mpsc::UnboundedReceiver<ReloadTrigger>,
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    signals: JoinHandle<()>,
}

impl ReloadTriggers {
    /// Installs the SIGHUP handler (from then on SIGHUP no longer kills the process, so
    /// call this early) and watches the directory holding `config_path`, filtering on
    /// its name: a file replaced by rename keeps being noticed, which a watch on the file
    /// itself would not. Must be called within a tokio runtime.
    pub fn start(config_path: &Path) -> Result<ReloadTriggers, WatchError> {
        let (sender, receiver) = mpsc::unbounded_channel();

        let mut hangups = signal(SignalKind::hangup()).map_err(WatchError::Signal)?;
        let signal_sender = sender.clone();
        let signals = tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                if signal_sender.send(ReloadTrigger::Signal).is_err() {
                    break;
                }
            }
        });

        let file = absolute(config_path);
        let dir = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let watched = file.clone();
        let mut debouncer =
            new_debouncer(FILE_DEBOUNCE, None, move |result: DebounceEventResult| {
                let changed = match result {
                    Ok(events) => events
                        .iter()
                        .any(|event| !event.kind.is_access() && touches(&event.paths, &watched)),
                    Err(errors) => {
                        for error in errors {
                            tracing::warn!(%error, "watching the configuration file");
                        }
                        false
                    }
                };
                if changed {
                    let _ = sender.send(ReloadTrigger::FileChanged);
                }
            })
            .map_err(|source| WatchError::Watch {
                dir: dir.clone(),
                source,
            })?;
        debouncer
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError::Watch { dir, source })?;

        Ok(ReloadTriggers {
            receiver,
            _debouncer: debouncer,
            signals,
        })
    }

    /// The next trigger. Several SIGHUPs or file events in a row may arrive as one.
    pub async fn next(&mut self) -> Option<ReloadTrigger> {
        self.receiver.recv().await
    }
}

impl Drop for ReloadTriggers {
    fn drop(&mut self) {
        self.signals.abort();
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether an event about `paths` concerns `file`.
fn touches(paths: &[PathBuf], file: &Path) -> bool {
    paths.iter().any(|path| path == file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HANG: Duration = Duration::from_secs(30);

    /// Waits for a trigger of kind `wanted`; others (a late batch of file events) are
    /// skipped. Each step writes the file before waiting, so whichever FileChanged is
    /// seen, a reload then reads the new content.
    async fn wait_for(triggers: &mut ReloadTriggers, wanted: ReloadTrigger) {
        tokio::time::timeout(HANG, async {
            while let Some(trigger) = triggers.next().await {
                if trigger == wanted {
                    return;
                }
            }
            panic!("the trigger stream closed");
        })
        .await
        .unwrap_or_else(|_| panic!("no {wanted:?} trigger"));
    }

    #[test]
    fn only_events_about_the_file_count() {
        let file = Path::new("/etc/boundary/client-agent.hcl");
        assert!(touches(&[file.to_path_buf()], file));
        assert!(!touches(&[PathBuf::from("/etc/boundary/other.hcl")], file));
        assert!(!touches(&[], file));
    }

    #[tokio::test]
    async fn file_writes_renames_and_sighup_trigger_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.hcl");
        std::fs::write(&path, "log_level = \"info\"\n").unwrap();
        let mut triggers = ReloadTriggers::start(&path).unwrap();

        std::fs::write(&path, "log_level = \"debug\"\n").unwrap();
        wait_for(&mut triggers, ReloadTrigger::FileChanged).await;
        let plan = reload(&path, &AgentConfig::default()).unwrap();
        assert_eq!(plan.effective.log_level, super::super::LogLevel::Debug);

        // Replaced by rename, as editors and config managers do.
        let staged = dir.path().join("agent.hcl.tmp");
        std::fs::write(&staged, "v6_prefix = \"fd00:1::/64\"\n").unwrap();
        std::fs::rename(&staged, &path).unwrap();
        wait_for(&mut triggers, ReloadTrigger::FileChanged).await;
        let plan = reload(&path, &AgentConfig::default()).unwrap();
        assert_eq!(
            plan.restart_required,
            vec![super::super::ConfigKey::V6Prefix]
        );

        nix::sys::signal::raise(nix::sys::signal::Signal::SIGHUP).unwrap();
        wait_for(&mut triggers, ReloadTrigger::Signal).await;

        // A broken file: the error names the key; the daemon keeps its configuration.
        std::fs::write(&path, "dns_ttl = \"forever\"\n").unwrap();
        wait_for(&mut triggers, ReloadTrigger::FileChanged).await;
        let error = reload(&path, &AgentConfig::default()).unwrap_err();
        assert_eq!(error.key(), Some("dns_ttl"), "{error}");
    }
}
