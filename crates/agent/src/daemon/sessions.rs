//! The sessions part of the actor: the proxy listeners on alias addresses (and the
//! tunnelled connections they accepted), the inputs parked while a session is being
//! authorized, and the session cancels still running.
//!
//! Everything here waits on, carries or ends a session; none of it changes the machine or
//! talks to the controller on a session's behalf except the cancel at the worker, which
//! is best effort and needs no answer.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::task::TaskTracker;

use super::broker::ActorBroker;
use super::controller::{cancel_session, with_causes};
use super::events::ActorHandle;
use super::parking::{Parked, ParkingLot};
use crate::os::PeerUidLookup;
use crate::proxy::{ProxyListeners, SessionTunnel};
use boundary_agent_core::{CancelRequest, SessionKey};

/// How long tunnelled connections and session cancels may take to finish at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Listeners, parked inputs and running cancels.
pub struct Sessions {
    proxy: ProxyListeners,
    parked: ParkingLot,
    /// Session cancels still running (waited for, briefly, at shutdown).
    cancels: TaskTracker,
}

impl Sessions {
    /// Accepted connections are decided by the actor behind `actor`; `peers` tells whose
    /// they are.
    pub fn new(actor: ActorHandle, peers: Arc<dyn PeerUidLookup>) -> Sessions {
        Sessions {
            proxy: ProxyListeners::new(Arc::new(ActorBroker(actor)), peers),
            parked: ParkingLot::default(),
            cancels: TaskTracker::new(),
        }
    }

    /// Listens on (addr, port). The error (logged here) is for the core's
    /// `handle_listen_failed`.
    pub fn listen(&mut self, addr: IpAddr, port: u16) -> Result<(), String> {
        self.proxy.listen(addr, port).map_err(|error| {
            let error = with_causes(&error);
            tracing::warn!(%addr, port, %error, "cannot listen on an alias address");
            error
        })
    }

    /// Closes the listener on (addr, port); its accepted connections keep running.
    pub async fn stop_listening(&mut self, addr: IpAddr, port: u16) {
        self.proxy.stop(addr, port).await;
    }

    /// Cancels the session at the worker, in the background (waited for at shutdown).
    pub fn cancel(&self, request: CancelRequest<SessionTunnel>) {
        tracing::info!(alias = %request.key.alias, uid = request.key.uid, session_id = %request.session_id, reason = %request.reason, "session ended");
        self.cancels.spawn(cancel_session(request));
    }

    /// Parks `input` until the core says `key` settled.
    pub fn park(&mut self, key: SessionKey, input: Parked) {
        self.parked.park(key, input);
    }

    /// `key` settled: the inputs parked on it, oldest first, to be asked again.
    pub fn settled(&mut self, key: &SessionKey) -> Vec<Parked> {
        self.parked.take(key)
    }

    /// Stops every listener and waits (at most [`SHUTDOWN_GRACE`] each) for the tunnelled
    /// connections and the session cancels to finish.
    pub async fn shut_down(&mut self) {
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
    }
}
