//! One forwarding attempt: send a query to one upstream over UDP or TCP and wait for the
//! matching reply. Callers bound each attempt with `dns_request_timeout`.
//!
//! A UDP attempt goes out on a socket connected to the upstream (the kernel then drops
//! datagrams from other sources) on a kernel-chosen random port, reused across queries
//! ([`super::upstream_sockets`]), and the caller gives the query a fresh random ID. A reply is accepted only if its ID matches, it is a response,
//! and it echoes the question (name case-insensitively, type and class exactly); anything
//! else on UDP is ignored as a stray or spoofed datagram and the attempt keeps waiting.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::packet::HEADER_LEN;

/// What a reply to one forwarded query must look like.
pub(crate) struct ReplyCheck<'a> {
    /// The ID the query was sent with.
    pub id: u16,
    /// The question section as sent (name, type, class).
    pub question: &'a [u8],
}

impl ReplyCheck<'_> {
    pub fn accepts(&self, reply: &[u8]) -> bool {
        let Some(header) = reply.get(..HEADER_LEN) else {
            return false;
        };
        let id = u16::from_be_bytes([header[0], header[1]]);
        let is_response = header[2] & 0x80 != 0;
        let rcode = header[3] & 0x0f;
        let qdcount = u16::from_be_bytes([header[4], header[5]]);
        if id != self.id || !is_response {
            return false;
        }
        match qdcount {
            // RFC 1035 lets error replies (FORMERR, NOTIMP, ...) omit the question.
            0 => rcode != 0,
            1 => self.echoed_in(reply),
            _ => false,
        }
    }

    fn echoed_in(&self, reply: &[u8]) -> bool {
        let Some(name_len) = self.question.len().checked_sub(4) else {
            return false;
        };
        let Some(echoed) = reply.get(HEADER_LEN..HEADER_LEN + self.question.len()) else {
            return false;
        };
        // Label length bytes (< 64) are never ASCII letters, so a case-insensitive
        // comparison of the raw name only folds letters inside labels.
        echoed[..name_len].eq_ignore_ascii_case(&self.question[..name_len])
            && echoed[name_len..] == self.question[name_len..]
    }
}

/// A reply received over UDP.
#[derive(Debug)]
pub(crate) enum UdpReply {
    Complete(Vec<u8>),
    /// TC=1, or larger than the buffer the client can take: worth asking again over TCP.
    Truncated(Vec<u8>),
}

/// Why one attempt failed.
#[derive(Debug)]
pub(crate) enum AttemptError {
    Io(io::Error),
    BadReply,
}

impl From<io::Error> for AttemptError {
    fn from(error: io::Error) -> Self {
        AttemptError::Io(error)
    }
}

/// A UDP socket on a kernel-chosen random port, connected to `upstream`.
pub(crate) async fn connected_udp(upstream: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = match upstream {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(upstream).await?;
    Ok(socket)
}

/// Sends `query` on `socket` (connected to the upstream) and waits for the reply that
/// `check` accepts. `room` is the largest reply the client can use; a longer one is
/// reported as truncated.
pub(crate) async fn exchange_udp(
    socket: &UdpSocket,
    query: &[u8],
    check: &ReplyCheck<'_>,
    room: usize,
) -> Result<UdpReply, AttemptError> {
    socket.send(query).await?;
    // One byte more than the client can use: a datagram that fills it is too large (or
    // was cut by the kernel) either way.
    let mut reply = Vec::with_capacity(room + 1);
    loop {
        reply.clear();
        let capacity = reply.capacity();
        let len = socket.recv_buf(&mut reply).await?;
        if !check.accepts(&reply) {
            tracing::trace!(len, "ignoring a datagram that does not answer our query");
            continue;
        }
        let truncated = reply[2] & 0x02 != 0 || len >= capacity || len > room;
        return Ok(if truncated {
            UdpReply::Truncated(reply)
        } else {
            UdpReply::Complete(reply)
        });
    }
}

/// Sends `query` over a new TCP connection (RFC 1035 §4.2.2 length framing) and reads
/// one reply.
pub(crate) async fn exchange_tcp(
    upstream: SocketAddr,
    query: &[u8],
    check: &ReplyCheck<'_>,
) -> Result<Vec<u8>, AttemptError> {
    let length = u16::try_from(query.len()).map_err(|_| AttemptError::BadReply)?;
    let mut stream = TcpStream::connect(upstream).await?;
    stream.set_nodelay(true)?;
    let mut framed = Vec::with_capacity(2 + query.len());
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).await?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut reply).await?;
    if check.accepts(&reply) {
        Ok(reply)
    } else {
        Err(AttemptError::BadReply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(id: u16, flags: [u8; 2], qdcount: u16, question: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&id.to_be_bytes());
        bytes.extend_from_slice(&flags);
        bytes.extend_from_slice(&qdcount.to_be_bytes());
        bytes.extend_from_slice(&[0; 6]);
        bytes.extend_from_slice(question);
        bytes
    }

    const QUESTION: &[u8] = b"\x02Db\x07example\x00\x00\x01\x00\x01";

    #[test]
    fn a_matching_reply_is_accepted_whatever_the_case() {
        let check = ReplyCheck {
            id: 7,
            question: QUESTION,
        };
        assert!(check.accepts(&reply(7, [0x81, 0x80], 1, QUESTION)));
        let lower = b"\x02db\x07EXAMPLE\x00\x00\x01\x00\x01";
        assert!(check.accepts(&reply(7, [0x81, 0x80], 1, lower)));
    }

    #[test]
    fn wrong_id_type_or_direction_is_refused() {
        let check = ReplyCheck {
            id: 7,
            question: QUESTION,
        };
        assert!(!check.accepts(&reply(8, [0x81, 0x80], 1, QUESTION)));
        assert!(!check.accepts(&reply(7, [0x01, 0x00], 1, QUESTION)));
        let aaaa = b"\x02Db\x07example\x00\x00\x1c\x00\x01";
        assert!(!check.accepts(&reply(7, [0x81, 0x80], 1, aaaa)));
        assert!(!check.accepts(&reply(7, [0x81, 0x80], 1, &QUESTION[..5])));
        assert!(!check.accepts(&[0x00, 0x07, 0x81]));
    }

    #[test]
    fn an_error_reply_may_omit_the_question() {
        let check = ReplyCheck {
            id: 7,
            question: QUESTION,
        };
        assert!(check.accepts(&reply(7, [0x81, 0x81], 0, &[])));
        assert!(!check.accepts(&reply(7, [0x81, 0x80], 0, &[])));
    }
}
