//! The upstream resolvers queries are forwarded to, in priority order, swappable at
//! runtime (reload, resolver changes). The agent's own DNS listener addresses are always
//! filtered out: forwarding to ourselves would loop.
//!
//! Readers (the forwarding path) take a read lock just long enough to clone an `Arc`;
//! writers (reload, listener start/stop) recompute the effective list.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use super::DnsError;

/// Parses an upstream as the config gives it: `ip` (port 53) or `ip:port` (`[v6]:port`).
pub fn parse_upstream(input: &str) -> Result<SocketAddr, DnsError> {
    let trimmed = input.trim();
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    trimmed
        .parse::<SocketAddr>()
        .map_err(|_| DnsError::InvalidUpstream {
            input: input.to_owned(),
        })
}

pub(crate) struct Upstreams {
    wanted: Mutex<Wanted>,
    effective: RwLock<Arc<[SocketAddr]>>,
}

#[derive(Default)]
struct Wanted {
    configured: Vec<SocketAddr>,
    own: BTreeSet<SocketAddr>,
}

impl Upstreams {
    pub fn new(configured: Vec<SocketAddr>) -> Self {
        let upstreams = Upstreams {
            wanted: Mutex::new(Wanted::default()),
            effective: RwLock::new(Arc::from(Vec::new())),
        };
        upstreams.set_configured(configured);
        upstreams
    }

    /// The upstreams to try, best first.
    pub fn current(&self) -> Arc<[SocketAddr]> {
        match self.effective.read() {
            Ok(list) => Arc::clone(&list),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the configured list; returns the entries dropped because they are the
    /// agent's own listeners.
    pub fn set_configured(&self, configured: Vec<SocketAddr>) -> Vec<SocketAddr> {
        self.update(|wanted| wanted.configured = configured)
    }

    /// Replaces the set of the server's own listener addresses.
    pub fn set_own(&self, own: impl IntoIterator<Item = SocketAddr>) -> Vec<SocketAddr> {
        let own = own.into_iter().map(canonical).collect();
        self.update(|wanted| wanted.own = own)
    }

    fn update(&self, change: impl FnOnce(&mut Wanted)) -> Vec<SocketAddr> {
        let mut wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut wanted);
        let mut seen = BTreeSet::new();
        let mut looping = Vec::new();
        let mut effective = Vec::with_capacity(wanted.configured.len());
        for upstream in wanted.configured.iter().copied().map(canonical) {
            if wanted.own.contains(&upstream) {
                looping.push(upstream);
            } else if seen.insert(upstream) {
                effective.push(upstream);
            }
        }
        let mut slot = self.effective.write().unwrap_or_else(|p| p.into_inner());
        *slot = Arc::from(effective);
        looping
    }
}

/// `::ffff:a.b.c.d` and `a.b.c.d` are the same server.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        parse_upstream(s).unwrap()
    }

    #[test]
    fn upstreams_parse_with_or_without_a_port() {
        assert_eq!(addr("192.0.2.1"), "192.0.2.1:53".parse().unwrap());
        assert_eq!(addr(" 192.0.2.1:5353 "), "192.0.2.1:5353".parse().unwrap());
        assert_eq!(addr("2001:db8::1"), "[2001:db8::1]:53".parse().unwrap());
        assert_eq!(
            addr("[2001:db8::1]:54"),
            "[2001:db8::1]:54".parse().unwrap()
        );
        assert!(parse_upstream("dns.example").is_err());
        assert!(parse_upstream("192.0.2.1:99999").is_err());
    }

    #[test]
    fn own_listeners_are_never_upstreams() {
        let upstreams = Upstreams::new(vec![addr("127.0.0.53"), addr("192.0.2.1")]);
        assert_eq!(upstreams.current().len(), 2);
        let dropped = upstreams.set_own([addr("127.0.0.53")]);
        assert_eq!(dropped, vec![addr("127.0.0.53")]);
        assert_eq!(&*upstreams.current(), &[addr("192.0.2.1")]);
        // same address, another port: not a loop
        upstreams.set_configured(vec![addr("127.0.0.53:5353"), addr("::ffff:127.0.0.53")]);
        assert_eq!(&*upstreams.current(), &[addr("127.0.0.53:5353")]);
        upstreams.set_own([]);
        assert_eq!(upstreams.current().len(), 2);
    }

    #[test]
    fn order_is_kept_and_duplicates_removed() {
        let upstreams = Upstreams::new(vec![
            addr("192.0.2.2"),
            addr("192.0.2.1"),
            addr("192.0.2.2"),
        ]);
        assert_eq!(
            &*upstreams.current(),
            &[addr("192.0.2.2"), addr("192.0.2.1")]
        );
    }
}
