use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use proptest::prelude::*;

use super::*;
use crate::dns::{ForwardEvent, upstreams::Upstreams};
use boundary_agent_core::dns_decision::{AliasAddress, rtype};

const ALIAS_V4: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 9);

/// Maps `db.example` to an address (with the client's port, when it is 4242, in the last
/// octet: the origin reaches the policy),
/// `slow.example` to a pending decision, everything else to Forward. Records questions.
fn engine(
    seen: Arc<Mutex<Vec<DnsQuestion>>>,
    events: Arc<Mutex<Vec<ForwardEvent>>>,
) -> Arc<QueryEngine> {
    let policy = move |q: &DnsQuestion, origin: &QueryOrigin| -> Verdict {
        seen.lock().unwrap().push(q.clone());
        match (q.name.as_str(), q.qtype) {
            ("db.example", rtype::A) => {
                let last = if origin.client.port() == 4242 { 42 } else { 9 };
                Verdict::Now(DnsDecision::Address(AliasAddress::V4(Ipv4Addr::new(
                    100, 64, 0, last,
                ))))
            }
            ("db.example", _) => Verdict::Now(DnsDecision::NoData),
            ("slow.example", _) => Verdict::Pending(Box::pin(async {
                tokio::task::yield_now().await;
                DnsDecision::Address(AliasAddress::V4(ALIAS_V4))
            })),
            _ => Verdict::Now(DnsDecision::Forward),
        }
    };
    let observer: crate::dns::ForwardObserver =
        Arc::new(move |event: &ForwardEvent| events.lock().unwrap().push(*event));
    Arc::new(QueryEngine {
        policy: Arc::new(policy),
        // no upstreams: forwarding fails at once, without touching the network
        forwarder: Forwarder::new(
            Upstreams::new(Vec::new()),
            Duration::from_secs(1),
            Some(observer),
        ),
        answers: AnswerSettings::new(5, 5, 1232),
        decision_timeout: Duration::from_secs(5),
        counters: Counters::default(),
        sources: Arc::default(),
        protected: Vec::new(),
    })
}

fn ctx(transport: Transport, client_port: u16) -> QueryContext {
    QueryContext {
        client: SocketAddr::from(([127, 0, 0, 1], client_port)),
        server: SocketAddr::from(([127, 0, 0, 53], 53)),
        transport,
        ingress: None,
        proven_local: false,
    }
}

fn query(name: &str, rtype: RecordType, class: DNSClass) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.id = 77;
    let mut q = Query::query(Name::from_ascii(name).unwrap(), rtype);
    q.set_query_class(class);
    message.add_query(q);
    message.set_edns(Edns::new());
    message.to_vec().unwrap()
}

/// Runs one packet through the engine, including any async step.
fn run(engine: &Arc<QueryEngine>, packet: &[u8], ctx: QueryContext) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match engine.handle(packet, ctx, &mut out) {
        Step::Reply => Some(out),
        Step::Drop => None,
        Step::Later(later) => tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(later),
    }
}

type Seen = Arc<Mutex<Vec<DnsQuestion>>>;
type Events = Arc<Mutex<Vec<ForwardEvent>>>;

fn fresh() -> (Arc<QueryEngine>, Seen, Events) {
    let seen = Arc::default();
    let events = Arc::default();
    (engine(Arc::clone(&seen), Arc::clone(&events)), seen, events)
}

#[test]
fn an_alias_is_answered_inline_and_the_policy_sees_a_normalised_name() {
    let (engine, seen, _) = fresh();
    let mut out = Vec::new();
    let packet = query("DB.Example.", RecordType::A, DNSClass::IN);
    assert!(matches!(
        engine.handle(&packet, ctx(Transport::Udp, 1000), &mut out),
        Step::Reply
    ));
    let reply = Message::from_vec(&out).unwrap();
    assert_eq!(
        reply.answers[0].data,
        RData::A(hickory_proto::rr::rdata::A(ALIAS_V4))
    );
    assert_eq!(seen.lock().unwrap()[0].name, "db.example");
    assert_eq!(seen.lock().unwrap()[0].uid, None);
    assert_eq!(engine.counters.snapshot().answered_locally, 1);
}

#[test]
fn the_policy_gets_the_query_origin() {
    let (engine, seen, _) = fresh();
    let reply = run(
        &engine,
        &query("db.example.", RecordType::A, DNSClass::IN),
        ctx(Transport::Tcp, 4242),
    )
    .unwrap();
    assert_eq!(
        seen.lock().unwrap()[0].uid,
        None,
        "attribution is the policy's business"
    );
    let reply = Message::from_vec(&reply).unwrap();
    assert_eq!(
        reply.answers[0].data,
        RData::A(hickory_proto::rr::rdata::A(Ipv4Addr::new(100, 64, 0, 42)))
    );
}

#[test]
fn a_pending_decision_is_awaited() {
    let (engine, _, _) = fresh();
    let reply = run(
        &engine,
        &query("slow.example.", RecordType::A, DNSClass::IN),
        ctx(Transport::Udp, 1000),
    )
    .unwrap();
    let reply = Message::from_vec(&reply).unwrap();
    assert!(reply.metadata.authoritative);
    assert_eq!(reply.answers.len(), 1);
}

