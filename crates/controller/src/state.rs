//! What every handler shares.

use crate::passwords::PasswordWorkers;
use crate::seal::SealKey;
use crate::store::Store;
use boundary_net::worker_auth::WorkerAuthVerifier;
use std::sync::Arc;
use std::time::Duration;

pub struct ControllerState {
    pub store: Arc<dyn Store>,
    /// Seals session private keys and credential secrets.
    pub root_key: SealKey,
    pub worker_auth: WorkerAuthVerifier,
    /// How often workers heartbeat; one silent for three intervals gets no new sessions.
    pub heartbeat_interval: Duration,
    /// Where password hashing and login checks run (bounded: see the module).
    pub passwords: PasswordWorkers,
}

pub type AppState = Arc<ControllerState>;
