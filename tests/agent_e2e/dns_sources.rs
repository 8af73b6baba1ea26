//! Who may ask the agent's DNS server (`dns_allowed_sources`), and what forwarded answers
//! may contain: a host on the LAN that routes the agent's address via this machine is
//! REFUSED and never makes a session; a container on a host-internal link gets ordinary
//! forwarding only (an alias is answered by the upstream, not with the alias address);
//! a forwarded answer never points into the agent's prefixes (DNS rebinding).

use std::net::IpAddr;

use crate::agent::{DNS_V4, V4_PREFIX};
use crate::scenario::{ALIAS, Scenario};
use crate::support::dig::dig_ok;
use crate::support::netns::{Netns, connect};
use crate::support::topology::{
    CLIENT_V4, ORDINARY_NAME, ORDINARY_V4, REBIND_NAME, REBIND_OUTSIDE_V4,
};

#[test]
fn a_lan_host_is_refused_and_a_container_only_gets_forwarding() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let server = format!("@{DNS_V4}");

    // infra sits on the client's default-route link: a LAN neighbour that routes the
    // agent's address via the client.
    let lan = &topology.infra;
    lan.exec_ok(&[
        "ip",
        "route",
        "add",
        &format!("{DNS_V4}/32"),
        "via",
        &CLIENT_V4.to_string(),
    ]);
    for (name, transport) in [
        (ORDINARY_NAME, "+notcp"),
        (ALIAS, "+notcp"),
        (ALIAS, "+tcp"),
    ] {
        let reply = dig_ok(
            lan,
            None,
            &["+time=2", "+tries=1", transport, &server, name, "A"],
        );
        assert_eq!(
            reply.status(),
            "REFUSED",
            "{name} {transport} from the LAN: {}",
            reply.text
        );
    }

    // A container: its own namespace on a veth of the client that is not the uplink.
    let container = Netns::new("bt-container");
    let link = connect(&topology.client, &container);
    container.exec_ok(&[
        "ip",
        "route",
        "add",
        &V4_PREFIX.to_string(),
        "via",
        &link.a_v4.to_string(),
    ]);
    let ordinary = dig_ok(
        &container,
        None,
        &["+time=2", "+tries=2", &server, ORDINARY_NAME, "A"],
    );
    assert_eq!(
        ordinary.addresses(),
        [IpAddr::V4(ORDINARY_V4)],
        "{}",
        ordinary.text
    );
    let alias = dig_ok(
        &container,
        None,
        &["+time=2", "+tries=2", &server, ALIAS, "A"],
    );
    assert_eq!(
        alias.status(),
        "NXDOMAIN",
        "the container gets the upstream's answer for an alias: {}",
        alias.text
    );

    let alices: Vec<_> = scenario
        .admin
        .sessions(topology)
        .into_iter()
        .filter(|session| session["user_id"] == scenario.alice.user_id.as_str())
        .collect();
    assert!(
        alices.is_empty(),
        "no query from another host made a session with alice's token: {alices:?}"
    );
    // And alice, on the host, is served as before.
    let address = scenario.alias_v4(&topology.alice, ALIAS);
    assert!(matches!(address, IpAddr::V4(v4) if V4_PREFIX.contains(&v4)));
}

#[test]
fn a_forwarded_answer_never_points_into_the_agents_prefixes() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let server = format!("@{DNS_V4}");
    let v4 = dig_ok(
        &topology.client,
        Some(&topology.alice),
        &[&server, REBIND_NAME, "A"],
    );
    assert_eq!(v4.status(), "NOERROR", "{}", v4.text);
    assert_eq!(
        v4.addresses(),
        [IpAddr::V4(REBIND_OUTSIDE_V4)],
        "only the address outside the prefixes is left: {}",
        v4.text
    );
    let v6 = dig_ok(
        &topology.client,
        Some(&topology.alice),
        &[&server, REBIND_NAME, "AAAA"],
    );
    assert_eq!(v6.status(), "NOERROR", "{}", v6.text);
    assert!(v6.addresses().is_empty(), "no data left: {}", v6.text);
}
