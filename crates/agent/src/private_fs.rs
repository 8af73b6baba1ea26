//! Files of a root daemon, opened so that no other local user can steer them.
//!
//! The agent runs as root. Every file it creates, truncates or reads back (state file,
//! operational state, instance lock, log file) lives in a directory that only the agent's
//! own user can change: owned by it and not writable by group or others, and every
//! ancestor owned by it (or root) and not writable by others unless it is sticky (`/tmp`:
//! others may add entries there but cannot rename or replace ours). Otherwise another
//! user could plant a symlink (`state.json` → `/etc/sudoers.d/x`) or a crafted state file
//! and have root write or "restore" where they choose. Files are opened with
//! `O_NOFOLLOW`, new ones with `O_EXCL`, and must be regular files with a single link,
//! owned by the agent's user.
//!
//! "The agent's user" is the effective uid (root in production; the test runner's uid in
//! unit tests), so the same rules hold wherever the code runs.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Why a path is not safe for the agent's files.
#[derive(Debug, thiserror::Error)]
pub enum PrivatePathError {
    #[error(
        "refusing to use {dir}: it is owned by {owner} and {problem}; the agent's files must \
         live in a directory that only {expected} can change (for example \
         /var/lib/boundary-client-agent, mode 0700)"
    )]
    UnsafeDirectory {
        dir: PathBuf,
        owner: String,
        expected: String,
        problem: &'static str,
    },
    #[error("refusing to use {path}: {problem}; remove it (the agent creates its files itself)")]
    UnsafeFile { path: PathBuf, problem: String },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Creates `dir` (mode 0700) if it is missing, then checks it with [`check_private_dir`].
/// Missing ancestors are created 0755 by the agent's user, so they pass the check too.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PrivatePathError> {
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| PrivatePathError::Io {
                what: "cannot create the directory",
                path: dir.to_path_buf(),
                source,
            })?;
    }
    check_private_dir(dir)
}

/// Checks that only the agent's user (or root) can change `dir` and every directory above
/// it (see the module documentation). Symlinks in the path are resolved first: the check
/// applies to the directories actually used.
pub fn check_private_dir(dir: &Path) -> Result<(), PrivatePathError> {
    let canonical = fs::canonicalize(dir).map_err(|source| PrivatePathError::Io {
        what: "cannot resolve the directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut current = PathBuf::new();
    let components: Vec<Component> = canonical.components().collect();
    for (i, component) in components.iter().enumerate() {
        current.push(component);
        let last = i + 1 == components.len();
        check_directory(&current, last)?;
    }
    Ok(())
}

/// The parent directory of a file path (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// How to open a file with [`open_private_file`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateOpen {
    /// Read an existing file.
    Read,
    /// Create a new file (`O_EXCL`): fails if anything exists at the path.
    CreateNew { mode: u32 },
    /// Open for appending, creating it if missing (log files).
    Append { mode: u32 },
    /// Open for writing without truncating, creating it if missing (lock files).
    Lock,
}

/// Opens `path` without following a symlink and checks what was opened: a regular file
/// with one link, owned by the agent's user. The caller checks the directory first.
/// An existing file open for appending loses group/other permissions the mode does not
/// grant (a log file is never left world-readable).
pub fn open_private_file(path: &Path, how: PrivateOpen) -> Result<File, PrivatePathError> {
    let mut options = OpenOptions::new();
    options.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    match how {
        PrivateOpen::Read => options.read(true),
        PrivateOpen::CreateNew { mode } => options.write(true).create_new(true).mode(mode),
        PrivateOpen::Append { mode } => options.append(true).create(true).mode(mode),
        PrivateOpen::Lock => options.write(true).create(true).truncate(false).mode(0o600),
    };
    let file = options
        .open(path)
        .map_err(|source| match source.raw_os_error() {
            Some(libc::ELOOP) => PrivatePathError::UnsafeFile {
                path: path.to_path_buf(),
                problem: "it is a symbolic link".into(),
            },
            _ => PrivatePathError::Io {
                what: "cannot open",
                path: path.to_path_buf(),
                source,
            },
        })?;
    check_opened_file(path, &file)?;
    if let PrivateOpen::Append { mode } = how {
        narrow_permissions(path, &file, mode)?;
    }
    Ok(file)
}

fn check_opened_file(path: &Path, file: &File) -> Result<(), PrivatePathError> {
    let meta = file.metadata().map_err(|source| PrivatePathError::Io {
        what: "cannot inspect",
        path: path.to_path_buf(),
        source,
    })?;
    let unsafe_file = |problem: String| PrivatePathError::UnsafeFile {
        path: path.to_path_buf(),
        problem,
    };
    if !meta.file_type().is_file() {
        return Err(unsafe_file("it is not a regular file".into()));
    }
    if meta.nlink() != 1 {
        return Err(unsafe_file(format!(
            "it has {} hard links (another name for some other file)",
            meta.nlink()
        )));
    }
    if meta.uid() != agent_uid() {
        return Err(unsafe_file(format!(
            "it is owned by {}",
            user_name(meta.uid())
        )));
    }
    Ok(())
}

fn narrow_permissions(path: &Path, file: &File, mode: u32) -> Result<(), PrivatePathError> {
    let current = file
        .metadata()
        .map_err(|source| PrivatePathError::Io {
            what: "cannot inspect",
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode()
        & 0o7777;
    let narrowed = current & (mode | 0o700);
    if narrowed != current {
        file.set_permissions(fs::Permissions::from_mode(narrowed))
            .map_err(|source| PrivatePathError::Io {
                what: "cannot restrict the permissions of",
                path: path.to_path_buf(),
                source,
            })?;
    }
    Ok(())
}

fn check_directory(dir: &Path, last: bool) -> Result<(), PrivatePathError> {
    let meta = fs::symlink_metadata(dir).map_err(|source| PrivatePathError::Io {
        what: "cannot inspect the directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let owner = meta.uid();
    let mode = meta.mode();
    let others_write = mode & 0o022 != 0;
    let sticky = mode & 0o1000 != 0;
    let problem = if !meta.file_type().is_dir() {
        Some("it is not a directory")
    } else if owner != 0 && owner != agent_uid() {
        Some("another user owns it")
    } else if others_write && last {
        Some("group or others may write to it")
    } else if others_write && !sticky {
        Some("group or others may write to it without the sticky bit")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(PrivatePathError::UnsafeDirectory {
            dir: dir.to_path_buf(),
            owner: user_name(owner),
            expected: user_name(agent_uid()),
            problem,
        }),
    }
}

fn agent_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// `name (uid N)`, or `uid N` when the user is unknown.
fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(uid.into()) {
        Ok(Some(user)) => format!("{} (uid {uid})", user.name),
        _ => format!("uid {uid}"),
    }
}

#[cfg(test)]
mod tests;
