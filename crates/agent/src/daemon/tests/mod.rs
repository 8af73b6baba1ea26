//! The actor with the OS edge replaced by recording fakes (addresses, resolver, socket
//! owners) and everything else real (core, DNS server, proxy, controller client against a
//! closed port): command order, parking, pause, shutdown and reload.

mod access;
mod flows;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ipnet::IpNet;
use tokio::sync::mpsc;

use super::actor::Actor;
use super::clock::AgentClock;
use super::controller::Controllers;
use super::controller_link::ControllerLink;
use super::decisions::Decisions;
use super::events::{ActorHandle, ControlRequest, Core, Event};
use super::host::Host;
use super::machine::Machine;
use super::operational_state::OperationalState;
use super::sessions::Sessions;
use super::settings::Settings;
use super::startup::core_config;
use crate::config::AgentConfig;
use crate::dns::{DnsServer, DnsServerConfig, QueryOrigin, Verdict};
use crate::os::{
    AddressError, AddressManager, AssignedAddress, Interface, PeerLookupError, PeerUidLookup,
    ResolverError, ResolverMode, ResolverTakeover, Restored, Takeover, TakeoverChange,
};
use crate::state::{AgentState, SavedResolvConf, StateFile};
use boundary_agent_core::{DnsDecision, DnsQuestion, TokenRegistration};
use boundary_wire::api::alias::ResolvableAlias;
use boundary_wire::api::{ListResponse, ResponseType, Secret};

pub const UID: u32 = 1000;
pub const TOKEN_ID: &str = "at_1234567890";
pub const ALIAS: &str = "db.example";
pub const PREVIOUS_UPSTREAM: &str = "192.0.2.53:53";

/// What the fakes saw, in order ("add 100.64.…", "take over", "restore", …).
pub type Log = Arc<Mutex<Vec<String>>>;
/// The addresses on the fake interface.
pub type Present = Arc<Mutex<std::collections::BTreeSet<IpAddr>>>;

pub struct Harness {
    pub actor: Actor,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub log: Log,
    pub present: Present,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::default();
        let present = Present::default();
        let config = AgentConfig {
            state_file: dir.path().join("state.json"),
            operational_state_file: dir.path().join("operational.json"),
            ..AgentConfig::default()
        };
        let addresses = Arc::new(FakeAddresses {
            state_file: config.state_file.clone(),
            log: Arc::clone(&log),
            present: Arc::clone(&present),
        });
        let host = Host::new(
            addresses,
            Interface {
                name: "test0".into(),
                index: 7,
            },
            Box::new(FakeResolver {
                log: Arc::clone(&log),
            }),
            ResolverMode::ResolvConf,
            StateFile::empty(&config.state_file),
            vec![IpNet::V4(config.v4_prefix), IpNet::V6(config.v6_prefix)],
            None,
        );
        let (operational, _, _) = OperationalState::load(&config.operational_state_file);
        let core = Core::new(core_config(&config).unwrap(), false).unwrap();
        let (handle, events) = ActorHandle::channel();
        let forward_all = |_: &DnsQuestion, _: &QueryOrigin| Verdict::Now(DnsDecision::Forward);
        let peers: Arc<dyn PeerUidLookup> = Arc::new(FixedPeer(UID));
        let dns = DnsServer::builder(DnsServerConfig::default(), forward_all).build();
        let actor = Actor::new(
            Decisions::new(core, AgentClock::start()),
            Machine::new(host, dns),
            Sessions::new(handle.clone(), peers),
            ControllerLink::new(Arc::new(Controllers::default()), handle),
            Settings::new(config, None, None, operational, Vec::new()),
        );
        Harness {
            actor,
            events,
            log,
            present,
            dir,
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Registers a token for [`UID`] at a controller nobody listens on, and answers the
    /// alias listing it starts with one page holding [`ALIAS`]; the registration's answer
    /// comes only then.
    pub async fn register_with_alias(&mut self) {
        self.register_at_with_alias(&format!("http://127.0.0.1:{}", closed_port()))
            .await;
    }

    /// [`Harness::register_with_alias`] at the controller address `controller_addr`.
    pub async fn register_at_with_alias(&mut self, controller_addr: &str) {
        let registration = TokenRegistration {
            uid: UID,
            controller_addr: controller_addr.to_owned(),
            token_id: TOKEN_ID.into(),
            user_id: "u_1234567890".into(),
            token: Secret::new(format!("{TOKEN_ID}_s1abc")),
            expiration: None,
        };
        let (reply, mut done) = tokio::sync::oneshot::channel();
        self.actor
            .on_event(Event::Control(ControlRequest::RegisterToken {
                registration,
                refuse_switch: true,
                refused: tokio::sync::oneshot::channel().0,
                reply,
            }))
            .await;
        assert!(
            done.try_recv().is_err(),
            "the registration waits for its alias listing"
        );
        let page = ListResponse {
            items: vec![alias(ALIAS)],
            response_type: ResponseType::Complete,
            list_token: "lt1".into(),
            sort_by: "created_time".into(),
            sort_dir: "desc".into(),
            removed_ids: vec![],
            est_item_count: 1,
        };
        self.actor
            .on_event(Event::AliasPage {
                uid: UID,
                token_id: TOKEN_ID.into(),
                result: Ok(page),
            })
            .await;
        // The registration is answered once its first listing is in.
        done.await.unwrap();
    }

    /// Feeds events the spawned tasks send back until `done` says stop (bounded, so a
    /// broken flow fails instead of hanging).
    pub async fn pump_until(&mut self, mut done: impl FnMut(&Event) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("the expected event never came")
                .expect("the channel stays open");
            let last = done(&event);
            self.actor.on_event(event).await;
            if last {
                return;
            }
        }
    }

