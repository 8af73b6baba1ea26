//! An alias address is alice's door to the target, not everyone's: another local user
//! without a token (or with a token that may not use the target) and other hosts are
//! refused, never tunnelled.

use std::net::IpAddr;

use crate::admin::log_in;
use crate::agent::{DNS_V6, V4_PREFIX, V6_PREFIX, register_with_curl};
use crate::probe::{Probe, connect_and_read};
use crate::scenario::{ALIAS, Scenario, ssh_socket};
use crate::support::topology::{CLIENT_UPSTREAM_SIDE_V4, CLIENT_UPSTREAM_SIDE_V6};

const BOB_LOGIN: &str = "bob";
const BOB_PASSWORD: &str = "bob-password-e2e";

fn assert_refused(who: &str, address: IpAddr, probe: &Probe) {
    assert!(
        !probe.reached_sshd() && probe.was_refused(),
        "{who} connecting to {address}:22 must be refused: {}",
        probe.describe()
    );
}

#[test]
fn bob_without_a_token_or_without_grants_is_refused_at_alices_alias_address() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);
    let addresses = scenario.alias_addresses(alice, ALIAS);
    // The probe itself works: alice gets the target's sshd banner on both.
    for address in addresses {
        let probe = connect_and_read(&topology.client, Some(alice), ssh_socket(address));
        assert!(
            probe.reached_sshd(),
            "alice at {address}: {}",
            probe.describe()
        );
    }

    // bob has no token.
    for address in addresses {
        let probe = connect_and_read(&topology.client, Some(bob), ssh_socket(address));
        assert_refused("bob (no token)", address, &probe);
    }
    let ssh = scenario.ssh(bob, &[], &addresses[0].to_string(), &["hostname"]);
    let stderr = String::from_utf8_lossy(&ssh.stderr);
    assert!(
        !ssh.status.success() && !stderr.contains("Permission denied"),
        "bob's ssh must not reach the target's sshd: {stderr}"
    );

    // bob with a token of a Boundary user who may read his token but nothing else.
    scenario.admin.create_user(
        topology,
        BOB_LOGIN,
        BOB_PASSWORD,
        &["type=auth-token;ids=*;actions=read:self"],
    );
    let login = log_in(topology, BOB_LOGIN, BOB_PASSWORD);
    let (code, body) = register_with_curl(topology, bob, &login.token);
    assert!(
        (200..300).contains(&code) || (400..500).contains(&code),
        "registering a token without grants: {code} {body}"
    );
    for address in addresses {
        let probe = connect_and_read(&topology.client, Some(bob), ssh_socket(address));
        assert_refused("bob (token without grants)", address, &probe);
    }

    // alice still gets through afterwards.
    let probe = connect_and_read(&topology.client, Some(alice), ssh_socket(addresses[0]));
    assert!(
        probe.reached_sshd(),
        "alice after bob: {}",
        probe.describe()
    );
    scenario.agent().fail_if_exited(topology);
}

#[test]
fn connections_from_another_host_to_an_alias_address_are_refused() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let alice = &topology.alice;
    let addresses = scenario.alias_addresses(alice, ALIAS);
    assert!(!addresses.contains(&IpAddr::V6(DNS_V6)));

    // `upstream` is another host on a link of the client: route the agent's prefixes to
    // the client, as a neighbour on the LAN could.
    let upstream = &topology.upstream;
    let (v4_prefix, v6_prefix) = (V4_PREFIX.to_string(), V6_PREFIX.to_string());
    let (via_v4, via_v6) = (
        CLIENT_UPSTREAM_SIDE_V4.to_string(),
        CLIENT_UPSTREAM_SIDE_V6.to_string(),
    );
    upstream.exec_ok(&["ip", "-4", "route", "add", &v4_prefix, "via", &via_v4]);
    upstream.exec_ok(&["ip", "-6", "route", "add", &v6_prefix, "via", &via_v6]);

    for address in addresses {
        let probe = connect_and_read(upstream, None, ssh_socket(address));
        assert_refused("another host (upstream)", address, &probe);
    }
    // Still alice's: the refusals changed nothing for her.
    let probe = connect_and_read(&topology.client, Some(alice), ssh_socket(addresses[0]));
    assert!(probe.reached_sshd(), "alice: {}", probe.describe());
}
