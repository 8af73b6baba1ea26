//! A raw TCP connection to an alias address from some namespace as some user: what came
//! back before the connection ended. sshd speaks first (`SSH-2.0-…`), so the first bytes
//! tell whether the connection reached the target through the worker.

use std::net::SocketAddr;
use std::process::ExitStatus;

use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::support::process::{HANG_TIMEOUT, run_with_timeout};

/// bash's exit status when the connection itself failed (refused, unreachable).
const CONNECT_FAILED: i32 = 100;
/// `timeout`'s exit status: the connection stayed open without a word.
const TIMED_OUT: i32 = 124;

/// How a connection ended.
pub struct Probe {
    /// Up to 4 bytes received (enough for `SSH-`).
    pub received: String,
    pub status: ExitStatus,
    pub stderr: String,
}

impl Probe {
    /// The target's sshd answered.
    pub fn reached_sshd(&self) -> bool {
        self.received.starts_with("SSH-")
    }

    /// The connection was refused, reset, or closed without a byte (as opposed to
    /// reaching the target, or being left open).
    pub fn was_refused(&self) -> bool {
        self.received.is_empty() && self.status.code() != Some(TIMED_OUT)
    }

    /// What happened, for assertion messages.
    pub fn describe(&self) -> String {
        let how = match self.status.code() {
            Some(CONNECT_FAILED) => "the connection failed".to_owned(),
            Some(TIMED_OUT) => "the connection stayed open without data".to_owned(),
            _ => format!("the connection ended ({})", self.status),
        };
        format!(
            "{how}; received {:?}; stderr: {}",
            self.received,
            self.stderr.trim()
        )
    }
}

/// Connects from `netns` as `user` (root when `None`) to `address` with bash's
/// `/dev/tcp` and reads what arrives within 20 s (a bound that only stops a connection
/// left open; sshd's banner comes at once).
pub fn connect_and_read(netns: &Netns, user: Option<&OsUser>, address: SocketAddr) -> Probe {
    let script = format!(
        "exec 3<>/dev/tcp/{}/{} || exit {CONNECT_FAILED}; exec timeout 20 head -c 4 <&3",
        address.ip(),
        address.port()
    );
    let mut command = netns.command_for(user, "bash");
    command.args(["-c", &script]);
    let output = run_with_timeout(&mut command, None, HANG_TIMEOUT);
    Probe {
        received: String::from_utf8_lossy(&output.stdout).into_owned(),
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
