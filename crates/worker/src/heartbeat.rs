//! Registration and the heartbeat: how the worker stays known to the controller and learns
//! which of its live sessions were canceled.

use super::live::{LiveConnections, StopReason};
use super::session_cache::SessionCache;
use super::upstream::{ControllerLink, UpstreamError};
use boundary_wire::api::session::status;
use boundary_wire::api::worker::{RegisterWorkerRequest, RegisterWorkerResponse};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Backoff between registration attempts while the controller is down.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(10);
/// The heartbeat also carries cancellations: a session canceled at the controller must
/// reach its live connections within a few seconds, whatever interval the controller
/// asks for (more frequent heartbeats are harmless to it).
const MAX_HEARTBEAT_PERIOD: Duration = Duration::from_secs(2);

/// Registers, retrying with capped exponential backoff until it succeeds or `stop` fires
/// (then `None`).
pub async fn register(
    link: &ControllerLink,
    request: &RegisterWorkerRequest,
    stop: &CancellationToken,
) -> Option<RegisterWorkerResponse> {
    let mut delay = FIRST_RETRY;
    let mut attempts = 0u32;
    loop {
        match link.register(request).await {
            Ok(response) => {
                tracing::info!(worker_id = %response.worker_id, name = %request.name, address = %request.address, "registered with the controller");
                return Some(response);
            }
            Err(e) => {
                attempts += 1;
                // The first failures are expected while a controller starts; say so once
                // it has been a while, and always for a rejected credential.
                if matches!(e, UpstreamError::Unauthenticated(_)) || attempts == 8 {
                    tracing::warn!(error = %e, "cannot register with the controller; retrying");
                } else {
                    tracing::debug!(error = %e, "cannot register with the controller yet; retrying");
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_RETRY);
    }
}

/// Heartbeats until `stop` fires. Stops the live connections of sessions the controller
/// reports `canceling` or `terminated`; re-registers when the controller no longer knows
/// this worker (for instance after it lost its database).
pub async fn run(
    link: ControllerLink,
    request: RegisterWorkerRequest,
    interval_seconds: u32,
    live: Arc<LiveConnections>,
    sessions: Arc<SessionCache>,
    stop: CancellationToken,
) {
    let mut period = heartbeat_period(interval_seconds);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        match link.heartbeat(&request.address, live.session_ids()).await {
            Ok(response) => {
                if failing {
                    tracing::info!("controller reachable again");
                    failing = false;
                }
                for session in response.sessions {
                    if session.status == status::CANCELING || session.status == status::TERMINATED {
                        let stopped =
                            live.stop_session(&session.session_id, StopReason::SessionCanceled);
                        sessions.forget(&session.session_id);
                        if stopped > 0 {
                            tracing::info!(session_id = %session.session_id, status = %session.status, connections = stopped, "closing connections of an ended session");
                        }
                    }
                }
            }
            Err(UpstreamError::Unauthenticated(_) | UpstreamError::NotFound) => {
                tracing::warn!("the controller no longer knows this worker; registering again");
                match register(&link, &request, &stop).await {
                    Some(response) => {
                        period = heartbeat_period(response.heartbeat_interval_seconds)
                    }
                    None => return,
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "heartbeat failed; live connections continue");
                    failing = true;
                }
            }
        }
    }
}

fn heartbeat_period(interval_seconds: u32) -> Duration {
    Duration::from_secs(u64::from(interval_seconds.max(1))).min(MAX_HEARTBEAT_PERIOD)
}
