//! The real agent's local API refuses what a web page could send through the user's
//! browser: requests with `Origin` or `Referer`, and a `Host` that is not local (DNS
//! rebinding). Refused requests change nothing.

use crate::admin::{AGENT_USER_GRANTS, log_in};
use crate::agent::{API_URL, assert_no_token, post_token, register_with_curl, status_json};
use crate::scenario::Scenario;
use crate::support::curl::curl;

#[test]
fn browser_headers_and_foreign_host_names_are_refused_and_change_nothing() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);
    let status_url = format!("{API_URL}/v1/status");
    let pause_url = format!("{API_URL}/v1/pause");

    let (code, body) = curl(&topology.client, Some(alice), &[&status_url], None);
    assert_eq!(code, 200, "a plain request: {body}");

    for header in [
        "Origin: http://evil.example",
        "Referer: http://evil.example/page",
        "Host: evil.example",
        "Host: evil.example:9300",
    ] {
        let (code, body) = curl(
            &topology.client,
            Some(alice),
            &["-H", header, &status_url],
            None,
        );
        assert_eq!(code, 403, "GET /v1/status with {header:?}: {body}");
        let (code, body) = curl(
            &topology.client,
            Some(alice),
            &["-X", "POST", "-H", header, &pause_url],
            None,
        );
        assert_eq!(code, 403, "POST /v1/pause with {header:?}: {body}");
        let error: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("the refusal is not JSON ({e}): {body}"));
        assert_eq!(error["kind"], "PermissionDenied", "{body}");
    }
    assert_eq!(
        status_json(topology, Some(alice))["status"],
        "running",
        "refused pauses did not pause the agent"
    );

    // A token pushed by a page (foreign Host) is not registered; the same request from
    // the CLI's side is.
    scenario
        .admin
        .create_user(topology, "bob", "bob-password-e2e", &AGENT_USER_GRANTS);
    let login = log_in(topology, "bob", "bob-password-e2e");
    let (code, answer) = post_token(
        topology,
        bob,
        crate::controller::CONTROLLER_URL,
        &login.token,
        &["Host: attacker.example:9300"],
    );
    assert_eq!(code, 403, "{answer}");
    assert_no_token(&status_json(topology, Some(bob)));
    let (code, answer) = register_with_curl(topology, bob, &login.token);
    assert!((200..300).contains(&code), "{code}: {answer}");
    assert_eq!(
        status_json(topology, Some(bob))["auth_token_id"],
        login.token_id.as_str()
    );
}

/// One user cannot point the agent at another controller while others are registered:
/// that would drop their tokens and sessions (a local user with a made-up controller could
/// cut everyone off). The agent refuses before contacting the given address, and alice
/// keeps her token.
#[test]
fn another_user_cannot_switch_the_controller_away_from_registered_users() {
    let scenario = Scenario::start();
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);
    let alice_token = status_json(topology, Some(alice))["auth_token_id"].clone();
    assert!(alice_token.as_str().is_some_and(|id| !id.is_empty()));

    // bob's own "controller": a port in the client namespace that nobody serves.
    let (code, answer) = post_token(
        topology,
        bob,
        "http://127.0.0.1:9",
        "at_BobBobBob1_s1madeupsecret",
        &[],
    );
    assert_eq!(code, 400, "{answer}");
    let error: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(error["kind"], "FailedPrecondition", "{answer}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("only root"),
        "{answer}"
    );
    let status = status_json(topology, Some(alice));
    assert_eq!(status["auth_token_id"], alice_token, "{status}");
    assert_eq!(
        status["boundary_addr"],
        crate::controller::CONTROLLER_URL,
        "{status}"
    );
}
