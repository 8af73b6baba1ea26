use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use super::*;
use crate::dns::packet::{self, Inbound};

fn settings() -> AnswerSettings {
    AnswerSettings::new(5, 7, 1232)
}

fn inbound(name: &str, rtype: RecordType, edns: Option<Edns>) -> InboundQuery {
    let mut message = Message::query();
    message.metadata.id = 0xbeef;
    message.metadata.recursion_desired = true;
    message.metadata.checking_disabled = true;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
    if let Some(edns) = edns {
        message.set_edns(edns);
    }
    match packet::parse(&message.to_vec().unwrap()) {
        Inbound::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    }
}

fn local(query: &InboundQuery, answer: LocalAnswer, limit: usize) -> Message {
    let mut out = Vec::new();
    encode_local(query, answer, &settings(), limit, &mut out);
    Message::from_vec(&out).unwrap()
}

#[test]
fn an_alias_a_answer_is_authoritative_with_the_configured_ttl() {
    let query = inbound("DB.Prod.Example.", RecordType::A, None);
    let ip = Ipv4Addr::new(100, 64, 0, 7);
    let reply = local(&query, LocalAnswer::Address(AliasAddress::V4(ip)), 512);
    assert_eq!(reply.metadata.id, 0xbeef);
    assert!(reply.metadata.authoritative);
    assert!(reply.metadata.recursion_available);
    assert!(reply.metadata.recursion_desired);
    assert!(!reply.metadata.authentic_data);
    assert!(!reply.metadata.truncation);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.queries, vec![query.question.clone()]);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(reply.answers[0].ttl, 5);
    assert_eq!(reply.answers[0].data, RData::A(A(ip)));
    // the owner name keeps the client's spelling (0x20 case randomisation still matches)
    assert_eq!(reply.answers[0].name.to_ascii(), "DB.Prod.Example.");
    assert!(reply.edns.is_none());
}

#[test]
fn an_alias_aaaa_answer_carries_the_v6_address() {
    let query = inbound("db.example.", RecordType::AAAA, None);
    let ip = Ipv6Addr::from_str("fd00:a20a::7").unwrap();
    let reply = local(&query, LocalAnswer::Address(AliasAddress::V6(ip)), 512);
    assert_eq!(reply.answers[0].data, RData::AAAA(AAAA(ip)));
}

#[test]
fn an_address_of_the_wrong_family_becomes_nodata() {
    let query = inbound("db.example.", RecordType::AAAA, None);
    let v4 = AliasAddress::V4(Ipv4Addr::new(100, 64, 0, 1));
    let reply = local(&query, LocalAnswer::Address(v4), 512);
    assert!(reply.answers.is_empty());
    assert_eq!(reply.authorities.len(), 1);
}

#[test]
fn nodata_has_an_soa_with_the_negative_ttl() {
    let query = inbound("db.example.", RecordType::MX, None);
    let reply = local(&query, LocalAnswer::NoData, 512);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative);
    assert!(reply.answers.is_empty());
    let soa = &reply.authorities[0];
    assert_eq!(soa.record_type(), RecordType::SOA);
    assert_eq!(soa.ttl, 7);
    let RData::SOA(data) = &soa.data else {
        panic!("not an SOA")
    };
    assert_eq!(data.minimum, 7);
}

#[test]
fn nxdomain_has_the_rcode_and_an_soa() {
    let query = inbound("use-application-dns.net.", RecordType::A, None);
    let reply = local(&query, LocalAnswer::NxDomain, 512);
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(reply.authorities.len(), 1);
}

#[test]
fn edns_is_mirrored_with_our_payload_and_the_clients_do_bit() {
    let mut edns = Edns::new();
    edns.set_max_payload(4096).set_dnssec_ok(true);
    let query = inbound("db.example.", RecordType::A, Some(edns));
    let v4 = AliasAddress::V4(Ipv4Addr::new(100, 64, 0, 1));
    let reply = local(&query, LocalAnswer::Address(v4), 4096);
    let reply_edns = reply.edns.expect("OPT mirrored");
    assert_eq!(reply_edns.max_payload(), 1232);
    assert!(reply_edns.flags().dnssec_ok);
    assert_eq!(reply_edns.version(), 0);
}

#[test]
fn an_answer_over_the_limit_is_cut_to_the_question_with_tc() {
    let query = inbound("db.example.", RecordType::MX, Some(Edns::new()));
    let mut out = Vec::new();
    encode_local(&query, LocalAnswer::NoData, &settings(), 60, &mut out);
    let reply = Message::from_vec(&out).unwrap();
    assert!(out.len() <= 60);
    assert!(reply.metadata.truncation);
    assert!(reply.authorities.is_empty());
    assert_eq!(reply.queries.len(), 1);
    assert!(reply.edns.is_some());
}

#[test]
fn an_error_answer_echoes_what_it_can() {
    let query = inbound("db.example.", RecordType::A, Some(Edns::new()));
    let mut out = Vec::new();
    let rcode = ResponseCode::ServFail;
    encode_error(
        &query.metadata,
        Some(&query.question),
        query.edns,
        rcode,
        &settings(),
        &mut out,
    );
    let reply = Message::from_vec(&out).unwrap();
    assert_eq!(reply.metadata.response_code, rcode);
    assert_eq!(reply.metadata.id, 0xbeef);
    assert_eq!(reply.queries.len(), 1);
    assert!(reply.edns.is_some());
}

#[test]
fn badvers_needs_the_opt_record_for_its_high_bits() {
    let query = inbound("db.example.", RecordType::A, Some(Edns::new()));
    let mut out = Vec::new();
    let rcode = ResponseCode::BADVERS;
    encode_error(
        &query.metadata,
        None,
        query.edns,
        rcode,
        &settings(),
        &mut out,
    );
    let reply = Message::from_vec(&out).unwrap();
    // 16 is both BADVERS and BADSIG; hickory names it BADSIG when decoding
    assert_eq!(u16::from(reply.metadata.response_code), 16);
}

#[test]
fn a_truncated_forward_keeps_the_upstream_flags() {
    let query = inbound("big.example.", RecordType::TXT, None);
    let mut upstream = query.metadata;
    upstream.recursion_available = true;
    upstream.authentic_data = true;
    upstream.response_code = ResponseCode::NoError;
    let mut out = Vec::new();
    encode_truncated_reply(&query, &upstream, &settings(), &mut out);
    let reply = Message::from_vec(&out).unwrap();
    assert!(reply.metadata.truncation);
    assert!(reply.metadata.authentic_data);
    assert!(reply.answers.is_empty());
    assert_eq!(reply.metadata.id, 0xbeef);
}
