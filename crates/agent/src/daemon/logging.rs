//! The daemon's logs: `log_level`, `log_file` and `log_to_stdout`, with the level and the
//! file changeable on reload.
//!
//! Without a `log_file` the agent logs to stdout (journald under systemd); with one it
//! logs there, and to stdout as well when `log_to_stdout` is set. Crates that log every
//! request or packet (HTTP, TLS, netlink, DNS parsing) are held at `warn` unless the
//! chosen level is quieter still. Nothing here ever sees a token: callers log ids only.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

use crate::config::{AgentConfig, LogLevel};
use crate::private_fs::{
    PrivateOpen, PrivatePathError, check_private_dir, open_private_file, parent_dir,
};

/// Crates whose INFO/DEBUG output is per request or per packet.
const NOISY_CRATES: &[&str] = &[
    "hickory_proto",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "tungstenite",
    "tokio_tungstenite",
    "netlink_proto",
    "netlink_sys",
    "rtnetlink",
    "notify",
    "notify_debouncer_full",
    "mio",
    "tower_http",
    "axum",
];

/// Changes the running logging setup (reload).
pub struct Logging {
    filter: reload::Handle<EnvFilter, Registry>,
    file: Arc<ArcSwapOption<File>>,
    stdout: Arc<AtomicBool>,
    log_to_stdout: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("cannot open the log file {path} (log_file): {source}")]
    OpenFile {
        path: PathBuf,
        #[source]
        source: PrivatePathError,
    },
    #[error("cannot set up logging: {0}")]
    Install(String),
    #[error("cannot change the log level: {0}")]
    Reload(String),
}

impl Logging {
    /// Installs the process-wide subscriber for `config`.
    pub fn init(config: &AgentConfig) -> Result<Logging, LoggingError> {
        let file = Arc::new(ArcSwapOption::empty());
        if let Some(path) = &config.log_file {
            file.store(Some(Arc::new(open_log_file(path)?)));
        }
        let stdout = Arc::new(AtomicBool::new(
            config.log_file.is_none() || config.log_to_stdout,
        ));
        let (filter, handle) = reload::Layer::new(filter_for(config.log_level));
        let stdout_layer = tracing_subscriber::fmt::layer()
            .with_ansi(io::stdout().is_terminal())
            .with_writer(StdoutWriter(Arc::clone(&stdout)));
        let file_layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(FileWriter(Arc::clone(&file)));
        tracing_subscriber::registry()
            .with(filter)
            .with(stdout_layer)
            .with(file_layer)
            .try_init()
            .map_err(|e| LoggingError::Install(e.to_string()))?;
        Ok(Logging {
            filter: handle,
            file,
            stdout,
            log_to_stdout: config.log_to_stdout,
        })
    }

    pub fn set_level(&self, level: LogLevel) -> Result<(), LoggingError> {
        self.filter
            .reload(filter_for(level))
            .map_err(|e| LoggingError::Reload(e.to_string()))
    }

    /// Logs to `path` from now on (`None`: no file, stdout instead). On error the
    /// previous file stays in use.
    pub fn set_file(&self, path: Option<&Path>) -> Result<(), LoggingError> {
        let file = path.map(open_log_file).transpose()?;
        let has_file = file.is_some();
        self.file.store(file.map(Arc::new));
        self.stdout
            .store(!has_file || self.log_to_stdout, Ordering::Relaxed);
        Ok(())
    }
}

/// The filter for `level`, with the noisy crates at `warn` (or quieter).
pub fn filter_for(level: LogLevel) -> EnvFilter {
    let noisy = level.max(LogLevel::Warn);
    let mut directives = level.as_str().to_owned();
    for krate in NOISY_CRATES {
        directives.push_str(&format!(",{krate}={noisy}"));
    }
    EnvFilter::new(directives)
}

/// Log lines can name users and hosts: the file is 0640 at most, in a directory only
/// root can change, and never opened through a symlink.
fn open_log_file(path: &Path) -> Result<File, LoggingError> {
    check_private_dir(parent_dir(path))
        .and_then(|()| open_private_file(path, PrivateOpen::Append { mode: 0o640 }))
        .map_err(|source| LoggingError::OpenFile {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes to stdout while enabled, else nowhere.
struct StdoutWriter(Arc<AtomicBool>);

/// Writes to the current log file, if any.
struct FileWriter(Arc<ArcSwapOption<File>>);

/// One event's destination.
enum Sink {
    Stdout(io::Stdout),
    File(Arc<File>),
    Nowhere,
}

impl<'a> MakeWriter<'a> for StdoutWriter {
    type Writer = Sink;

    fn make_writer(&'a self) -> Sink {
        if self.0.load(Ordering::Relaxed) {
            Sink::Stdout(io::stdout())
        } else {
            Sink::Nowhere
        }
    }
}

impl<'a> MakeWriter<'a> for FileWriter {
    type Writer = Sink;

    fn make_writer(&'a self) -> Sink {
        self.0.load_full().map_or(Sink::Nowhere, Sink::File)
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(buf),
            Sink::File(file) => (&**file).write(buf),
            Sink::Nowhere => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::File(file) => (&**file).flush(),
            Sink::Nowhere => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noisy_crates_stay_at_warn_unless_quieter() {
        let debug = filter_for(LogLevel::Debug).to_string();
        assert!(debug.split(',').any(|d| d == "debug"), "{debug}");
        assert!(debug.contains("hickory_proto=warn"), "{debug}");
        let error = filter_for(LogLevel::Error).to_string();
        assert!(error.contains("reqwest=error"), "{error}");
    }
}
