//! New ed25519 key pairs (no passphrase) for the sshd servers and ssh clients of tests.

use std::path::Path;
use std::process::Command;

use super::netns::run_ok;

/// The `ssh-keygen` command line writing a new key pair to `path` and `path.pub`.
pub fn ssh_keygen_command_line(path: &Path, comment: &str) -> Vec<String> {
    [
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        comment,
        "-f",
    ]
    .iter()
    .map(|arg| arg.to_string())
    .chain([path.display().to_string()])
    .collect()
}

/// Writes a new key pair to `path` and `path.pub` (as the calling user, root).
pub fn ssh_keygen(path: &Path, comment: &str) {
    let args = ssh_keygen_command_line(path, comment);
    run_ok(Command::new(&args[0]).args(&args[1..]));
}
