//! What the agent's DNS server answers, seen with dig and glibc: ordinary names come from
//! the resolver the client had before (dnsmasq), aliases get local addresses.

use std::net::IpAddr;

use crate::agent::{DNS_V4, DNS_V6, names_only_the_agent, read_resolv_conf};
use crate::scenario::{ALIAS, Scenario};
use crate::support::dig::dig_ok;
use crate::support::topology::{
    MISSING_NAME, ORDINARY_NAME, ORDINARY_V4, ORDINARY_V6, WWW_NAME, WWW_V4,
};

#[test]
fn ordinary_names_resolve_through_the_agent_with_the_upstreams_answers() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let client = &topology.client;

    // The system resolver is the agent now, and only the agent.
    let resolv_conf = read_resolv_conf(topology);
    assert!(names_only_the_agent(&resolv_conf), "{resolv_conf}");

    // glibc (getent) through resolv.conf, as every program resolves.
    let hosts = client.exec_ok(&["getent", "ahostsv4", WWW_NAME]);
    assert!(hosts.starts_with(&format!("{WWW_V4} ")), "{hosts}");
    let hosts = client.exec_ok(&["getent", "hosts", ORDINARY_NAME]);
    let first: Vec<&str> = hosts.split_whitespace().take(1).collect();
    assert!(
        first == [ORDINARY_V6.to_string()] || first == [ORDINARY_V4.to_string()],
        "{hosts}"
    );

    // dig at both of the agent's addresses, over UDP and TCP.
    for server in [IpAddr::V4(DNS_V4), IpAddr::V6(DNS_V6)] {
        let at = format!("@{server}");
        for transport in ["+notcp", "+tcp"] {
            let reply = dig_ok(client, None, &[transport, &at, ORDINARY_NAME, "A"]);
            assert_eq!(reply.status(), "NOERROR", "{}", reply.text);
            assert_eq!(
                reply.addresses(),
                [IpAddr::V4(ORDINARY_V4)],
                "{}",
                reply.text
            );
            let reply = dig_ok(client, None, &[transport, &at, ORDINARY_NAME, "AAAA"]);
            assert_eq!(
                reply.addresses(),
                [IpAddr::V6(ORDINARY_V6)],
                "{}",
                reply.text
            );
        }
        // The upstream's NXDOMAIN comes through as it is.
        let reply = dig_ok(client, None, &[&at, MISSING_NAME, "A"]);
        assert_eq!(reply.status(), "NXDOMAIN", "{}", reply.text);
    }

    // Browsers are told not to switch to DNS over HTTPS behind the agent's back.
    let reply = dig_ok(
        client,
        None,
        &[&format!("@{DNS_V4}"), "use-application-dns.net", "A"],
    );
    assert_eq!(reply.status(), "NXDOMAIN", "{}", reply.text);
}

#[test]
fn alias_answers_are_authoritative_local_addresses_for_any_spelling_over_udp_and_tcp() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (client, alice) = (&topology.client, &topology.alice);
    let at = format!("@{DNS_V4}");

    // A: inside v4_prefix, authoritative, the configured TTL.
    let v4 = scenario.alias_v4(alice, ALIAS);
    let reply = dig_ok(client, Some(alice), &[&at, ALIAS, "A"]);
    assert_eq!(reply.status(), "NOERROR", "{}", reply.text);
    assert_eq!(reply.addresses(), [v4], "{}", reply.text);
    assert!(reply.has_flag("aa"), "no aa flag: {}", reply.text);
    assert_eq!(reply.answers()[0].ttl, 5, "dns_ttl: {}", reply.text);

    // AAAA: inside the ULA v6_prefix, also from the agent's IPv6 address.
    let v6 = scenario.alias_v6(alice, ALIAS);
    let reply = dig_ok(client, Some(alice), &[&format!("@{DNS_V6}"), ALIAS, "AAAA"]);
    assert_eq!(reply.addresses(), [v6], "{}", reply.text);
    assert!(reply.has_flag("aa"), "no aa flag: {}", reply.text);

    // Another type: the name exists but has no such record (NODATA with an SOA).
    let reply = dig_ok(client, Some(alice), &[&at, ALIAS, "MX"]);
    assert_eq!(reply.status(), "NOERROR", "{}", reply.text);
    assert!(reply.answers().is_empty(), "{}", reply.text);
    let authority = reply.section("AUTHORITY");
    assert!(
        authority.len() == 1 && authority[0].kind == "SOA",
        "an SOA in the authority section: {}",
        reply.text
    );

    // Over TCP, the same addresses.
    let reply = dig_ok(client, Some(alice), &["+tcp", &at, ALIAS, "A"]);
    assert_eq!(reply.addresses(), [v4], "{}", reply.text);
    assert!(reply.server().ends_with("(TCP)"), "{}", reply.text);
    let reply = dig_ok(client, Some(alice), &["+tcp", &at, ALIAS, "AAAA"]);
    assert_eq!(reply.addresses(), [v6], "{}", reply.text);

    // Upper case and a trailing dot name the same alias.
    for name in ["DB.Prod.Test.", "DB.PROD.TEST", "db.prod.test."] {
        let reply = dig_ok(client, Some(alice), &[&at, name, "A"]);
        assert_eq!(reply.addresses(), [v4], "{name}: {}", reply.text);
        let reply = dig_ok(client, Some(alice), &[&at, name, "AAAA"]);
        assert_eq!(reply.addresses(), [v6], "{name}: {}", reply.text);
    }

    // glibc as alice gets the same through resolv.conf.
    let hosts = expect_getent(&scenario, &["getent", "ahostsv4", ALIAS]);
    assert!(hosts.starts_with(&format!("{v4} ")), "{hosts}");
}

fn expect_getent(scenario: &Scenario, args: &[&str]) -> String {
    scenario
        .topology
        .client
        .run_as_ok(&scenario.topology.alice, args)
}
