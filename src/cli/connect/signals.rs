//! The signals that end `boundary connect` gracefully: Ctrl-C, SIGTERM, and SIGHUP (the
//! terminal went away, or ssh ended the ProxyCommand). Each cancels the session first.

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::proxy::Ending;

pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

impl Signals {
    /// Installs the handlers; from now on these signals no longer kill the process.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Resolves at the next signal.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
            _ = self.hangup.recv() => {}
        }
    }

    /// [`Self::recv`] as a proxy stop condition.
    pub async fn shutdown(&mut self) -> Ending {
        self.recv().await;
        Ending::Shutdown
    }
}
