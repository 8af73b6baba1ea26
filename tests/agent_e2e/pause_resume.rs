//! Pause hands DNS back to the resolvers the client had (byte for byte), stops
//! intercepting aliases and ends the sessions of every user; resume takes over again with
//! the same alias addresses. A pause outlives a restart (`operational_state_file`).
//! Because it is agent-wide, only root pauses (unless root sets `allow_user_pause`): a
//! user's pause is refused and changes nothing for anyone.

use std::net::IpAddr;

use crate::admin::AGENT_USER_GRANTS;
use crate::agent::{
    DNS_V4, DNS_V6, Expect, client_agent, client_agent_ok, names_only_the_agent, read_resolv_conf,
    register_with_cli, sessions_json, status_json, wait_until_the_agent_is_the_resolver,
};
use crate::scenario::{ALIAS, Scenario};
use crate::support::dig::{dig, dig_ok};
use crate::support::topology::UPSTREAM_V4;
use crate::support::wait::{READY_TIMEOUT, poll_until};

#[test]
fn pause_gives_dns_back_and_resume_takes_it_again_with_the_same_alias_address() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let alice = &topology.alice;
    let address = scenario.alias_v4(alice, ALIAS);
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    assert_eq!(sessions_json(topology, Some(alice)).len(), 1);
    assert!(scenario.client_has_address(address));

    let paused = client_agent_ok(topology, None, &["pause"]);
    assert_eq!(paused, "The client agent has been successfully paused.\n");
    poll_until("resolv.conf to be restored on pause", READY_TIMEOUT, || {
        let now = std::fs::read(topology.client.resolv_conf_path()).expect("read resolv.conf");
        if now == scenario.before.resolv_conf {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&now).into_owned())
        }
    });
    assert_eq!(status_json(topology, Some(alice))["status"], "paused");

    // The default resolver is dnsmasq again, which does not know the alias.
    let reply = dig_ok(&topology.client, Some(alice), &[ALIAS, "A"]);
    assert_eq!(reply.status(), "NXDOMAIN", "{}", reply.text);
    assert!(
        reply.server().starts_with(&format!("{UPSTREAM_V4}#53")),
        "{}",
        reply.text
    );
    poll_until("alice's sessions to end on pause", READY_TIMEOUT, || {
        let table = client_agent_ok(topology, Some(alice), &["sessions"]);
        if table.trim() == "No sessions found" {
            Ok(())
        } else {
            Err(table)
        }
    });
    poll_until(
        "the alias address to be removed on pause",
        READY_TIMEOUT,
        || {
            if scenario.client_has_address(address) {
                Err(format!("{address} is still on the client"))
            } else {
                Ok(())
            }
        },
    );

    let refused = client_agent(topology, Some(alice), &["resume"]);
    assert!(
        !refused.success() && refused.stderr.contains("only root may resume"),
        "alice may not undo root's pause: {refused:?}"
    );
    let resumed = client_agent_ok(topology, None, &["resume"]);
    assert_eq!(resumed, "The client agent has been successfully resumed.\n");
    assert_eq!(status_json(topology, Some(alice))["status"], "running");
    wait_until_the_agent_is_the_resolver(topology);
    // Through the default resolver again, the alias has the address it had.
    let again = poll_until("the alias to resolve after resume", READY_TIMEOUT, || {
        let reply = dig(&topology.client, Some(alice), &[ALIAS, "A"])?;
        reply
            .addresses()
            .first()
            .copied()
            .ok_or_else(|| reply.text.clone())
    });
    assert_eq!(again, address, "the alias keeps its address across pause");
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
}

#[test]
fn a_paused_agent_stays_paused_across_a_restart_and_leaves_dns_alone() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let alice = &topology.alice;
    scenario.alias_v4(alice, ALIAS);

    client_agent_ok(topology, None, &["pause"]);
    let status = scenario.agent().terminate(topology);
    assert!(status.success(), "the agent's exit after SIGTERM: {status}");
    scenario.assert_client_restored("after pause and SIGTERM");

    // The operational state file remembers the pause: the new run does not take DNS and
    // adds no alias address (its own DNS server may listen, forwarding everything).
    scenario.restart_agent("agent-restarted-paused", Expect::Paused);
    assert_eq!(status_json(topology, None)["status"], "paused");
    let resolv_conf = std::fs::read(topology.client.resolv_conf_path()).expect("resolv.conf");
    assert_eq!(
        String::from_utf8_lossy(&resolv_conf),
        String::from_utf8_lossy(&scenario.before.resolv_conf),
        "resolv.conf with the restarted agent paused"
    );
    let dns_server = [IpAddr::V4(DNS_V4), IpAddr::V6(DNS_V6)];
    let added = scenario.added_addresses();
    assert!(
        added
            .iter()
            .all(|(_, address)| dns_server.contains(address)),
        "only the DNS server's addresses may be added while paused: {added:?}"
    );
    let reply = dig_ok(&topology.client, Some(alice), &[ALIAS, "A"]);
    assert_eq!(reply.status(), "NXDOMAIN", "{}", reply.text);

    // root may resume for everyone; then the agent takes over again.
    let resumed = client_agent_ok(topology, None, &["resume"]);
    assert_eq!(resumed, "The client agent has been successfully resumed.\n");
    wait_until_the_agent_is_the_resolver(topology);
}

/// bob (with a token of his own or without) and alice herself may not pause the agent for
/// everyone: refused with the reason, and alice keeps her alias, her session and DNS.
#[test]
fn a_users_pause_is_refused_and_alice_keeps_her_alias_and_session() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);
    let address = scenario.alias_v4(alice, ALIAS);
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    let session_ids = || -> Vec<String> {
        sessions_json(topology, Some(alice))
            .iter()
            .map(|s| s["session_authorization"]["session_id"].to_string())
            .collect()
    };
    let sessions = session_ids();
    assert_eq!(sessions.len(), 1, "{sessions:?}");

    // Without a token, the local API refuses bob as before.
    let refused = client_agent(topology, Some(bob), &["pause"]);
    assert!(!refused.success(), "{refused:?}");
    // With a token of his own, and alice with hers: the agent refuses, saying why.
    scenario
        .admin
        .create_user(topology, "bob", "bob-password-e2e", &AGENT_USER_GRANTS);
    register_with_cli(topology, bob, "bob", "bob-password-e2e");
    for user in [bob, alice] {
        let refused = client_agent(topology, Some(user), &["pause"]);
        assert!(
            !refused.success()
                && refused.stderr.contains("403")
                && refused.stderr.contains("only root may pause"),
            "{}: {refused:?}",
            user.name
        );
    }

    assert_eq!(status_json(topology, Some(alice))["status"], "running");
    let resolv_conf = read_resolv_conf(topology);
    assert!(names_only_the_agent(&resolv_conf), "{resolv_conf}");
    let reply = dig_ok(&topology.client, Some(alice), &[ALIAS, "A"]);
    assert_eq!(reply.addresses(), [address], "{}", reply.text);
    assert_eq!(session_ids(), sessions, "alice's session goes on");
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
}
