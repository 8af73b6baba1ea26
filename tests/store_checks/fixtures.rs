//! Records with plausible defaults, and a fixed clock: the store takes every time as an
//! argument, so the checks never read the wall clock.

use boundary_controller::store::*;
use boundary_wire::api::Timestamp;
use boundary_wire::api::time_format::from_micros;
use std::sync::Arc;

/// 2023-11-14T22:13:20Z plus `seconds`.
pub fn at(seconds: i64) -> Timestamp {
    from_micros(1_700_000_000_000_000 + seconds * 1_000_000)
}

pub fn scope(id: &str, parent: Option<&str>, kind: ScopeKind, created: i64) -> ScopeRecord {
    ScopeRecord {
        id: id.into(),
        parent_id: parent.map(Into::into),
        kind,
        name: format!("{id} name"),
        description: String::new(),
        primary_auth_method_id: None,
        created: at(created),
        updated: at(created),
        version: 1,
    }
}

/// `global` → `o_org1` → `p_proj1`, `p_proj2`.
pub async fn seed_scopes(store: &Arc<dyn Store>) {
    for s in [
        scope("global", None, ScopeKind::Global, 0),
        scope("o_org1", Some("global"), ScopeKind::Org, 1),
        scope("p_proj1", Some("o_org1"), ScopeKind::Project, 2),
        scope("p_proj2", Some("o_org1"), ScopeKind::Project, 3),
    ] {
        store.create_scope(&s).await.expect("seed scope");
    }
}

pub fn auth_method(id: &str, created: i64) -> AuthMethodRecord {
    AuthMethodRecord {
        id: id.into(),
        scope_id: "global".into(),
        name: String::new(),
        description: String::new(),
        min_login_name_length: 3,
        min_password_length: 8,
        created: at(created),
        updated: at(created),
        version: 1,
    }
}

pub fn account(id: &str, method: &str, login: &str, created: i64) -> AccountRecord {
    AccountRecord {
        id: id.into(),
        auth_method_id: method.into(),
        scope_id: "global".into(),
        login_name: login.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        user_id: None,
        name: String::new(),
        description: String::new(),
        created: at(created),
        updated: at(created),
        version: 1,
    }
}

pub fn user(id: &str, created: i64) -> UserRecord {
    UserRecord {
        id: id.into(),
        scope_id: "global".into(),
        name: format!("{id} name"),
        description: String::new(),
        created: at(created),
        updated: at(created),
        version: 1,
    }
}

pub fn target(id: &str, scope_id: &str, name: &str, created: i64) -> TargetRecord {
    TargetRecord {
        id: id.into(),
        scope_id: scope_id.into(),
        kind: "tcp".into(),
        name: name.into(),
        description: String::new(),
        address: "10.0.0.5".into(),
        default_port: Some(22),
        default_client_port: None,
        session_max_seconds: 28800,
        session_connection_limit: -1,
        worker_filter: String::new(),
        credential_source_ids: vec![],
        created: at(created),
        updated: at(created),
        version: 1,
    }
}

pub fn alias(id: &str, value: &str, destination: Option<&str>, created: i64) -> AliasRecord {
    AliasRecord {
        id: id.into(),
        scope_id: "global".into(),
        value: value.into(),
        destination_id: destination.map(Into::into),
        host_id: None,
        name: String::new(),
        description: String::new(),
        created: at(created),
        updated: at(created),
        version: 1,
        change_seq: 0,
    }
}

/// A pending session on `ttcp_t1` in `p_proj1`, expiring at `at(expires)`.
pub fn session(id: &str, limit: i32, expires: i64) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        target_id: "ttcp_t1".into(),
        scope_id: "p_proj1".into(),
        user_id: "u_alice".into(),
        auth_token_id: "at_1234567890".into(),
        host_id: "hst_1".into(),
        host_set_id: "hsst_1".into(),
        kind: "tcp".into(),
        endpoint: "tcp://10.0.0.5:22".into(),
        certificate: vec![0x30, 0x82, 0x01, 0x00, 0xff],
        encrypted_private_key: vec![0, 1, 2, 3, 254, 255],
        tofu_hash: None,
        offered_worker_ids: vec!["w_1".into(), "w_2".into()],
        connection_limit: limit,
        connections_used: 0,
        expiration: at(expires),
        status: "pending".into(),
        termination_reason: None,
        created: at(10),
        updated: at(10),
        version: 1,
    }
}

pub fn connection(id: &str, session_id: &str, created: i64) -> ConnectionRecord {
    ConnectionRecord {
        id: id.into(),
        session_id: session_id.into(),
        worker_id: "w_1".into(),
        client_tcp_address: "198.18.0.2".into(),
        client_tcp_port: 50000,
        endpoint_tcp_address: String::new(),
        endpoint_tcp_port: 0,
        bytes_up: 0,
        bytes_down: 0,
        status: "authorized".into(),
        closed_reason: None,
        created: at(created),
        updated: at(created),
    }
}

pub fn worker(id: &str, name: &str, heartbeat: i64) -> WorkerRecord {
    WorkerRecord {
        id: id.into(),
        name: name.into(),
        address: format!("{name}.example:9202"),
        description: String::new(),
        last_heartbeat: at(heartbeat),
        created: at(heartbeat),
        updated: at(heartbeat),
    }
}

/// An active session (activated with tofu hash `"tofu-a"` at `at(20)`).
pub async fn active_session(
    store: &Arc<dyn Store>,
    id: &str,
    limit: i32,
    expires: i64,
) -> SessionRecord {
    store
        .create_session(&session(id, limit, expires))
        .await
        .expect("create session");
    store
        .activate_session(id, "tofu-a", at(20))
        .await
        .expect("activate session")
}

/// Ids of records, for order assertions.
pub fn ids<T>(records: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    records.iter().map(|r| id(r).to_string()).collect()
}
