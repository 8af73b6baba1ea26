//! The point of the agent: `ssh <alias>` just works, and the only path to the target is
//! through the worker.

use crate::controller::TARGET_ID;
use crate::scenario::{ALIAS, Scenario};
use crate::support::topology::INFRA_TARGET_SIDE_V4;
use crate::support::wait::READY_TIMEOUT;

#[test]
fn alice_runs_ssh_to_the_alias_and_reaches_the_target_only_through_the_worker() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let alice = &topology.alice;
    topology.assert_target_isolated_from_client();

    // glibc resolves the alias through the agent (the namespace's resolv.conf), with
    // whichever family ssh prefers, then IPv4 and IPv6 explicitly.
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    scenario.assert_ssh_reaches_target(alice, &["-4"], ALIAS);
    scenario.assert_ssh_reaches_target(alice, &["-6"], ALIAS);

    // The target's sshd logged alice in from the worker's side of infra, and the client
    // still cannot reach the target on its own.
    topology.wait_for_log(
        "sshd",
        &format!(
            "Accepted publickey for {} from {INFRA_TARGET_SIDE_V4} port",
            alice.name
        ),
        READY_TIMEOUT,
    );
    topology.assert_target_isolated_from_client();

    // The controller knows the session as alice's, on the seeded target.
    let sessions = scenario.admin.sessions(topology);
    let alices: Vec<_> = sessions
        .iter()
        .filter(|s| s["user_id"] == scenario.alice.user_id.as_str())
        .collect();
    assert_eq!(alices.len(), 1, "alice's sessions: {sessions:?}");
    assert_eq!(alices[0]["target_id"], TARGET_ID, "{:?}", alices[0]);
    assert_eq!(alices[0]["status"], "active", "{:?}", alices[0]);
}

#[test]
fn a_session_cancelled_at_the_controller_is_replaced_on_the_next_ssh_without_a_failure() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let alice = &topology.alice;
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    let first = alices_sessions(&scenario);
    assert_eq!(first.len(), 1, "alice's sessions: {first:?}");
    let first_id = first[0]["id"].as_str().expect("a session id").to_owned();

    // An administrator cancels it; the agent is not told, and its next connection meets
    // the worker's refusal. Alice's ssh must still succeed at the first try.
    scenario
        .admin
        .cli(topology, &["sessions", "cancel", "-id", &first_id]);
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);

    let sessions = alices_sessions(&scenario);
    let active: Vec<_> = sessions
        .iter()
        .filter(|s| s["status"] == "active")
        .collect();
    assert_eq!(active.len(), 1, "alice's sessions: {sessions:?}");
    assert_ne!(active[0]["id"], first_id.as_str(), "{sessions:?}");
}

fn alices_sessions(scenario: &Scenario) -> Vec<serde_json::Value> {
    scenario
        .admin
        .sessions(&scenario.topology)
        .into_iter()
        .filter(|s| s["user_id"] == scenario.alice.user_id.as_str())
        .collect()
}
