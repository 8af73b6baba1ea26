//! Who may use the DNS server, and for what.
//!
//! The agent's DNS addresses answer whatever routes to them, and on a shared network
//! (office or café Wi-Fi) another host can add a route to 100.64.0.1 via this machine.
//! Answering it would resolve internal names through the victim's VPN DNS, amplify
//! traffic, reveal which aliases exist, and — worst — authorize sessions with a local
//! user's token. So every query is classified by where it came from:
//!
//! - **local**: this host: the source is one of the host's own addresses. Served as
//!   before: alias answers, sessions.
//! - **virtual**: a host-internal virtual network — a Docker bridge, a VM's veth or tap —
//!   i.e. any other interface that is not an uplink. Containers and VMs copy the host's
//!   resolv.conf and would otherwise lose DNS, so they get ordinary forwarding only.
//! - **LAN**: an uplink (an interface holding a default route, or the one carrying the
//!   agent's addresses), or a routed source no connected subnet explains. Refused.
//!
//! A packet the host sends to its own address is reported (`IP_PKTINFO`) as arriving on
//! the interface that holds that address, which in resolv-conf mode is the uplink: the
//! ingress interface cannot tell this host from the LAN, the source address can. IPv4
//! drops packets from outside that carry one of the host's addresses as source (martian
//! sources); IPv6 does not, so a forged local source is caught later, where it matters:
//! an alias answer needs the sending socket to exist on this host (the policy's socket
//! lookup), otherwise the query is only forwarded, and the reply goes to this host, not
//! the forger. A non-local source is placed by the interface it arrived on (UDP), or by
//! the connected subnet it comes from (TCP, whose source cannot be forged without a
//! handshake): an uplink means the LAN, any other interface a virtual network. A
//! non-local source never gets an alias answer or a session, whatever
//! `dns_allowed_sources` says: its queries are forwarded upstream like any other name.

use std::collections::{BTreeSet, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use ipnet::IpNet;

use super::{QueryOrigin, Transport};

/// What a query from some source may get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Everything: alias answers (and the sessions behind them) and forwarding.
    Full,
    /// Ordinary forwarding only: every name, aliases included, goes upstream.
    ForwardOnly,
    /// REFUSED.
    Refuse,
}

/// Where a query came from (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceClass {
    Local,
    Virtual,
    Lan,
}

/// The machine's interfaces as the classification needs them; rebuilt by the agent from
/// netlink whenever it checks the machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceMap {
    /// The loopback interface's index.
    pub loopback: Option<u32>,
    /// Interfaces that lead to other hosts: default-route interfaces and the one
    /// carrying the agent's addresses.
    pub uplinks: BTreeSet<u32>,
    /// The host's own addresses.
    pub own: HashSet<IpAddr>,
    /// Connected subnets and their interfaces (to place a TCP source).
    pub subnets: Vec<(IpNet, u32)>,
    /// See [`InterfaceFacts::ipv4_forged_local_dropped`](crate::os::InterfaceFacts).
    pub ipv4_forged_local_dropped: bool,
}

impl SourceMap {
    pub fn classify(&self, origin: &QueryOrigin) -> SourceClass {
        let source = canonical(origin.client.ip());
        if source.is_loopback() || self.own.contains(&source) {
            return SourceClass::Local;
        }
        match origin.ingress {
            Some(ingress) if Some(ingress) == self.loopback => SourceClass::Local,
            Some(ingress) => self.class_of_interface(ingress),
            None => self.classify_by_subnet(source),
        }
    }

    /// Whether a local query certainly comes from this host, so that its answer may skip
    /// looking up the sending socket: TCP (a forged source cannot complete the
    /// handshake), a query that arrived on the loopback interface, an IPv6 loopback
    /// source (the kernel drops `::1` from any other interface), or an IPv4 source when
    /// the kernel drops forged local IPv4 sources. A forged IPv6 packet carrying one of
    /// the host's global addresses is not caught here (see the module documentation).
    pub fn proves_local(&self, origin: &QueryOrigin) -> bool {
        self.proves(self.classify(origin), origin)
    }

    /// [`proves_local`](Self::proves_local) for an origin already classified as `class`.
    fn proves(&self, class: SourceClass, origin: &QueryOrigin) -> bool {
        if class != SourceClass::Local {
            return false;
        }
        let source = canonical(origin.client.ip());
        origin.transport == Transport::Tcp
            || (origin.ingress.is_some() && origin.ingress == self.loopback)
            || source == IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
            || (source.is_ipv4() && self.ipv4_forged_local_dropped)
    }

    fn classify_by_subnet(&self, source: IpAddr) -> SourceClass {
        self.subnets
            .iter()
            .filter(|(net, _)| net.contains(&source))
            .max_by_key(|(net, _)| net.prefix_len())
            .map_or(SourceClass::Lan, |(_, ifindex)| {
                self.class_of_interface(*ifindex)
            })
    }

