use base64::Engine;
use serde_json::json;
use time::macros::datetime;

use super::render::{self, go_duration};
use boundary_wire::api::agent::{AgentSession, AgentSessions, AgentStatus};
use boundary_wire::api::credential::{CredentialSource, SessionCredential, SessionSecret};
use boundary_wire::api::session::SessionAuthorization;
use boundary_wire::api::{ApiErrorBody, ScopeInfo, Secret};

fn status_with_token() -> AgentStatus {
    AgentStatus {
        boundary_addr: "https://boundary.corp.com".into(),
        auth_token_id: "at_GBqZUK2ihv".into(),
        auth_token_expiry: Some(datetime!(2026-01-08 23:58:09 UTC)),
        version: "0.1.0".into(),
        status: "running".into(),
        errors: vec!["newest error".into(), "older error".into()],
        warnings: vec!["restart needed".into()],
        resolver: None,
    }
}

#[test]
fn status_block_matches_boundarys_layout() {
    let now = datetime!(2026-01-02 00:00:00 UTC);
    assert_eq!(
        render::status(&status_with_token(), now),
        "\nStatus:\n\
         \x20 Address:                 https://boundary.corp.com\n\
         \x20 Auth Token Expiration:   167h58m9s\n\
         \x20 Auth Token Id:           at_GBqZUK2ihv\n\
         \x20 Status:                  running\n\
         \x20 Version:                 0.1.0\n\
         \n\
         \x20 Recent errors:\n\
         \x20   newest error\n\
         \x20   older error\n\
         \n\
         \x20 Recent warnings:\n\
         \x20   restart needed"
    );
}

#[test]
fn status_without_token_shows_only_the_agent() {
    let status = AgentStatus {
        boundary_addr: String::new(),
        auth_token_id: String::new(),
        auth_token_expiry: None,
        version: "0.1.0".into(),
        status: "paused".into(),
        errors: vec![],
        warnings: vec![],
        resolver: None,
    };
    assert_eq!(
        render::status(&status, datetime!(2026-01-02 00:00:00 UTC)),
        "\nStatus:\n  Status:              paused\n  Version:             0.1.0"
    );
}

#[test]
fn durations_print_like_go() {
    let d = |ms: i64| go_duration(time::Duration::milliseconds(ms));
    assert_eq!(d(0), "0s");
    assert_eq!(d(499), "0s");
    assert_eq!(d(500), "1s");
    assert_eq!(d(45_000), "45s");
    assert_eq!(d(60_000), "1m0s");
    assert_eq!(d(3_600_000), "1h0m0s");
    assert_eq!(d(604_689_400), "167h58m9s");
    assert_eq!(d(-125_000), "-2m5s");
    assert_eq!(d(-400), "0s");
}

fn authorization(session_id: &str, credentials: Vec<SessionCredential>) -> SessionAuthorization {
    SessionAuthorization {
        session_id: session_id.into(),
        target_id: "ttcp_1234567890".into(),
        scope: ScopeInfo::default(),
        created_time: datetime!(2026-01-02 03:04:05 UTC),
        user_id: "u_1234567890".into(),
        host_id: String::new(),
        host_set_id: String::new(),
        kind: "tcp".into(),
        authorization_token: Secret::new("never printed"),
        connection_limit: -1,
        endpoint: "tcp://10.0.0.5:22".into(),
        endpoint_port: 22,
        expiration: datetime!(2026-01-02 11:04:05 UTC),
        credentials,
    }
}

