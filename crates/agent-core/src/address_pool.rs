//! Alias → local address: deterministic, stable and unique.
//!
//! Every alias gets one IPv4 address from `v4_prefix` and one IPv6 address from
//! `v6_prefix`. Placement is part of the agent's contract (ssh `known_hosts` and firewall
//! rules name these addresses), so it is fixed:
//!
//! - In a prefix of 2^h addresses, slot 0 (the network address), slot 1 (the DNS server's
//!   own address) and slot 2^h − 1 (broadcast / all ones) are never leased, leaving
//!   `L = 2^h − 3` leasable slots, 2 ..= 2^h − 2.
//! - An alias's home slot is `2 + fnv1a_64(lower-cased alias, no final dot) mod L`, in
//!   each family.
//! - If the home slot is taken, the next slots are tried in order, wrapping at the end
//!   (linear probing).
//!
//! So the same alias gets the same address on every machine and every run unless another
//! alias got there first; prior assignments can be seeded (from the state file) so an
//! alias that had to probe keeps its address across a restart too. Both directions are
//! hash-map lookups: alias → addresses for DNS answers, address → alias for accepted
//! connections.

use super::dns_decision::{AliasAddress, normalized_name};
use super::hashing::{FixedHashMap, fnv1a_64};
use super::prefix::{Family, IpPrefix};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;

/// Allowed `v4_prefix` lengths (docs/wire-contract.md §5).
pub const V4_PREFIX_LENGTHS: RangeInclusive<u8> = 8..=16;
/// Allowed `v6_prefix` lengths (ours): at least 8 host bits, at most a /16.
pub const V6_PREFIX_LENGTHS: RangeInclusive<u8> = 16..=120;

/// `100.64.0.0/10`, the CGNAT range.
pub const DEFAULT_V4_PREFIX: IpPrefix =
    IpPrefix::from_valid_parts(IpAddr::V4(Ipv4Addr::new(100, 64, 0, 0)), 10);

/// `fd00:a20a::/48`, a ULA prefix.
pub const DEFAULT_V6_PREFIX: IpPrefix = IpPrefix::from_valid_parts(
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xa20a, 0, 0, 0, 0, 0, 0)),
    48,
);

/// The pair of addresses an alias answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AliasAddresses {
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
}

impl AliasAddresses {
    pub fn get(&self, family: Family) -> IpAddr {
        match family {
            Family::V4 => IpAddr::V4(self.v4),
            Family::V6 => IpAddr::V6(self.v6),
        }
    }

    /// The DNS answer for `family`.
    pub fn answer(&self, family: Family) -> AliasAddress {
        match family {
            Family::V4 => AliasAddress::V4(self.v4),
            Family::V6 => AliasAddress::V6(self.v6),
        }
    }

    /// Both addresses, IPv4 first.
    pub fn both(&self) -> [IpAddr; 2] {
        [IpAddr::V4(self.v4), IpAddr::V6(self.v6)]
    }
}

/// A prefix the pool cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolConfigError {
    #[error("{key} must be an {family} prefix, got {prefix}")]
    WrongFamily {
        key: &'static str,
        family: Family,
        prefix: IpPrefix,
    },
    #[error("{key} {prefix} must be between /{} and /{}", range.start(), range.end())]
    Length {
        key: &'static str,
        prefix: IpPrefix,
        range: RangeInclusive<u8>,
    },
}

/// No free slot is left for an alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no free {family} address left in {prefix} for alias {alias:?}: all {leasable} addresses \
     are in use; configure a larger {}", if *family == Family::V4 { "v4_prefix" } else { "v6_prefix" }
)]
pub struct PoolExhausted {
    pub alias: String,
    pub family: Family,
    pub prefix: IpPrefix,
    pub leasable: u128,
}

