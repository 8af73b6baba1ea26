//! Crash recovery: a run takes over resolv.conf and adds addresses, "crashes" (nothing is
//! undone), and the next start puts everything back.

use std::fs;
use std::net::IpAddr;

use boundary_agent::os::linux::{NetlinkAddresses, ResolvConfTakeover};
use boundary_agent::os::{AddressManager, ResolverTakeover, Restored};
use boundary_agent::recovery::{RecoveryFailure, RecoveryScope, recover};
use boundary_agent::state::{AddedAddress, SavedResolvConf, StateFile};
use ipnet::IpNet;

use crate::support::netns::{Netns, connect};
use crate::{NETNS_PREFIX, has_address};

const ORIGINAL: &[u8] = b"search lab\nnameserver 192.0.2.53\n";

#[test]
fn restores_resolv_conf_and_removes_leftover_addresses() {
    let client = Netns::new(NETNS_PREFIX);
    let gateway = Netns::new(NETNS_PREFIX);
    let link = connect(&client, &gateway);
    let dir = tempfile::tempdir().unwrap();
    let resolv_conf = dir.path().join("resolv.conf");
    fs::write(&resolv_conf, ORIGINAL).unwrap();
    let state_path = dir.path().join("state.json");
    let recorded: [IpAddr; 2] = [
        "100.64.1.1".parse().unwrap(),
        "fd00:a20a::1:1".parse().unwrap(),
    ];
    let unrecorded: IpAddr = "100.64.1.2".parse().unwrap();
    let foreign: IpAddr = "100.64.1.3".parse().unwrap();
    client.exec_ok(&[
        "ip",
        "addr",
        "add",
        &format!("{foreign}/32"),
        "dev",
        &link.a_interface,
    ]);
    let prefixes: Vec<IpNet> = vec![
        "100.64.0.0/10".parse().unwrap(),
        "fd00:a20a::/48".parse().unwrap(),
    ];

    // The run that crashes: record, then act.
    client.block_on(|| async {
        let mut state = StateFile::load(&state_path).unwrap();
        let takeover = ResolvConfTakeover::new(&resolv_conf);
        takeover
            .take_over(&["100.64.0.1".parse().unwrap()], &mut state)
            .await
            .unwrap();
        let addresses = NetlinkAddresses::new().unwrap();
        let interface = addresses
            .find_interface(Some(&link.a_interface))
            .await
            .unwrap();
        for address in recorded {
            let added = AddedAddress {
                interface: interface.name.clone(),
                address,
            };
            state.update(|s| s.added_addresses.insert(added)).unwrap();
            addresses.add(&interface, address).await.unwrap();
        }
        // Added but never recorded (the state file was lost): found by its tag.
        addresses.add(&interface, unrecorded).await.unwrap();
        // Recorded on an interface that has since disappeared.
        let vanished = AddedAddress {
            interface: "vanished0".into(),
            address: "100.64.1.9".parse().unwrap(),
        };
        state
            .update(|s| s.added_addresses.insert(vanished))
            .unwrap();
    });
    assert!(fs::read(&resolv_conf).unwrap() != ORIGINAL);
    assert!(has_address(&client, &link.a_interface, unrecorded));

    let report = client.block_on(|| async {
        let mut state = StateFile::load(&state_path).unwrap();
        let addresses = NetlinkAddresses::new().unwrap();
        let interface = addresses
            .find_interface(Some(&link.a_interface))
            .await
            .unwrap();
        let scope = RecoveryScope {
            prefixes: &prefixes,
            sweep: Some(&interface),
        };
        let resolver = ResolvConfTakeover::new(&resolv_conf);
        let report = recover(&mut state, &resolver, &addresses, scope)
            .await
            .unwrap();
        assert!(
            state.state().added_addresses.is_empty(),
            "{:?}",
            state.state()
        );
        assert!(state.state().saved_resolver.is_none());
        report
    });
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(
        report.resolver,
        Some(Restored::Restored {
            path: resolv_conf.clone()
        })
    );
    // The two recorded and the unrecorded one; the vanished one needed no removal.
    assert_eq!(report.removed.len(), 3, "{:?}", report.removed);
    assert_eq!(fs::read(&resolv_conf).unwrap(), ORIGINAL);
    for address in recorded.into_iter().chain([unrecorded]) {
        assert!(
            !has_address(&client, &link.a_interface, address),
            "{address} removed"
        );
    }
    assert!(
        has_address(&client, &link.a_interface, foreign),
        "untagged address kept"
    );
    let on_disk = StateFile::load(&state_path).unwrap();
    assert!(on_disk.state().added_addresses.is_empty());
    assert!(on_disk.state().saved_resolver.is_none());
}

