//! Reading and answering UDP queries in batches: one `recvmmsg` takes every datagram
//! waiting (up to [`BATCH`]) and one `sendmmsg` sends the answers given on the spot, so
//! that under load one wake-up and two system calls serve many queries instead of two
//! calls per query.
//!
//! A slot holds [`SLOT_LEN`] bytes: a longer datagram arrives cut (`MSG_TRUNC`) and is
//! dropped, as a query that long is no DNS client's (EDNS payloads are a reply size; a
//! query carries one question).

use std::io::{self, IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::RawFd;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg,
    sendmmsg,
};

/// Datagrams per system call.
pub(crate) const BATCH: usize = 32;
/// Bytes per received datagram.
pub(crate) const SLOT_LEN: usize = 4096;

/// One received datagram: where it is in the batch's buffer, its sender, the interface it
/// arrived on, and whether it was cut.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Datagram {
    pub slot: usize,
    pub len: usize,
    pub client: SocketAddr,
    pub ingress: Option<u32>,
    pub truncated: bool,
}

/// The reused buffer of one listener. The system calls' headers are made per call: they
/// hold raw pointers, which would keep the listener's future from moving between threads.
pub(crate) struct UdpBatch {
    buffer: Box<[u8]>,
    received: Vec<Datagram>,
}

impl UdpBatch {
    pub fn new() -> UdpBatch {
        UdpBatch {
            buffer: vec![0; BATCH * SLOT_LEN].into_boxed_slice(),
            received: Vec::with_capacity(BATCH),
        }
    }

    /// The datagrams the last [`receive`](Self::receive) read.
    pub fn received(&self) -> &[Datagram] {
        &self.received
    }

    /// Reads the datagrams waiting on `fd` (non-blocking: `WouldBlock` when none); returns
    /// how many.
    pub fn receive(&mut self, fd: RawFd) -> io::Result<usize> {
        self.received.clear();
        let mut slices: Vec<[IoSliceMut<'_>; 1]> = self
            .buffer
            .chunks_mut(SLOT_LEN)
            .map(|slot| [IoSliceMut::new(slot)])
            .collect();
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(
            BATCH,
            Some(nix::cmsg_space!(libc::in6_pktinfo)),
        );
        let messages = recvmmsg(
            fd,
            &mut headers,
            slices.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )?;
        for (slot, message) in messages.enumerate() {
            let Some(client) = message.address.as_ref().and_then(socket_addr) else {
                continue;
            };
            let mut ingress = None;
            for control in message.cmsgs()? {
                match control {
                    ControlMessageOwned::Ipv4PacketInfo(info) => {
                        ingress = u32::try_from(info.ipi_ifindex).ok();
                    }
                    ControlMessageOwned::Ipv6PacketInfo(info) => ingress = Some(info.ipi6_ifindex),
                    _ => {}
                }
            }
            self.received.push(Datagram {
                slot,
                len: message.bytes.min(SLOT_LEN),
                client,
                ingress,
                truncated: message.flags.contains(MsgFlags::MSG_TRUNC),
            });
        }
        Ok(self.received.len())
    }

    /// The bytes of a received datagram.
    pub fn packet(&self, datagram: &Datagram) -> &[u8] {
        let start = datagram.slot * SLOT_LEN;
        &self.buffer[start..start + datagram.len]
    }

    /// Sends `replies` (at most [`BATCH`]) from `fd` without blocking; returns how many
    /// went out (the rest, if any, is for the caller to send one by one).
    pub fn send(fd: RawFd, replies: &[(Vec<u8>, SocketAddr)]) -> io::Result<usize> {
        if replies.is_empty() {
            return Ok(0);
        }
        let slices: Vec<[IoSlice<'_>; 1]> = replies
            .iter()
            .map(|(bytes, _)| [IoSlice::new(bytes)])
            .collect();
        let addresses: Vec<Option<SockaddrStorage>> = replies
            .iter()
            .map(|(_, client)| Some(SockaddrStorage::from(*client)))
            .collect();
        let no_control: [ControlMessage<'_>; 0] = [];
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(replies.len(), None);
        let sent = sendmmsg(
            fd,
            &mut headers,
            slices.iter(),
            addresses,
            no_control,
            MsgFlags::MSG_DONTWAIT,
        )?;
        Ok(sent.count())
    }
}

fn socket_addr(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    storage
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::V6((*v6).into()))
}
