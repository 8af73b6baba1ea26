use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn pool(v4: &str, v6: &str) -> AddressPool {
    AddressPool::new(v4.parse().unwrap(), v6.parse().unwrap()).unwrap()
}

fn default_pool() -> AddressPool {
    AddressPool::new(DEFAULT_V4_PREFIX, DEFAULT_V6_PREFIX).unwrap()
}

#[test]
fn default_prefixes_are_valid() {
    assert_eq!(
        IpPrefix::new(DEFAULT_V4_PREFIX.network(), DEFAULT_V4_PREFIX.prefix_len()),
        Ok(DEFAULT_V4_PREFIX)
    );
    assert_eq!(
        IpPrefix::new(DEFAULT_V6_PREFIX.network(), DEFAULT_V6_PREFIX.prefix_len()),
        Ok(DEFAULT_V6_PREFIX)
    );
    assert_eq!(DEFAULT_V4_PREFIX.to_string(), "100.64.0.0/10");
    assert_eq!(DEFAULT_V6_PREFIX.to_string(), "fd00:a20a::/48");
}

#[test]
fn rejects_prefixes_outside_the_allowed_lengths_or_family() {
    let v6 = DEFAULT_V6_PREFIX;
    for bad in ["10.0.0.0/7", "10.0.0.0/17", "10.0.0.0/24"] {
        let err = AddressPool::new(bad.parse().unwrap(), v6).unwrap_err();
        assert!(matches!(err, PoolConfigError::Length { .. }), "{bad}");
        assert!(err.to_string().contains("between /8 and /16"), "{err}");
    }
    assert!(matches!(
        AddressPool::new(v6, v6),
        Err(PoolConfigError::WrongFamily { .. })
    ));
    assert!(matches!(
        AddressPool::new(DEFAULT_V4_PREFIX, "fd00::/121".parse().unwrap()),
        Err(PoolConfigError::Length { .. })
    ));
}

#[test]
fn an_alias_gets_its_home_addresses_in_any_case() {
    let mut p = default_pool();
    let home = p.home_addresses("db.prod.example");
    assert_eq!(p.lease("DB.Prod.Example.").unwrap(), home);
    assert_eq!(p.lease("db.prod.example").unwrap(), home);
    assert_eq!(p.get("db.PROD.example"), Some(home));
    assert_eq!(p.alias_at(home.get(Family::V4)), Some("db.prod.example"));
    assert_eq!(p.alias_at(home.get(Family::V6)), Some("db.prod.example"));
    assert_eq!(p.len(), 1);
}

#[test]
fn placement_is_a_fixed_function_of_the_alias() {
    // Pinned: changing the hash or the slot layout would move every user's addresses.
    let p = default_pool();
    let hash = fnv1a_64(b"db.prod.example");
    let expected_v4 = u32::from(Ipv4Addr::new(100, 64, 0, 0)) + 2 + (hash % ((1 << 22) - 3)) as u32;
    assert_eq!(
        p.home_addresses("db.prod.example").v4,
        Ipv4Addr::from(expected_v4)
    );
    assert_eq!(
        p.dns_server_addresses(),
        AliasAddresses {
            v4: Ipv4Addr::new(100, 64, 0, 1),
            v6: "fd00:a20a::1".parse().unwrap(),
        }
    );
}

#[test]
fn ipv4_mapped_addresses_find_their_alias() {
    let mut p = default_pool();
    let a = p.lease("web").unwrap();
    assert_eq!(p.alias_at(IpAddr::V6(a.v4.to_ipv6_mapped())), Some("web"));
}

#[test]
fn collisions_probe_to_the_next_slot() {
    let mut p = pool("10.0.0.0/16", "fd00::/120");
    // Seed someone into a's home slots so a has to probe.
    let home = p.home_addresses("a");
    p.seed("squatter", home).unwrap();
    let a = p.lease("a").unwrap();
    assert_ne!(a, home);
    let next = |addr: IpAddr, prefix: IpPrefix| {
        let i = prefix.index_of(addr).unwrap();
        prefix
            .nth(if i + 1 == prefix.last_index() {
                2
            } else {
                i + 1
            })
            .unwrap()
    };
    assert_eq!(a.get(Family::V4), next(home.get(Family::V4), p.v4_prefix()));
    assert_eq!(a.get(Family::V6), next(home.get(Family::V6), p.v6_prefix()));
}

#[test]
fn exhaustion_is_a_clear_error_and_release_makes_room() {
    let mut p = pool("10.0.0.0/16", "fd00::/120");
    for i in 0..253 {
        p.lease(&format!("host{i}")).unwrap();
    }
    let err = p.lease("one-too-many").unwrap_err();
    assert_eq!(err.family, Family::V6);
    assert_eq!(err.leasable, 253);
    assert!(
        err.to_string().contains("configure a larger v6_prefix"),
        "{err}"
    );
    assert!(p.release("host7").is_some());
    assert!(p.lease("one-too-many").is_ok());
}

