//! The upstream resolvers queries are forwarded to, in priority order, swappable at
//! runtime (reload, resolver changes). The agent's own DNS listener addresses are always
//! filtered out: forwarding to ourselves would loop. So are upstreams found to send our
//! queries back to us (`loop_check`).
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
    /// Configured upstreams that forwarded a probe back to us (always a subset of
    /// `configured`).
    looping: BTreeSet<SocketAddr>,
    /// Bumped by every change of `configured`: a probe round judged an older list.
    generation: u64,
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
    /// agent's own listeners. Upstreams known to loop stay left out if they are still
    /// configured (the next probe round judges them again).
    pub fn set_configured(&self, configured: Vec<SocketAddr>) -> Vec<SocketAddr> {
        self.update(|wanted| {
            if wanted.configured != configured {
                wanted.generation += 1;
            }
            wanted.configured = configured;
        })
    }

    /// The configured list as given.
    pub fn configured(&self) -> Vec<SocketAddr> {
        let wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        wanted.configured.clone()
    }

    /// The configured upstreams that are not our own listeners (looping or not), and the
    /// generation of that list: what a loop-probe round judges.
    pub fn candidates(&self) -> (Vec<SocketAddr>, u64) {
        let wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        let candidates = wanted
            .configured
            .iter()
            .copied()
            .map(canonical)
            .filter(|upstream| !wanted.own.contains(upstream))
            .collect();
        (candidates, wanted.generation)
    }

    /// Replaces the set of upstreams that send our queries back, as found by a round that
    /// judged `generation`; a round about an older list changes nothing. Returns the
    /// upstreams newly found looping.
    pub fn set_looping(&self, generation: u64, looping: BTreeSet<SocketAddr>) -> Vec<SocketAddr> {
        let mut newly = Vec::new();
        self.update(|wanted| {
            if wanted.generation != generation {
                return;
            }
            newly = looping.difference(&wanted.looping).copied().collect();
            wanted.looping = looping;
        });
        newly
    }

    /// The configured upstreams left out because they loop.
    pub fn looping(&self) -> Vec<SocketAddr> {
        let wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        wanted.looping.iter().copied().collect()
    }

    /// How many configured upstreams are left out because they loop.
    pub fn looping_count(&self) -> usize {
        let wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        wanted.looping.len()
    }

    /// Replaces the set of the server's own listener addresses.
    pub fn set_own(&self, own: impl IntoIterator<Item = SocketAddr>) -> Vec<SocketAddr> {
        let own = own.into_iter().map(canonical).collect();
        self.update(|wanted| wanted.own = own)
    }

    fn update(&self, change: impl FnOnce(&mut Wanted)) -> Vec<SocketAddr> {
        let mut wanted = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut wanted);
        let configured: BTreeSet<SocketAddr> =
            wanted.configured.iter().copied().map(canonical).collect();
        wanted
            .looping
            .retain(|upstream| configured.contains(upstream));
        let mut seen = BTreeSet::new();
        let mut looping = Vec::new();
        let mut effective = Vec::with_capacity(wanted.configured.len());
        for upstream in wanted.configured.iter().copied().map(canonical) {
            if wanted.own.contains(&upstream) {
                looping.push(upstream);
            } else if wanted.looping.contains(&upstream) {
                continue;
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
    fn looping_upstreams_are_left_out_until_they_stop() {
        let configured = vec![addr("127.0.0.1"), addr("192.0.2.1")];
        let upstreams = Upstreams::new(configured.clone());
        let (candidates, generation) = upstreams.candidates();
        assert_eq!(candidates, configured);
        let newly = upstreams.set_looping(generation, [addr("127.0.0.1")].into());
        assert_eq!(newly, [addr("127.0.0.1")]);
        assert_eq!(&*upstreams.current(), &[addr("192.0.2.1")]);
        assert_eq!(upstreams.candidates().0.len(), 2, "still probed");
        assert!(
            upstreams
                .set_looping(generation, [addr("127.0.0.1")].into())
                .is_empty()
        );
        // The same list again (the agent re-applies it every few seconds) keeps it out.
        upstreams.set_configured(configured.clone());
        assert_eq!(&*upstreams.current(), &[addr("192.0.2.1")]);
        assert_eq!(upstreams.candidates().1, generation);
        upstreams.set_looping(generation, BTreeSet::new());
        assert_eq!(upstreams.current().len(), 2);
    }

    #[test]
    fn a_round_about_an_older_list_changes_nothing_and_looping_stays_configured() {
        let upstreams = Upstreams::new(vec![addr("127.0.0.1"), addr("192.0.2.1")]);
        let (_, old) = upstreams.candidates();
        upstreams.set_configured(vec![addr("127.0.0.2")]);
        assert!(
            upstreams
                .set_looping(old, [addr("127.0.0.1")].into())
                .is_empty()
        );
        assert!(upstreams.looping().is_empty());
        let (_, now) = upstreams.candidates();
        upstreams.set_looping(now, [addr("127.0.0.2")].into());
        assert_eq!(upstreams.looping(), [addr("127.0.0.2")]);
        upstreams.set_configured(vec![addr("192.0.2.1")]);
        assert!(upstreams.looping().is_empty(), "no longer configured");
        assert_eq!(upstreams.looping_count(), 0);
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
