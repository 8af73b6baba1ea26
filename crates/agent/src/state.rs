//! The agent's state file: what it must undo after a crash and what must survive a
//! restart.
//!
//! JSON, replaced atomically (temporary file in the same directory, fsync, rename): a
//! crash, of the agent or of the machine, leaves either the old or the new state, never a
//! torn file. Every change is written before [`StateFile::update`] returns, so callers
//! record an intent ("about to add this address", "this was the resolver before") before
//! acting.
//!
//! The directory is fsynced too, making the rename itself survive a power loss, only when
//! a part that outlives the running kernel changed (the saved resolver configuration, the
//! agent's link record, the pause): the added addresses and the alias assignments describe the kernel's interfaces
//! and the DNS answers programs on this machine hold, which a power loss wipes as well, so
//! the old file coming back after one is right. That saves one of the two fsyncs of the
//! write a new alias's lookup waits for (milliseconds each on a slow disk).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::private_fs::{
    PrivateOpen, PrivatePathError, ensure_private_dir, open_private_file, parent_dir,
};

/// The format version this build reads and writes.
pub const STATE_VERSION: u32 = 1;

/// Everything in the state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    #[serde(default = "current_version")]
    pub version: u32,
    /// The resolver configuration from before the agent took over; present exactly while
    /// the agent's configuration is in place.
    #[serde(default)]
    pub saved_resolver: Option<SavedResolvConf>,
    /// The agent's own link carries systemd-resolved configuration (present from just
    /// before the link is made until it is gone). Recovery removes only a TUN link of the
    /// agent's configured name, never one this record names.
    #[serde(default)]
    pub agent_link: Option<AgentLinkRecord>,
    /// Addresses the agent has added (or is about to add) and not yet removed.
    #[serde(default)]
    pub added_addresses: BTreeSet<AddedAddress>,
    /// Alias → addresses, so an alias keeps its addresses across restarts.
    #[serde(default)]
    pub alias_addresses: BTreeMap<String, AliasAddresses>,
    /// Paused by the user or the failure breaker.
    #[serde(default)]
    pub paused: bool,
}

impl Default for AgentState {
    fn default() -> Self {
        AgentState {
            version: STATE_VERSION,
            saved_resolver: None,
            agent_link: None,
            added_addresses: BTreeSet::new(),
            alias_addresses: BTreeMap::new(),
            paused: false,
        }
    }
}

fn current_version() -> u32 {
    STATE_VERSION
}

/// A resolv.conf-style file as it was before the agent wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedResolvConf {
    pub path: PathBuf,
    /// The exact bytes (base64 in JSON); `None` when the file did not exist.
    #[serde(with = "base64_bytes")]
    pub content: Option<Vec<u8>>,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
}

/// The agent's link for systemd-resolved (see [`AgentState::agent_link`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLinkRecord {
    pub name: String,
}

/// An address the agent put on an interface (recorded by interface *name*: indexes do
/// not survive a reboot or a driver reload).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AddedAddress {
    pub interface: String,
    pub address: IpAddr,
}

/// The addresses assigned to one alias.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasAddresses {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
}