#[test]
fn seeding_keeps_recorded_addresses_and_rejects_bad_ones() {
    let mut p = default_pool();
    let recorded = AliasAddresses {
        v4: Ipv4Addr::new(100, 64, 9, 9),
        v6: "fd00:a20a::99".parse().unwrap(),
    };
    p.seed("db", recorded).unwrap();
    p.seed("DB.", recorded).unwrap();
    assert_eq!(p.lease("db").unwrap(), recorded);

    let other = AliasAddresses {
        v4: Ipv4Addr::new(100, 64, 9, 10),
        v6: "fd00:a20a::100".parse().unwrap(),
    };
    assert!(matches!(
        p.seed("db", other),
        Err(SeedError::AlreadyAssigned { .. })
    ));
    assert!(matches!(
        p.seed("web", recorded),
        Err(SeedError::Taken { owner, .. }) if owner == "db"
    ));
    let outside = AliasAddresses {
        v4: Ipv4Addr::new(10, 0, 0, 5),
        ..other
    };
    assert!(matches!(
        p.seed("web", outside),
        Err(SeedError::Outside { .. })
    ));
    for v4 in [
        Ipv4Addr::new(100, 64, 0, 0),
        Ipv4Addr::new(100, 64, 0, 1),
        Ipv4Addr::new(100, 127, 255, 255),
    ] {
        assert!(matches!(
            p.seed("web", AliasAddresses { v4, ..other }),
            Err(SeedError::Reserved { .. })
        ));
    }
    assert!(p.get("web").is_none(), "a rejected seed assigns nothing");
}

#[test]
fn assignments_are_sorted() {
    let mut p = default_pool();
    for a in ["c", "a", "b"] {
        p.lease(a).unwrap();
    }
    let names: Vec<_> = p.assignments().into_iter().map(|(a, _)| a).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[derive(Debug, Clone)]
enum Op {
    Lease(usize),
    Release(usize),
    Seed(usize, u128, u128),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..400usize).prop_map(Op::Lease),
        2 => (0..400usize).prop_map(Op::Release),
        1 => (0..400usize, 0..300u128, 0..300u128).prop_map(|(a, x, y)| Op::Seed(a, x, y)),
    ]
}

fn name(i: usize) -> String {
    // Mixed case on purpose: the same alias must map to the same slot.
    if i.is_multiple_of(3) {
        format!("Host{i}.Example.")
    } else {
        format!("host{i}.example")
    }
}

fn check_invariants(p: &AddressPool) -> Result<(), TestCaseError> {
    let mut seen = BTreeSet::new();
    for (alias, addrs) in p.assignments() {
        for (family, prefix) in [(Family::V4, p.v4_prefix()), (Family::V6, p.v6_prefix())] {
            let addr = addrs.get(family);
            prop_assert!(seen.insert(addr), "{addr} leased twice");
            let index = prefix.index_of(addr);
            prop_assert!(index.is_some(), "{addr} outside {prefix}");
            let index = index.unwrap_or_default();
            prop_assert!(
                index >= 2 && index < prefix.last_index(),
                "{addr} is reserved in {prefix}"
            );
            prop_assert_eq!(p.alias_at(addr), Some(alias.as_str()));
        }
    }
    prop_assert_eq!(seen.len(), 2 * p.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_address_is_ever_leased_twice(ops in proptest::collection::vec(op(), 1..600)) {
        // A /120 has only 253 leasable slots, so collisions and exhaustion both happen.
        let mut p = pool("10.0.0.0/16", "fd00::/120");
        for op in ops {
            match op {
                Op::Lease(i) => {
                    let before = p.get(&name(i));
                    match p.lease(&name(i)) {
                        Ok(addrs) => prop_assert!(before.is_none_or(|b| b == addrs)),
                        Err(e) => prop_assert_eq!(e.leasable, 253),
                    }
                }
                Op::Release(i) => {
                    let before = p.get(&name(i));
                    prop_assert_eq!(p.release(&name(i)), before);
                }
                Op::Seed(i, x, y) => {
                    let addrs = AliasAddresses {
                        v4: as_v4(p.v4_prefix().nth(x).unwrap_or(p.v4_prefix().network())),
                        v6: as_v6(p.v6_prefix().nth(y).unwrap_or(p.v6_prefix().network())),
                    };
                    if p.seed(&name(i), addrs).is_ok() {
                        prop_assert_eq!(p.get(&name(i)), Some(addrs));
                    }
                }
            }
            check_invariants(&p)?;
        }
    }

    #[test]
    fn same_aliases_in_any_order_get_the_same_addresses(
        aliases in proptest::collection::btree_set("[a-z]{1,6}\\.[a-z]{1,4}", 1..40),
        seed in any::<u64>(),
    ) {
        let p = default_pool();
        let homes: BTreeSet<_> = aliases.iter().map(|a| p.home_addresses(a).v4).collect();
        let homes6: BTreeSet<_> = aliases.iter().map(|a| p.home_addresses(a).v6).collect();
        prop_assume!(homes.len() == aliases.len() && homes6.len() == aliases.len());

        let forward: Vec<_> = aliases.iter().cloned().collect();
        let mut shuffled = forward.clone();
        // A deterministic shuffle from the generated seed.
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut a = default_pool();
        let mut b = default_pool();
        for alias in &forward {
            a.lease(alias).unwrap();
        }
        for alias in &shuffled {
            b.lease(&alias.to_uppercase()).unwrap();
        }
        prop_assert_eq!(a.assignments(), b.assignments());
    }
}
