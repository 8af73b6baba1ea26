use super::*;
use crate::test_support::authorization;

fn key(alias: &str, uid: u32) -> SessionKey {
    SessionKey {
        alias: alias.into(),
        uid,
    }
}

fn active(session_id: &str, left: Option<u32>) -> SessionState<&'static str> {
    SessionState::Active(Box::new(ActiveSession {
        session_id: session_id.into(),
        token_id: "at_1".into(),
        alias_value: "db".into(),
        port: 22,
        expires_at: Moment::from_secs(100),
        connection_limit: left.map_or(-1, |l| l as i32),
        connections_left: left,
        open_connections: 0,
        last_activity: Moment::ORIGIN,
        authorization: authorization(session_id, 22, 100, -1),
        tunnel: "tunnel-data",
    }))
}

#[test]
fn states_by_alias_and_uid() {
    let mut t = SessionTable::new();
    t.set(
        key("db", 1),
        SessionState::Authorizing {
            token_id: "at_1".into(),
            since: Moment::ORIGIN,
        },
    );
    assert!(t.is_authorizing(&key("db", 1), "at_1"));
    assert!(!t.is_authorizing(&key("db", 1), "at_2"));
    assert!(!t.is_authorizing(&key("db", 2), "at_1"));
    assert!(t.alias_in_use("db"));
    t.set(key("db", 1), active("s_1", None));
    assert!(matches!(t.remove(&key("db", 1)), Some(Removed::Active(s)) if s.session_id == "s_1"));
    assert!(!t.alias_in_use("db"));
    t.set(
        key("db", 1),
        SessionState::Failed {
            error: "403".into(),
            retry_at: Moment::from_secs(10),
        },
    );
    assert!(
        !t.alias_in_use("db"),
        "a failed key does not hold the alias"
    );
    assert!(matches!(t.remove(&key("db", 1)), Some(Removed::Failed)));
    assert!(t.remove(&key("db", 1)).is_none());
}

#[test]
fn keys_come_out_in_alias_then_uid_order() {
    let mut t = SessionTable::new();
    for (alias, uid) in [("web", 2), ("db", 9), ("web", 1), ("db", 3)] {
        t.set(key(alias, uid), active("s", None));
    }
    let keys = t.keys_where(|_, _| true);
    assert_eq!(
        keys,
        [key("db", 3), key("db", 9), key("web", 1), key("web", 2)]
    );
    assert_eq!(t.active_of(2).len(), 1);
}

#[test]
fn connections_count_down_the_limit() {
    let mut t = SessionTable::new();
    t.set(key("db", 1), active("s_1", Some(2)));
    let a = t
        .open_connection(&key("db", 1), Moment::from_secs(1))
        .unwrap();
    assert_eq!(a.session_id, "s_1");
    assert_eq!(a.tunnel, "tunnel-data");
    let b = t
        .open_connection(&key("db", 1), Moment::from_secs(2))
        .unwrap();
    assert_ne!(a.connection, b.connection);
    let Some(SessionState::Active(s)) = t.get("db", 1) else {
        panic!("still active");
    };
    assert!(s.is_exhausted());
    assert_eq!(s.open_connections, 2);
    assert_eq!(
        t.close_connection(a.connection, Moment::from_secs(3)),
        Some(key("db", 1))
    );
    assert_eq!(
        t.close_connection(a.connection, Moment::from_secs(3)),
        None,
        "idempotent"
    );
    let Some(SessionState::Active(s)) = t.get("db", 1) else {
        panic!("still active");
    };
    assert_eq!(s.open_connections, 1);
    assert_eq!(s.last_activity, Moment::from_secs(3));
}

#[test]
fn the_worker_count_overrides_the_estimate() {
    let mut t = SessionTable::new();
    t.set(key("db", 1), active("s_1", Some(5)));
    let c = t.open_connection(&key("db", 1), Moment::ORIGIN).unwrap();
    assert_eq!(
        t.record_connections_left(c.connection, 0),
        Some(key("db", 1))
    );
    assert!(matches!(t.get("db", 1), Some(SessionState::Active(s)) if s.is_exhausted()));
    assert_eq!(
        t.record_connections_left(c.connection, -1),
        Some(key("db", 1))
    );
    assert!(
        matches!(t.get("db", 1), Some(SessionState::Active(s)) if s.connections_left.is_none())
    );
}

#[test]
fn connections_of_a_replaced_session_do_not_touch_the_new_one() {
    let mut t = SessionTable::new();
    t.set(key("db", 1), active("s_old", None));
    let c = t.open_connection(&key("db", 1), Moment::ORIGIN).unwrap();
    t.remove(&key("db", 1));
    t.set(key("db", 1), active("s_new", None));
    assert_eq!(t.record_connections_left(c.connection, 0), None);
    assert_eq!(t.close_connection(c.connection, Moment::from_secs(1)), None);
    assert!(
        matches!(t.get("db", 1), Some(SessionState::Active(s)) if s.session_id == "s_new" && !s.is_exhausted())
    );
}

#[test]
fn only_some_reasons_cancel_at_the_worker() {
    assert!(EndReason::IdleTimeout.cancels_at_worker());
    assert!(EndReason::Paused.cancels_at_worker());
    assert!(!EndReason::Expired.cancels_at_worker());
    assert!(!EndReason::ConnectionLimit.cancels_at_worker());
    assert_eq!(EndReason::IdleTimeout.to_string(), "idle timeout");
}
