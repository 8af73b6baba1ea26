//! The topology's own directory under the temporary directory, and removal of what a
//! killed test run left behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::super::netns;
use super::super::os_user::OsUser;
use super::NETNS_PREFIXES;
use super::services::make_dir;

/// Prefix of the per-topology directories under the temporary directory.
const DIR_PREFIX: &str = "boundary-topology-";

static TOPOLOGIES: AtomicU32 = AtomicU32::new(0);

/// `<tmp>/boundary-topology-<pid>-<n>`, mode 0755 (users' homes are inside), removed on
/// drop.
pub struct TopologyDir(PathBuf);

impl TopologyDir {
    pub fn create() -> TopologyDir {
        let n = TOPOLOGIES.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("{DIR_PREFIX}{}-{n}", std::process::id()));
        // A killed run whose pid we now have may have left it behind.
        let _ = fs::remove_dir_all(&path);
        make_dir(&path);
        TopologyDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TopologyDir {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir_all(&self.0) {
            eprintln!("warning: cannot remove {}: {e}", self.0.display());
        }
    }
}

/// Removes what killed runs left (their creating process is gone): namespaces with the
/// processes in them (first, so that no process keeps a stale user busy), users,
/// directories.
pub fn remove_stale() {
    for prefix in NETNS_PREFIXES {
        netns::remove_stale(prefix);
    }
    let home_prefix = std::env::temp_dir().join(DIR_PREFIX);
    let home_prefix = home_prefix.to_string_lossy();
    OsUser::remove_stale("alice", &home_prefix);
    OsUser::remove_stale("bob", &home_prefix);
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((pid, _)) = name
            .strip_prefix(DIR_PREFIX)
            .and_then(|r| r.split_once('-'))
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
