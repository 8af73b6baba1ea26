//! `dns_forward`: the forwarded-reply path — an upstream's reply bytes to what the client
//! receives (`DnsServer::relay_reply`: the exchange's reply checks, the client's ID put
//! back, DNS rebinding protection, the client's UDP size), with the agent's default
//! prefixes protected.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use boundary_agent::dns::{DnsServer, DnsServerConfig, Transport, Verdict};
use boundary_agent_core::dns_decision::DnsDecision;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, RData};
use ipnet::IpNet;

/// The agent's default prefixes (`v4_prefix`, `v6_prefix`): forwarded A/AAAA records
/// inside them are cut.
fn protected() -> Vec<IpNet> {
    vec![
        IpNet::new(IpAddr::V4(Ipv4Addr::new(100, 64, 0, 0)), 10).expect("a prefix"),
        IpNet::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0)), 8).expect("a prefix"),
    ]
}

thread_local! {
    static SERVER: DnsServer = DnsServer::builder(
        DnsServerConfig {
            protected_prefixes: protected(),
            ..DnsServerConfig::default()
        },
        |_: &_, _: &_| Verdict::Now(DnsDecision::Forward),
    )
    .build();
}

/// `data[0]`: bit 0 TCP instead of UDP, bit 1 the reply carries an ID other than the one
/// the query went out with; `data[1]` the query's length `n`; `data[2..2 + n]` the client's
/// query, the rest the upstream's reply (its first two bytes are the ID it answers).
/// Checks what the client receives:
/// - it carries the client's ID and is a response;
/// - a reply with the wrong ID never reaches the client: it gets SERVFAIL instead;
/// - over UDP it fits the client's buffer (512 bytes, or the EDNS size it advertised);
/// - no A/AAAA record of the answer or additional section points into the protected
///   prefixes (rebinding), whenever the bytes are a readable message.
pub fn dns_forward(data: &[u8]) {
    let [flags, query_len, rest @ ..] = data else {
        return;
    };
    let Some((query, reply)) = rest.split_at_checked(usize::from(*query_len)) else {
        return;
    };
    let transport = if flags & 1 == 0 {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let reply_id = match reply {
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => 0,
    };
    let wrong_id = flags & 2 != 0;
    let forwarded_id = if wrong_id { reply_id ^ 1 } else { reply_id };
    let server = SERVER.with(DnsServer::clone);
    let Some(out) = server.relay_reply(query, forwarded_id, reply, transport) else {
        return;
    };

    assert!(out.len() >= 12, "a reply has a header");
    assert_eq!(out[..2], query[..2], "the client's ID");
    assert_ne!(out[2] & 0x80, 0, "a response");
    if wrong_id {
        assert_eq!(out[3] & 0x0f, ResponseCode::ServFail.low());
        assert_eq!(out[6..8], [0, 0], "no answers");
    }
    let client = Message::from_vec(query).ok();
    let limit = match (&client, transport) {
        (_, Transport::Tcp) => usize::from(u16::MAX),
        (Some(client), Transport::Udp) => client
            .edns
            .as_ref()
            .map_or(512, |edns| usize::from(edns.max_payload().max(512))),
        // Our parser read what hickory cannot: at least the 512 every client takes.
        (None, Transport::Udp) => usize::from(u16::MAX),
    };
    assert!(
        out.len() <= limit,
        "{} bytes for a client that takes {limit}",
        out.len()
    );

    if let Ok(delivered) = Message::from_vec(&out) {
        let protected = protected();
        for record in delivered.answers.iter().chain(&delivered.additionals) {
            if record.dns_class != DNSClass::IN {
                continue;
            }
            let ip = match &record.data {
                RData::A(a) => IpAddr::V4(a.0),
                RData::AAAA(aaaa) => IpAddr::V6(aaaa.0),
                _ => continue,
            };
            assert!(
                !protected.iter().any(|net| net.contains(&ip)),
                "{ip} reached the client (DNS rebinding)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply whose only answer points into the agent's prefix reaches the client
    /// without it; a public answer reaches it unchanged.
    #[test]
    fn protected_answers_are_cut_and_others_relayed() {
        let query =
            b"\x01\x01\x01\x20\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x07example\x00\x00\x01\x00\x01";
        let reply = |ip: [u8; 4]| {
            let mut reply = query.to_vec();
            reply[2] = 0x81;
            reply[3] = 0x80;
            reply[7] = 1; // ANCOUNT
            reply.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04");
            reply.extend_from_slice(&ip);
            reply
        };
        let server = SERVER.with(DnsServer::clone);
        let public = reply([93, 184, 216, 34]);
        let relayed = server.relay_reply(query, 0x0101, &public, Transport::Udp);
        assert_eq!(relayed, Some(public));
        let cut = server
            .relay_reply(query, 0x0101, &reply([100, 64, 0, 5]), Transport::Udp)
            .expect("a reply");
        let cut = Message::from_vec(&cut).expect("a message");
        assert!(cut.answers.is_empty());
        assert_eq!(cut.metadata.response_code, ResponseCode::NoError);
    }
}
