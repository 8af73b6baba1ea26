//! The UDP sockets forwarded queries leave on, reused across queries.
//!
//! A socket made per query (socket, bind, connect, registration with the reactor, close)
//! was 40 % of the agent's CPU while forwarding unique names (perf, `BENCH_ONLY=forwarding`).
//! Instead each upstream keeps a few idle sockets, each connected to it (so the kernel
//! drops datagrams from anyone else and an ICMP "port unreachable" fails the attempt at
//! once) on a port the kernel picked at random. A socket serves one query at a time; it
//! goes back to the idle set only after the reply it waited for arrived, so a socket whose
//! attempt timed out or failed (a late reply may still come) is closed, never shared.
//!
//! The cost is in source-port entropy, the second thing an off-path attacker must guess
//! besides the random ID: a port now carries up to [`MAX_USES`] queries before it is
//! closed and a new random one taken, so at any moment the ports in use are a small set
//! rather than one per query. This is what dnsmasq does (a pool of random-port sockets
//! reused across queries); the reply is still accepted only with the right ID, source and
//! echoed question ([`super::exchange::ReplyCheck`]).
//!
//! Lock-free on the query path: the per-upstream sets live in a copy-on-write list read
//! with one atomic load; only the first query to a new upstream writes it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_queue::ArrayQueue;
use tokio::net::UdpSocket;

use super::exchange::connected_udp;

/// Queries one socket carries before it is closed and a new random port taken.
pub(crate) const MAX_USES: u32 = 64;
/// Idle sockets kept per upstream; beyond it a returned socket is closed.
const IDLE_PER_UPSTREAM: usize = 256;
/// Upstreams whose idle sockets are kept (the most recently added first); the resolver
/// configuration names a few, and an older set of a network left behind is dropped.
const UPSTREAMS_KEPT: usize = 8;

/// Idle sockets per upstream (see the module docs).
pub(crate) struct UpstreamSockets {
    pools: ArcSwap<Vec<Arc<Pool>>>,
}

/// A socket connected to one upstream, taken for one exchange.
pub(crate) struct Leased {
    pub socket: UdpSocket,
    /// Queries sent on it so far, this one included.
    uses: u32,
}

struct Pool {
    upstream: SocketAddr,
    idle: ArrayQueue<Leased>,
}

impl UpstreamSockets {
    pub fn new() -> Self {
        UpstreamSockets {
            pools: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// A socket connected to `upstream` for one query: an idle one, or a new one on a
    /// random port.
    pub async fn take(&self, upstream: SocketAddr) -> io::Result<Leased> {
        if let Some(pool) = self.find(upstream)
            && let Some(mut leased) = pool.idle.pop()
        {
            leased.uses += 1;
            return Ok(leased);
        }
        Ok(Leased {
            socket: connected_udp(upstream).await?,
            uses: 1,
        })
    }

    /// Returns a socket whose exchange with `upstream` ended with the reply it waited for.
    /// A socket that has carried [`MAX_USES`] queries, or finds the idle set full, is
    /// closed instead.
    pub fn give_back(&self, upstream: SocketAddr, leased: Leased) {
        if leased.uses >= MAX_USES {
            return;
        }
        let pool = match self.find(upstream) {
            Some(pool) => pool,
            None => self.add(upstream),
        };
        let _ = pool.idle.push(leased);
    }

    fn find(&self, upstream: SocketAddr) -> Option<Arc<Pool>> {
        self.pools
            .load()
            .iter()
            .find(|pool| pool.upstream == upstream)
            .cloned()
    }

    /// Adds `upstream`'s set (unless a concurrent call did), dropping the oldest beyond
    /// [`UPSTREAMS_KEPT`].
    fn add(&self, upstream: SocketAddr) -> Arc<Pool> {
        let fresh = Arc::new(Pool {
            upstream,
            idle: ArrayQueue::new(IDLE_PER_UPSTREAM),
        });
        let previous = self.pools.rcu(|pools| {
            if pools.iter().any(|pool| pool.upstream == upstream) {
                return Arc::clone(pools);
            }
            let kept = pools.iter().take(UPSTREAMS_KEPT - 1).cloned();
            Arc::new(std::iter::once(Arc::clone(&fresh)).chain(kept).collect())
        });
        previous
            .iter()
            .find(|pool| pool.upstream == upstream)
            .cloned()
            .unwrap_or(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    async fn upstream() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = socket.local_addr().unwrap();
        (socket, addr)
    }

    fn port(leased: &Leased) -> u16 {
        leased.socket.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn a_socket_given_back_is_reused_until_its_uses_run_out() {
        let sockets = UpstreamSockets::new();
        let (_upstream, addr) = upstream().await;
        let first = sockets.take(addr).await.unwrap();
        let first_port = port(&first);
        sockets.give_back(addr, first);
        for _ in 1..MAX_USES {
            let again = sockets.take(addr).await.unwrap();
            assert_eq!(port(&again), first_port);
            sockets.give_back(addr, again);
        }
        // The last use closed it: the next query gets a socket of its own.
        let fresh = sockets.take(addr).await.unwrap();
        let held = sockets.take(addr).await.unwrap();
        assert_ne!(port(&fresh), port(&held));
    }

    #[tokio::test]
    async fn a_socket_not_given_back_is_never_handed_out_again() {
        let sockets = UpstreamSockets::new();
        let (_upstream, addr) = upstream().await;
        let kept = sockets.take(addr).await.unwrap();
        sockets.give_back(addr, kept);
        let timed_out = sockets.take(addr).await.unwrap();
        let lost_port = port(&timed_out);
        drop(timed_out);
        let next = sockets.take(addr).await.unwrap();
        assert_ne!(port(&next), lost_port);
    }

    #[tokio::test]
    async fn each_upstream_has_its_own_sockets_and_old_ones_are_dropped() {
        let sockets = UpstreamSockets::new();
        let mut upstreams = Vec::new();
        for _ in 0..=UPSTREAMS_KEPT {
            let (socket, addr) = upstream().await;
            let leased = sockets.take(addr).await.unwrap();
            assert_eq!(leased.socket.peer_addr().unwrap(), addr);
            sockets.give_back(addr, leased);
            upstreams.push((socket, addr));
        }
        assert_eq!(sockets.pools.load().len(), UPSTREAMS_KEPT);
        let oldest = upstreams[0].1;
        assert!(sockets.find(oldest).is_none());
        let newest = upstreams[UPSTREAMS_KEPT].1;
        assert_eq!(sockets.find(newest).unwrap().idle.len(), 1);
    }
}
