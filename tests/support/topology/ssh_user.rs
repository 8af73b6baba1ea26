//! An OS user ready to use `ssh`: an ed25519 key pair made by the user, and an ssh client
//! config that trusts exactly the target's host key whatever name or address is used (a
//! test may reach the target as `198.18.2.2`, by its hostname from infra, or through an
//! alias address of the agent) and never prompts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::super::netns::run_ok;
use super::super::os_user::OsUser;
use super::super::ssh_keygen::ssh_keygen_command_line;

/// The user's private key, relative to the home directory.
pub const PRIVATE_KEY: &str = ".ssh/id_ed25519";

/// Creates `~/.ssh` with a fresh key pair (generated as the user) and a client config
/// trusting `target_host_key` (the target's public host key line) for every host.
pub fn prepare(user: &OsUser, target_host_key: &str) {
    let ssh_dir = user.home().join(".ssh");
    as_user(
        user,
        &["mkdir", "-m", "700", "-p", &ssh_dir.to_string_lossy()],
    );
    let key = user.home().join(PRIVATE_KEY);
    let keygen = ssh_keygen_command_line(&key, &format!("{}@topology", user.name));
    as_user(user, &keygen.iter().map(String::as_str).collect::<Vec<_>>());
    write_owned(
        user,
        &ssh_dir.join("known_hosts"),
        &format!("* {}\n", target_host_key.trim()),
    );
    // BatchMode: never prompt (a prompt would hang the test). CheckHostIP and
    // UpdateHostKeys off: ssh must not rewrite known_hosts behind the test's back.
    write_owned(
        user,
        &ssh_dir.join("config"),
        "Host *\n    BatchMode yes\n    StrictHostKeyChecking yes\n    CheckHostIP no\n    \
         UpdateHostKeys no\n    LogLevel ERROR\n",
    );
}

/// The user's public key line.
pub fn public_key(user: &OsUser) -> String {
    let path = public_key_path(user);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn public_key_path(user: &OsUser) -> PathBuf {
    user.home().join(format!("{PRIVATE_KEY}.pub"))
}

fn as_user(user: &OsUser, args: &[&str]) {
    run_ok(
        Command::new("runuser")
            .args(["-u", &user.name, "--"])
            .args(args),
    );
}

fn write_owned(user: &OsUser, path: &Path, content: &str) {
    fs::write(path, content).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
    run_ok(Command::new("chown").args([&format!("{}:", user.name), &*path.to_string_lossy()]));
}
