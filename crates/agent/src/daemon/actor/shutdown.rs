//! Stopping: sessions end (cancelled at the worker), the resolver configuration goes
//! back, the DNS server stops, every address the agent added is removed, and the
//! crash-recovery state file is deleted once nothing is left to undo. The operational
//! state file stays. After a clean stop the machine's resolver configuration and
//! addresses are exactly what they were before the agent started.

use super::Actor;
use super::work::Work;

impl Actor {
    /// The core's part of a clean stop: every session ends, alias addresses and
    /// listeners go, the resolver configuration is restored.
    pub async fn stand_down(&mut self) {
        let now = self.decisions.now();
        let commands = self.decisions.core_mut().handle_shutdown(now);
        self.drain(Work::from_core(commands)).await;
    }

    /// Undoes everything this run did to the machine (also after a failed start).
    /// Returns whether everything could be undone.
    pub async fn teardown(&mut self) -> bool {
        // The resolver first, while the DNS server still answers: the machine is never
        // left pointing at a server that is gone.
        self.machine.restore_resolver().await;
        self.sessions.shut_down().await;
        self.machine.shut_down().await
    }
}