/// The state file on disk and its current content.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    state: AgentState,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the state file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the state file {path} is corrupt ({reason}); it was moved to {kept_at} so it can be \
         inspected, and the agent's earlier changes recorded there cannot be undone automatically"
    )]
    Corrupt {
        path: PathBuf,
        kept_at: PathBuf,
        reason: String,
    },
    #[error("the state file {path} is corrupt ({reason}) and could not be moved aside: {source}")]
    CorruptNotMoved {
        path: PathBuf,
        reason: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "the state file {path} has format version {found}, newer than this agent understands \
         ({STATE_VERSION}); use a newer agent or remove the file"
    )]
    NewerVersion { path: PathBuf, found: u32 },
    #[error("the state file {path} cannot be used: {source}")]
    Unsafe {
        path: PathBuf,
        #[source]
        source: PrivatePathError,
    },
    #[error("cannot write the state file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl StateFile {
    /// Loads the state file; a missing file is an empty state. A file that is not valid
    /// state is moved aside (`<name>.corrupt-<unix seconds>`) and reported as
    /// [`StateError::Corrupt`]: never silently discarded, and the next load starts empty.
    /// The file must be in a directory only the agent's user can change and is read
    /// without following a symlink ([`crate::private_fs`]); otherwise
    /// [`StateError::Unsafe`], and nothing in it is trusted.
    pub fn load(path: impl Into<PathBuf>) -> Result<StateFile, StateError> {
        let path = path.into();
        let unsafe_path = |source| StateError::Unsafe {
            path: path.clone(),
            source,
        };
        ensure_private_dir(parent_dir(&path)).map_err(unsafe_path)?;
        let mut bytes = Vec::new();
        match open_private_file(&path, PrivateOpen::Read) {
            Ok(mut file) => file
                .read_to_end(&mut bytes)
                .map_err(|source| StateError::Read {
                    path: path.clone(),
                    source,
                })?,
            Err(PrivatePathError::Io { source, .. })
                if source.kind() == io::ErrorKind::NotFound =>
            {
                return Ok(StateFile::empty(path));
            }
            Err(PrivatePathError::Io { source, .. }) => {
                return Err(StateError::Read { path, source });
            }
            Err(error) => return Err(unsafe_path(error)),
        };
        let state: AgentState = match serde_json::from_slice(&bytes) {
            Ok(state) => state,
            Err(error) => return Err(move_aside(&path, error.to_string())),
        };
        if state.version > STATE_VERSION {
            return Err(StateError::NewerVersion {
                path,
                found: state.version,
            });
        }
        Ok(StateFile { path, state })
    }

    /// An empty state for `path` (nothing written until the first update).
    pub fn empty(path: impl Into<PathBuf>) -> StateFile {
        StateFile {
            path: path.into(),
            state: AgentState::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn state(&self) -> &AgentState {
        &self.state
    }

    /// Applies `change` and writes the result durably before returning. If writing
    /// fails, the in-memory state is left as it was, so it never claims more than the
    /// disk holds.
    pub fn update<R>(
        &mut self,
        change: impl FnOnce(&mut AgentState) -> R,
    ) -> Result<R, StateError> {
        let mut next = self.state.clone();
        let result = change(&mut next);
        if next != self.state {
            let durability = if self.state.outlives_the_kernel_differs(&next) {
                Durability::RenameSurvivesPowerLoss
            } else {
                Durability::FileNeverTorn
            };
            write_atomically(&self.path, &next, durability)?;
            self.state = next;
        }
        Ok(result)
    }
}

fn move_aside(path: &Path, reason: String) -> StateError {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".corrupt-{seconds}"));
    let kept_at = path.with_file_name(name);
    match fs::rename(path, &kept_at) {
        Ok(()) => StateError::Corrupt {
            path: path.to_path_buf(),
            kept_at,
            reason,
        },
        Err(source) => StateError::CorruptNotMoved {
            path: path.to_path_buf(),
            reason,
            source,
        },
    }
}

/// How far a state file write goes (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// The new content is on disk before the rename; after a power loss the rename may be
    /// lost (the old, complete file is back).
    FileNeverTorn,
    /// The rename is on disk too.
    RenameSurvivesPowerLoss,
}

impl AgentState {
    /// Whether `self` and `next` differ in a part that must survive a power loss. Every
    /// field is named, so a new one must be classified here to compile.
    fn outlives_the_kernel_differs(&self, next: &AgentState) -> bool {
        let AgentState {
            version,
            saved_resolver,
            agent_link,
            added_addresses: _,
            alias_addresses: _,
            paused,
        } = self;
        *version != next.version
            || *saved_resolver != next.saved_resolver
            || *agent_link != next.agent_link
            || *paused != next.paused
    }
}

fn write_atomically(
    path: &Path,
    state: &AgentState,
    durability: Durability,
) -> Result<(), StateError> {
    let failed = |source| StateError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut json = serde_json::to_vec_pretty(state)
        .map_err(io::Error::other)
        .map_err(failed)?;
    json.push(b'\n');
    let dir = parent_dir(path);
    ensure_private_dir(dir).map_err(|source| StateError::Unsafe {
        path: path.to_path_buf(),
        source,
    })?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(path.file_name().unwrap_or_default());
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = dir.join(temp_name);
    // A leftover of an earlier run with the same pid; never written through (O_EXCL).
    let _ = fs::remove_file(&temp);
    let written = (|| {
        let mut file = open_private_file(&temp, PrivateOpen::CreateNew { mode: 0o600 })
            .map_err(io::Error::other)?;
        file.write_all(&json)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        match durability {
            Durability::RenameSurvivesPowerLoss => File::open(dir)?.sync_all(),
            Durability::FileNeverTorn => Ok(()),
        }
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map_err(failed)
}

/// `Option<Vec<u8>>` as a standard base64 string (or null): resolv.conf bytes must come
/// back exactly, whatever their encoding.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_some(&STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => STANDARD
                .decode(text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_outlives_the_kernel_makes_the_rename_durable() {
        let before = AgentState::default();
        let mut addresses = before.clone();
        addresses.added_addresses.insert(AddedAddress {
            interface: "eth0".into(),
            address: IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1)),
        });
        addresses
            .alias_addresses
            .insert("db.prod".into(), AliasAddresses::default());
        assert!(!before.outlives_the_kernel_differs(&addresses));

        let mut resolver = before.clone();
        resolver.saved_resolver = Some(SavedResolvConf {
            path: "/etc/resolv.conf".into(),
            content: None,
            mode: 0o644,
        });
        let mut paused = before.clone();
        paused.paused = true;
        for next in [resolver, paused] {
            assert!(before.outlives_the_kernel_differs(&next));
        }
    }
}