/// Why a recorded assignment could not be taken over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("recorded address {addr} of alias {alias:?} is outside {prefix}")]
    Outside {
        alias: String,
        addr: IpAddr,
        prefix: IpPrefix,
    },
    #[error(
        "recorded address {addr} of alias {alias:?} is reserved (network, broadcast or the DNS server's own address)"
    )]
    Reserved { alias: String, addr: IpAddr },
    #[error("recorded address {addr} of alias {alias:?} already belongs to {owner:?}")]
    Taken {
        alias: String,
        addr: IpAddr,
        owner: String,
    },
    #[error("alias {alias:?} already has other addresses ({current_v4}, {current_v6})")]
    AlreadyAssigned {
        alias: String,
        current_v4: Ipv4Addr,
        current_v6: Ipv6Addr,
    },
}

/// The two address pools and the assignments made from them.
#[derive(Debug, Clone)]
pub struct AddressPool {
    v4: Slots,
    v6: Slots,
    /// Normalised alias → its addresses.
    by_alias: FixedHashMap<String, AliasAddresses>,
    /// Every assigned address (both families) → normalised alias.
    by_addr: FixedHashMap<IpAddr, String>,
}

impl AddressPool {
    pub fn new(v4_prefix: IpPrefix, v6_prefix: IpPrefix) -> Result<Self, PoolConfigError> {
        Ok(Self {
            v4: Slots::new("v4_prefix", Family::V4, v4_prefix, V4_PREFIX_LENGTHS)?,
            v6: Slots::new("v6_prefix", Family::V6, v6_prefix, V6_PREFIX_LENGTHS)?,
            by_alias: FixedHashMap::default(),
            by_addr: FixedHashMap::default(),
        })
    }

    pub fn v4_prefix(&self) -> IpPrefix {
        self.v4.prefix
    }

    pub fn v6_prefix(&self) -> IpPrefix {
        self.v6.prefix
    }

    /// The DNS server's own addresses (slot 1 of each prefix); never leased.
    pub fn dns_server_addresses(&self) -> AliasAddresses {
        AliasAddresses {
            v4: as_v4(self.v4.at(1)),
            v6: as_v6(self.v6.at(1)),
        }
    }

    /// Number of aliases holding addresses.
    pub fn len(&self) -> usize {
        self.by_alias.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_alias.is_empty()
    }

    /// The alias's addresses, if it has any. Case- and final-dot-insensitive.
    pub fn get(&self, alias: &str) -> Option<AliasAddresses> {
        self.by_alias.get(normalized_name(alias).as_ref()).copied()
    }

    /// The (normalised) alias an address is assigned to.
    pub fn alias_at(&self, addr: IpAddr) -> Option<&str> {
        self.by_addr.get(&canonical(addr)).map(String::as_str)
    }

    /// The addresses an alias gets when nothing is in its way (its home slots).
    pub fn home_addresses(&self, alias: &str) -> AliasAddresses {
        let hash = fnv1a_64(normalized_name(alias).as_bytes());
        AliasAddresses {
            v4: as_v4(self.v4.at(self.v4.home(hash))),
            v6: as_v6(self.v6.at(self.v6.home(hash))),
        }
    }

    /// The alias's addresses, assigning them first if it has none.
    pub fn lease(&mut self, alias: &str) -> Result<AliasAddresses, PoolExhausted> {
        let alias = normalized_name(alias);
        if let Some(existing) = self.by_alias.get(alias.as_ref()) {
            return Ok(*existing);
        }
        let hash = fnv1a_64(alias.as_bytes());
        let v4 = self.probe(&self.v4, hash, &alias)?;
        let v6 = self.probe(&self.v6, hash, &alias)?;
        let addrs = AliasAddresses {
            v4: as_v4(v4),
            v6: as_v6(v6),
        };
        self.insert(alias.into_owned(), addrs);
        Ok(addrs)
    }

    /// Takes over an assignment recorded earlier (state file), so the alias keeps its
    /// addresses. Re-seeding the same assignment is a no-op.
    pub fn seed(&mut self, alias: &str, addrs: AliasAddresses) -> Result<(), SeedError> {
        let alias = normalized_name(alias).into_owned();
        if let Some(current) = self.by_alias.get(&alias) {
            return if *current == addrs {
                Ok(())
            } else {
                Err(SeedError::AlreadyAssigned {
                    alias,
                    current_v4: current.v4,
                    current_v6: current.v6,
                })
            };
        }
        for (slots, addr) in [
            (&self.v4, addrs.get(Family::V4)),
            (&self.v6, addrs.get(Family::V6)),
        ] {
            match slots.prefix.index_of(addr) {
                None => {
                    return Err(SeedError::Outside {
                        alias,
                        addr,
                        prefix: slots.prefix,
                    });
                }
                Some(index) if !slots.is_leasable(index) => {
                    return Err(SeedError::Reserved { alias, addr });
                }
                Some(_) => {}
            }
            if let Some(owner) = self.by_addr.get(&addr) {
                return Err(SeedError::Taken {
                    alias,
                    addr,
                    owner: owner.clone(),
                });
            }
        }
        self.insert(alias, addrs);
        Ok(())
    }

