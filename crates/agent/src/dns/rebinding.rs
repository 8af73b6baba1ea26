//! DNS rebinding protection for forwarded replies.
//!
//! A web page can make its own name resolve to an address inside the agent's prefixes;
//! the browser's connections belong to the user, so the agent would tunnel them to the
//! alias's target. Forwarded replies therefore lose every A/AAAA record whose address
//! lies in those prefixes (and the signatures over them), stay well-formed, and become
//! NOERROR with no data when nothing is left.
//!
//! Replies are relayed as raw bytes (see the module documentation of `dns`), so the
//! common case — nothing to remove — is a scan over the record headers without
//! decoding names or allocating; only a reply that needs changing is decoded and
//! re-encoded.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use ipnet::IpNet;

const HEADER_LEN: usize = 12;
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;

/// `reply` without records that point into `protected`; `None` when there is nothing
/// to remove (relay the bytes unchanged) or the reply cannot be read (the forwarder has
/// already checked it; an unreadable tail is passed on as it is).
pub fn strip_protected(reply: &[u8], protected: &[IpNet]) -> Option<Vec<u8>> {
    if protected.is_empty() || !points_into(reply, protected)? {
        return None;
    }
    let mut message = Message::from_vec(reply).ok()?;
    let mut cut: Vec<(Name, RecordType)> = Vec::new();
    for record in message.answers.iter().chain(&message.additionals) {
        if is_protected(record, protected) {
            cut.push((record.name.clone(), record.record_type()));
        }
    }
    let keep = |record: &Record| !is_protected(record, protected) && !signs_a_cut_set(record, &cut);
    message.answers.retain(keep);
    message.additionals.retain(keep);
    message.to_vec().ok()
}

/// An RRSIG over a record set that lost records: it no longer validates.
fn signs_a_cut_set(record: &Record, cut: &[(Name, RecordType)]) -> bool {
    if record.record_type() != RecordType::RRSIG {
        return false;
    }
    let covered = match &record.data {
        RData::Unknown { rdata, .. } if rdata.anything.len() >= 2 => {
            RecordType::from(u16::from_be_bytes([rdata.anything[0], rdata.anything[1]]))
        }
        _ => return false,
    };
    cut.iter()
        .any(|(name, rtype)| *name == record.name && *rtype == covered)
}

fn is_protected(record: &Record, protected: &[IpNet]) -> bool {
    let ip = match &record.data {
        RData::A(a) => IpAddr::V4(a.0),
        RData::AAAA(aaaa) => IpAddr::V6(aaaa.0),
        _ => return false,
    };
    protected.iter().any(|net| net.contains(&ip))
}

/// Whether any A/AAAA record of the answer or additional section lies in `protected`,
/// reading only record headers. `None` when the bytes do not parse.
fn points_into(reply: &[u8], protected: &[IpNet]) -> Option<bool> {
    let count = |at: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes([
            *reply.get(at)?,
            *reply.get(at + 1)?,
        ])))
    };
    let (questions, answers, authority, additional) = (count(4)?, count(6)?, count(8)?, count(10)?);
    let mut at = HEADER_LEN;
    for _ in 0..questions {
        at = skip_name(reply, at)? + 4;
    }
    for index in 0..answers + authority + additional {
        at = skip_name(reply, at)?;
        let header = reply.get(at..at + 10)?;
        let rtype = u16::from_be_bytes([header[0], header[1]]);
        let class = u16::from_be_bytes([header[2], header[3]]);
        let length = usize::from(u16::from_be_bytes([header[8], header[9]]));
        let data = reply.get(at + 10..at + 10 + length)?;
        let in_authority = (answers..answers + authority).contains(&index);
        if class == CLASS_IN && !in_authority && address_in(rtype, data, protected) {
            return Some(true);
        }
        at += 10 + length;
    }
    Some(false)
}

fn address_in(rtype: u16, data: &[u8], protected: &[IpNet]) -> bool {
    let ip = match (rtype, data.len()) {
        (TYPE_A, 4) => IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
        (TYPE_AAAA, 16) => {
            let octets: [u8; 16] = data.try_into().expect("16 bytes");
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return false,
    };
    protected.iter().any(|net| net.contains(&ip))
}

/// The offset just past the (possibly compressed) name at `at`.
fn skip_name(message: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let length = *message.get(at)?;
        match length {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l if l & 0xc0 == 0 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests;
