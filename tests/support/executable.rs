//! A path to one of our binaries that other OS users (alice, bob, `nobody`) can execute.
//!
//! Cargo builds into the checkout's `target/`, and a checkout may live where only root can
//! enter (`/root`, or a `mktemp -d` directory, both mode 0700): `runuser -u alice --
//! /root/repo/target/debug/boundary` then fails with "Permission denied" although the file
//! itself is 0755. When some directory on the way is closed to others, the binary is
//! linked (or, across file systems, copied) once into a world-traversable cache directory
//! under the system temp dir, named after the build's path, size and modification time, so
//! test processes share one entry per build. `scripts/test` removes the cache at the end.

use std::fs;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Name of the cache directory under the system temp dir.
pub const CACHE_DIR_NAME: &str = "boundary-test-executables";

/// `path` itself when every directory above it lets others through, else the cached
/// world-executable entry for it (panics if that cannot be made).
pub fn runnable_by_anyone(path: &str) -> PathBuf {
    let path = Path::new(path);
    if others_can_reach(path) {
        return path.to_owned();
    }
    cached_copy(path).unwrap_or_else(|e| {
        panic!(
            "{} is not reachable by other users and could not be shared: {e}",
            path.display()
        )
    })
}

/// Whether every ancestor directory of `path` has the "others may search" bit.
fn others_can_reach(path: &Path) -> bool {
    path.ancestors().skip(1).all(|dir| {
        dir.as_os_str().is_empty()
            || fs::metadata(dir).is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
    })
}

fn cached_copy(path: &Path) -> std::io::Result<PathBuf> {
    let meta = fs::metadata(path)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (path, meta.len(), meta.mtime(), meta.mtime_nsec()).hash(&mut hasher);
    let dir = std::env::temp_dir()
        .join(CACHE_DIR_NAME)
        .join(format!("{:016x}", hasher.finish()));
    fs::create_dir_all(&dir)?;
    for open in [dir.as_path(), dir.parent().expect("cache dir has a parent")] {
        fs::set_permissions(open, fs::Permissions::from_mode(0o755))?;
    }
    let name = path.file_name().expect("a binary has a file name");
    let entry = dir.join(name);
    if entry.exists() {
        return Ok(entry);
    }
    // Made under a private name and renamed into place, so that concurrent test processes
    // never run a half-written copy.
    let partial = dir.join(format!(
        "{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = fs::remove_file(&partial);
    if fs::hard_link(path, &partial).is_err() {
        fs::copy(path, &partial)?;
        fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))?;
    }
    fs::rename(&partial, &entry)?;
    Ok(entry)
}
