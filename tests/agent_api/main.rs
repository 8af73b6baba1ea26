//! The agent's local API server (in this process, inside a network namespace of its own)
//! driven by the real `boundary client-agent` CLI binary and by curl, run as real OS
//! users. The agent behind the API is a recording implementation of `AgentControl` (the
//! contract the daemon implements), so the tests see which uid reached it. Needs root.
#![cfg(target_os = "linux")]

#[path = "../support/mod.rs"]
mod support;

mod control;
mod identity;
mod output;
mod pause_policy;
mod refusals;
mod slow_clients;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use boundary_agent::api::{ApiLimits, ApiServer};
use boundary_agent::os::linux::SockDiagPeerLookup;
use boundary_wire::api::agent::AgentSession;
use boundary_wire::api::credential::{CredentialSource, SessionCredential, SessionSecret};
use boundary_wire::api::session::SessionAuthorization;
use boundary_wire::api::{ScopeInfo, Secret};

use control::RecordingControl;
use support::cli::{Cli, Run};
use support::curl::curl_async;
use support::netns::Netns;
use support::os_user::OsUser;

/// Prefix of every namespace this suite creates.
const NETNS_PREFIX: &str = "bt-agentapi";
/// The default `api_listen_address`: each test has its own namespace, so it is free.
const DEFAULT_ADDRESS: &str = "127.0.0.1:9300";

const ALICE_TOKEN: &str = "at_AAAAAAAAAA_s1alicesecret";
const BOB_TOKEN: &str = "at_BBBBBBBBBB_s1bobsecret";
const CONTROLLER: &str = "https://ctl.example:9200";

/// Starts the API server on `address` in the calling thread's namespace, identifying
/// callers with the real sock_diag lookup.
async fn start_agent(control: Arc<RecordingControl>, address: &str) -> ApiServer {
    start_agent_with_limits(control, address, ApiLimits::default()).await
}

/// [`start_agent`] with other limits.
async fn start_agent_with_limits(
    control: Arc<RecordingControl>,
    address: &str,
    limits: ApiLimits,
) -> ApiServer {
    let address: SocketAddr = address.parse().unwrap();
    let peers = Arc::new(SockDiagPeerLookup::new().expect("sock_diag socket"));
    ApiServer::start_with_limits(address, control, peers, limits)
        .await
        .expect("the API server starts")
}

/// `boundary client-agent <args>` as `user`.
async fn cli(netns: &Netns, user: Option<&OsUser>, args: &[&str]) -> Run {
    cli_env(netns, user, &[], args).await
}

async fn cli_env(netns: &Netns, user: Option<&OsUser>, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut full = vec!["client-agent"];
    full.extend_from_slice(args);
    let cli = env
        .iter()
        .fold(Cli::in_netns(netns, user), |cli, (key, value)| {
            cli.env(key, value)
        });
    cli.run_async(&full).await
}

/// `POST /v1/tokens` with curl as `user`.
async fn post_token(
    netns: &Netns,
    user: Option<&OsUser>,
    addr: &str,
    token: &str,
) -> (u16, String) {
    let body = serde_json::json!({ "boundary_addr": addr, "token": token }).to_string();
    curl_async(
        netns,
        user,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
            "http://127.0.0.1:9300/v1/tokens",
        ],
    )
    .await
}

/// A session for `db.prod.example` with one brokered username/password credential.
fn session_with_credential() -> AgentSession {
    use base64::Engine;
    let secret = br#"{"password":"alice-db-password","username":"alice"}"#;
    let now = boundary_wire::api::time_format::now();
    AgentSession {
        alias: "db.prod.example".into(),
        session_authorization: SessionAuthorization {
            session_id: "s_1111111111".into(),
            target_id: "ttcp_1234567890".into(),
            scope: ScopeInfo::default(),
            created_time: now,
            user_id: "u_1234567890".into(),
            host_id: String::new(),
            host_set_id: String::new(),
            kind: "tcp".into(),
            authorization_token: Secret::new("authorization-token"),
            connection_limit: -1,
            endpoint: "tcp://10.0.0.5:5432".into(),
            endpoint_port: 5432,
            expiration: now + time::Duration::hours(8),
            credentials: vec![SessionCredential {
                credential_source: CredentialSource {
                    id: "credup_1234567890".into(),
                    name: "db login".into(),
                    credential_store_id: "csst_1234567890".into(),
                    kind: "static".into(),
                    credential_type: "username_password".into(),
                    ..CredentialSource::default()
                },
                secret: Some(SessionSecret {
                    raw: base64::engine::general_purpose::STANDARD.encode(secret),
                    decoded: None,
                }),
                credential: None,
            }],
        },
    }
}

fn sessions_for(uid: u32) -> BTreeMap<u32, Vec<AgentSession>> {
    BTreeMap::from([(uid, vec![session_with_credential()])])
}
