//! Values shared by the core's unit tests.

use super::clock::{Moment, Now};
use boundary_wire::api::session::SessionAuthorization;
use boundary_wire::api::{ScopeInfo, Secret, Timestamp};
use time::macros::datetime;

/// The wall clock at moment 0 in tests.
pub const EPOCH: Timestamp = datetime!(2030-01-01 00:00 UTC);

/// `secs` after the test epoch, on both clocks.
pub fn at(secs: u64) -> Now {
    Now::new(
        Moment::from_secs(secs),
        EPOCH + time::Duration::seconds(secs as i64),
    )
}

/// The wall time `secs` after the test epoch.
pub fn wall(secs: u64) -> Timestamp {
    EPOCH + time::Duration::seconds(secs as i64)
}

/// An authorize-session answer expiring `expires_after` seconds after the test epoch.
pub fn authorization(
    session_id: &str,
    endpoint_port: u32,
    expires_after: u64,
    connection_limit: i32,
) -> SessionAuthorization {
    SessionAuthorization {
        session_id: session_id.into(),
        target_id: "ttcp_1234567890".into(),
        scope: ScopeInfo::default(),
        created_time: EPOCH,
        user_id: "u_1234567890".into(),
        host_id: String::new(),
        host_set_id: String::new(),
        kind: "tcp".into(),
        authorization_token: Secret::new("opaque-token"),
        connection_limit,
        endpoint: format!("tcp://10.0.0.5:{endpoint_port}"),
        endpoint_port,
        expiration: wall(expires_after),
        credentials: vec![],
    }
}
