//! The agent never leaves the machine changed: after SIGTERM the namespace's resolv.conf
//! and every interface's addresses are exactly as before it started, and after a crash
//! (SIGKILL) the next start repairs what the crash left.

use std::net::IpAddr;

use crate::agent::{Expect, names_only_the_agent, read_resolv_conf};
use crate::scenario::{ALIAS, Scenario};
use crate::support::topology::CLIENT_INTERFACE;

/// The agent added both alias addresses to the default route's interface, as host
/// addresses (`/32`, `/128`), the IPv6 one without duplicate address detection.
fn assert_alias_addresses_added(scenario: &Scenario, addresses: [IpAddr; 2]) {
    let on_interface = scenario.topology.client.addresses_on(CLIENT_INTERFACE);
    for address in addresses {
        let info = &on_interface
            .iter()
            .find(|a| a.address == address)
            .unwrap_or_else(|| panic!("{address} on {CLIENT_INTERFACE}: {on_interface:?}"))
            .info;
        let host_length = if address.is_ipv4() { 32 } else { 128 };
        assert_eq!(info["prefixlen"], host_length, "{info}");
        if address.is_ipv6() {
            assert_eq!(info["nodad"], true, "{info}");
        }
    }
}

#[test]
fn after_sigterm_resolv_conf_and_addresses_are_exactly_as_before() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let alice = &topology.alice;
    let addresses = scenario.alias_addresses(alice, ALIAS);
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    assert_alias_addresses_added(&scenario, addresses);
    assert_ne!(
        read_resolv_conf(topology).as_bytes(),
        scenario.before.resolv_conf
    );

    let status = scenario.agent().terminate(topology);
    assert!(status.success(), "the agent's exit after SIGTERM: {status}");
    scenario.assert_client_restored("after SIGTERM");
    assert!(
        !scenario.files.state_file.exists(),
        "the state file is removed on a clean shutdown"
    );
}

#[test]
fn after_sigkill_the_next_start_repairs_and_sigterm_restores_everything() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let alice = &topology.alice;
    let addresses = scenario.alias_addresses(alice, ALIAS);
    assert_alias_addresses_added(&scenario, addresses);

    // A crash leaves the agent's changes in place (the state file says what they were).
    scenario.agent().kill(topology);
    assert!(names_only_the_agent(&read_resolv_conf(topology)));
    assert_alias_addresses_added(&scenario, addresses);
    assert!(
        scenario.files.state_file.exists(),
        "the state file after a crash"
    );

    // The next start removes the leftovers first, then takes over DNS again.
    scenario.restart_agent("agent-after-crash", Expect::Running);
    for address in addresses {
        assert!(
            !scenario.client_has_address(address),
            "the crash's leftover {address} is removed at start"
        );
    }
    // Tokens live in memory only: alice registers again; the alias keeps its addresses.
    scenario.register_alice_with_curl();
    assert_eq!(scenario.alias_v4(alice, ALIAS), addresses[0]);
    assert_eq!(scenario.alias_v6(alice, ALIAS), addresses[1]);
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);

    let status = scenario.agent().terminate(topology);
    assert!(status.success(), "the agent's exit after SIGTERM: {status}");
    scenario.assert_client_restored("after SIGKILL, restart and SIGTERM");
}