    fn class_of_interface(&self, ifindex: u32) -> SourceClass {
        if self.uplinks.contains(&ifindex) {
            SourceClass::Lan
        } else {
            SourceClass::Virtual
        }
    }
}

/// `dns_allowed_sources`: which non-local sources get forwarding (local ones always get
/// everything).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedSources {
    /// Host-internal virtual networks (`"virtual"`, the default).
    pub virtual_networks: bool,
    /// Hosts on the uplinks (`"lan"`).
    pub lan: bool,
    /// Any source inside these networks, wherever it arrives.
    pub networks: Vec<IpNet>,
}

impl Default for AllowedSources {
    fn default() -> Self {
        AllowedSources {
            virtual_networks: true,
            lan: false,
            networks: Vec::new(),
        }
    }
}

/// The admission check the listeners run before anything else. Open (everything
/// [`Admission::Full`]) until a [`SourceMap`] is installed: a DNS server used on its own
/// (tests, benches) has no machine to classify against.
#[derive(Default)]
pub struct SourceGate {
    map: ArcSwap<Option<SourceMap>>,
    allowed: ArcSwap<AllowedSources>,
    refused: AtomicU64,
    /// Unix second of the last "refused" log line (at most one per [`LOG_EVERY_SECS`]).
    last_log: AtomicU64,
}

const LOG_EVERY_SECS: u64 = 10;

impl SourceGate {
    pub fn set_map(&self, map: SourceMap) {
        if self.map.load().as_ref().as_ref() != Some(&map) {
            self.map.store(Arc::new(Some(map)));
        }
    }

    pub fn set_allowed(&self, allowed: AllowedSources) {
        self.allowed.store(Arc::new(allowed));
    }

    /// Queries refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The admission part of [`SourceGate::check`].
    #[cfg(test)]
    pub fn admit(&self, origin: &QueryOrigin) -> Admission {
        self.check(origin).0
    }

    /// What `origin` may get, and whether it is proven to be this host
    /// ([`SourceMap::proves_local`]; `false` until a map is installed): one map lookup and
    /// one classification for both, on every query.
    pub fn check(&self, origin: &QueryOrigin) -> (Admission, bool) {
        let map = self.map.load();
        let Some(map) = map.as_ref() else {
            return (Admission::Full, false);
        };
        let class = map.classify(origin);
        let admission = match class {
            SourceClass::Local => Admission::Full,
            SourceClass::Virtual | SourceClass::Lan => {
                let allowed = self.allowed.load();
                let listed = allowed
                    .networks
                    .iter()
                    .any(|net| net.contains(&canonical(origin.client.ip())));
                let by_class = match class {
                    SourceClass::Virtual => allowed.virtual_networks,
                    _ => allowed.lan,
                };
                if listed || by_class {
                    Admission::ForwardOnly
                } else {
                    Admission::Refuse
                }
            }
        };
        if admission == Admission::Refuse {
            self.note_refused(origin, class);
        }
        (admission, map.proves(class, origin))
    }

    fn note_refused(&self, origin: &QueryOrigin, class: SourceClass) {
        let total = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last_log.load(Ordering::Relaxed);
        if now >= last + LOG_EVERY_SECS
            && self
                .last_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(client = %origin.client, ?class, ingress = ?origin.ingress, refused_so_far = total, "refused a DNS query from another host (dns_allowed_sources)");
        }
    }
}

