//! Upstreams that send the agent's queries back to it.
//!
//! A caching resolver on the machine that reads `/etc/resolv.conf` for its own upstreams
//! (a standalone dnsmasq or unbound on 127.0.0.1) learns of the agent as soon as the agent
//! takes the file over, and from then on forwards to the agent what the agent forwards to
//! it: every ordinary query bounces between the two until both time out. Filtering the
//! agent's own addresses out of the upstreams cannot see this.
//!
//! So loopback upstreams are probed — when the upstreams or the resolver configuration
//! change, when a query to one of them times out, and every [`PROBE_INTERVAL`] while one
//! is found looping — with a query for a random name under [`PROBE_ZONE`]. The engine
//! answers every query under that zone itself (REFUSED, never forwarded, so a probe cannot
//! bounce) and notes the probes it sent. A probe that comes back marks its upstream as
//! looping: it is left out of forwarding and reported
//! ([`ForwardEvent::Looping`](super::ForwardEvent)) until a later probe no longer comes
//! back. Other upstreams are not probed: a server elsewhere cannot reach the agent's
//! addresses.
//!
//! The zone is under `example.`, which RFC 6761 asks caching resolvers to resolve like any
//! other name: `invalid.` would be answered locally by unbound (a default local zone)
//! and never reach the agent, hiding exactly the loop being looked for. A resolver that
//! does not loop sends the probe on to its own upstreams, which answer NXDOMAIN.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::ForwardEvent;
use super::engine::QueryEngine;
use super::exchange::{ReplyCheck, connected_udp, exchange_udp};
use super::packet::HEADER_LEN;

/// The zone of probe names (`.invalid` never exists, RFC 6761).
pub(crate) const PROBE_ZONE: &str = "loop-check.boundary-client-agent.example";
/// How often upstreams found looping are probed again (to notice the loop is gone).
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(30);
/// The shortest time between two rounds of probes (timeouts ask for one each).
const MIN_PROBE_GAP: Duration = Duration::from_secs(2);
/// The longest a probe waits for its reply (a silent upstream must not hold up a round).
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Probes in flight, and the wake-up for a new round.
#[derive(Default)]
pub(crate) struct LoopCheck {
    /// Probe label → whether it reached one of our listeners.
    sent: Mutex<HashMap<String, bool>>,
    /// Asks the watcher for a round now (upstreams changed, a loopback upstream timed out).
    pub wake: Notify,
}

impl LoopCheck {
    /// Whether `name` (normalized: lower case, no trailing dot) is under [`PROBE_ZONE`];
    /// if it is one of our probes, records that it came back.
    pub fn arrived(&self, name: &str) -> bool {
        let Some(rest) = name.strip_suffix(PROBE_ZONE) else {
            return false;
        };
        if let Some(label) = rest.strip_suffix('.')
            && let Some(came_back) = self.sent().get_mut(label)
        {
            *came_back = true;
        }
        true
    }

    /// Sends one probe to `upstream` and waits for its reply (at most `timeout`);
    /// returns whether the probe reached one of our own listeners meanwhile.
    async fn probe(&self, upstream: SocketAddr, timeout: Duration) -> bool {
        let label = format!("{:016x}", rand::random::<u64>());
        let Some(query) = probe_query(&label) else {
            return false;
        };
        self.sent().insert(label.clone(), false);
        let check = ReplyCheck {
            id: u16::from_be_bytes([query[0], query[1]]),
            question: &query[HEADER_LEN..],
        };
        let exchange = async {
            let socket = connected_udp(upstream).await?;
            exchange_udp(&socket, &query, &check, 512).await
        };
        let _ = tokio::time::timeout(timeout, exchange).await;
        self.sent().remove(&label).unwrap_or(false)
    }

    fn sent(&self) -> MutexGuard<'_, HashMap<String, bool>> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Probes the engine's loopback upstreams in rounds until `stop`; updates which of them
/// loop and reports the ones newly found looping.
pub(crate) async fn watch_loops(engine: Arc<QueryEngine>, stop: CancellationToken) {
    let forwarder = &engine.forwarder;
    loop {
        let (candidates, generation) = forwarder.upstreams.candidates();
        let timeout = forwarder.request_timeout().min(PROBE_TIMEOUT);
        let loopback: Vec<SocketAddr> = candidates
            .into_iter()
            .filter(|upstream| upstream.ip().is_loopback())
            .collect();
        let verdicts = futures_util::future::join_all(
            loopback
                .iter()
                .map(|&upstream| forwarder.loops.probe(upstream, timeout)),
        )
        .await;
        let looping: BTreeSet<SocketAddr> = loopback
            .iter()
            .zip(verdicts)
            .filter_map(|(&upstream, loops)| loops.then_some(upstream))
            .collect();
        for upstream in forwarder.upstreams.set_looping(generation, looping) {
            tracing::warn!(%upstream, "upstream DNS server sends the agent's queries back to it (a local resolver reading /etc/resolv.conf?); not forwarding to it");
            forwarder.report(ForwardEvent::Looping { upstream });
        }
        let recheck = forwarder.upstreams.looping_count() > 0;
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(PROBE_INTERVAL), if recheck => {}
            _ = forwarder.loops.wake.notified() => {}
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(MIN_PROBE_GAP) => {}
        }
    }
}

/// A recursive `A` query for `<label>.<PROBE_ZONE>.` with a random ID, as bytes.
fn probe_query(label: &str) -> Option<Vec<u8>> {
    let name = Name::from_ascii(format!("{label}.{PROBE_ZONE}.")).ok()?;
    let mut message = Message::query();
    message.metadata.id = rand::random();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name, RecordType::A));
    message.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_names_are_recognised_and_only_our_own_are_recorded() {
        let check = LoopCheck::default();
        check.sent().insert("00ff".into(), false);
        assert!(!check.arrived("db.example"));
        assert!(!check.arrived("x.example"));
        assert!(check.arrived(&format!("1234.{PROBE_ZONE}")));
        assert!(check.arrived(PROBE_ZONE));
        assert_eq!(check.sent().get("00ff"), Some(&false));
        assert!(check.arrived(&format!("00ff.{PROBE_ZONE}")));
        assert_eq!(check.sent().get("00ff"), Some(&true));
    }

    #[test]
    fn a_probe_query_asks_for_a_name_under_the_zone() {
        let query = probe_query("abc").unwrap();
        let message = Message::from_vec(&query).unwrap();
        let question = &message.queries[0];
        assert_eq!(question.name().to_ascii(), format!("abc.{PROBE_ZONE}."));
        assert_eq!(question.query_type(), RecordType::A);
        assert!(message.metadata.recursion_desired);
    }
}
