//! Reading a received packet just far enough to decide what to do with it.
//!
//! The header and the single question are parsed with hickory-proto; the record sections
//! are only *walked* (names skipped, lengths checked, rdata not decoded) to find the OPT
//! record. So a query carrying records hickory cannot decode is still relayed byte-exact,
//! and every length is bounds-checked: arbitrary bytes never panic (see the proptests).
//!
//! Policy on odd queries: a packet shorter than a header, or a *response*, is dropped
//! (answering responses invites reflection loops). Opcodes other than QUERY get NOTIMP.
//! QDCOUNT other than 1 gets FORMERR — RFC 9619 makes QDCOUNT=1 the rule for QUERY, and
//! forwarding a multi-question packet could leak an alias name upstream. Cookie-only
//! queries (QDCOUNT=0, RFC 7873 §5.4) get FORMERR too, which is what that RFC expects from
//! a server without cookie support. An EDNS version other than 0 gets BADVERS (RFC 6891).

use hickory_proto::op::{Header, MessageType, Metadata, OpCode, Query, ResponseCode};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

/// Size of the fixed DNS header.
pub(crate) const HEADER_LEN: usize = 12;
/// Record type number of the EDNS OPT pseudo-record.
const OPT_TYPE: u16 = 41;

/// What the server makes of a received packet.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// Ignore it: no readable header, or not a query.
    Drop,
    /// Answer with `rcode` and nothing else (FORMERR, NOTIMP, BADVERS).
    Reject(Rejection),
    /// A well-formed standard query with one question.
    Query(InboundQuery),
}

/// Enough of a bad query to build an error reply from it.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub metadata: Metadata,
    pub question: Option<Query>,
    pub edns: Option<ClientEdns>,
    pub rcode: ResponseCode,
}

/// A standard query with exactly one question.
#[derive(Clone, Debug)]
pub(crate) struct InboundQuery {
    pub metadata: Metadata,
    pub question: Query,
    /// Length of the question section as received (it starts right after the header);
    /// forwarded replies must echo these bytes.
    pub question_len: usize,
    pub edns: Option<ClientEdns>,
}

/// The parts of the client's OPT record the server acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientEdns {
    pub max_payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
}

impl InboundQuery {
    /// The largest reply the client accepts over `udp` (RFC 6891: at least 512).
    pub fn udp_reply_limit(&self) -> usize {
        udp_reply_limit(self.edns)
    }
}

pub(crate) fn udp_reply_limit(edns: Option<ClientEdns>) -> usize {
    edns.map_or(512, |e| usize::from(e.max_payload.max(512)))
}

/// Classifies a received packet. Never panics, whatever the bytes.
pub(crate) fn parse(packet: &[u8]) -> Inbound {
    let mut decoder = BinDecoder::new(packet);
    let Ok(header) = Header::read(&mut decoder) else {
        return Inbound::Drop;
    };
    if header.message_type != MessageType::Query {
        return Inbound::Drop;
    }
    let metadata = header.metadata;
    let counts = header.counts;
    let reject = |question, edns, rcode| {
        Inbound::Reject(Rejection {
            metadata,
            question,
            edns,
            rcode,
        })
    };

    if counts.queries != 1 {
        // Without a well-defined question the rest is not worth walking; the reply still
        // mirrors EDNS when the additional section happens to be readable.
        let edns = if counts.queries == 0 {
            find_opt(packet, HEADER_LEN, &counts).ok().flatten()
        } else {
            None
        };
        let rcode = if metadata.op_code == OpCode::Query {
            ResponseCode::FormErr
        } else {
            ResponseCode::NotImp
        };
        return reject(None, edns, rcode);
    }
    let Ok(question) = Query::read(&mut decoder) else {
        return reject(None, None, ResponseCode::FormErr);
    };
    let question_end = decoder.index();
    let edns = match find_opt(packet, question_end, &counts) {
        Ok(edns) => edns,
        Err(Malformed) => return reject(Some(question), None, ResponseCode::FormErr),
    };
    if metadata.op_code != OpCode::Query {
        return reject(Some(question), edns, ResponseCode::NotImp);
    }
    if edns.is_some_and(|e| e.version != 0) {
        return reject(Some(question), edns, ResponseCode::BADVERS);
    }
    Inbound::Query(InboundQuery {
        metadata,
        question,
        question_len: question_end - HEADER_LEN,
        edns,
    })
}

/// The header of an upstream reply (flags and RCODE), if it has one.
pub(crate) fn parse_reply_metadata(reply: &[u8]) -> Option<Metadata> {
    Header::read(&mut BinDecoder::new(reply))
        .ok()
        .map(|header| header.metadata)
}

/// The record sections do not hold together (a length runs past the end, a bad label,
/// two OPT records).
#[derive(Debug)]
struct Malformed;

/// Walks the answer, authority and additional sections starting at `offset` and returns
/// the OPT record of the additional section, if any.
fn find_opt(
    packet: &[u8],
    mut offset: usize,
    counts: &hickory_proto::op::HeaderCounts,
) -> Result<Option<ClientEdns>, Malformed> {
    let before_additional = usize::from(counts.answers) + usize::from(counts.authorities);
    let total = before_additional + usize::from(counts.additionals);
    let mut edns = None;
    for index in 0..total {
        offset = skip_name(packet, offset)?;
        let fixed = packet.get(offset..offset + 10).ok_or(Malformed)?;
        let rr_type = u16::from_be_bytes([fixed[0], fixed[1]]);
        let class = u16::from_be_bytes([fixed[2], fixed[3]]);
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        offset += 10;
        if packet.len() < offset + rdlength {
            return Err(Malformed);
        }
        offset += rdlength;
        if rr_type == OPT_TYPE && index >= before_additional {
            if edns.is_some() {
                return Err(Malformed); // RFC 6891 §6.1.1: more than one OPT is FORMERR
            }
            edns = Some(ClientEdns {
                max_payload: class,
                version: ((ttl >> 16) & 0xff) as u8,
                dnssec_ok: ttl & 0x8000 != 0,
            });
        }
    }
    Ok(edns)
}

