//! Long-running processes of a topology with their output in log files, so a failing test
//! can show what the servers said.

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::super::netns::Netns;
use super::super::server_process::{TAIL_LINES, read_lossy, tail};
use super::super::wait::poll_until;

/// Log files `<dir>/<name>.log` of the processes started through [`ProcessLogs::spawn`].
pub struct ProcessLogs {
    dir: PathBuf,
    names: Mutex<Vec<String>>,
}

impl ProcessLogs {
    pub fn new(dir: PathBuf) -> ProcessLogs {
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        ProcessLogs {
            dir,
            names: Mutex::new(Vec::new()),
        }
    }

    /// Starts `command` (made with `netns.command(…)`) through [`Netns::spawn`], stdout and
    /// stderr both appended to the log `name` (unique within the topology).
    pub fn spawn(&self, netns: &Netns, name: &str, mut command: Command) -> u32 {
        {
            let mut names = self.names.lock().unwrap();
            assert!(
                !names.iter().any(|n| n == name),
                "a process with log name {name:?} was already started"
            );
            names.push(name.to_owned());
        }
        let path = self.path(name);
        let log =
            File::create(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        let log_for_stderr = log.try_clone().expect("duplicate the log file descriptor");
        command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr);
        netns.spawn(command).pid
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    /// The log so far (empty if nothing was written yet).
    pub fn read(&self, name: &str) -> String {
        read_lossy(&self.path(name))
    }

    /// Waits until the log contains `needle`; returns the whole log.
    pub fn wait_for(&self, name: &str, needle: &str, timeout: Duration) -> String {
        poll_until(&format!("{needle:?} in log {name}"), timeout, || {
            let log = self.read(name);
            if log.contains(needle) {
                Ok(log)
            } else {
                Err(format!("log so far:\n{}", tail(&log)))
            }
        })
    }

    /// Prints the last lines of every log to stderr (libtest shows it for failed tests).
    pub fn dump(&self) {
        let names = self.names.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for name in names {
            let path = self.path(&name);
            eprintln!(
                "----- last {TAIL_LINES} lines of {} -----\n{}",
                path.display(),
                tail(&read_lossy(&path))
            );
        }
    }
}
