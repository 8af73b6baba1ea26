//! Resolver takeover on Linux: the `resolv-conf` and `none` modes, and `auto`.
//!
//! `/etc/resolv.conf` is written **in place** (open with truncate, write, fsync), never
//! replaced by rename: it may be a bind mount (`ip netns exec` mounts
//! `/etc/netns/<name>/resolv.conf` over it, containers do the same) where rename fails
//! with EBUSY, and a symlink's target is updated rather than the link replaced.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use async_trait::async_trait;

use super::NetlinkAddresses;
use super::agent_link::AGENT_LINK_NAME;
use super::resolv_conf_watch::writer_of;
use super::resolved::{
    ResolvedBus, ResolvedPresence, ResolvedTakeover, resolved_manages, undo_leftover_link,
};
use crate::os::resolv_conf;
use crate::os::{
    ResolverDetails, ResolverError, ResolverMode, ResolverTakeover, Restored, Takeover,
    TakeoverChange,
};
use crate::state::{SavedResolvConf, StateFile};

/// The resolver takeover chosen for a `resolver_mode`.
pub struct SelectedResolver {
    pub takeover: Box<dyn ResolverTakeover>,
    /// The mode in effect (`auto` resolved to a concrete mode).
    pub mode: ResolverMode,
    /// Something the user should act on (shown at WARN and in `status`).
    pub warning: Option<String>,
}

/// Picks the takeover for `mode` on the resolv.conf at `path` (`/etc/resolv.conf` in
/// production; a parameter so tests never touch the host's).
///
/// `auto` picks `systemd-resolved` when the file sends programs to resolved's stub
/// (symlink or content, see [`resolved_manages`]) and resolved answers on D-Bus; when
/// resolved owns the file but does not answer, `none` with a warning (taking the file
/// over would make resolved, which then reads it, send everything back to the agent).
/// Any other file, or a missing one, is taken over (`resolv-conf`). An explicit
/// `systemd-resolved` refuses to start without resolved; an explicit `resolv-conf` writes
/// through any symlink.
pub async fn select_resolver(
    mode: ResolverMode,
    path: &Path,
) -> Result<SelectedResolver, ResolverError> {
    select_resolver_on_bus(mode, path, None).await
}

/// [`select_resolver`] with the system bus at `bus_address` (tests).
pub async fn select_resolver_on_bus(
    mode: ResolverMode,
    path: &Path,
    bus_address: Option<&str>,
) -> Result<SelectedResolver, ResolverError> {
    let selected = |takeover: Box<dyn ResolverTakeover>, mode, warning| SelectedResolver {
        takeover,
        mode,
        warning,
    };
    let file = || -> Box<dyn ResolverTakeover> { Box::new(ResolvConfTakeover::new(path)) };
    let untouched = || -> Box<dyn ResolverTakeover> { Box::new(NoResolverTakeover::new(path)) };
    match mode {
        ResolverMode::ResolvConf => Ok(selected(file(), mode, None)),
        ResolverMode::None => Ok(selected(untouched(), mode, None)),
        ResolverMode::SystemdResolved => {
            let bus = ResolvedPresence::probe(bus_address).await.map_err(|e| {
                ResolverError::Resolved(format!(
                    "resolver_mode = \"systemd-resolved\", but {e}; start systemd-resolved or \
                     choose another resolver_mode"
                ))
            })?;
            Ok(selected(resolved_takeover(bus, path)?, mode, None))
        }
        ResolverMode::Auto => match resolved_manages(path) {
            None => Ok(selected(file(), ResolverMode::ResolvConf, None)),
            Some(why) => match ResolvedPresence::probe(bus_address).await {
                Ok(bus) => Ok(selected(
                    resolved_takeover(bus, path)?,
                    ResolverMode::SystemdResolved,
                    None,
                )),
                Err(error) => Ok(selected(
                    untouched(),
                    ResolverMode::None,
                    Some(format!(
                        "{why}, but {error}: the agent leaves the system's DNS configuration \
                         alone and aliases are not intercepted. Start systemd-resolved (then \
                         restart the agent), or set resolver_mode = \"resolv-conf\"."
                    )),
                )),
            },
        },
    }
}

fn resolved_takeover(
    bus: ResolvedBus,
    path: &Path,
) -> Result<Box<dyn ResolverTakeover>, ResolverError> {
    let netlink = NetlinkAddresses::new().map_err(|e| ResolverError::AgentLink {
        name: AGENT_LINK_NAME.to_owned(),
        message: e.to_string(),
    })?;
    Ok(Box::new(ResolvedTakeover::new(
        bus,
        Arc::new(netlink),
        path,
    )))
}

