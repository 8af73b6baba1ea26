//! A real OpenSSH server on a free local port, with a host key and a client key made for
//! this run; root logs in with the client key only. Killed when dropped.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::dev::free_port;
use super::support::server_process::ServerProcess;
use super::support::ssh_keygen::ssh_keygen;
use super::support::wait::{READY_TIMEOUT, poll_until, tcp_accepts};

pub struct Sshd {
    _process: ServerProcess,
    pub port: u16,
    /// Declared last: removed after sshd is killed.
    dir: tempfile::TempDir,
}

impl Sshd {
    pub fn start() -> Sshd {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path();
        for key in ["host_key", "client_key"] {
            ssh_keygen(&path.join(key), key);
        }
        std::fs::copy(path.join("client_key.pub"), path.join("authorized_keys"))
            .expect("authorized_keys");
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nPidFile {dir}/sshd.pid\n\
             AuthorizedKeysFile {dir}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n",
            dir = path.display()
        );
        std::fs::write(path.join("sshd_config"), config).expect("sshd_config");
        // sshd's privilege separation directory; Debian creates it only when the service runs.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let mut command = Command::new("/usr/sbin/sshd");
        command
            .args(["-D", "-e", "-f"])
            .arg(path.join("sshd_config"));
        let process = ServerProcess::spawn("sshd", command, path);
        let address = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
        poll_until(
            &format!("sshd to listen on {address}"),
            READY_TIMEOUT,
            || {
                process.assert_running();
                tcp_accepts(address)
            },
        );
        Sshd {
            _process: process,
            port,
            dir,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Client options that make `ssh` use only this run's key and known_hosts file and
    /// never prompt.
    pub fn client_options(&self) -> Vec<String> {
        let dir = self.dir.path();
        [
            "-F",
            "/dev/null",
            "-i",
            &dir.join("client_key").display().to_string(),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            &format!("UserKnownHostsFile={}", dir.join("known_hosts").display()),
            "-o",
            "LogLevel=ERROR",
            "-l",
            "root",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }
}
