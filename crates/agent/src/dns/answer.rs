//! Building the answers the server gives itself: alias addresses, NODATA, NXDOMAIN,
//! FORMERR/NOTIMP/BADVERS, SERVFAIL, and the truncated stand-in for a forwarded reply too
//! large for the client's UDP buffer.
//!
//! Every answer echoes the question and mirrors EDNS: when the query had an OPT record the
//! reply carries one too (our payload size, the client's DO bit, version 0); without one
//! it has none. A UDP answer larger than the client accepts (512 bytes without EDNS) is
//! replaced by a header + question (+ OPT) with TC=1, so the client retries over TCP.

use hickory_proto::op::{Edns, Message, Metadata, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use super::packet::{ClientEdns, InboundQuery};
use boundary_agent_core::dns_decision::{AliasAddress, DnsDecision};

/// An answer the server makes without asking upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocalAnswer {
    Address(AliasAddress),
    NoData,
    NxDomain,
}

impl LocalAnswer {
    /// `None` for [`DnsDecision::Forward`].
    pub fn from_decision(decision: DnsDecision) -> Option<Self> {
        match decision {
            DnsDecision::Address(address) => Some(LocalAnswer::Address(address)),
            DnsDecision::NoData => Some(LocalAnswer::NoData),
            DnsDecision::NxDomain => Some(LocalAnswer::NxDomain),
            DnsDecision::Forward => None,
        }
    }
}

/// What every answer needs from the configuration, prepared once.
pub(crate) struct AnswerSettings {
    pub answer_ttl: u32,
    pub negative_ttl: u32,
    pub edns_payload: u16,
    soa_mname: Name,
    soa_rname: Name,
}

impl AnswerSettings {
    pub fn new(answer_ttl: u32, negative_ttl: u32, edns_payload: u16) -> Self {
        let soa_mname = Name::from_ascii("boundary-client-agent.invalid.").unwrap_or_default();
        let soa_rname =
            Name::from_ascii("hostmaster.boundary-client-agent.invalid.").unwrap_or_default();
        AnswerSettings {
            answer_ttl,
            negative_ttl,
            edns_payload: edns_payload.max(512),
            soa_mname,
            soa_rname,
        }
    }
}

/// Encodes the server's own answer to `query` into `out` (cleared first), cut down to
/// TC=1 when it exceeds `limit` bytes.
pub(crate) fn encode_local(
    query: &InboundQuery,
    answer: LocalAnswer,
    settings: &AnswerSettings,
    limit: usize,
    out: &mut Vec<u8>,
) {
    let mut message = response_to(&query.metadata, Some(&query.question), query.edns, settings);
    message.metadata.authoritative = true;
    let name = query.question.name();
    let qtype = query.question.query_type();
    // The core answers in the family asked for; anything else is treated as NODATA so a
    // mismatch can never put an A record in an AAAA answer.
    let address = match answer {
        LocalAnswer::Address(AliasAddress::V4(ip)) if qtype == RecordType::A => {
            Some(RData::A(A(ip)))
        }
        LocalAnswer::Address(AliasAddress::V6(ip)) if qtype == RecordType::AAAA => {
            Some(RData::AAAA(AAAA(ip)))
        }
        _ => None,
    };
    match address {
        Some(rdata) => {
            message.add_answer(Record::from_rdata(name.clone(), settings.answer_ttl, rdata));
        }
        None => {
            if answer == LocalAnswer::NxDomain {
                message.metadata.response_code = ResponseCode::NXDomain;
            }
            // RFC 2308: a negative answer carries the SOA; its TTL and MINIMUM bound how
            // long the client caches the absence.
            let soa = SOA::new(
                settings.soa_mname.clone(),
                settings.soa_rname.clone(),
                1,
                3600,
                600,
                86400,
                settings.negative_ttl,
            );
            message.add_authority(Record::from_rdata(
                name.clone(),
                settings.negative_ttl,
                RData::SOA(soa),
            ));
        }
    }
    encode_within(&message, limit, out);
}

/// Encodes an answer that carries only `rcode` (FORMERR, NOTIMP, BADVERS, SERVFAIL).
pub(crate) fn encode_error(
    request: &Metadata,
    question: Option<&Query>,
    edns: Option<ClientEdns>,
    rcode: ResponseCode,
    settings: &AnswerSettings,
    out: &mut Vec<u8>,
) {
    let mut message = response_to(request, question, edns, settings);
    message.metadata.response_code = rcode;
    // Error answers are a header, a question and an OPT: they always fit in 512 bytes.
    encode_within(&message, usize::from(u16::MAX), out);
}

/// Encodes the stand-in for an upstream reply too large for the client's UDP buffer: the
/// upstream's flags and RCODE, the client's question, TC=1. The client retries over TCP,
/// where it gets the full reply.
pub(crate) fn encode_truncated_reply(
    query: &InboundQuery,
    upstream: &Metadata,
    settings: &AnswerSettings,
    out: &mut Vec<u8>,
) {
    let mut message = response_to(&query.metadata, Some(&query.question), query.edns, settings);
    message.metadata.authoritative = upstream.authoritative;
    message.metadata.recursion_available = upstream.recursion_available;
    message.metadata.authentic_data = upstream.authentic_data;
    message.metadata.response_code = upstream.response_code;
    message.metadata.truncation = true;
    encode_within(&message, usize::from(u16::MAX), out);
}

/// A response skeleton: ID, opcode, RD and CD copied (RFC 6895 §2), RA set, the question
/// echoed, EDNS mirrored.
fn response_to(
    request: &Metadata,
    question: Option<&Query>,
    edns: Option<ClientEdns>,
    settings: &AnswerSettings,
) -> Message {
    let mut message = Message::new(
        request.id,
        hickory_proto::op::MessageType::Response,
        request.op_code,
    );
    message.metadata = Metadata::response_from_request(request);
    message.metadata.recursion_available = true;
    if let Some(question) = question {
        message.add_query(question.clone());
    }
    if let Some(client) = edns {
        let mut ours = Edns::new();
        ours.set_max_payload(settings.edns_payload)
            .set_dnssec_ok(client.dnssec_ok);
        message.set_edns(ours);
    }
    message
}

/// Encodes `message` into `out`; over `limit` bytes, encodes it again without records and
/// with TC=1.
fn encode_within(message: &Message, limit: usize, out: &mut Vec<u8>) {
    if encode(message, out) && out.len() <= limit {
        return;
    }
    let mut cut = Message::new(
        message.metadata.id,
        message.metadata.message_type,
        message.metadata.op_code,
    );
    cut.metadata = message.metadata;
    cut.metadata.truncation = true;
    cut.queries = message.queries.clone();
    cut.edns = message.edns.clone();
    if !encode(&cut, out) {
        encode_bare_servfail(&message.metadata, out);
    }
}

fn encode(message: &Message, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut encoder = BinEncoder::new(out);
    message.emit(&mut encoder).is_ok()
}

/// Last resort when hickory cannot encode a message: a 12-byte SERVFAIL header.
fn encode_bare_servfail(metadata: &Metadata, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&metadata.id.to_be_bytes());
    let opcode = u8::from(metadata.op_code) & 0x0f;
    out.push(0x80 | (opcode << 3) | u8::from(metadata.recursion_desired));
    out.push(0x80 | ResponseCode::ServFail.low());
    out.extend_from_slice(&[0; 8]);
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