/// Skips a possibly compressed name starting at `offset`; returns the offset after it.
/// Pointers are not followed: only the bytes in place matter for walking.
fn skip_name(packet: &[u8], mut offset: usize) -> Result<usize, Malformed> {
    let mut name_len = 0usize;
    loop {
        let len = *packet.get(offset).ok_or(Malformed)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(offset + 1),
            0x00 => {
                name_len += usize::from(len) + 1;
                if name_len > 255 {
                    return Err(Malformed);
                }
                offset += usize::from(len) + 1;
            }
            0xc0 => {
                packet.get(offset + 1).ok_or(Malformed)?;
                return Ok(offset + 2);
            }
            _ => return Err(Malformed), // extended label types (RFC 6891 §5) are obsolete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message};
    use hickory_proto::rr::{Name, RecordType};

    fn query(name: &str, rtype: RecordType, edns: Option<Edns>) -> Vec<u8> {
        let mut message = Message::query();
        message.metadata.id = 0x1234;
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
        if let Some(edns) = edns {
            message.set_edns(edns);
        }
        message.to_vec().unwrap()
    }

    #[test]
    fn a_plain_query_is_parsed_with_its_edns() {
        let mut edns = Edns::new();
        edns.set_max_payload(4096).set_dnssec_ok(true);
        let bytes = query("Db.Prod.Example.", RecordType::AAAA, Some(edns));
        let Inbound::Query(q) = parse(&bytes) else {
            panic!("not parsed as a query")
        };
        assert_eq!(q.metadata.id, 0x1234);
        assert_eq!(q.question.query_type(), RecordType::AAAA);
        assert_eq!(q.question.name().to_ascii(), "Db.Prod.Example.");
        assert_eq!(
            q.edns,
            Some(ClientEdns {
                max_payload: 4096,
                version: 0,
                dnssec_ok: true
            })
        );
        assert_eq!(q.question_len, bytes.len() - HEADER_LEN - 11);
        assert_eq!(q.udp_reply_limit(), 4096);
    }

    #[test]
    fn without_edns_the_udp_limit_is_512() {
        let Inbound::Query(q) = parse(&query("a.example.", RecordType::A, None)) else {
            panic!("not parsed as a query")
        };
        assert_eq!(q.edns, None);
        assert_eq!(q.udp_reply_limit(), 512);
    }

    #[test]
    fn short_packets_and_responses_are_dropped() {
        assert!(matches!(parse(&[0; 11]), Inbound::Drop));
        let mut bytes = query("a.example.", RecordType::A, None);
        bytes[2] |= 0x80; // QR
        assert!(matches!(parse(&bytes), Inbound::Drop));
    }

    #[test]
    fn two_questions_are_a_format_error() {
        let mut message = Message::query();
        message.add_query(Query::query(Name::from_ascii("a.").unwrap(), RecordType::A));
        message.add_query(Query::query(Name::from_ascii("b.").unwrap(), RecordType::A));
        let Inbound::Reject(r) = parse(&message.to_vec().unwrap()) else {
            panic!("not rejected")
        };
        assert_eq!(r.rcode, ResponseCode::FormErr);
    }

    #[test]
    fn a_truncated_question_is_a_format_error() {
        let bytes = query("a.example.", RecordType::A, None);
        let Inbound::Reject(r) = parse(&bytes[..bytes.len() - 3]) else {
            panic!("not rejected")
        };
        assert_eq!(r.rcode, ResponseCode::FormErr);
        assert!(r.question.is_none());
    }

    #[test]
    fn a_record_running_past_the_end_is_a_format_error() {
        let bytes = query("a.example.", RecordType::A, Some(Edns::new()));
        let Inbound::Reject(r) = parse(&bytes[..bytes.len() - 1]) else {
            panic!("not rejected")
        };
        assert_eq!(r.rcode, ResponseCode::FormErr);
        assert!(r.question.is_some());
    }

    #[test]
    fn other_opcodes_are_not_implemented() {
        let mut bytes = query("a.example.", RecordType::A, None);
        bytes[2] |= 2 << 3; // STATUS
        let Inbound::Reject(r) = parse(&bytes) else {
            panic!("not rejected")
        };
        assert_eq!(r.rcode, ResponseCode::NotImp);
    }

    #[test]
    fn edns_version_1_gets_badvers() {
        let mut edns = Edns::new();
        edns.set_version(1);
        let Inbound::Reject(r) = parse(&query("a.example.", RecordType::A, Some(edns))) else {
            panic!("not rejected")
        };
        assert_eq!(r.rcode, ResponseCode::BADVERS);
    }

    #[test]
    fn names_longer_than_255_bytes_do_not_walk() {
        let mut packet = vec![0u8; 12];
        for _ in 0..5 {
            packet.push(63);
            packet.extend([b'a'; 63]);
        }
        assert!(skip_name(&packet, 12).is_err());
    }
}