/// `resolv-conf` mode: the agent's addresses become the file's nameservers.
pub struct ResolvConfTakeover {
    path: PathBuf,
    /// Who wrote the configuration the agent took over (for `status`).
    managed_by: std::sync::Mutex<Option<String>>,
}

impl ResolvConfTakeover {
    pub fn new(path: impl Into<PathBuf>) -> ResolvConfTakeover {
        ResolvConfTakeover {
            path: path.into(),
            managed_by: std::sync::Mutex::new(None),
        }
    }

    /// The program behind the file: the writer named in its header, and the symlink's
    /// target when it is one.
    fn describe_writer(&self, content: Option<&[u8]>) -> Option<String> {
        let writer = content.and_then(writer_of);
        let target = fs::read_link(&self.path).ok();
        match (writer, target) {
            (Some(writer), Some(target)) => Some(format!("{writer} (via {})", target.display())),
            (Some(writer), None) => Some(writer.to_owned()),
            (None, Some(target)) => Some(format!("unknown (via {})", target.display())),
            (None, None) => None,
        }
    }
}

#[async_trait]
impl ResolverTakeover for ResolvConfTakeover {
    async fn take_over(
        &self,
        ours: &[IpAddr],
        state: &mut StateFile,
    ) -> Result<Takeover, ResolverError> {
        if ours.is_empty() {
            return Err(ResolverError::NoAgentAddresses {
                path: self.path.clone(),
            });
        }
        let current = read_file(&self.path)?;
        let current_content = current.as_ref().map(|(content, _)| content.as_slice());
        let saved = state.state().saved_resolver.clone();
        if let Some(saved) = &saved
            && saved.path != self.path
        {
            return Err(ResolverError::SavedForOtherPath {
                saved: saved.path.clone(),
                path: self.path.clone(),
            });
        }
        let agent_written = current_content.is_some_and(resolv_conf::is_agent_written);
        let (previous, change) = match saved {
            Some(saved) if agent_written => {
                let wanted = resolv_conf::render(saved.content.as_deref(), ours);
                if current_content == Some(wanted.as_slice()) {
                    (saved, TakeoverChange::AlreadyOurs)
                } else {
                    write_in_place(&self.path, &wanted, None)?;
                    (saved, TakeoverChange::Refreshed)
                }
            }
            None if agent_written => {
                return Err(ResolverError::OursWithoutSavedCopy {
                    path: self.path.clone(),
                });
            }
            earlier => {
                // Not ours: the system's own configuration, new or rewritten since.
                // Record it before changing anything.
                let previous = SavedResolvConf {
                    path: self.path.clone(),
                    mode: current.as_ref().map_or(0o644, |(_, mode)| *mode),
                    content: current.map(|(content, _)| content),
                };
                state.update(|s| s.saved_resolver = Some(previous.clone()))?;
                let wanted = resolv_conf::render(previous.content.as_deref(), ours);
                write_in_place(&self.path, &wanted, Some(previous.mode))?;
                // A saved copy equal to the current file means an earlier takeover was
                // interrupted before it wrote anything: not an external change.
                let change = match earlier {
                    Some(earlier) if earlier.content != previous.content => {
                        TakeoverChange::AdoptedExternalChange
                    }
                    _ => TakeoverChange::TookOver,
                };
                (previous, change)
            }
        };
        if change != TakeoverChange::AlreadyOurs {
            tracing::info!(
                path = %self.path.display(),
                ?change,
                "pointed the system resolver at the agent"
            );
        }
        *self.managed_by.lock().expect("managed_by") =
            self.describe_writer(previous.content.as_deref());
        let upstreams =
            resolv_conf::upstreams(previous.content.as_deref().unwrap_or_default(), ours);
        Ok(Takeover { change, upstreams })
    }

    fn details(&self) -> ResolverDetails {
        ResolverDetails {
            managed_by: self.managed_by.lock().expect("managed_by").clone(),
            ..ResolverDetails::default()
        }
    }

    fn watches_file(&self) -> Option<PathBuf> {
        Some(self.path.clone())
    }

    async fn restore(&self, state: &mut StateFile) -> Result<Restored, ResolverError> {
        undo_leftover_link(state).await?;
        restore_saved(&self.path, state)
    }

    async fn upstreams(
        &self,
        ours: &[IpAddr],
        state: &StateFile,
    ) -> Result<Vec<SocketAddr>, ResolverError> {
        match &state.state().saved_resolver {
            Some(saved) => Ok(resolv_conf::upstreams(
                saved.content.as_deref().unwrap_or_default(),
                ours,
            )),
            None => current_upstreams(&self.path, ours),
        }
    }
}

