//! Which controller the agent talks to. Pinned by root (`controller_addresses`), a token
//! naming any other address is refused with a clear error before the agent sends
//! anything there, whoever asks and whenever (also while nobody is registered, the moment
//! the first user used to pick the controller for everyone); a reload moves the pin.
//! Unpinned, the agent validates a token at whatever address the user names (as before),
//! repeats only an excerpt of what answered there, and logs at WARN which uid picked the
//! controller.

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::admin::authenticate_run;
use crate::agent::{AgentFiles, assert_no_token, post_token, status_json};
use crate::controller::CONTROLLER_URL;
use crate::fake_controller::{FAKE_MARKER, FAKE_MESSAGE_CHARS, FakeController};
use crate::scenario::{AGENT_LOG, ALIAS, ALICE_LOGIN, ALICE_PASSWORD, Scenario};
use crate::support::cli::Cli;
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// A token of the right shape that no controller issued (the pin refuses it unread).
const MADE_UP_TOKEN: &str = "at_BobBobBob1_s1madeupsecret";
/// How the agent shows the scenario's controller in a refusal (default port filled in).
const PINNED: &str = "http://198.18.1.2:9200";

fn pin(address: &str) -> String {
    format!("controller_addresses = [\"{address}\"]\n")
}

/// Panics unless the local API refused a registration for the pin: 403 in Boundary's
/// error shape, naming the allowed controller and the key.
fn assert_refused_by_pin((code, body): (u16, String), allowed: &str) {
    assert_eq!(code, 403, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(error["kind"], "PermissionDenied", "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("only talks to {allowed}"))
            && message.contains("controller_addresses"),
        "{body}"
    );
}

#[test]
fn a_pinned_agent_contacts_no_other_controller_and_a_reload_moves_the_pin() {
    let scenario = Scenario::start_unregistered_with(&pin(&format!("{CONTROLLER_URL}/")));
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);
    let fake = FakeController::start(&topology.client);

    // Nobody is registered yet: bob cannot make his own server everyone's controller.
    assert_refused_by_pin(
        post_token(topology, bob, &fake.url, MADE_UP_TOKEN, &[]),
        PINNED,
    );
    // alice's token of the pinned controller registers and works as ever.
    scenario.register_alice_with_curl();
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    for address in [
        fake.url.as_str(),
        "http://127.0.0.1:1",
        "http://198.18.1.2:9200/x",
    ] {
        assert_refused_by_pin(
            post_token(topology, bob, address, MADE_UP_TOKEN, &[]),
            PINNED,
        );
    }
    assert_eq!(
        fake.requests(),
        Vec::<String>::new(),
        "a pinned agent sends nothing to another address"
    );
    let status = status_json(topology, Some(alice));
    assert_eq!(status["boundary_addr"], CONTROLLER_URL, "{status}");
    assert_no_token(&status_json(topology, Some(bob)));

    // root pins another controller and reloads: alice's token goes, with the reason.
    AgentFiles::write_with(topology, &pin("https://boundary.corp.example"));
    topology.client.signal(scenario.agent().pid, Signal::SIGHUP);
    let status = poll_until("alice's token to be dropped", READY_TIMEOUT, || {
        let status = status_json(topology, Some(alice));
        match status["auth_token_id"].as_str() {
            Some("") => Ok(status),
            _ => Err(status.to_string()),
        }
    });
    assert!(
        status["errors"].to_string().contains(&format!(
            "no longer allows the controller at {CONTROLLER_URL}"
        )),
        "{status}"
    );
    // Her next login succeeds at the controller; `boundary authenticate` says why the
    // agent did not take the token.
    let login = authenticate_run(
        Cli::in_netns(&topology.client, Some(alice)),
        ALICE_LOGIN,
        ALICE_PASSWORD,
    );
    assert!(login.success(), "{}", login.stderr);
    assert!(
        login.stderr.contains("the client agent answered 403")
            && login
                .stderr
                .contains("only talks to https://boundary.corp.example:443"),
        "{}",
        login.stderr
    );
    assert_no_token(&status_json(topology, Some(alice)));
    scenario.agent().fail_if_exited(topology);
}

#[test]
fn unpinned_the_first_registration_is_logged_with_its_uid_and_answers_are_cut() {
    let scenario = Scenario::start_unregistered();
    let topology = &scenario.topology;
    let (alice, bob) = (&topology.alice, &topology.bob);
    let fake = FakeController::start(&topology.client);

    // Unpinned, nobody registered: the agent validates bob's token at bob's server...
    let (code, body) = post_token(topology, bob, &fake.url, MADE_UP_TOKEN, &[]);
    let requests = fake.requests();
    assert!(
        !requests.is_empty() && requests[0].starts_with("GET /v1/auth-tokens/at_BobBobBob1 "),
        "{requests:?}"
    );
    // ...and repeats only an excerpt of its 100 000-character answer, to bob and in the log.
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains(FAKE_MARKER) && body.len() < 1000,
        "{} bytes: {}",
        body.len(),
        &body[..body.len().min(2000)]
    );
    assert_no_token(&status_json(topology, Some(bob)));

    scenario.register_alice_with_curl();
    scenario.assert_ssh_reaches_target(alice, &[], ALIAS);
    let log = topology.log(AGENT_LOG);
    let longest = log
        .lines()
        .filter(|line| line.contains(FAKE_MARKER))
        .map(str::len)
        .max();
    assert!(
        longest.is_some_and(|len| len < FAKE_MESSAGE_CHARS / 10),
        "the refusal is logged, cut: {longest:?}"
    );
    let first: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("first token registration"))
        .collect();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(
        first[0].contains(" WARN ")
            && first[0].contains(&format!("uid={}", alice.uid))
            && first[0].contains(&format!("controller={CONTROLLER_URL}")),
        "{}",
        first[0]
    );
}