#[test]
fn with_no_usable_upstream_a_forward_is_servfail_and_reported() {
    let (engine, _, events) = fresh();
    let reply = run(
        &engine,
        &query("other.example.", RecordType::A, DNSClass::IN),
        ctx(Transport::Udp, 1000),
    )
    .unwrap();
    let reply = Message::from_vec(&reply).unwrap();
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(reply.metadata.id, 77);
    assert_eq!(reply.queries.len(), 1);
    assert!(reply.edns.is_some());
    assert_eq!(
        *events.lock().unwrap(),
        vec![ForwardEvent::Exhausted { tried: 0 }]
    );
    assert_eq!(engine.counters.snapshot().servfail, 1);
}

#[test]
fn non_internet_classes_are_forwarded_without_asking_the_policy() {
    let (engine, seen, _) = fresh();
    let mut out = Vec::new();
    let packet = query("db.example.", RecordType::TXT, DNSClass::CH);
    assert!(matches!(
        engine.handle(&packet, ctx(Transport::Udp, 1000), &mut out),
        Step::Later(_)
    ));
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn garbage_shorter_than_a_header_is_dropped() {
    let (engine, _, _) = fresh();
    assert!(run(&engine, b"\x01\x02\x03", ctx(Transport::Udp, 1000)).is_none());
    assert_eq!(engine.counters.snapshot().dropped, 1);
}

/// A reply must parse, carry the query's ID and be a response.
fn check_reply(packet: &[u8], reply: &[u8], transport: Transport) {
    let message = Message::from_vec(reply).expect("the reply parses");
    assert_eq!(
        message.metadata.id,
        u16::from_be_bytes([packet[0], packet[1]])
    );
    assert_eq!(
        message.metadata.message_type,
        hickory_proto::op::MessageType::Response
    );
    if transport == Transport::Udp {
        assert!(reply.len() <= 65535);
    }
}

fn arbitrary_query() -> impl Strategy<Value = Vec<u8>> {
    let label = "[a-zA-Z0-9][a-zA-Z0-9-]{0,19}";
    let names = prop::collection::vec(label, 1..5).prop_map(|labels| labels.join(".") + ".");
    let types = prop::sample::select(vec![
        RecordType::A,
        RecordType::AAAA,
        RecordType::MX,
        RecordType::TXT,
        RecordType::ANY,
    ]);
    (names, types, any::<Option<(u16, bool)>>(), any::<u16>()).prop_map(
        |(name, rtype, edns, id)| {
            let mut message = Message::query();
            message.metadata.id = id;
            message.add_query(Query::query(Name::from_ascii(&name).unwrap(), rtype));
            if let Some((payload, dnssec_ok)) = edns {
                let mut e = Edns::new();
                e.set_max_payload(payload).set_dnssec_ok(dnssec_ok);
                message.set_edns(e);
            }
            message.to_vec().unwrap()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(packet in prop::collection::vec(any::<u8>(), 0..700)) {
        let (engine, _, _) = fresh();
        for transport in [Transport::Udp, Transport::Tcp] {
            if let Some(reply) = run(&engine, &packet, ctx(transport, 1000)) {
                check_reply(&packet, &reply, transport);
            }
        }
    }

    #[test]
    fn mangled_queries_never_panic(
        packet in arbitrary_query(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut packet = packet;
        for (at, byte) in flips {
            let at = at.index(packet.len());
            packet[at] = byte;
        }
        if do_cut {
            packet.truncate(cut.index(packet.len() + 1));
        }
        let (engine, _, _) = fresh();
        for transport in [Transport::Udp, Transport::Tcp] {
            if let Some(reply) = run(&engine, &packet, ctx(transport, 1000)) {
                check_reply(&packet, &reply, transport);
            }
        }
    }

    #[test]
    fn well_formed_queries_always_get_a_reply_within_the_udp_limit(packet in arbitrary_query()) {
        let (engine, _, _) = fresh();
        let reply = run(&engine, &packet, ctx(Transport::Udp, 1000)).expect("a reply");
        check_reply(&packet, &reply, Transport::Udp);
        let limit = match packet::parse(&packet) {
            Inbound::Query(q) => q.udp_reply_limit(),
            _ => 512,
        };
        prop_assert!(reply.len() <= limit);
    }
}

#[test]
fn a_panicking_policy_drops_the_query_instead_of_the_listener() {
    let policy = |_: &DnsQuestion, _: &QueryOrigin| -> Verdict { panic!("policy bug") };
    let engine = Arc::new(QueryEngine {
        policy: Arc::new(policy),
        forwarder: Forwarder::new(Upstreams::new(Vec::new()), Duration::from_secs(1), None),
        answers: AnswerSettings::new(5, 5, 1232),
        decision_timeout: Duration::from_secs(5),
        counters: Counters::default(),
        sources: Arc::default(),
        protected: Vec::new(),
    });
    let mut out = Vec::new();
    let packet = query("db.example.", RecordType::A, DNSClass::IN);
    let step = engine.handle_guarded(&packet, ctx(Transport::Udp, 1000), &mut out);
    assert!(matches!(step, Step::Drop));
    assert_eq!(engine.counters.snapshot().dropped, 1);
}