/// `none` mode: reads the system's resolvers as upstreams and changes nothing. It still
/// restores a configuration saved by an earlier run in another mode, so switching modes
/// never strands the system on a stopped agent.
pub struct NoResolverTakeover {
    path: PathBuf,
}

impl NoResolverTakeover {
    pub fn new(path: impl Into<PathBuf>) -> NoResolverTakeover {
        NoResolverTakeover { path: path.into() }
    }
}

#[async_trait]
impl ResolverTakeover for NoResolverTakeover {
    async fn take_over(
        &self,
        ours: &[IpAddr],
        state: &mut StateFile,
    ) -> Result<Takeover, ResolverError> {
        Ok(Takeover {
            change: TakeoverChange::Untouched,
            upstreams: self.upstreams(ours, state).await?,
        })
    }

    async fn restore(&self, state: &mut StateFile) -> Result<Restored, ResolverError> {
        undo_leftover_link(state).await?;
        restore_saved(&self.path, state)
    }

    async fn upstreams(
        &self,
        ours: &[IpAddr],
        _state: &StateFile,
    ) -> Result<Vec<SocketAddr>, ResolverError> {
        current_upstreams(&self.path, ours)
    }
}

/// Writes the saved configuration back if the file still holds the agent's, then
/// forgets the saved copy (after the write, so a failed write can be retried).
///
/// Only ever writes `path`, the resolver file this agent is configured for: a saved copy
/// naming any other file is not trusted (a root daemon must not write where a file it
/// reads back says), so it is dropped and reported, and that file is left untouched.
pub(super) fn restore_saved(path: &Path, state: &mut StateFile) -> Result<Restored, ResolverError> {
    let Some(saved) = state.state().saved_resolver.clone() else {
        return Ok(Restored::NothingSaved);
    };
    if saved.path != path {
        state.update(|s| s.saved_resolver = None)?;
        return Err(ResolverError::SavedForOtherPath {
            saved: saved.path,
            path: path.to_path_buf(),
        });
    }
    let current = read_file(&saved.path)?;
    let current_content = current.as_ref().map(|(content, _)| content.as_slice());
    let outcome = if current_content == saved.content.as_deref() {
        Restored::Restored {
            path: saved.path.clone(),
        }
    } else if current_content.is_some_and(|content| {
        resolv_conf::is_agent_written(content)
            || resolv_conf::is_interrupted_write(content, saved.content.as_deref())
    }) {
        match &saved.content {
            Some(content) => write_in_place(&saved.path, content, Some(saved.mode))?,
            None => fs::remove_file(&saved.path).map_err(|source| ResolverError::Write {
                path: saved.path.clone(),
                source,
            })?,
        }
        tracing::info!(
            path = %saved.path.display(),
            "restored the previous resolver configuration"
        );
        Restored::Restored {
            path: saved.path.clone(),
        }
    } else {
        tracing::warn!(
            path = %saved.path.display(),
            "the resolver configuration was rewritten by something else; keeping that newer content"
        );
        Restored::KeptNewerContent {
            path: saved.path.clone(),
        }
    };
    state.update(|s| s.saved_resolver = None)?;
    Ok(outcome)
}

fn current_upstreams(path: &Path, ours: &[IpAddr]) -> Result<Vec<SocketAddr>, ResolverError> {
    let content = read_file(path)?
        .map(|(content, _)| content)
        .unwrap_or_default();
    Ok(resolv_conf::upstreams(&content, ours))
}

/// The file's bytes and permission bits; `None` when it does not exist.
fn read_file(path: &Path) -> Result<Option<(Vec<u8>, u32)>, ResolverError> {
    let read = || -> io::Result<(Vec<u8>, u32)> {
        let content = fs::read(path)?;
        let mode = fs::metadata(path)?.permissions().mode() & 0o7777;
        Ok((content, mode))
    };
    match read() {
        Ok(found) => Ok(Some(found)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ResolverError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Truncate, write, fsync the existing inode (see the module docs for why not rename).
/// `mode` is applied when given (creating or restoring the file).
fn write_in_place(path: &Path, content: &[u8], mode: Option<u32>) -> Result<(), ResolverError> {
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode.unwrap_or(0o644))
            .open(path)?;
        file.write_all(content)?;
        if let Some(mode) = mode {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.sync_all()
    };
    write().map_err(|source| ResolverError::Write {
        path: path.to_path_buf(),
        source,
    })
}
