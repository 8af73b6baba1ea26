//! Work parked on a session key while its authorization is in flight (see the core's
//! module documentation): DNS questions and accepted connections, asked again when the
//! core says the key settled.

use std::collections::BTreeMap;
use std::net::IpAddr;

use tokio::sync::oneshot;

use crate::proxy::ConnectionVerdict;
use boundary_agent_core::{DnsDecision, DnsQuestion, SessionKey};

/// One waiting input, with where its answer goes.
pub enum Parked {
    Dns {
        question: DnsQuestion,
        reply: oneshot::Sender<DnsDecision>,
    },
    Connection {
        local: IpAddr,
        port: u16,
        peer_uid: Option<u32>,
        reply: oneshot::Sender<ConnectionVerdict>,
    },
}

impl Parked {
    /// Nobody waits for the answer any more (the DNS query timed out, the client left).
    fn is_abandoned(&self) -> bool {
        match self {
            Parked::Dns { reply, .. } => reply.is_closed(),
            Parked::Connection { reply, .. } => reply.is_closed(),
        }
    }
}

/// Parked work by key, in arrival order.
#[derive(Default)]
pub struct ParkingLot {
    by_key: BTreeMap<SessionKey, Vec<Parked>>,
}

impl ParkingLot {
    /// Parks `item` on `key`, dropping work on that key nobody waits for any more.
    pub fn park(&mut self, key: SessionKey, item: Parked) {
        let waiting = self.by_key.entry(key).or_default();
        waiting.retain(|parked| !parked.is_abandoned());
        waiting.push(item);
    }

    /// Everything parked on `key`, oldest first, still waited for.
    pub fn take(&mut self, key: &SessionKey) -> Vec<Parked> {
        let mut taken = self.by_key.remove(key).unwrap_or_default();
        taken.retain(|parked| !parked.is_abandoned());
        taken
    }

    /// How many inputs are parked (abandoned ones included until their key settles).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alias: &str) -> SessionKey {
        SessionKey {
            alias: alias.to_owned(),
            uid: 1000,
        }
    }

    fn dns(name: &str) -> (Parked, oneshot::Receiver<DnsDecision>) {
        let (reply, answer) = oneshot::channel();
        let question = DnsQuestion {
            name: name.to_owned(),
            qtype: 1,
            uid: Some(1000),
        };
        (Parked::Dns { question, reply }, answer)
    }

    #[test]
    fn work_comes_back_per_key_in_arrival_order() {
        let mut lot = ParkingLot::default();
        let (first, _a) = dns("first");
        let (second, _b) = dns("second");
        let (other, _c) = dns("other");
        lot.park(key("db"), first);
        lot.park(key("web"), other);
        lot.park(key("db"), second);
        let names: Vec<String> = lot
            .take(&key("db"))
            .into_iter()
            .map(|p| match p {
                Parked::Dns { question, .. } => question.name,
                Parked::Connection { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(names, ["first", "second"]);
        assert!(lot.take(&key("db")).is_empty());
        assert_eq!(lot.len(), 1);
    }

    #[test]
    fn abandoned_work_is_dropped() {
        let mut lot = ParkingLot::default();
        let (gone, answer) = dns("gone");
        drop(answer);
        let (waiting, _answer) = dns("waiting");
        lot.park(key("db"), gone);
        lot.park(key("db"), waiting);
        assert_eq!(lot.len(), 1, "parking pruned the abandoned question");
        let taken = lot.take(&key("db"));
        assert_eq!(taken.len(), 1);
        assert!(lot.is_empty());
    }
}
