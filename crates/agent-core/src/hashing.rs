//! Hashing the core can rely on: no per-process random keys, so every run of the agent
//! (and every test) behaves the same.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};

/// SipHash-1-3 with fixed zero keys (`DefaultHasher::new()`), for lookup maps. Keys are
/// alias values from the controller and our own addresses, not attacker-chosen input, so
/// flooding resistance from random keys buys nothing, and fixed keys keep the core free
/// of OS randomness. Never iterate such a map where the order reaches an output.
pub type FixedState = BuildHasherDefault<DefaultHasher>;

/// A `HashMap` with [`FixedState`].
pub type FixedHashMap<K, V> = HashMap<K, V, FixedState>;

const FNV64_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV64_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64-bit (Fowler–Noll–Vo, the `1a` variant: xor the byte, then multiply). Used
/// to place an alias in the address pool; it is part of the agent's contract (addresses
/// must not move between versions), so it must never change.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV64_OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(FNV64_PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::fnv1a_64;

    #[test]
    fn fnv1a_64_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
