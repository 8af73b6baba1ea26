//! The background sweep that terminates sessions.

use super::fixtures::*;
use boundary_controller::store::*;
use std::sync::Arc;

pub async fn sweep_rules(store: Arc<dyn Store>) {
    // Expired with an open connection: terminated, connection closed as timed out.
    active_session(&store, "s_expired", -1, 100).await;
    store
        .authorize_connection(&connection("sc_e", "s_expired", 30), at(30))
        .await
        .unwrap();
    // Expired while canceling keeps the cancel reason.
    active_session(&store, "s_expired_cancel", -1, 100).await;
    store
        .cancel_session("s_expired_cancel", None, "canceled", at(40))
        .await
        .unwrap();
    // Canceling without open connections: terminated, reason kept.
    active_session(&store, "s_canceled", -1, 1000).await;
    store
        .authorize_connection(&connection("sc_c", "s_canceled", 30), at(30))
        .await
        .unwrap();
    store
        .close_connection("sc_c", 1, 1, "closed by end-user", at(35))
        .await
        .unwrap();
    store
        .cancel_session("s_canceled", None, "closed by end-user", at(40))
        .await
        .unwrap();
    // Canceling with an open connection: waits.
    active_session(&store, "s_draining", -1, 1000).await;
    store
        .authorize_connection(&connection("sc_d", "s_draining", 30), at(30))
        .await
        .unwrap();
    store
        .cancel_session("s_draining", None, "canceled", at(40))
        .await
        .unwrap();
    // Limit used up, nothing open: terminated.
    active_session(&store, "s_used", 1, 1000).await;
    store
        .authorize_connection(&connection("sc_u", "s_used", 30), at(30))
        .await
        .unwrap();
    store
        .close_connection("sc_u", 1, 1, "closed by end-user", at(35))
        .await
        .unwrap();
    // Limit used up, one still open: stays.
    active_session(&store, "s_used_open", 1, 1000).await;
    store
        .authorize_connection(&connection("sc_uo", "s_used_open", 30), at(30))
        .await
        .unwrap();
    // Untouched: active under its limit, pending unexpired.
    active_session(&store, "s_live", 5, 1000).await;
    store
        .create_session(&session("s_waiting", -1, 1000))
        .await
        .unwrap();

    let mut swept = store.sweep_sessions(at(200)).await.unwrap();
    swept.sort();
    assert_eq!(
        swept,
        ["s_canceled", "s_expired", "s_expired_cancel", "s_used"]
    );

    let expired = store.get_session("s_expired").await.unwrap();
    assert_eq!(expired.status, "terminated");
    assert_eq!(expired.termination_reason.as_deref(), Some("timed out"));
    let conn = &store.session_connections("s_expired").await.unwrap()[0];
    assert_eq!(
        (conn.status.as_str(), conn.closed_reason.as_deref()),
        ("closed", Some("timed out"))
    );
    let reason = |id: &'static str| {
        let store = store.clone();
        async move { store.get_session(id).await.unwrap().termination_reason }
    };
    assert_eq!(
        reason("s_expired_cancel").await.as_deref(),
        Some("canceled")
    );
    assert_eq!(
        reason("s_canceled").await.as_deref(),
        Some("closed by end-user")
    );
    assert_eq!(reason("s_used").await.as_deref(), Some("connection limit"));
    for (id, status) in [
        ("s_draining", "canceling"),
        ("s_used_open", "active"),
        ("s_live", "active"),
        ("s_waiting", "pending"),
    ] {
        assert_eq!(store.get_session(id).await.unwrap().status, status, "{id}");
    }
    let states = store.session_states("s_used").await.unwrap();
    assert_eq!(
        states.iter().map(|s| s.status.as_str()).collect::<Vec<_>>(),
        ["pending", "active", "terminated"]
    );
    assert_eq!(
        states[2],
        SessionStateRecord {
            status: "terminated".into(),
            start: at(200),
            end: None
        }
    );

    assert!(store.sweep_sessions(at(201)).await.unwrap().is_empty());
}

/// Controllers sweeping at the same moment: each session is terminated exactly once, and
/// no sweep fails.
pub async fn sweep_race(stores: &[Arc<dyn Store>]) {
    let mut expected = Vec::new();
    for i in 0..12 {
        let id = format!("s_sweep{i:02}");
        active_session(&stores[0], &id, -1, 100).await;
        if i % 3 == 0 {
            stores[0]
                .authorize_connection(&connection(&format!("sc_sweep{i:02}"), &id, 30), at(30))
                .await
                .unwrap();
        }
        expected.push(id);
    }
    let sweeps: Vec<_> = (0..4)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move { store.sweep_sessions(at(200)).await })
        })
        .collect();
    let mut swept = Vec::new();
    for sweep in sweeps {
        swept.extend(
            sweep
                .await
                .expect("task")
                .expect("a concurrent sweep must not fail"),
        );
    }
    swept.sort();
    assert_eq!(
        swept, expected,
        "every session terminated by exactly one sweep"
    );
    for id in &expected {
        let states = stores[0].session_states(id).await.unwrap();
        assert_eq!(
            states.last().map(|s| s.status.as_str()),
            Some("terminated"),
            "{id}"
        );
        assert_eq!(states.len(), 3, "{id}: {states:?}");
    }
}