/// IPv4-mapped IPv6 sources as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LO: u32 = 1;
    const UPLINK: u32 = 2;
    const DOCKER: u32 = 3;

    fn map() -> SourceMap {
        SourceMap {
            loopback: Some(LO),
            uplinks: [UPLINK].into(),
            own: ["192.168.1.10", "100.64.0.1", "172.17.0.1"]
                .iter()
                .map(|a| a.parse().unwrap())
                .collect(),
            subnets: vec![
                ("192.168.1.0/24".parse().unwrap(), UPLINK),
                ("172.17.0.0/16".parse().unwrap(), DOCKER),
            ],
            ipv4_forged_local_dropped: true,
        }
    }

    #[test]
    fn a_local_sender_is_proven_only_where_the_kernel_drops_forgeries() {
        let map = map();
        let udp = |client: &str, ingress| origin(client, Some(ingress));
        // IPv4 local sources, loopback arrivals, ::1 and TCP are proven…
        assert!(map.proves_local(&udp("100.64.0.1", UPLINK)));
        assert!(map.proves_local(&udp("127.0.0.1", LO)));
        assert!(map.proves_local(&udp("::1", LO)));
        // …an IPv6 global source that is the host's own on an uplink is not (it may be forged)…
        let mut with_v6 = map.clone();
        with_v6.own.insert("2001:db8::10".parse().unwrap());
        assert_eq!(
            with_v6.classify(&udp("2001:db8::10", UPLINK)),
            SourceClass::Local
        );
        assert!(!with_v6.proves_local(&udp("2001:db8::10", UPLINK)));
        assert!(with_v6.proves_local(&origin("2001:db8::10", None)), "TCP");
        // …nor IPv4 when some interface accepts local sources, nor anything not local.
        let accepting = SourceMap {
            ipv4_forged_local_dropped: false,
            ..map.clone()
        };
        assert!(!accepting.proves_local(&udp("100.64.0.1", UPLINK)));
        assert!(
            accepting.proves_local(&udp("127.0.0.1", LO)),
            "arrived on lo"
        );
        assert!(!map.proves_local(&udp("192.168.1.20", UPLINK)));
        assert!(!map.proves_local(&udp("172.17.0.2", DOCKER)));
        assert!(
            !SourceGate::default().check(&udp("127.0.0.1", LO)).1,
            "no map yet"
        );
    }

    fn origin(client: &str, ingress: Option<u32>) -> QueryOrigin {
        QueryOrigin {
            client: std::net::SocketAddr::new(client.parse().unwrap(), 5353),
            server: "100.64.0.1:53".parse().unwrap(),
            transport: if ingress.is_some() {
                Transport::Udp
            } else {
                Transport::Tcp
            },
            ingress,
            proven_local: false,
        }
    }

    fn gate(allowed: AllowedSources) -> SourceGate {
        let gate = SourceGate::default();
        gate.set_map(map());
        gate.set_allowed(allowed);
        gate
    }

    #[test]
    fn this_host_is_its_own_addresses_and_others_are_placed_by_their_ingress() {
        let map = map();
        let class = |client, ingress| map.classify(&origin(client, ingress));
        // The host's packets to an address on the uplink are reported on the uplink.
        assert_eq!(class("192.168.1.10", Some(UPLINK)), SourceClass::Local);
        assert_eq!(class("100.64.0.1", Some(UPLINK)), SourceClass::Local);
        assert_eq!(class("192.168.1.77", Some(UPLINK)), SourceClass::Lan);
        assert_eq!(class("172.17.0.5", Some(DOCKER)), SourceClass::Virtual);
        // A container's address arriving on the uplink is someone on the LAN.
        assert_eq!(class("172.17.0.5", Some(UPLINK)), SourceClass::Lan);
    }

    #[test]
    fn tcp_is_placed_by_its_source_address() {
        let map = map();
        assert_eq!(map.classify(&origin("127.0.0.1", None)), SourceClass::Local);
        assert_eq!(
            map.classify(&origin("100.64.0.1", None)),
            SourceClass::Local
        );
        assert_eq!(
            map.classify(&origin("172.17.0.5", None)),
            SourceClass::Virtual
        );
        assert_eq!(
            map.classify(&origin("192.168.1.77", None)),
            SourceClass::Lan
        );
        assert_eq!(
            map.classify(&origin("203.0.113.9", None)),
            SourceClass::Lan,
            "routed"
        );
        assert_eq!(
            map.classify(&origin("::ffff:172.17.0.5", None)),
            SourceClass::Virtual
        );
    }

    #[test]
    fn by_default_the_lan_is_refused_and_containers_only_forwarded() {
        let gate = gate(AllowedSources::default());
        assert_eq!(gate.admit(&origin("127.0.0.1", Some(LO))), Admission::Full);
        assert_eq!(
            gate.admit(&origin("192.168.1.10", Some(UPLINK))),
            Admission::Full
        );
        assert_eq!(
            gate.admit(&origin("172.17.0.5", Some(DOCKER))),
            Admission::ForwardOnly
        );
        assert_eq!(
            gate.admit(&origin("192.168.1.77", Some(UPLINK))),
            Admission::Refuse
        );
        assert_eq!(gate.refused(), 1);
    }

    #[test]
    fn root_can_narrow_or_widen_but_never_give_a_stranger_alias_answers() {
        let closed = gate(AllowedSources {
            virtual_networks: false,
            lan: false,
            networks: vec![],
        });
        assert_eq!(
            closed.admit(&origin("172.17.0.5", Some(DOCKER))),
            Admission::Refuse
        );
        let lan = gate(AllowedSources {
            virtual_networks: true,
            lan: true,
            networks: vec![],
        });
        assert_eq!(
            lan.admit(&origin("192.168.1.77", Some(UPLINK))),
            Admission::ForwardOnly
        );
        let listed = gate(AllowedSources {
            virtual_networks: false,
            lan: false,
            networks: vec!["192.168.1.64/26".parse().unwrap()],
        });
        assert_eq!(
            listed.admit(&origin("192.168.1.77", Some(UPLINK))),
            Admission::ForwardOnly
        );
        assert_eq!(
            listed.admit(&origin("192.168.1.7", Some(UPLINK))),
            Admission::Refuse
        );
    }

    #[test]
    fn without_a_map_the_gate_is_open() {
        let gate = SourceGate::default();
        assert_eq!(
            gate.admit(&origin("192.168.1.77", Some(UPLINK))),
            Admission::Full
        );
    }
}
