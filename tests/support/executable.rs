//! A path to one of our binaries that other OS users (alice, bob, `nobody`) can execute.
//!
//! Cargo builds into the checkout's `target/`, and a checkout may live where only root can
//! enter (`/root`, or a `mktemp -d` directory, both mode 0700): `runuser -u alice --
//! /root/repo/target/debug/boundary` then fails with "Permission denied" although the file
//! itself is 0755. When the file or some directory on the way is closed to others, the
//! binary is copied once into a world-traversable cache directory under the system temp
//! dir, named after the build's path, size and modification time, so test processes share
//! one entry per build. `scripts/test` removes the cache at the end.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Name of the cache directory under the system temp dir.
pub const CACHE_DIR_NAME: &str = "boundary-test-executables";

/// `path` itself when others may execute it there (the file and every directory above
/// it), else the cached world-executable entry for it (panics if that cannot be made).
/// Made once per test process.
pub fn runnable_by_anyone(path: &str) -> PathBuf {
    static SHARED: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(entry) = shared.get(path) {
        return entry.clone();
    }
    let binary = Path::new(path);
    let entry = if others_can_run(binary) {
        binary.to_owned()
    } else {
        cached_copy(binary).unwrap_or_else(|e| {
            panic!(
                "{} cannot be run by other users and could not be shared: {e}",
                binary.display()
            )
        })
    };
    shared.insert(path.to_owned(), entry.clone());
    entry
}

/// Whether others may execute `path`: its own "x" bit for others, and the "search" bit of
/// every directory above it.
fn others_can_run(path: &Path) -> bool {
    let open_to_others = |p: &Path| {
        p.as_os_str().is_empty()
            || fs::metadata(p).is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
    };
    path.ancestors().all(open_to_others)
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
    if others_can_run(&entry) {
        return Ok(entry);
    }
    // Written under a name no other process uses and renamed into place, so that
    // concurrent test processes never run a half-written copy. Always a copy (never a
    // hard link): the link would share the build's inode, and its mode.
    let partial = dir.join(format!(
        "{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    // A leftover of a killed earlier process with the same pid.
    let _ = fs::remove_file(&partial);
    let mut source = fs::File::open(path)?;
    let mut copy = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o755)
        .open(&partial)?;
    std::io::copy(&mut source, &mut copy)?;
    copy.set_permissions(fs::Permissions::from_mode(0o755))?;
    copy.sync_all()?;
    drop(copy);
    fs::rename(&partial, &entry)?;
    Ok(entry)
}

/// Path of the `boundary-client-agent` binary of this build.
///
/// The binary belongs to another package of the workspace (`boundary-agent`), so Cargo
/// defines no `CARGO_BIN_EXE_boundary-client-agent` for this package's tests. It sits in
/// the profile directory this test executable was built for (`target/<profile>/deps/<test>`
/// → `target/<profile>/boundary-client-agent`), where `cargo build --workspace --bins`,
/// the first step of `scripts/test`, puts it. Panics if it is missing, or older than a
/// source file it was built from: a stale agent would be tested silently.
pub fn agent_binary() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let name = "boundary-client-agent";
        let test = std::env::current_exe().expect("the test executable's path");
        let profile = test
            .parent()
            .and_then(Path::parent)
            .expect("the test executable is in target/<profile>/deps");
        let binary = profile.join(name);
        let rebuild = "build it first: cargo build --workspace --bins (scripts/test does)";
        let built = fs::metadata(&binary)
            .and_then(|meta| meta.modified())
            .unwrap_or_else(|e| panic!("{} is missing ({e}); {rebuild}", binary.display()));
        // Exactly the sources the binary was built from, as cargo recorded them beside it
        // (test-only modules are not among them, so editing a test does not count).
        let dep_info = profile.join(format!("{name}.d"));
        let mut newer = built_from(&dep_info)
            .unwrap_or_else(|e| panic!("{} is unreadable ({e}); {rebuild}", dep_info.display()))
            .into_iter()
            .filter(|source| is_newer(source, built));
        if let Some(source) = newer.next() {
            panic!(
                "{} is older than {}; {rebuild}",
                binary.display(),
                source.display()
            );
        }
        binary.to_str().expect("a UTF-8 target path").to_owned()
    })
}

/// The source files listed in a cargo dep-info file (`target: source source …`, spaces
/// inside a path escaped with a backslash).
fn built_from(dep_info: &Path) -> std::io::Result<Vec<PathBuf>> {
    let text = fs::read_to_string(dep_info)?;
    let (_, sources) = text.split_once(": ").unwrap_or_default();
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = sources.lines().next().unwrap_or_default().chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ' ' if !current.is_empty() => paths.push(PathBuf::from(std::mem::take(&mut current))),
            ' ' => {}
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        paths.push(PathBuf::from(current));
    }
    Ok(paths)
}

/// Whether `path` was modified after `than` (a missing file is not newer).
fn is_newer(path: &Path, than: std::time::SystemTime) -> bool {
    fs::metadata(path)
        .and_then(|meta| meta.modified())
        .is_ok_and(|modified| modified > than)
}