    /// Frees the alias's addresses; they may go to another alias afterwards.
    pub fn release(&mut self, alias: &str) -> Option<AliasAddresses> {
        let addrs = self.by_alias.remove(normalized_name(alias).as_ref())?;
        for addr in addrs.both() {
            self.by_addr.remove(&addr);
        }
        Some(addrs)
    }

    /// Every assignment, sorted by alias (what the state file records).
    pub fn assignments(&self) -> Vec<(String, AliasAddresses)> {
        let mut all: Vec<_> = self
            .by_alias
            .iter()
            .map(|(alias, addrs)| (alias.clone(), *addrs))
            .collect();
        all.sort();
        all
    }

    fn probe(&self, slots: &Slots, hash: u64, alias: &str) -> Result<IpAddr, PoolExhausted> {
        let exhausted = || PoolExhausted {
            alias: alias.to_owned(),
            family: slots.family,
            prefix: slots.prefix,
            leasable: slots.leasable,
        };
        // Each alias holds one slot per family, so at most `len()` slots are taken and
        // a free one turns up within `len() + 1` probes when any is left.
        let taken = self.by_alias.len() as u128;
        if taken >= slots.leasable {
            return Err(exhausted());
        }
        let home = slots.home(hash);
        (0..=taken)
            .map(|step| slots.at(slots.step(home, step)))
            .find(|addr| !self.by_addr.contains_key(addr))
            .ok_or_else(exhausted)
    }

    fn insert(&mut self, alias: String, addrs: AliasAddresses) {
        for addr in addrs.both() {
            self.by_addr.insert(addr, alias.clone());
        }
        self.by_alias.insert(alias, addrs);
    }
}

/// One family's prefix and its leasable range.
#[derive(Debug, Clone)]
struct Slots {
    family: Family,
    prefix: IpPrefix,
    /// `2^h − 3`.
    leasable: u128,
}

impl Slots {
    fn new(
        key: &'static str,
        family: Family,
        prefix: IpPrefix,
        lengths: RangeInclusive<u8>,
    ) -> Result<Self, PoolConfigError> {
        if prefix.family() != family {
            return Err(PoolConfigError::WrongFamily {
                key,
                family,
                prefix,
            });
        }
        if !lengths.contains(&prefix.prefix_len()) {
            return Err(PoolConfigError::Length {
                key,
                prefix,
                range: lengths,
            });
        }
        // The length bounds leave at least 8 host bits, so this cannot underflow.
        let leasable = prefix.last_index() - 2;
        Ok(Self {
            family,
            prefix,
            leasable,
        })
    }

    fn home(&self, hash: u64) -> u128 {
        2 + u128::from(hash) % self.leasable
    }

    fn step(&self, home: u128, step: u128) -> u128 {
        2 + (home - 2 + step) % self.leasable
    }

    fn is_leasable(&self, index: u128) -> bool {
        (2..2 + self.leasable).contains(&index)
    }

    fn at(&self, index: u128) -> IpAddr {
        // Indices come from `home`/`step`/constants below `last_index`, always inside.
        self.prefix.nth(index).unwrap_or(self.prefix.network())
    }
}

fn as_v4(addr: IpAddr) -> Ipv4Addr {
    match addr {
        IpAddr::V4(a) => a,
        IpAddr::V6(a) => a.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
    }
}

fn as_v6(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

/// Accepted sockets may report an IPv4 peer as `::ffff:a.b.c.d`; look those up as IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}

#[cfg(test)]
#[path = "address_pool_tests.rs"]
mod tests;
