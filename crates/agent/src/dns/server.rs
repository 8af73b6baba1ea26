//! The DNS server's control surface: build it once, then start and stop listeners per
//! address as addresses come and go, swap upstreams on reload, read counters.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::answer::AnswerSettings;
use super::bind::{bind_tcp, bind_udp};
use super::config::ttl_seconds;
use super::counters::Counters;
use super::engine::{QueryEngine, Step};
use super::exchange::ReplyCheck;
use super::forward::{Forwarder, give_client_id};
use super::loop_check::watch_loops;
use super::packet::{self, HEADER_LEN, Inbound};
use super::sources::SourceGate;
use super::tcp_listener::{TcpLimits, serve_tcp};
use super::udp_listener::serve_udp;
use super::upstreams::Upstreams;
use super::{
    DnsCounters, DnsError, DnsServerConfig, ForwardObserver, QueryOrigin, QueryPolicy, Transport,
};

/// The agent's DNS server. Cheap to clone (all clones control the same server); when the
/// last clone is dropped every listener stops.
#[derive(Clone)]
pub struct DnsServer {
    inner: Arc<ServerInner>,
}

/// Collects what a [`DnsServer`] needs; see [`DnsServer::builder`].
pub struct DnsServerBuilder {
    config: DnsServerConfig,
    policy: Arc<dyn QueryPolicy>,
    forward_observer: Option<ForwardObserver>,
    upstreams: Vec<SocketAddr>,
}

impl DnsServerBuilder {
    /// Receives every forwarding outcome (for the failure breaker and `status`).
    pub fn forward_observer(mut self, observer: ForwardObserver) -> Self {
        self.forward_observer = Some(observer);
        self
    }

    /// The initial upstreams, best first (see [`DnsServer::set_upstreams`]).
    pub fn upstreams(mut self, upstreams: Vec<SocketAddr>) -> Self {
        self.upstreams = upstreams;
        self
    }

    /// Builds the server. It listens nowhere until [`DnsServer::listen`].
    pub fn build(self) -> DnsServer {
        let config = self.config;
        let engine = QueryEngine {
            policy: self.policy,
            sources: Arc::new(SourceGate::default()),
            protected: config.protected_prefixes.clone(),
            forwarder: Forwarder::new(
                Upstreams::new(self.upstreams),
                config.request_timeout,
                self.forward_observer,
            ),
            answers: AnswerSettings::new(
                ttl_seconds(config.answer_ttl),
                ttl_seconds(config.negative_ttl),
                config.edns_payload,
            ),
            decision_timeout: config.decision_timeout,
            counters: Counters::default(),
        };
        DnsServer {
            inner: Arc::new(ServerInner {
                engine: Arc::new(engine),
                config,
                shutdown: CancellationToken::new(),
                listeners: Mutex::new(BTreeMap::new()),
                loop_watch: Mutex::new(None),
            }),
        }
    }
}

impl DnsServer {
    pub fn builder(config: DnsServerConfig, policy: impl QueryPolicy) -> DnsServerBuilder {
        DnsServerBuilder {
            config,
            policy: Arc::new(policy),
            forward_observer: None,
            upstreams: Vec::new(),
        }
    }

    /// Who may use the server: open until the agent installs a map of the machine's
    /// interfaces ([`SourceGate::set_map`]) and its `dns_allowed_sources`.
    pub fn sources(&self) -> &SourceGate {
        &self.inner.engine.sources
    }

