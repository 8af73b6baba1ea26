use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NULL};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use ipnet::IpNet;
use proptest::prelude::*;

use super::strip_protected;

fn protected() -> Vec<IpNet> {
    vec![
        "100.64.0.0/10".parse().unwrap(),
        "fd00:a20a::/48".parse().unwrap(),
    ]
}

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

fn reply(answers: Vec<Record>, additionals: Vec<Record>) -> Vec<u8> {
    let mut message = Message::new(0x1234, MessageType::Response, OpCode::Query);
    message.add_query(Query::query(name("evil.test."), RecordType::A));
    message.answers = answers;
    message.additionals = additionals;
    message.to_vec().unwrap()
}

fn a(owner: &str, ip: &str) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A(ip.parse().unwrap())))
}

fn addresses(bytes: &[u8]) -> Vec<String> {
    let message = Message::from_vec(bytes).unwrap();
    message
        .answers
        .iter()
        .chain(&message.additionals)
        .filter_map(|r| match r.data {
            RData::A(a) => Some(a.0.to_string()),
            RData::AAAA(aaaa) => Some(aaaa.0.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_reply_pointing_into_the_prefixes_loses_those_records_only() {
    let bytes = reply(
        vec![a("evil.test.", "100.64.1.5"), a("evil.test.", "192.0.2.1")],
        vec![Record::from_rdata(
            name("ns.evil.test."),
            60,
            RData::AAAA(AAAA("fd00:a20a::5".parse().unwrap())),
        )],
    );
    let stripped = strip_protected(&bytes, &protected()).expect("changed");
    assert_eq!(addresses(&stripped), ["192.0.2.1"]);
    let message = Message::from_vec(&stripped).unwrap();
    assert_eq!(message.metadata.id, 0x1234, "the client's id stays");
    assert_eq!(message.metadata.response_code, ResponseCode::NoError);
}

#[test]
fn nothing_left_is_noerror_without_data_and_a_cname_chain_keeps_its_cname() {
    let cname = Record::from_rdata(
        name("evil.test."),
        60,
        RData::CNAME(CNAME(name("inner.evil.test."))),
    );
    let bytes = reply(
        vec![cname, a("inner.evil.test.", "100.127.255.254")],
        vec![],
    );
    let stripped = strip_protected(&bytes, &protected()).expect("changed");
    let message = Message::from_vec(&stripped).unwrap();
    assert_eq!(message.answers.len(), 1);
    assert_eq!(message.answers[0].record_type(), RecordType::CNAME);
    assert_eq!(message.metadata.response_code, ResponseCode::NoError);
}

#[test]
fn the_signature_over_a_cut_set_goes_too() {
    let mut covered_a = vec![0, 1]; // type covered: A
    covered_a.extend_from_slice(&[8, 2, 0, 0, 0, 60]);
    let rrsig = Record::from_rdata(
        name("evil.test."),
        60,
        RData::Unknown {
            code: RecordType::RRSIG,
            rdata: NULL::with(covered_a),
        },
    );
    let bytes = reply(vec![a("evil.test.", "100.64.1.5"), rrsig], vec![]);
    let stripped = strip_protected(&bytes, &protected()).expect("changed");
    assert!(Message::from_vec(&stripped).unwrap().answers.is_empty());
}

#[test]
fn ordinary_replies_are_left_to_the_byte_relay() {
    let bytes = reply(vec![a("www.test.", "192.0.2.1")], vec![]);
    assert_eq!(strip_protected(&bytes, &protected()), None);
    assert_eq!(strip_protected(&bytes, &[]), None);
    assert_eq!(strip_protected(b"\x12\x34", &protected()), None);
}

proptest! {
    #[test]
    fn any_bytes_are_handled_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = strip_protected(&bytes, &protected());
    }
}
