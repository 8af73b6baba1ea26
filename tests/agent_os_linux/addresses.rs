//! rtnetlink address management in a namespace, checked with `ip -j addr`.

use std::net::IpAddr;

use boundary_agent::os::linux::NetlinkAddresses;
use boundary_agent::os::{AddressError, AddressManager};
use ipnet::IpNet;

use crate::support::netns::{Netns, connect};
use crate::{NETNS_PREFIX, has_address};

fn agent_prefixes() -> Vec<IpNet> {
    vec![
        "100.64.0.0/10".parse().unwrap(),
        "fd00:a20a::/48".parse().unwrap(),
    ]
}

#[test]
fn add_list_and_remove_v4_and_v6_on_the_default_route_interface() {
    let client = Netns::new(NETNS_PREFIX);
    let gateway = Netns::new(NETNS_PREFIX);
    let link = connect(&client, &gateway);
    client.add_default_route(IpAddr::V4(link.b_v4));
    let v4: IpAddr = "100.64.0.7".parse().unwrap();
    let v6: IpAddr = "fd00:a20a::7".parse().unwrap();
    // Someone else's address inside the prefix: listed, but not tagged as the agent's.
    client.exec_ok(&[
        "ip",
        "addr",
        "add",
        "100.64.9.9/32",
        "dev",
        &link.a_interface,
    ]);

    let interface = client.block_on(|| async {
        let addresses = NetlinkAddresses::new().unwrap();
        let interface = addresses.find_interface(None).await.unwrap();
        assert_eq!(
            interface.name, link.a_interface,
            "the default route's interface"
        );
        for address in [v4, v6] {
            addresses.add(&interface, address).await.unwrap();
            // EEXIST on a second add is success.
            addresses.add(&interface, address).await.unwrap();
        }
        let listed = addresses
            .list_within(&interface, &agent_prefixes())
            .await
            .unwrap();
        let mut found: Vec<(IpAddr, u8, bool)> = listed
            .iter()
            .map(|a| (a.address, a.prefix_len, a.added_by_agent))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (v4, 32, true),
                ("100.64.9.9".parse().unwrap(), 32, false),
                (v6, 128, true)
            ],
            "only addresses inside the prefixes, the link's 198.18/fd00:198 ones excluded"
        );
        interface
    });

    let shown = client.addresses_on(&link.a_interface);
    let v6_info = &shown
        .iter()
        .find(|a| a.address == v6)
        .expect("v6 added")
        .info;
    assert_eq!(v6_info["prefixlen"], 128);
    assert_eq!(v6_info["nodad"], true, "{v6_info}");
    assert!(
        v6_info.get("tentative").is_none(),
        "usable at once: {v6_info}"
    );
    let v4_info = &shown
        .iter()
        .find(|a| a.address == v4)
        .expect("v4 added")
        .info;
    assert_eq!(v4_info["prefixlen"], 32);

    client.block_on(|| async {
        let addresses = NetlinkAddresses::new().unwrap();
        for address in [v4, v6] {
            addresses.remove(&interface, address).await.unwrap();
            // Removing what is not there is success (repeatable cleanup).
            addresses.remove(&interface, address).await.unwrap();
        }
    });
    assert!(!has_address(&client, &link.a_interface, v4));
    assert!(!has_address(&client, &link.a_interface, v6));
    assert!(has_address(
        &client,
        &link.a_interface,
        "100.64.9.9".parse().unwrap()
    ));
}

#[test]
fn default_route_interface_falls_back_to_ipv6() {
    let client = Netns::new(NETNS_PREFIX);
    let gateway = Netns::new(NETNS_PREFIX);
    let link = connect(&client, &gateway);
    client.add_default_route(IpAddr::V6(link.b_v6));
    let interface = client.block_on(|| async {
        let addresses = NetlinkAddresses::new().unwrap();
        addresses.find_interface(None).await.unwrap()
    });
    assert_eq!(interface.name, link.a_interface);
}

#[test]
fn interface_errors_say_what_is_missing() {
    let lonely = Netns::new(NETNS_PREFIX);
    lonely.block_on(|| async {
        let addresses = NetlinkAddresses::new().unwrap();
        let error = addresses.find_interface(None).await.unwrap_err();
        assert!(matches!(error, AddressError::NoDefaultRoute), "{error}");
        assert!(error.to_string().contains("interface_to_use"), "{error}");

        let error = addresses.find_interface(Some("nosuch0")).await.unwrap_err();
        assert!(
            matches!(error, AddressError::InterfaceNotFound { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("\"nosuch0\""), "{error}");

        let lo = addresses.find_interface(Some("lo")).await.unwrap();
        assert_eq!(lo.index, 1);
        let stale = boundary_agent::os::Interface {
            name: "gone0".into(),
            index: 4242,
        };
        let v4: IpAddr = "100.64.0.8".parse().unwrap();
        let error = addresses.add(&stale, v4).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("100.64.0.8") && message.contains("gone0"),
            "{message}"
        );
    });
}
