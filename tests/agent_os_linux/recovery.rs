//! Crash recovery: a run takes over resolv.conf and adds addresses, "crashes" (nothing is
//! undone), and the next start puts everything back.

use std::fs;
use std::net::IpAddr;

use boundary::agent::os::linux::{NetlinkAddresses, ResolvConfTakeover};
use boundary::agent::os::{AddressManager, ResolverTakeover, Restored};
use boundary::agent::recovery::{LeftoverSweep, recover};
use boundary::agent::state::{AddedAddress, StateFile};
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
        let sweep = LeftoverSweep {
            interface: &interface,
            prefixes: &prefixes,
        };
        let resolver = ResolvConfTakeover::new(&resolv_conf);
        let report = recover(&mut state, &resolver, &addresses, Some(sweep))
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
    assert_eq!(report.removed.len(), 4, "{:?}", report.removed);
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
