//! What HashiCorp Boundary v0.21.3 really sent our agent (tests/fixtures/boundary-0.21.3/
//! agent/, captured by running it), replayed into the parts of the agent that read it:
//! the alias cache that learns listings page by page, the authorization token decoder,
//! and the local API that HashiCorp's CLI code talks to.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use boundary_agent::api::{AgentControl, ApiLimits, ApiServer, ControlError};
use boundary_agent::os::{PeerLookupError, PeerUidLookup};
use boundary_agent_core::alias_cache::{AliasCache, PageOutcome};
use boundary_wire::api::ListResponse;
use boundary_wire::api::agent::{AddTokenRequest, AgentSessions, AgentStatus};
use boundary_wire::api::alias::ResolvableAlias;
use boundary_wire::api::session::SessionAuthorization;
use boundary_wire::proto::decode_authorization_token;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/boundary-0.21.3/agent"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn page(name: &str) -> ListResponse<ResolvableAlias> {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn values(cache: &AliasCache) -> BTreeSet<String> {
    cache.values().map(str::to_owned).collect()
}

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

const SEEDED: [&str; 3] = [
    "postgres.boundary.dev",
    "ssh.boundary.dev",
    "www.hashicorp.com",
];
const CREATED: [&str; 2] = ["echo.interop.test", "ssh.interop.test"];

#[test]
fn a_listing_and_its_refreshes_are_learned_as_the_controller_sent_them() {
    let mut cache = AliasCache::new();
    cache.begin_full_reload();
    let first = page("aliases-initial-complete.json");
    let token = first.list_token.clone();
    assert!(matches!(
        cache.apply_page(first),
        Ok(PageOutcome::Applied(_))
    ));
    assert_eq!(values(&cache), set(&SEEDED));

    // The refresh goes out with the complete page's token; two new aliases come back.
    assert_eq!(cache.begin_refresh().as_deref(), Some(token.as_str()));
    let refresh = page("aliases-refresh-two-new.json");
    let next_token = refresh.list_token.clone();
    assert!(matches!(
        cache.apply_page(refresh),
        Ok(PageOutcome::Applied(_))
    ));
    let all: Vec<&str> = SEEDED.iter().chain(CREATED.iter()).copied().collect();
    assert_eq!(values(&cache), set(&all));

    // A refresh without `items` and with `removed_ids` of an alias this user never saw
    // is applied without losing anything.
    assert_eq!(cache.begin_refresh().as_deref(), Some(next_token.as_str()));
    let removal = page("aliases-refresh-removed-ids.json");
    assert!(removal.items.is_empty());
    assert_eq!(removal.removed_ids, ["alt_eXdAWNDtT4"]);
    assert!(matches!(
        cache.apply_page(removal),
        Ok(PageOutcome::Applied(_))
    ));
    assert_eq!(values(&cache), set(&all));
}

#[test]
fn a_paged_listing_is_applied_only_at_its_complete_page() {
    let mut cache = AliasCache::new();
    cache.begin_full_reload();
    for name in ["aliases-paged-1.json", "aliases-paged-2.json"] {
        let delta = page(name);
        let token = delta.list_token.clone();
        assert!(
            matches!(cache.apply_page(delta), Ok(PageOutcome::NextPage(ref t)) if *t == token),
            "{name}"
        );
        assert!(
            values(&cache).is_empty(),
            "applied before the complete page"
        );
    }
    assert!(matches!(
        cache.apply_page(page("aliases-paged-3.json")),
        Ok(PageOutcome::Applied(_))
    ));
    let all: Vec<&str> = SEEDED.iter().chain(CREATED.iter()).copied().collect();
    assert_eq!(values(&cache), set(&all));
}

#[test]
fn a_real_authorization_with_brokered_credentials_decodes_field_by_field() {
    let raw = fixture("authorize-session-brokered-credentials.json");
    let authorization: SessionAuthorization = serde_json::from_slice(&raw).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let token = decode_authorization_token(authorization.authorization_token.expose()).unwrap();
    assert_eq!(token.session_id, authorization.session_id);
    assert_eq!(token.target_id, authorization.target_id);
    assert_eq!(token.r#type, "tcp");
    assert_eq!(
        i64::from(token.connection_limit),
        json["connection_limit"].as_i64().unwrap()
    );
    assert_eq!(
        u64::from(token.endpoint_port),
        json["endpoint_port"].as_u64().unwrap()
    );
    assert!(!token.certificate.is_empty() && token.private_key.len() == 64);
    assert_eq!(token.worker_info.len(), 1, "{:?}", token.worker_info);
    let credentials = json["credentials"]
        .as_array()
        .expect("brokered credentials");
    assert_eq!(credentials.len(), 1);
    assert_eq!(credentials[0]["secret"]["decoded"]["username"], "postgres");
}

/// Records the token registrations that reach the agent's control.
#[derive(Default)]
struct Recorder(Mutex<Vec<(u32, String, String)>>);

#[async_trait]
impl AgentControl for Recorder {
    async fn add_token(&self, uid: u32, request: AddTokenRequest) -> Result<(), ControlError> {
        let token = request.token.expose().to_owned();
        self.0
            .lock()
            .unwrap()
            .push((uid, request.boundary_addr, token));
        Ok(())
    }
    async fn has_token(&self, uid: u32) -> bool {
        self.0.lock().unwrap().iter().any(|(u, _, _)| *u == uid)
    }
    async fn status(&self, _: u32) -> AgentStatus {
        serde_json::from_str(r#"{"status":"running"}"#).unwrap()
    }
    async fn sessions(&self, _: u32) -> AgentSessions {
        AgentSessions::default()
    }
    async fn pause(&self, _: u32) -> Result<(), ControlError> {
        Ok(())
    }
    async fn resume(&self, _: u32) -> Result<(), ControlError> {
        Ok(())
    }
}

struct Uid1001;

#[async_trait]
impl PeerUidLookup for Uid1001 {
    async fn tcp_client_uid(
        &self,
        _: SocketAddr,
        _: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        Ok(Some(1001))
    }
    async fn udp_client_uid(
        &self,
        _: SocketAddr,
        _: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        Ok(Some(1001))
    }
}

async fn replay(server: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = String::new();
    // The Go client keeps the connection open; our server answers, then the idle
    // deadline would close it, so read only the status line and the headers.
    let mut buf = [0u8; 4096];
    while !answer.contains("\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before an answer: {answer:?}");
        answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    answer
}

#[tokio::test]
async fn the_token_hashicorps_cli_sends_after_logging_in_is_registered_for_its_user() {
    let control = Arc::new(Recorder::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = ApiServer::from_listener(
        listener,
        Arc::clone(&control) as Arc<dyn AgentControl>,
        Arc::new(Uid1001),
        ApiLimits::default(),
    )
    .unwrap();
    let request = fixture("cli-post-tokens.raw");
    let text = String::from_utf8_lossy(&request);
    assert!(text.starts_with("POST /v1/tokens HTTP/1.1\r\nHost: localhost:9300\r\n"));
    let body: serde_json::Value =
        serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();

    let answer = replay(server.local_addr(), &request).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let registered = control.0.lock().unwrap().clone();
    assert_eq!(
        registered,
        [(
            1001,
            body["boundary_addr"].as_str().unwrap().to_owned(),
            body["token"].as_str().unwrap().to_owned()
        )]
    );

    let answer = replay(server.local_addr(), &fixture("cli-get-status.raw")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.shutdown().await.unwrap();
}
