//! Sessions and their connections.

use super::fixtures::*;
use boundary_controller::store::*;
use std::sync::Arc;
pub async fn session_lifecycle(store: Arc<dyn Store>) {
    let mut given = session("s_1", -1, 1000);
    given.status = "active".into(); // ignored: sessions start pending
    let created = store.create_session(&given).await.unwrap();
    assert_eq!(created.status, "pending");
    assert_eq!(created.certificate, given.certificate);
    assert_eq!(created.encrypted_private_key, given.encrypted_private_key);
    assert_eq!(created.tofu_hash, None);
    assert_eq!(created.offered_worker_ids, ["w_1", "w_2"]);
    assert!(matches!(
        store.create_session(&given).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(store.get_session("s_1").await.unwrap(), created);
    assert_eq!(
        store.session_states("s_1").await.unwrap(),
        [SessionStateRecord {
            status: "pending".into(),
            start: at(10),
            end: None
        }]
    );

    let active = store
        .activate_session("s_1", "tofu-a", at(20))
        .await
        .unwrap();
    assert_eq!(active.status, "active");
    assert_eq!(active.tofu_hash.as_deref(), Some("tofu-a"));
    assert_eq!(active.version, created.version + 1);
    // The same tofu again: the session as it is.
    assert_eq!(
        store
            .activate_session("s_1", "tofu-a", at(21))
            .await
            .unwrap(),
        active
    );
    assert_eq!(
        store.activate_session("s_1", "tofu-b", at(22)).await,
        Err(ActivateError::TofuMismatch)
    );

    let canceling = store
        .cancel_session("s_1", Some(active.version), "canceled", at(30))
        .await
        .unwrap();
    assert_eq!(canceling.status, "canceling");
    assert_eq!(canceling.termination_reason.as_deref(), Some("canceled"));
    assert_eq!(
        store.activate_session("s_1", "tofu-a", at(31)).await,
        Err(ActivateError::NotActivatable)
    );
    assert_eq!(
        store.activate_session("s_none", "tofu-a", at(31)).await,
        Err(ActivateError::NotFound)
    );
    assert_eq!(
        store.session_states("s_1").await.unwrap(),
        [
            SessionStateRecord {
                status: "pending".into(),
                start: at(10),
                end: Some(at(20))
            },
            SessionStateRecord {
                status: "active".into(),
                start: at(20),
                end: Some(at(30))
            },
            SessionStateRecord {
                status: "canceling".into(),
                start: at(30),
                end: None
            },
        ]
    );

    // A pending session past its expiration cannot be activated.
    store
        .create_session(&session("s_old", -1, 15))
        .await
        .unwrap();
    assert_eq!(
        store.activate_session("s_old", "tofu-a", at(15)).await,
        Err(ActivateError::NotActivatable)
    );

    let mut elsewhere = session("s_2", -1, 1000);
    elsewhere.scope_id = "p_proj2".into();
    elsewhere.created = at(11);
    store.create_session(&elsewhere).await.unwrap();
    assert_eq!(
        ids(&store.list_sessions(None).await.unwrap(), |s| &s.id),
        ["s_2", "s_old", "s_1"]
    );
    assert_eq!(
        ids(&store.list_sessions(Some("p_proj2")).await.unwrap(), |s| &s
            .id),
        ["s_2"]
    );
    assert!(matches!(
        store.get_session("s_none").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn cancel_session_rules(store: Arc<dyn Store>) {
    let created = store
        .create_session(&session("s_1", -1, 1000))
        .await
        .unwrap();
    let stale = store
        .cancel_session("s_1", Some(created.version + 5), "canceled", at(20))
        .await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch)));
    assert_eq!(store.get_session("s_1").await.unwrap().status, "pending");
    // Worker-initiated: no version check.
    let canceling = store
        .cancel_session("s_1", None, "closed by end-user", at(21))
        .await
        .unwrap();
    assert_eq!(canceling.status, "canceling");
    assert_eq!(canceling.version, created.version + 1);
    // Already canceling: returned unchanged, first reason kept.
    let again = store
        .cancel_session("s_1", Some(1), "canceled", at(22))
        .await
        .unwrap();
    assert_eq!(again, canceling);
    assert!(matches!(
        store
            .cancel_session("s_none", None, "canceled", at(22))
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn authorize_connection_limits(store: Arc<dyn Store>) {
    active_session(&store, "s_lim", 2, 1000).await;
    let (first, left) = store
        .authorize_connection(&connection("sc_1", "s_lim", 30), at(30))
        .await
        .unwrap();
    assert_eq!(left, 1);
    assert_eq!(first.status, "authorized");
    assert_eq!(first, connection("sc_1", "s_lim", 30));
    let (_, left) = store
        .authorize_connection(&connection("sc_2", "s_lim", 31), at(31))
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(
        store
            .authorize_connection(&connection("sc_3", "s_lim", 32), at(32))
            .await,
        Err(ConnectionRefused::LimitReached)
    );
    assert_eq!(
        store.get_session("s_lim").await.unwrap().connections_used,
        2
    );
    assert_eq!(
        ids(&store.session_connections("s_lim").await.unwrap(), |c| &c
            .id),
        ["sc_1", "sc_2"]
    );

    active_session(&store, "s_free", -1, 1000).await;
    for i in 0..3 {
        let (_, left) = store
            .authorize_connection(
                &connection(&format!("sc_free{i}"), "s_free", 40 + i),
                at(40 + i),
            )
            .await
            .unwrap();
        assert_eq!(left, -1);
    }

    store
        .create_session(&session("s_pending", -1, 1000))
        .await
        .unwrap();
    assert_eq!(
        store
            .authorize_connection(&connection("sc_p", "s_pending", 50), at(50))
            .await,
        Err(ConnectionRefused::NotActive)
    );
    active_session(&store, "s_short", -1, 100).await;
    assert_eq!(
        store
            .authorize_connection(&connection("sc_s", "s_short", 100), at(100))
            .await,
        Err(ConnectionRefused::Expired)
    );
    assert_eq!(
        store
            .authorize_connection(&connection("sc_n", "s_none", 50), at(50))
            .await,
        Err(ConnectionRefused::NotFound)
    );
    assert!(
        store
            .session_connections("s_short")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Twenty callers race for three connections: exactly three win, on every backend.
pub async fn authorize_connection_concurrently(store: Arc<dyn Store>) {
    authorize_race(&[store]).await;
}

/// The race of [`authorize_connection_concurrently`], its callers spread over `stores`
/// (several controllers sharing one database).
pub async fn authorize_race(stores: &[Arc<dyn Store>]) {
    active_session(&stores[0], "s_race", 3, 1000).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move {
                store
                    .authorize_connection(&connection(&format!("sc_{i:02}"), "s_race", 30), at(30))
                    .await
            })
        })
        .collect();
    let mut granted = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => granted += 1,
            Err(ConnectionRefused::LimitReached) => refused += 1,
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    assert_eq!((granted, refused), (3, 17));
    for store in stores {
        assert_eq!(
            store.get_session("s_race").await.unwrap().connections_used,
            3
        );
        assert_eq!(store.session_connections("s_race").await.unwrap().len(), 3);
    }
}

pub async fn connect_and_close(store: Arc<dyn Store>) {
    active_session(&store, "s_1", -1, 1000).await;
    store
        .authorize_connection(&connection("sc_1", "s_1", 30), at(30))
        .await
        .unwrap();
    let connected = store
        .connect_connection("sc_1", "10.0.0.5", 22, at(31))
        .await
        .unwrap();
    assert_eq!(connected.status, "connected");
    assert_eq!(
        (
            connected.endpoint_tcp_address.as_str(),
            connected.endpoint_tcp_port
        ),
        ("10.0.0.5", 22)
    );
    assert_eq!(connected.updated, at(31));
    // Read back by id, with the worker that authorized it.
    let read = store.get_connection("sc_1").await.unwrap();
    assert_eq!(read, connected);
    assert_eq!(read.worker_id, "w_1");
    assert!(matches!(
        store.get_connection("sc_none").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .connect_connection("sc_1", "10.0.0.5", 22, at(32))
            .await,
        Err(StoreError::Precondition(_))
    ));
    assert!(matches!(
        store
            .connect_connection("sc_none", "10.0.0.5", 22, at(32))
            .await,
        Err(StoreError::NotFound)
    ));

    let closed = store
        .close_connection("sc_1", 1234, 5678, "closed by end-user", at(40))
        .await
        .unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!((closed.bytes_up, closed.bytes_down), (1234, 5678));
    assert_eq!(closed.closed_reason.as_deref(), Some("closed by end-user"));
    // A second close keeps the first reason and never lowers the counts.
    let again = store
        .close_connection("sc_1", 1, 1, "network error", at(41))
        .await
        .unwrap();
    assert_eq!(again, closed);
    assert_eq!(
        store.session_connections("s_1").await.unwrap(),
        std::slice::from_ref(&closed)
    );
    // ...but a later report with larger counts (the worker's, after the sweep closed the
    // connection with zeros) is kept.
    let later = store
        .close_connection("sc_1", 9999, 8888, "timed out", at(42))
        .await
        .unwrap();
    assert_eq!((later.bytes_up, later.bytes_down), (9999, 8888));
    assert_eq!(later.closed_reason.as_deref(), Some("closed by end-user"));
    assert_eq!(later.updated, closed.updated);
    assert!(matches!(
        store
            .close_connection("sc_none", 0, 0, "unknown", at(41))
            .await,
        Err(StoreError::NotFound)
    ));
}
