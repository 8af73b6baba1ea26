//! `boundary client-agent status` and `sessions`, as the user who registered a token
//! (through the stock CLI's push after `authenticate`) and as one who did not; each sees
//! only their own token, sessions and brokered credentials.

use serde_json::Value;

use crate::agent::{
    assert_no_token, client_agent_ok, register_with_cli, sessions_json, status_json,
};
use crate::controller::{CONTROLLER_URL, TARGET_ID};
use crate::scenario::{ALIAS, ALICE_LOGIN, ALICE_PASSWORD, Scenario};
use crate::support::wait::{READY_TIMEOUT, poll_until};

const DB_USERNAME: &str = "dbuser";
const DB_PASSWORD: &str = "db-secret-e2e";

/// The typed credential, else the decoded secret (docs/wire-contract.md §1.8: clients read
/// `credential` first).
fn brokered_secret(credential: &Value) -> &Value {
    if credential["credential"].is_object() {
        &credential["credential"]
    } else {
        &credential["secret"]["decoded"]
    }
}

#[test]
fn status_and_sessions_show_alice_her_token_session_and_credentials_and_bob_nothing() {
    let scenario = Scenario::start_unregistered();
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);
    let credential_id =
        scenario
            .admin
            .attach_username_password(topology, TARGET_ID, DB_USERNAME, DB_PASSWORD);

    // alice logs in with the stock CLI, which hands the token to the agent.
    let login = register_with_cli(topology, alice, ALICE_LOGIN, ALICE_PASSWORD);
    let status = poll_until("alice's token to reach the agent", READY_TIMEOUT, || {
        let status = status_json(topology, Some(alice));
        if status["auth_token_id"] == login.token_id.as_str() {
            Ok(status)
        } else {
            Err(format!("status: {status}"))
        }
    });
    assert_eq!(status["status"], "running", "{status}");
    assert_eq!(status["boundary_addr"], CONTROLLER_URL, "{status}");
    assert!(status["auth_token_expiry"].is_string(), "{status}");
    assert!(
        status["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{status}"
    );
    assert!(
        status["errors"].is_array() && status["warnings"].is_array(),
        "{status}"
    );
    let table = client_agent_ok(topology, Some(alice), &["status"]);
    for expected in [
        "Status:",
        "Auth Token Id:",
        &login.token_id,
        "running",
        CONTROLLER_URL,
    ] {
        assert!(table.contains(expected), "{expected:?} in:\n{table}");
    }

    // A session: alice uses the alias.
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    let sessions = sessions_json(topology, Some(alice));
    assert_eq!(sessions.len(), 1, "alice's sessions: {sessions:?}");
    let session = &sessions[0];
    assert_eq!(session["alias"], ALIAS, "{session}");
    let authorization = &session["session_authorization"];
    let session_id = authorization["session_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no session id: {session}"))
        .to_owned();
    assert!(session_id.starts_with("s_"), "{session}");
    assert_eq!(authorization["target_id"], TARGET_ID, "{session}");
    assert_eq!(
        authorization["user_id"],
        scenario.alice.user_id.as_str(),
        "{session}"
    );
    let credentials = authorization["credentials"]
        .as_array()
        .unwrap_or_else(|| panic!("no credentials: {session}"));
    assert_eq!(credentials.len(), 1, "{session}");
    let source = &credentials[0]["credential_source"];
    assert_eq!(source["id"], credential_id.as_str(), "{session}");
    assert_eq!(source["credential_type"], "username_password", "{session}");
    let secret = brokered_secret(&credentials[0]);
    assert_eq!(secret["username"], DB_USERNAME, "{session}");
    assert_eq!(secret["password"], DB_PASSWORD, "{session}");

    let table = client_agent_ok(topology, Some(alice), &["sessions"]);
    for expected in [ALIAS, &session_id, &credential_id, DB_USERNAME, DB_PASSWORD] {
        assert!(table.contains(expected), "{expected:?} in:\n{table}");
    }
    // The controller agrees whose session it is.
    let controller_sessions = scenario.admin.sessions(topology);
    assert!(
        controller_sessions
            .iter()
            .any(|s| s["id"] == session_id.as_str()
                && s["user_id"] == scenario.alice.user_id.as_str()),
        "{session_id} as alice's in {controller_sessions:?}"
    );

    // bob has no token: no token in his status, no sessions, nothing of alice's.
    let status = status_json(topology, Some(bob));
    assert_eq!(status["status"], "running", "{status}");
    assert_no_token(&status);
    assert!(status["auth_token_expiry"].is_null(), "{status}");
    let table = client_agent_ok(topology, Some(bob), &["status"]);
    assert!(!table.contains("Auth Token Id"), "{table}");
    assert!(!table.contains(&login.token_id), "{table}");
    assert!(table.contains("running"), "{table}");

    let sessions = client_agent_ok(topology, Some(bob), &["sessions"]);
    assert_eq!(sessions.trim(), "No sessions found");
    assert_eq!(sessions_json(topology, Some(bob)), Vec::<Value>::new());
}
