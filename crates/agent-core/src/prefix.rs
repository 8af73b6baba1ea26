//! IP prefixes (`100.64.0.0/10`, `fd00:a20a::/48`) for the alias address pools.
//!
//! Addresses are handled as 128-bit integers so that one code path serves both families;
//! an IPv4 address is its 32-bit value.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The family an address really belongs to: an IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`, as dual-stack sockets report IPv4 peers) counts as IPv4.
    pub fn of_unmapped(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Family::V4,
            _ => Family::of(addr),
        }
    }

    /// Address width in bits.
    pub fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// A network prefix with its host bits all zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    network: IpAddr,
    len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("{0:?} is not an IP prefix; write it as address/length, e.g. 100.64.0.0/10")]
    Syntax(String),
    #[error("/{len} is too long for an {family} prefix (at most /{})", family.bits())]
    LengthTooLong { family: Family, len: u8 },
    #[error("{network}/{len} has host bits set; the network address is {expected}/{len}")]
    HostBitsSet {
        network: IpAddr,
        len: u8,
        expected: IpAddr,
    },
}

impl IpPrefix {
    pub fn new(network: IpAddr, len: u8) -> Result<Self, PrefixError> {
        let family = Family::of(network);
        if u32::from(len) > family.bits() {
            return Err(PrefixError::LengthTooLong { family, len });
        }
        let prefix = Self { network, len };
        let masked = to_bits(network) & !prefix.host_mask();
        if masked != to_bits(network) {
            return Err(PrefixError::HostBitsSet {
                network,
                len,
                expected: from_bits(family, masked),
            });
        }
        Ok(prefix)
    }

    /// For constants only: the caller guarantees `len` fits the family and the host bits
    /// are zero (checked by a unit test for every constant).
    pub(crate) const fn from_valid_parts(network: IpAddr, len: u8) -> Self {
        Self { network, len }
    }

    pub fn v4(network: Ipv4Addr, len: u8) -> Result<Self, PrefixError> {
        Self::new(IpAddr::V4(network), len)
    }

    pub fn v6(network: Ipv6Addr, len: u8) -> Result<Self, PrefixError> {
        Self::new(IpAddr::V6(network), len)
    }

    pub fn family(&self) -> Family {
        Family::of(self.network)
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Number of host bits (`32 - len` or `128 - len`).
    pub fn host_bits(&self) -> u32 {
        self.family().bits() - u32::from(self.len)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.index_of(addr).is_some()
    }

    /// The address's offset inside the prefix, when it is inside.
    pub fn index_of(&self, addr: IpAddr) -> Option<u128> {
        if Family::of(addr) != self.family() {
            return None;
        }
        let bits = to_bits(addr);
        (bits & !self.host_mask() == to_bits(self.network)).then(|| bits & self.host_mask())
    }

    /// The address at `index` inside the prefix, when the index fits.
    pub fn nth(&self, index: u128) -> Option<IpAddr> {
        (index & !self.host_mask() == 0)
            .then(|| from_bits(self.family(), to_bits(self.network) | index))
    }

    /// The last index (all host bits set).
    pub fn last_index(&self) -> u128 {
        self.host_mask()
    }

    fn host_mask(&self) -> u128 {
        match self.host_bits() {
            128 => u128::MAX,
            bits => (1u128 << bits) - 1,
        }
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || PrefixError::Syntax(s.to_owned());
        let (addr, len) = s.trim().split_once('/').ok_or_else(syntax)?;
        let addr: IpAddr = addr.parse().map_err(|_| syntax())?;
        if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let len: u8 = len.parse().map_err(|_| syntax())?;
        Self::new(addr, len)
    }
}

fn to_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_bits(family: Family, bits: u128) -> IpAddr {
    match family {
        // Truncation is intended: callers only pass values inside a v4 prefix.
        Family::V4 => IpAddr::V4(Ipv4Addr::from(bits as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_both_families() {
        let p: IpPrefix = "100.64.0.0/10".parse().unwrap();
        assert_eq!(p.family(), Family::V4);
        assert_eq!(p.host_bits(), 22);
        assert_eq!(p.to_string(), "100.64.0.0/10");
        let p: IpPrefix = "fd00:a20a::/48".parse().unwrap();
        assert_eq!(p.family(), Family::V6);
        assert_eq!(p.host_bits(), 80);
    }

    #[test]
    fn rejects_malformed_prefixes_with_a_reason() {
        for bad in [
            "",
            "100.64.0.0",
            "100.64.0.0/",
            "100.64.0.0/x",
            "1.2.3/8",
            "/8",
        ] {
            assert!(
                matches!(bad.parse::<IpPrefix>(), Err(PrefixError::Syntax(_))),
                "{bad}"
            );
        }
        assert_eq!(
            "10.0.0.0/33".parse::<IpPrefix>(),
            Err(PrefixError::LengthTooLong {
                family: Family::V4,
                len: 33
            })
        );
        let err = "100.64.0.1/10".parse::<IpPrefix>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "100.64.0.1/10 has host bits set; the network address is 100.64.0.0/10"
        );
    }

    #[test]
    fn index_and_nth_are_inverse_inside_and_none_outside() {
        let p: IpPrefix = "100.64.0.0/10".parse().unwrap();
        let a: IpAddr = "100.127.255.255".parse().unwrap();
        assert_eq!(p.index_of(a), Some(p.last_index()));
        assert_eq!(p.nth(p.last_index()), Some(a));
        assert_eq!(p.index_of("100.128.0.0".parse().unwrap()), None);
        assert_eq!(p.index_of("fd00::1".parse().unwrap()), None);
        assert_eq!(p.nth(p.last_index() + 1), None);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,50}") {
            let _ = s.parse::<IpPrefix>();
        }

        #[test]
        fn nth_stays_inside(len in 0u8..=32, index in any::<u128>()) {
            let p = IpPrefix::v4(Ipv4Addr::UNSPECIFIED, len).unwrap();
            if let Some(addr) = p.nth(index) {
                prop_assert_eq!(p.index_of(addr), Some(index));
            }
        }
    }
}