/// A state file is not trusted: one naming another file as "the resolver configuration"
/// and addresses outside the agent's prefixes or without its tag (a crafted file, or
/// someone else's addresses) makes recovery touch none of them.
#[test]
fn a_crafted_state_file_touches_nothing_outside_the_agents_own() {
    let client = Netns::new(NETNS_PREFIX);
    let gateway = Netns::new(NETNS_PREFIX);
    let link = connect(&client, &gateway);
    let dir = tempfile::tempdir().unwrap();
    let resolv_conf = dir.path().join("resolv.conf");
    fs::write(&resolv_conf, ORIGINAL).unwrap();
    let other_file = dir.path().join("sudoers-x");
    fs::write(&other_file, b"untouched\n").unwrap();
    let state_path = dir.path().join("state.json");
    let outside: IpAddr = "10.9.9.9".parse().unwrap();
    let untagged: IpAddr = "100.64.7.7".parse().unwrap();
    for address in [outside, untagged] {
        client.exec_ok(&[
            "ip",
            "addr",
            "add",
            &format!("{address}/32"),
            "dev",
            &link.a_interface,
        ]);
    }
    let prefixes: Vec<IpNet> = vec![
        "100.64.0.0/10".parse().unwrap(),
        "fd00:a20a::/48".parse().unwrap(),
    ];
    let mut crafted = StateFile::load(&state_path).unwrap();
    crafted
        .update(|s| {
            s.saved_resolver = Some(SavedResolvConf {
                path: other_file.clone(),
                content: Some(b"attacker ALL=(ALL) NOPASSWD: ALL\n".to_vec()),
                mode: 0o440,
            });
            for address in [outside, untagged] {
                s.added_addresses.insert(AddedAddress {
                    interface: link.a_interface.clone(),
                    address,
                });
            }
        })
        .unwrap();

    let report = client.block_on(|| async {
        let mut state = StateFile::load(&state_path).unwrap();
        let addresses = NetlinkAddresses::new().unwrap();
        let interface = addresses
            .find_interface(Some(&link.a_interface))
            .await
            .unwrap();
        let scope = RecoveryScope {
            prefixes: &prefixes,
            sweep: Some(&interface),
        };
        let resolver = ResolvConfTakeover::new(&resolv_conf);
        let report = recover(&mut state, &resolver, &addresses, scope)
            .await
            .unwrap();
        assert!(state.state().saved_resolver.is_none(), "record dropped");
        assert!(state.state().added_addresses.is_empty(), "records dropped");
        report
    });
    assert_eq!(fs::read(&other_file).unwrap(), b"untouched\n");
    assert_eq!(fs::read(&resolv_conf).unwrap(), ORIGINAL);
    assert!(report.removed.is_empty(), "{:?}", report.removed);
    let failures: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
    assert!(
        report.failures.iter().any(|f| matches!(
            f,
            RecoveryFailure::Resolver(error) if error.to_string().contains("sudoers-x")
        )),
        "{failures:?}"
    );
    assert!(
        report.failures.iter().any(|f| matches!(
            f,
            RecoveryFailure::OutsidePrefixes { address, .. } if *address == outside
        )),
        "{failures:?}"
    );
    assert!(
        report.failures.iter().any(|f| matches!(
            f,
            RecoveryFailure::NotTagged { address, .. } if *address == untagged
        )),
        "{failures:?}"
    );
    for address in [outside, untagged] {
        assert!(
            has_address(&client, &link.a_interface, address),
            "{address} kept"
        );
    }
}
