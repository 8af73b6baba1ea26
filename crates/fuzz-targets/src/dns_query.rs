//! `dns_query`: one query through the agent's real DNS engine (`DnsServer::answer`:
//! parse, source gate, policy, local answer or forward), with a fake policy whose verdict
//! the input chooses, and no upstreams (a forward ends in SERVFAIL without a socket).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};

use boundary_agent::dns::{DnsServer, DnsServerConfig, QueryOrigin, Transport, Verdict};
use boundary_agent_core::dns_decision::{AliasAddress, DnsDecision, DnsQuestion};
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::RData;

use crate::runtime;

/// The addresses the fake policy hands out.
pub const ALIAS_V4: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 9);
pub const ALIAS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 9);

/// The verdict the policy gives next (low three bits of the input's first byte). A
/// static because the policy is built once per thread with its server; inputs run one at
/// a time on that thread.
static NEXT_VERDICT: AtomicU8 = AtomicU8::new(0);

fn policy(_: &DnsQuestion, _: &QueryOrigin) -> Verdict {
    let decision = |kind| match kind {
        1 => DnsDecision::Address(AliasAddress::V4(ALIAS_V4)),
        2 => DnsDecision::Address(AliasAddress::V6(ALIAS_V6)),
        3 => DnsDecision::NoData,
        4 => DnsDecision::NxDomain,
        _ => DnsDecision::Forward,
    };
    match NEXT_VERDICT.load(Ordering::Relaxed) & 7 {
        // The first use of an alias: decided after async work.
        5 => Verdict::Pending(Box::pin(async move {
            tokio::task::yield_now().await;
            decision(1)
        })),
        // A decision that never comes: the engine's decision timeout forwards.
        6 => Verdict::Pending(Box::pin(std::future::pending())),
        7 => Verdict::Pending(Box::pin(async move { decision(4) })),
        kind => Verdict::Now(decision(kind)),
    }
}

thread_local! {
    static SERVER: DnsServer = DnsServer::builder(DnsServerConfig::default(), policy).build();
}

/// `data[0]`: bits 0–2 the policy's verdict (forward, A, AAAA, NODATA, NXDOMAIN, pending
/// A, pending forever, pending NXDOMAIN), bit 3 TCP instead of UDP; the rest is the packet
/// as received. Checks what the engine promises of every reply it sends:
/// - it parses, is a response and carries the query's ID;
/// - over UDP it fits the client's buffer (512 bytes, or the EDNS size it advertised);
/// - it echoes the question when the query's question was readable;
/// - answer records are for the question's name and type only (an A record never
///   answers an AAAA question) and hold the address the policy gave.
pub fn dns_query(data: &[u8]) {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    NEXT_VERDICT.store(selector, Ordering::Relaxed);
    let transport = if selector & 8 == 0 {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let origin = QueryOrigin {
        client: SocketAddr::from(([127, 0, 0, 1], 40000)),
        server: SocketAddr::from(([100, 64, 0, 1], 53)),
        transport,
        ingress: None,
        proven_local: false,
    };
    let server = SERVER.with(DnsServer::clone);
    let Some(reply) = runtime::block_on_shared(server.answer(packet, origin)) else {
        return;
    };
    // No upstreams: every reply is the agent's own.
    check_local_answers(&check_reply(packet, &reply, transport));
}

/// The checks every reply the agent sends must pass (shared with `dns_forward`).
pub(crate) fn check_reply(packet: &[u8], reply: &[u8], transport: Transport) -> Message {
    let message = Message::from_vec(reply).expect("the reply parses");
    assert_eq!(message.metadata.message_type, MessageType::Response);
    assert_eq!(
        message.metadata.id,
        u16::from_be_bytes([packet[0], packet[1]])
    );
    let query = Message::from_vec(packet).ok();
    if transport == Transport::Udp {
        let advertised = query
            .as_ref()
            .and_then(|query| query.edns.as_ref())
            .map_or(512, |edns| edns.max_payload().max(512));
        assert!(
            reply.len() <= usize::from(advertised),
            "a {}-byte UDP reply to a client that takes {advertised}",
            reply.len()
        );
    }
    if let (Some(query), Some(echoed)) = (
        query.filter(|query| query.queries.len() == 1),
        message.queries.first(),
    ) {
        assert_eq!(echoed, &query.queries[0], "the question is echoed as asked");
    }
    message
}

/// Answers the agent makes itself: only the policy's address, for the question asked.
fn check_local_answers(message: &Message) {
    for record in &message.answers {
        let question = message.queries.first().expect("an answer has a question");
        assert_eq!(&record.name, question.name());
        assert_eq!(record.record_type(), question.query_type());
        match &record.data {
            RData::A(a) => assert_eq!(a.0, ALIAS_V4),
            RData::AAAA(aaaa) => assert_eq!(aaaa.0, ALIAS_V6),
            other => panic!("the agent answered with {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::{Name, RecordType};

    /// The input's first byte does steer the policy: an A verdict reaches the answer.
    #[test]
    fn the_selector_reaches_the_policy() {
        let mut message = Message::query();
        message.metadata.id = 9;
        message.add_query(Query::query(
            Name::from_ascii("db.example.").expect("a name"),
            RecordType::A,
        ));
        let packet = message.to_vec().expect("a query");
        for (selector, answers) in [(1u8, 1usize), (5, 1), (3, 0)] {
            NEXT_VERDICT.store(selector, Ordering::Relaxed);
            let origin = QueryOrigin {
                client: SocketAddr::from(([127, 0, 0, 1], 40000)),
                server: SocketAddr::from(([100, 64, 0, 1], 53)),
                transport: Transport::Udp,
                ingress: None,
                proven_local: false,
            };
            let server = SERVER.with(DnsServer::clone);
            let reply = runtime::block_on_shared(server.answer(&packet, origin)).expect("a reply");
            let reply = check_reply(&packet, &reply, Transport::Udp);
            assert_eq!(reply.answers.len(), answers, "selector {selector}");
            check_local_answers(&reply);
        }
    }
}
