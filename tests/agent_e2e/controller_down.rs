//! The controller goes away: the client keeps working DNS (fail open), an alias that
//! needs a new session falls back to the upstream's answer, and `status` says what went
//! wrong.

use std::net::IpAddr;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::agent::{DNS_V4, V4_PREFIX, client_agent_ok, status_json};
use crate::scenario::{ALIAS, SECOND_ALIAS, Scenario};
use crate::support::dig::{dig, dig_ok};
use crate::support::topology::{CLIENT_UPSTREAM_SIDE_V4, ORDINARY_NAME, ORDINARY_V4};
use crate::support::wait::{READY_TIMEOUT, poll_until};

#[test]
fn with_the_controller_gone_names_still_resolve_aliases_fall_back_and_status_shows_an_error() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (client, alice) = (&topology.client, &topology.alice);
    // alice's alias list is loaded (both aliases come in the same list) and ALIAS has a
    // session; SECOND_ALIAS has none yet.
    let addresses = scenario.alias_addresses(alice, ALIAS);

    scenario.controller.kill(topology);

    // Ordinary names: through glibc and at the agent.
    let hosts = client.run_as_ok(alice, &["getent", "ahostsv4", ORDINARY_NAME]);
    assert!(hosts.starts_with(&format!("{ORDINARY_V4} ")), "{hosts}");
    let at = format!("@{DNS_V4}");
    let reply = dig_ok(client, Some(alice), &[&at, ORDINARY_NAME, "A"]);
    assert_eq!(
        reply.addresses(),
        [IpAddr::V4(ORDINARY_V4)],
        "{}",
        reply.text
    );

    // SECOND_ALIAS needs a session the controller cannot give: the query goes upstream,
    // and dnsmasq's NXDOMAIN is the answer.
    assert_second_alias_falls_back(&scenario, &[]);
    // ALIAS has a live session, which needs no controller until it expires: the same
    // addresses as before.
    assert_alias_keeps(&scenario, addresses);

    // status tells alice something is wrong.
    let status = poll_until("status to show an error", READY_TIMEOUT, || {
        let status = status_json(topology, Some(alice));
        if status["errors"].as_array().is_some_and(|e| !e.is_empty()) {
            Ok(status)
        } else {
            Err(format!("status: {status}"))
        }
    });
    assert_eq!(status["status"], "running", "{status}");
    let errors: Vec<&str> = status["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str())
        .collect();
    let expected = format!(
        "authorizing a session for {SECOND_ALIAS} failed: could not connect to the controller"
    );
    assert!(
        errors.iter().any(|e| e.starts_with(&expected)
            && e.contains("Connection refused")
            && e.ends_with("DNS for it falls back to the upstream resolvers")),
        "{status}"
    );
    let table = client_agent_ok(topology, Some(alice), &["status"]);
    assert!(table.contains("Recent errors:"), "{table}");
    scenario.agent().fail_if_exited(topology);
}

/// The controller accepts connections and never answers (its process stopped: the kernel
/// still completes TCP handshakes). A new alias's lookup waits for the authorization only
/// up to the 4 s decision timeout, then gets the upstream's answer; an alias with a live
/// session keeps answering; the authorization's own 30 s bound puts an error in `status`;
/// and once the controller answers again the new alias resolves, without a restart.
#[test]
fn a_controller_that_never_answers_fails_open_and_the_agent_recovers_when_it_returns() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (client, alice) = (&topology.client, &topology.alice);
    let addresses = scenario.alias_addresses(alice, ALIAS);
    topology
        .infra
        .signal(scenario.controller.pid, Signal::SIGSTOP);

    // dig waits longer than the 4 s decision timeout.
    assert_second_alias_falls_back(&scenario, &["+tries=1", "+timeout=20"]);
    assert_alias_keeps(&scenario, addresses);
    let status = poll_until("the hanging authorization in status", HANG_BOUND, || {
        let status = status_json(topology, Some(alice));
        if status["errors"].to_string().contains(SECOND_ALIAS) {
            Ok(status)
        } else {
            Err(status.to_string())
        }
    });
    let expected = format!("authorizing a session for {SECOND_ALIAS} failed");
    assert!(status["errors"].to_string().contains(&expected), "{status}");
    assert_eq!(status["status"], "running", "{status}");

    topology
        .infra
        .signal(scenario.controller.pid, Signal::SIGCONT);
    let at = format!("@{DNS_V4}");
    let address = poll_until("the new alias to resolve", READY_TIMEOUT, || {
        let reply = dig(client, Some(alice), &[&at, SECOND_ALIAS, "A"])?;
        match reply.addresses().as_slice() {
            [IpAddr::V4(v4)] if V4_PREFIX.contains(v4) => Ok(*v4),
            _ => Err(reply.text),
        }
    });
    assert_eq!(scenario.alias_v4(alice, SECOND_ALIAS), IpAddr::V4(address));
    scenario.agent().fail_if_exited(topology);
}

/// The agent's bound on one controller request (30 s) with room for a loaded machine.
const HANG_BOUND: Duration = Duration::from_secs(90);

/// SECOND_ALIAS, which has no session, gets the upstream's NXDOMAIN (the agent forwarded
/// it: dnsmasq logged the query from the client's side); `dig_options` for the lookup.
fn assert_second_alias_falls_back(scenario: &Scenario, dig_options: &[&str]) {
    let topology = &scenario.topology;
    let at = format!("@{DNS_V4}");
    let mut args = vec![at.as_str(), SECOND_ALIAS, "A"];
    args.extend_from_slice(dig_options);
    let reply = dig_ok(&topology.client, Some(&topology.alice), &args);
    assert_eq!(reply.status(), "NXDOMAIN", "{}", reply.text);
    topology.wait_for_log(
        "dnsmasq",
        &format!("query[A] {SECOND_ALIAS} from {CLIENT_UPSTREAM_SIDE_V4}"),
        READY_TIMEOUT,
    );
}

/// ALIAS, which has a live session, still answers its A and AAAA `addresses`.
fn assert_alias_keeps(scenario: &Scenario, addresses: [IpAddr; 2]) {
    let topology = &scenario.topology;
    let at = format!("@{DNS_V4}");
    for (record_type, address) in ["A", "AAAA"].into_iter().zip(addresses) {
        let reply = dig_ok(
            &topology.client,
            Some(&topology.alice),
            &[&at, ALIAS, record_type],
        );
        assert_eq!(reply.status(), "NOERROR", "{}", reply.text);
        assert_eq!(reply.addresses(), [address], "{}", reply.text);
    }
}
