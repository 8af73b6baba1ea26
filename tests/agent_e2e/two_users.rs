//! Two local users with their own tokens use the same alias: each gets a session of their
//! own (sessions are per alias and user), authorized with their own token, and each sees
//! only their own.

use crate::admin::AGENT_USER_GRANTS;
use crate::agent::{register_with_cli, sessions_json};
use crate::scenario::{ALIAS, Scenario};

#[test]
fn alice_and_bob_ssh_to_the_same_alias_with_separate_sessions() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);

    // bob becomes a second Boundary user with the same grants, may log in to the
    // target as himself, and registers through the stock CLI (alice used curl).
    let bob_user =
        scenario
            .admin
            .create_user(topology, "bob", "bob-password-e2e", &AGENT_USER_GRANTS);
    topology.authorize_on_target(bob);
    register_with_cli(topology, bob, "bob", "bob-password-e2e");

    // The alias has one address, whoever asks.
    assert_eq!(
        scenario.alias_v4(alice, ALIAS),
        scenario.alias_v4(bob, ALIAS)
    );
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    scenario.assert_ssh_reaches_target(bob, &[], ALIAS);

    let session_id = |user| {
        let sessions = sessions_json(topology, Some(user));
        assert_eq!(sessions.len(), 1, "{sessions:?}");
        assert_eq!(sessions[0]["alias"], ALIAS, "{sessions:?}");
        sessions[0]["session_authorization"]["session_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id: {sessions:?}"))
            .to_owned()
    };
    let (alices, bobs) = (session_id(alice), session_id(bob));
    assert_ne!(alices, bobs, "one session per user");

    // At the controller each session belongs to its user.
    let sessions = scenario.admin.sessions(topology);
    let owner = |id: &str| {
        sessions
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("{id} not at the controller: {sessions:?}"))["user_id"]
            .clone()
    };
    assert_eq!(owner(&alices), scenario.alice.user_id.as_str());
    assert_eq!(owner(&bobs), bob_user.user_id.as_str());
}