    /// Starts serving UDP and TCP on `addr` (the agent uses port 53; port 0 picks a free
    /// port, the same for both, which benches use). Spawns onto the current tokio runtime.
    /// Returns the bound address. Listening again on the same address and port is a no-op.
    ///
    /// Fails — and binds nothing — if the address is a wildcard, is not assigned, or either
    /// port is taken ([`DnsError::AddressInUse`]).
    pub fn listen(&self, addr: SocketAddr) -> Result<SocketAddr, DnsError> {
        if addr.ip().is_unspecified() {
            return Err(DnsError::WildcardAddress(addr));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| DnsError::NoRuntime)?;
        let mut listeners = self.inner.listeners();
        if let Some(existing) = listeners.get(&addr.ip()) {
            return if addr.port() == 0 || addr.port() == existing.addr.port() {
                Ok(existing.addr)
            } else {
                Err(DnsError::AlreadyListening {
                    existing: existing.addr,
                    requested: addr,
                })
            };
        }
        let freebind = self.inner.config.bind_before_assigned;
        let udp = {
            let _guard = runtime.enter();
            bind_udp(addr, freebind)?
        };
        let bound = udp.local_addr().map_err(|source| DnsError::Bind {
            addr,
            transport: super::Transport::Udp,
            source,
        })?;
        let tcp = {
            let _guard = runtime.enter();
            bind_tcp(bound, freebind)?
        };
        let config = &self.inner.config;
        let cancel = self.inner.shutdown.child_token();
        let engine = &self.inner.engine;
        let limits = TcpLimits {
            max_connections: config.max_tcp_connections.max(1),
            max_pipelined: config.max_tcp_pipelined.max(1),
            idle_timeout: config.tcp_idle_timeout,
        };
        let tasks = [
            runtime.spawn(serve_udp(
                udp,
                Arc::clone(engine),
                config.max_udp_in_flight.max(1),
                cancel.clone(),
            )),
            runtime.spawn(serve_tcp(tcp, Arc::clone(engine), limits, cancel.clone())),
        ];
        {
            let mut watcher = self.inner.loop_watch();
            if watcher.is_none() {
                let stop = self.inner.shutdown.child_token();
                runtime.spawn(watch_loops(Arc::clone(engine), stop.clone()));
                *watcher = Some(stop);
            }
        }
        listeners.insert(
            bound.ip(),
            RunningListener {
                addr: bound,
                cancel,
                tasks,
            },
        );
        self.inner.refresh_own_addresses(&listeners);
        tracing::debug!(addr = %bound, "DNS listener started");
        Ok(bound)
    }

    /// Stops the listeners on `ip` and waits until their sockets are closed (so the
    /// address can be removed or bound again). Returns whether it was listening.
    pub async fn stop_listening(&self, ip: IpAddr) -> bool {
        let stopped = {
            let mut listeners = self.inner.listeners();
            let stopped = listeners.remove(&ip);
            self.inner.refresh_own_addresses(&listeners);
            stopped
        };
        match stopped {
            Some(listener) => {
                let addr = listener.addr;
                listener.stop().await;
                tracing::debug!(%addr, "DNS listener stopped");
                true
            }
            None => false,
        }
    }

    /// Stops every listener (and the loop watcher) and waits for them.
    pub async fn shutdown(&self) {
        if let Some(watcher) = self.inner.loop_watch().take() {
            watcher.cancel();
        }
        let all: Vec<RunningListener> = {
            let mut listeners = self.inner.listeners();
            let all = std::mem::take(&mut *listeners).into_values().collect();
            self.inner.refresh_own_addresses(&listeners);
            all
        };
        for listener in all {
            listener.stop().await;
        }
    }

    /// The addresses being served.
    pub fn listening(&self) -> Vec<SocketAddr> {
        self.inner.listeners().values().map(|l| l.addr).collect()
    }

    /// Replaces the upstreams (best first). Takes effect for the next query; queries in
    /// flight finish with the old list. Entries that are this server's own listeners are
    /// ignored (a loop) and returned.
    pub fn set_upstreams(&self, upstreams: Vec<SocketAddr>) -> Vec<SocketAddr> {
        let forwarder = self.inner.forwarder();
        let looping = forwarder.upstreams.set_configured(upstreams);
        // Judged at once by the loop watcher (upstreams found looping stay out meanwhile).
        forwarder.loops.wake.notify_one();
        for upstream in &looping {
            tracing::warn!(%upstream, "ignoring an upstream DNS server that is this agent's own listener (it would loop)");
        }
        looping
    }

    /// Probes the loopback upstreams again soon (the resolver configuration changed, so a
    /// local resolver that reads it may now forward to us).
    pub fn check_upstream_loops(&self) {
        self.inner.forwarder().loops.wake.notify_one();
    }

