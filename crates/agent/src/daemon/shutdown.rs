//! Stopping: sessions end (cancelled at the worker), the resolver configuration goes
//! back, the DNS server stops, every address the agent added is removed, and the
//! crash-recovery state file is deleted once nothing is left to undo. The operational
//! state file stays. After a clean stop the machine's resolver configuration and
//! addresses are exactly what they were before the agent started.

use std::time::Duration;

use super::actor::Actor;
use super::controller::with_causes;
use super::work::Work;

/// How long tunnelled connections and session cancels may take to finish at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Actor {
    /// The core's part of a clean stop: every session ends, alias addresses and
    /// listeners go, the resolver configuration is restored.
    pub async fn stand_down(&mut self) {
        let commands = self.core.handle_shutdown(self.clock.now());
        self.drain(Work::from_core(commands)).await;
    }

    /// Undoes everything this run did to the machine (also after a failed start).
    /// Returns whether everything could be undone.
    pub async fn teardown(&mut self) -> bool {
        // The resolver first, while the DNS server still answers: the machine is never
        // left pointing at a server that is gone.
        self.restore_resolver().await;
        self.proxy.shutdown(SHUTDOWN_GRACE).await;
        self.cancels.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.cancels.wait())
            .await
            .is_err()
        {
            tracing::info!(
                "some session cancels did not finish; those sessions end when they expire"
            );
        }
        self.dns.shutdown().await;
        let clean = match self.host.undo_all().await {
            Ok(report) => {
                for failure in &report.failures {
                    tracing::error!(error = %with_causes(failure), "could not undo a change to the machine");
                }
                report.failures.is_empty()
            }
            Err(error) => {
                tracing::error!(%error, "cannot update the state file while undoing the agent's changes");
                false
            }
        };
        self.host.remove_state_file_if_clean();
        clean
    }
}
