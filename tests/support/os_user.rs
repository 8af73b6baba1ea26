//! Real OS users for tests, deleted on drop: system users without a home
//! ([`OsUser::create`]) and login users with a home and a shell ([`OsUser::create_login`]).
//!
//! Users are host-wide (not per network namespace); names are unique per run
//! (`<prefix><pid>x<n>`), so parallel test processes never share one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::netns::run_ok;
use super::wait::poll;

static USERS: AtomicU32 = AtomicU32::new(0);

pub struct OsUser {
    pub name: String,
    pub uid: u32,
    /// The home directory, for login users.
    pub home: Option<PathBuf>,
}

impl OsUser {
    /// Creates a system user without a home directory. `prefix`: a few lower-case
    /// letters (user names are limited to 32 characters).
    pub fn create(prefix: &str) -> OsUser {
        let name = unique_name(prefix);
        retry_while_locked(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            &name,
        ]));
        OsUser::guard(name, None)
    }

    /// Creates a user that can log in with a key (sshd with `UsePAM no` refuses accounts
    /// whose password is locked, so the password field is `*`: no password, not locked),
    /// with `/bin/bash` as shell and a home `<homes>/<name>` (created from /etc/skel;
    /// `homes` must exist and be traversable by the user). The home is not removed on drop:
    /// it belongs to the caller's temporary directory.
    pub fn create_login(prefix: &str, homes: &Path) -> OsUser {
        let name = unique_name(prefix);
        let home = homes.join(&name);
        retry_while_locked(Command::new("useradd").args([
            "--create-home",
            "--home-dir",
            &home.to_string_lossy(),
            "--shell",
            "/bin/bash",
            "--password",
            "*",
            &name,
        ]));
        OsUser::guard(name, Some(home))
    }

    /// Deletes users named `<prefix><pid>x<n>` whose creating process is gone and whose
    /// home starts with `home_prefix` (left by a test run that was killed).
    pub fn remove_stale(prefix: &str, home_prefix: &str) {
        let Ok(passwd) = fs::read_to_string("/etc/passwd") else {
            return;
        };
        for entry in passwd.lines() {
            let fields: Vec<&str> = entry.split(':').collect();
            let (Some(name), Some(home)) = (fields.first(), fields.get(5)) else {
                continue;
            };
            let Some((pid, counter)) = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.split_once('x'))
            else {
                continue;
            };
            let ours = pid.parse::<u32>().is_ok()
                && counter.parse::<u32>().is_ok()
                && home.starts_with(home_prefix);
            if ours && !Path::new("/proc").join(pid).exists() {
                let _ = run_retrying(Command::new("userdel").arg(name));
            }
        }
    }

    /// The home directory; panics for a user created without one.
    pub fn home(&self) -> &Path {
        self.home
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no home directory", self.name))
    }

    /// A new IPv4 TCP socket owned by this user (see [`as_socket_owner`]), in the calling
    /// thread's network namespace.
    pub fn tcp_socket(&self) -> tokio::net::TcpSocket {
        as_socket_owner(self.uid, tokio::net::TcpSocket::new_v4).expect("a TCP socket")
    }

    /// The guard exists before anything else can fail, so the user is always deleted.
    fn guard(name: String, home: Option<PathBuf>) -> OsUser {
        let mut user = OsUser { name, uid: 0, home };
        let uid = run_ok(Command::new("id").args(["-u", &user.name]));
        user.uid = uid.trim().parse().expect("id -u prints a number");
        user
    }
}

/// Runs `task` on the calling thread with its filesystem uid set to `uid`, then sets it
/// back. The kernel makes a socket's creator's filesystem uid its owner (and the
/// accepting thread's the owner of an accepted connection), so sockets made in `task`
/// belong to `uid` as if that user's process had made them: for connections and
/// listeners a test drives itself. Only this thread changes (setfsuid is per-thread);
/// nothing else may run on it meanwhile, so `task` must not yield to an async runtime.
pub fn as_socket_owner<T>(uid: u32, task: impl FnOnce() -> T) -> T {
    use nix::unistd::{Uid, setfsuid};
    let previous = setfsuid(Uid::from_raw(uid));
    // setfsuid reports the previous value even when it fails: ask again to know.
    assert_eq!(
        setfsuid(Uid::from_raw(uid)).as_raw(),
        uid,
        "setfsuid({uid}) failed"
    );
    let result = task();
    setfsuid(previous);
    result
}

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        USERS.fetch_add(1, Ordering::Relaxed)
    )
}

impl Drop for OsUser {
    fn drop(&mut self) {
        if let Err(error) = run_retrying(Command::new("userdel").arg(&self.name)) {
            eprintln!("warning: could not delete test user {}: {error}", self.name);
        }
    }
}

/// useradd/userdel fail while another process (a parallel test) holds the passwd lock.
fn retry_while_locked(command: &mut Command) {
    if let Err(error) = run_retrying(command) {
        panic!("{error}");
    }
}

fn run_retrying(command: &mut Command) -> Result<(), String> {
    // Ok(Err(…)): a failure that retrying cannot help; Err(…): the lock, retry.
    let finished = poll(Duration::from_secs(30), || {
        let output = match command.output() {
            Ok(output) => output,
            Err(e) => return Ok(Err(format!("cannot run {command:?}: {e}"))),
        };
        if output.status.success() {
            return Ok(Ok(()));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let error = format!("{command:?} failed ({}): {stderr}", output.status);
        if stderr.contains("lock") {
            Err(error)
        } else {
            Ok(Err(error))
        }
    });
    finished.and_then(|result| result)
}
