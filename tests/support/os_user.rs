//! Real OS users for tests (`useradd --system --no-create-home`), deleted on drop.
//!
//! Users are host-wide (not per network namespace); names are unique per run
//! (`<prefix><pid>x<n>`), so parallel test processes never share one.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::netns::run_ok;

static USERS: AtomicU32 = AtomicU32::new(0);

pub struct OsUser {
    pub name: String,
    pub uid: u32,
}

impl OsUser {
    /// Creates a system user without a home directory. `prefix`: a few lower-case
    /// letters (user names are limited to 32 characters).
    pub fn create(prefix: &str) -> OsUser {
        let name = format!(
            "{prefix}{}x{}",
            std::process::id(),
            USERS.fetch_add(1, Ordering::Relaxed)
        );
        retry_while_locked(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            &name,
        ]));
        // The guard exists before anything else can fail, so the user is always deleted.
        let mut user = OsUser { name, uid: 0 };
        let uid = run_ok(Command::new("id").args(["-u", &user.name]));
        user.uid = uid.trim().parse().expect("id -u prints a number");
        user
    }
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
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let output = command
            .output()
            .map_err(|e| format!("cannot run {command:?}: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !stderr.contains("lock") || Instant::now() > deadline {
            return Err(format!("{command:?} failed ({}): {stderr}", output.status));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