    /// Feeds events until `answer` arrives (bounded like [`Self::pump_until`]). Waiting for
    /// the answer itself, not for some event, keeps a late event of an earlier flow (a
    /// listing that failed against a closed port) from ending the wait too early.
    pub async fn pump_until_answered<T>(
        &mut self,
        mut answer: tokio::sync::oneshot::Receiver<T>,
    ) -> Result<T, tokio::sync::oneshot::error::RecvError> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let event = tokio::select! {
                result = &mut answer => return result,
                event = tokio::time::timeout_at(deadline, self.events.recv()) => event,
            };
            let event = event
                .expect("the answer never came")
                .expect("the channel stays open");
            self.actor.on_event(event).await;
        }
    }

    pub fn state_file(&self) -> PathBuf {
        self.config().state_file.clone()
    }

    pub fn core(&self) -> &Core {
        self.actor.decisions().core()
    }

    /// The configuration in effect.
    pub fn config(&self) -> &AgentConfig {
        self.actor.settings().config()
    }
}

pub fn alias(value: &str) -> ResolvableAlias {
    let t = time::OffsetDateTime::now_utc();
    ResolvableAlias {
        id: "alt_1234567890".into(),
        created_time: t,
        updated_time: t,
        value: value.into(),
        destination_id: Some("ttcp_1234567890".into()),
        kind: "target".into(),
    }
}

pub fn read_state(path: &Path) -> AgentState {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A port on 127.0.0.1 nothing listens on (bound once, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Records adds and removes; checks that every add was recorded in the state file first.
struct FakeAddresses {
    state_file: PathBuf,
    log: Log,
    present: Present,
}

#[async_trait]
impl AddressManager for FakeAddresses {
    async fn find_interface(&self, _: Option<&str>) -> Result<Interface, AddressError> {
        Ok(Interface {
            name: "test0".into(),
            index: 7,
        })
    }

    async fn add(&self, interface: &Interface, address: IpAddr) -> Result<(), AddressError> {
        let recorded = read_state(&self.state_file)
            .added_addresses
            .iter()
            .any(|a| a.address == address && a.interface == interface.name);
        let note = if recorded {
            ""
        } else {
            " (NOT RECORDED FIRST)"
        };
        self.log
            .lock()
            .unwrap()
            .push(format!("add {address}{note}"));
        self.present.lock().unwrap().insert(address);
        Ok(())
    }

    async fn remove(&self, _: &Interface, address: IpAddr) -> Result<(), AddressError> {
        self.log.lock().unwrap().push(format!("remove {address}"));
        self.present.lock().unwrap().remove(&address);
        Ok(())
    }

    async fn list_within(
        &self,
        _: &Interface,
        prefixes: &[IpNet],
    ) -> Result<Vec<AssignedAddress>, AddressError> {
        let present = self.present.lock().unwrap();
        Ok(present
            .iter()
            .filter(|ip| prefixes.iter().any(|p| p.contains(*ip)))
            .map(|ip| AssignedAddress {
                address: *ip,
                prefix_len: if ip.is_ipv4() { 32 } else { 128 },
                added_by_agent: true,
            })
            .collect())
    }
}

/// A resolver configuration in the state file only.
struct FakeResolver {
    log: Log,
}

#[async_trait]
impl ResolverTakeover for FakeResolver {
    async fn take_over(
        &self,
        _: &[IpAddr],
        state: &mut StateFile,
    ) -> Result<Takeover, ResolverError> {
        self.log.lock().unwrap().push("take over".into());
        state.update(|s| {
            s.saved_resolver.get_or_insert(SavedResolvConf {
                path: "/fake/resolv.conf".into(),
                content: Some(b"nameserver 192.0.2.53\n".to_vec()),
                mode: 0o644,
            });
        })?;
        Ok(Takeover {
            change: TakeoverChange::TookOver,
            upstreams: vec![PREVIOUS_UPSTREAM.parse().unwrap()],
        })
    }

    async fn restore(&self, state: &mut StateFile) -> Result<Restored, ResolverError> {
        let saved = state.state().saved_resolver.is_some();
        state.update(|s| s.saved_resolver = None)?;
        if !saved {
            return Ok(Restored::NothingSaved);
        }
        self.log.lock().unwrap().push("restore".into());
        Ok(Restored::Restored {
            path: "/fake/resolv.conf".into(),
        })
    }

    async fn upstreams(
        &self,
        _: &[IpAddr],
        _: &StateFile,
    ) -> Result<Vec<SocketAddr>, ResolverError> {
        Ok(vec![PREVIOUS_UPSTREAM.parse().unwrap()])
    }
}

struct FixedPeer(u32);

#[async_trait]
impl PeerUidLookup for FixedPeer {
    async fn tcp_client_uid(
        &self,
        _: SocketAddr,
        _: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        Ok(Some(self.0))
    }

    async fn udp_client_uid(
        &self,
        _: SocketAddr,
        _: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        Ok(Some(self.0))
    }
}
