//! Which names systemd-resolved sends to the agent's link.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// Above this many alias names the agent's link takes `~.` (everything) instead of one
/// routing domain per alias. resolved 252 holds at most 256 domains per link
/// (`LINK_SEARCH_DOMAINS_MAX`), counting the old and the new list together while it
/// replaces one, and a refused call drops *every* domain of the link (aliases would leak
/// to the uplink): with at most half of that in each list, no replacement can fail. See
/// docs/notes/systemd-resolved-measurements.md.
pub const MAX_ROUTING_DOMAINS: usize = 128;

/// How names reach the agent through resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routing {
    /// One routing-only domain per alias name (`count` of them).
    PerAlias { count: usize },
    /// `~.` and the default route: every name no other link claims.
    Everything,
}

impl Routing {
    pub fn for_names(count: usize) -> Routing {
        if count > MAX_ROUTING_DOMAINS {
            Routing::Everything
        } else {
            Routing::PerAlias { count }
        }
    }

    pub fn is_everything(&self) -> bool {
        *self == Routing::Everything
    }

    /// The `SetLinkDomains` argument: `(domain, routing_only)`.
    pub fn domains<'a>(&self, names: &'a [String]) -> Vec<(&'a str, bool)> {
        match self {
            Routing::PerAlias { .. } => names.iter().map(|n| (n.as_str(), true)).collect(),
            Routing::Everything => vec![(".", true)],
        }
    }

    /// The link's DNSSEC mode: off for the agent's own (unsigned) alias answers; for `~.`
    /// the global setting (empty string) keeps applying to what the agent relays.
    pub fn dnssec_mode(&self) -> &'static str {
        match self {
            Routing::PerAlias { .. } => "no",
            Routing::Everything => "",
        }
    }
}

impl fmt::Display for Routing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Routing::PerAlias { count } => write!(f, "per-alias ({count} routing domains)"),
            Routing::Everything => f.write_str("~. (all names; more aliases than routing domains)"),
        }
    }
}

/// The names resolved accepts as domains, lower-cased, sorted, without duplicates: the
/// others (a Boundary alias value need not be a DNS name) cannot be routed and are left
/// out rather than making resolved refuse the whole list.
pub fn routable_names(names: &[String]) -> Vec<String> {
    let mut routable: Vec<String> = names
        .iter()
        .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
        .filter(|n| is_dns_name(n))
        .collect();
    routable.sort_unstable();
    routable.dedup();
    routable
}

fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether resolved's server `ip` may be the agent's upstream: not one of the agent's
/// own addresses and not resolved's stub listeners (forwarding there loops back).
pub fn is_usable_upstream(ip: IpAddr, ours: &[IpAddr]) -> bool {
    const STUBS: [Ipv4Addr; 2] = [Ipv4Addr::new(127, 0, 0, 53), Ipv4Addr::new(127, 0, 0, 54)];
    let stub = matches!(ip, IpAddr::V4(v4) if STUBS.contains(&v4));
    !stub && !ours.contains(&ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_alias_up_to_the_limit_then_everything() {
        assert_eq!(Routing::for_names(0), Routing::PerAlias { count: 0 });
        assert_eq!(
            Routing::for_names(MAX_ROUTING_DOMAINS),
            Routing::PerAlias {
                count: MAX_ROUTING_DOMAINS
            }
        );
        assert_eq!(
            Routing::for_names(MAX_ROUTING_DOMAINS + 1),
            Routing::Everything
        );
        let names = vec!["db.prod.example".to_owned()];
        assert_eq!(
            Routing::for_names(1).domains(&names),
            [("db.prod.example", true)]
        );
        assert_eq!(Routing::Everything.domains(&names), [(".", true)]);
    }

    #[test]
    fn only_dns_names_are_routed() {
        let names: Vec<String> = [
            "DB.Prod.Example.",
            "db.prod.example",
            "web_1.test",
            "has space.test",
            "",
            "a..b",
            &"x".repeat(64),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(routable_names(&names), ["db.prod.example", "web_1.test"]);
    }

    #[test]
    fn the_stub_and_our_own_addresses_are_never_upstreams() {
        let ours: Vec<IpAddr> = vec!["100.64.0.1".parse().unwrap()];
        for ip in ["127.0.0.53", "127.0.0.54", "100.64.0.1"] {
            assert!(!is_usable_upstream(ip.parse().unwrap(), &ours), "{ip}");
        }
        for ip in ["127.0.0.1", "192.0.2.53", "fe80::1"] {
            assert!(is_usable_upstream(ip.parse().unwrap(), &ours), "{ip}");
        }
    }
}