#[test]
fn sessions_list_aliases_ids_and_decoded_credentials() {
    assert_eq!(
        render::sessions(&AgentSessions::default()),
        "No sessions found"
    );

    let raw = base64::engine::general_purpose::STANDARD
        .encode(br#"{"password":"pw1","username":"alice"}"#);
    let from_raw = SessionCredential {
        credential_source: CredentialSource {
            id: "credup_1234567890".into(),
            name: "db login".into(),
            credential_store_id: "csst_1234567890".into(),
            kind: "static".into(),
            credential_type: "username_password".into(),
            ..CredentialSource::default()
        },
        secret: Some(SessionSecret { raw, decoded: None }),
        credential: None,
    };
    let typed = SessionCredential {
        credential_source: CredentialSource {
            id: "credup_0987654321".into(),
            credential_store_id: "csst_1234567890".into(),
            kind: "static".into(),
            ..CredentialSource::default()
        },
        secret: None,
        credential: Some(json!({"username": "bob"})),
    };
    let sessions = AgentSessions {
        items: vec![
            AgentSession {
                alias: "db.prod.example".into(),
                session_authorization: authorization("s_1111111111", vec![from_raw, typed]),
            },
            AgentSession {
                alias: "web.prod.example".into(),
                session_authorization: authorization("s_2222222222", vec![]),
            },
        ],
    };
    let output = render::sessions(&sessions);
    assert_eq!(
        output,
        "\nSession information:\n\
         \x20 Alias:                     db.prod.example\n\
         \x20 Session authorization:\n\
         \x20   Session ID:              s_1111111111\n\
         \x20   Created time:            2026-01-02T03:04:05Z\n\
         \x20   Credentials:\n\
         \x20     Credential Source ID:   credup_1234567890\n\
         \x20     Credential Source Name: db login\n\
         \x20     Credential Store ID:    csst_1234567890\n\
         \x20     Credential Store Type:  static\n\
         \x20     Credential Type:        username_password\n\
         \x20     Secret:\n\
         \x20         {\n\
         \x20           \"password\": \"pw1\",\n\
         \x20           \"username\": \"alice\"\n\
         \x20         }\n\
         \n\
         \x20     Credential Source ID:  credup_0987654321\n\
         \x20     Credential Store ID:   csst_1234567890\n\
         \x20     Credential Store Type: static\n\
         \x20     Secret:\n\
         \x20         {\n\
         \x20           \"username\": \"bob\"\n\
         \x20         }\n\
         \n\
         \x20 Alias:                     web.prod.example\n\
         \x20 Session authorization:\n\
         \x20   Session ID:              s_2222222222\n\
         \x20   Created time:            2026-01-02T03:04:05Z"
    );
    assert!(!output.contains("never printed"));
}

#[test]
fn api_errors_show_kind_message_status_and_fields() {
    let body = ApiErrorBody::new("PermissionDenied", "only root may");
    assert_eq!(
        render::api_error(
            "Error from client agent when attempting to pause",
            403,
            &body
        ),
        "Error from client agent when attempting to pause:\n\
         \n\
         Error information:\n\
         \x20 Kind:                PermissionDenied\n\
         \x20 Message:             only root may\n\
         \x20 Status:              403"
    );
    let body = ApiErrorBody::invalid_field("token", "not a Boundary auth token");
    let output = render::api_error("ctx", 400, &body);
    assert!(
        output.contains("Field-specific Errors:\n    Name:              token\n"),
        "{output}"
    );
    assert!(
        output.contains("      Error:           not a Boundary auth token"),
        "{output}"
    );
}

#[test]
fn status_shows_how_the_agent_is_the_system_resolver() {
    let mut status = status_with_token();
    status.resolver = Some(boundary_wire::api::agent::ResolverStatus {
        mode: "systemd-resolved".into(),
        link: Some("boundary0".into()),
        routing: Some("per-alias (2 routing domains)".into()),
        managed_by: Some("systemd-resolved".into()),
        upstreams: vec!["192.0.2.53:53".into(), "[2001:db8::53]:53".into()],
    });
    let text = render::status(&status, datetime!(2026-01-02 00:00:00 UTC));
    for line in [
        "  System resolver:",
        "    Mode:                systemd-resolved",
        "    Link:                boundary0",
        "    Routing:             per-alias (2 routing domains)",
        "    Managed By:          systemd-resolved",
        "    Upstreams:           192.0.2.53:53, [2001:db8::53]:53",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
}
