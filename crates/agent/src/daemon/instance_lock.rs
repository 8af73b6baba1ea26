//! One agent per state file. A second instance started with the same configuration (a
//! manual start next to the service) must not run crash recovery: it would "restore" the
//! resolver configuration and remove the addresses of the agent that is running. So the
//! very first thing a start does is take an exclusive lock next to the state file.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::private_fs::{
    PrivateOpen, PrivatePathError, ensure_private_dir, open_private_file, parent_dir,
};

/// Held for the agent's lifetime; released when dropped (or when the process ends).
pub struct InstanceLock {
    _lock: Flock<File>,
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceLockError {
    #[error(
        "another boundary-client-agent is running with the state file {state_file} (it holds \
         {lock}); stop it first (systemctl stop boundary-client-agent)"
    )]
    Held { state_file: PathBuf, lock: PathBuf },
    #[error("cannot open the lock file {lock}: {source}")]
    Open {
        lock: PathBuf,
        #[source]
        source: PrivatePathError,
    },
    #[error("cannot lock {lock}: {source}")]
    Lock {
        lock: PathBuf,
        #[source]
        source: Errno,
    },
}

impl InstanceLock {
    /// Takes the lock `<state_file>.lock` (creating its directory, which must be one only
    /// the agent's user can change; the lock is never opened through a symlink), or says
    /// who has it.
    pub fn acquire(state_file: &Path) -> Result<InstanceLock, InstanceLockError> {
        let mut name = state_file.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let lock = state_file.with_file_name(name);
        let open = || {
            ensure_private_dir(parent_dir(&lock))?;
            open_private_file(&lock, PrivateOpen::Lock)
        };
        let file = open().map_err(|source| InstanceLockError::Open {
            lock: lock.clone(),
            source,
        })?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => Ok(InstanceLock { _lock: locked }),
            Err((_, Errno::EWOULDBLOCK)) => Err(InstanceLockError::Held {
                state_file: state_file.to_path_buf(),
                lock,
            }),
            Err((_, source)) => Err(InstanceLockError::Lock { lock, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("sub/state.json");
        let first = InstanceLock::acquire(&state).unwrap();
        let second = InstanceLock::acquire(&state).err().unwrap();
        assert!(matches!(second, InstanceLockError::Held { .. }), "{second}");
        drop(first);
        InstanceLock::acquire(&state).unwrap();
    }

    #[test]
    fn a_planted_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("state.json.lock")).unwrap();
        let error = InstanceLock::acquire(&dir.path().join("state.json"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }
}