    /// Configured loopback upstreams that send the agent's queries back to it, and so are
    /// not used (see [`DnsServer::upstreams`]).
    pub fn looping_upstreams(&self) -> Vec<SocketAddr> {
        self.inner.forwarder().upstreams.looping()
    }

    /// The upstreams as last set with [`DnsServer::set_upstreams`] (including those left
    /// out because they are our own listeners or loop).
    pub fn configured_upstreams(&self) -> Vec<SocketAddr> {
        self.inner.forwarder().upstreams.configured()
    }

    /// The upstreams queries are forwarded to now, best first.
    pub fn upstreams(&self) -> Vec<SocketAddr> {
        self.inner.forwarder().upstreams.current().to_vec()
    }

    /// Changes `dns_request_timeout` (per upstream attempt) for the next queries.
    pub fn set_request_timeout(&self, timeout: Duration) {
        self.inner.forwarder().set_request_timeout(timeout);
    }

    pub fn counters(&self) -> DnsCounters {
        self.inner.engine.counters.snapshot()
    }

    /// Handles one query as a listener does, without a socket: `packet` as received from
    /// `origin`, and the bytes the listener would send back (`None`: it sends nothing).
    /// Queries the policy does not answer are forwarded to the upstreams as usual. For
    /// in-process callers that bring their own transport (benches, the fuzz targets).
    pub async fn answer(&self, packet: &[u8], origin: QueryOrigin) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        match self.inner.engine.handle_guarded(packet, origin, &mut out) {
            Step::Reply => Some(out),
            Step::Drop => None,
            Step::Later(later) => later.await,
        }
    }

    /// What the client receives when `packet` is forwarded to one upstream that answers
    /// with `upstream_reply`, from the moment that reply is read off the socket: the
    /// exchange's checks (`forwarded_id` is the ID the query went out with; a reply that
    /// fails them counts as no answer, so the client gets SERVFAIL), the client's ID put
    /// back, rebinding protection and the client's UDP size — the code the forwarding
    /// path runs, minus the sockets and the TC→TCP retry. `None` when the server would
    /// not forward `packet` at all (it is not a well-formed query).
    pub fn relay_reply(
        &self,
        packet: &[u8],
        forwarded_id: u16,
        upstream_reply: &[u8],
        transport: Transport,
    ) -> Option<Vec<u8>> {
        let Inbound::Query(query) = packet::parse(packet) else {
            return None;
        };
        let question = packet.get(HEADER_LEN..HEADER_LEN + query.question_len)?;
        let check = ReplyCheck {
            id: forwarded_id,
            question,
        };
        let accepted = check.accepts(upstream_reply).then(|| {
            let mut reply = upstream_reply.to_vec();
            give_client_id(&mut reply, packet);
            reply
        });
        Some(self.inner.engine.client_reply(&query, accepted, transport))
    }
}

struct ServerInner {
    engine: Arc<QueryEngine>,
    config: DnsServerConfig,
    /// Parent of every listener's token: dropping the server stops them all.
    shutdown: CancellationToken,
    listeners: Mutex<BTreeMap<IpAddr, RunningListener>>,
    /// Stops the loop watcher; `None` until the first listener starts it.
    loop_watch: Mutex<Option<CancellationToken>>,
}

impl ServerInner {
    fn listeners(&self) -> MutexGuard<'_, BTreeMap<IpAddr, RunningListener>> {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn loop_watch(&self) -> MutexGuard<'_, Option<CancellationToken>> {
        self.loop_watch.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn forwarder(&self) -> &Forwarder {
        &self.engine.forwarder
    }

    fn refresh_own_addresses(&self, listeners: &BTreeMap<IpAddr, RunningListener>) {
        let own = listeners.values().map(|l| l.addr);
        for upstream in self.forwarder().upstreams.set_own(own) {
            tracing::debug!(%upstream, "not forwarding to an upstream that is our own listener");
        }
    }
}

impl Drop for ServerInner {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

struct RunningListener {
    addr: SocketAddr,
    cancel: CancellationToken,
    tasks: [JoinHandle<()>; 2],
}

impl RunningListener {
    async fn stop(self) {
        self.cancel.cancel();
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::warn!(addr = %self.addr, %error, "DNS listener task ended abnormally");
            }
        }
    }
}
