//! SIGHUP to a real agent, one reloadable key at a time, each checked by what a user sees
//! change (controller_addresses has its own test in controller_pin.rs), and a
//! restart-only key reported instead of applied.

use std::net::IpAddr;

use nix::sys::signal::Signal;

use crate::agent::{AgentFiles, DNS_V4, V4_PREFIX, client_agent, status_json};
use crate::scenario::{ALIAS, Scenario};
use crate::support::dig::{dig_ok, run_dig};
use crate::support::topology::{ORDINARY_NAME, ORDINARY_V4, UPSTREAM_V4};
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// A 1 s bound on each upstream attempt (the scenario starts with it; each reload's file
/// has it unless the step changes it).
const SHORT_TIMEOUT: &str = "dns_request_timeout = \"1s\"\n";

/// Rewrites the agent's configuration with `extra_config` after the scenario's lines, and
/// sends SIGHUP.
fn reload(scenario: &Scenario, extra_config: &str) {
    let topology = &scenario.topology;
    AgentFiles::write_with(topology, extra_config);
    topology.client.signal(scenario.agent().pid, Signal::SIGHUP);
}

#[test]
fn sighup_applies_upstreams_user_pause_and_the_request_timeout_and_reports_restart_only_keys() {
    let scenario = Scenario::start_with(SHORT_TIMEOUT);
    let topology = &scenario.topology;
    let (client, alice) = (&topology.client, &topology.alice);

    // override_upstream_dns_servers: status lists the new upstream, and names resolve
    // through it.
    let status = status_json(topology, Some(alice));
    assert_eq!(
        status["resolver"]["upstreams"].as_array().map(Vec::len),
        Some(2),
        "{status}"
    );
    let only_v4 = format!("override_upstream_dns_servers = [\"{UPSTREAM_V4}\"]\n");
    reload(&scenario, &format!("{SHORT_TIMEOUT}{only_v4}"));
    poll_until("the override to be in use", READY_TIMEOUT, || {
        let status = status_json(topology, Some(alice));
        let upstreams = &status["resolver"]["upstreams"];
        if *upstreams == serde_json::json!([format!("{UPSTREAM_V4}:53")]) {
            Ok(())
        } else {
            Err(status.to_string())
        }
    });
    let at = format!("@{DNS_V4}");
    let reply = dig_ok(client, Some(alice), &[&at, ORDINARY_NAME, "A"]);
    assert_eq!(
        reply.addresses(),
        [IpAddr::V4(ORDINARY_V4)],
        "{}",
        reply.text
    );

    // allow_user_pause: alice's pause is refused, then allowed.
    let refused = client_agent(topology, Some(alice), &["pause"]);
    assert!(
        !refused.success() && refused.stderr.contains("only root may pause"),
        "{refused:?}"
    );
    reload(
        &scenario,
        &format!("{SHORT_TIMEOUT}allow_user_pause = true\n"),
    );
    let paused = poll_until("alice's pause to be allowed", READY_TIMEOUT, || {
        let run = client_agent(topology, Some(alice), &["pause"]);
        if run.success() {
            Ok(run)
        } else {
            Err(format!("{run:?}"))
        }
    });
    assert_eq!(
        paused.stdout,
        "The client agent has been successfully paused.\n"
    );
    let resumed = client_agent(topology, Some(alice), &["resume"]);
    assert!(resumed.success(), "{resumed:?}");

    // dns_request_timeout: with the upstream silent, 1 s per attempt gives SERVFAIL well
    // inside dig's 10 s; 60 s per attempt gives dig no answer at all within them.
    reload(&scenario, SHORT_TIMEOUT);
    poll_until("the default upstreams to be back", READY_TIMEOUT, || {
        let status = status_json(topology, Some(alice));
        match status["resolver"]["upstreams"].as_array().map(Vec::len) {
            Some(2) => Ok(()),
            _ => Err(status.to_string()),
        }
    });
    let upstream_pid = topology.upstream_dns_pid();
    topology.upstream.signal(upstream_pid, Signal::SIGSTOP);
    let silent = |name: &str| {
        run_dig(
            client,
            Some(alice),
            &[&at, name, "A", "+tries=1", "+timeout=10"],
        )
    };
    let reply = silent("first.silent.test");
    assert!(
        reply.text.contains("status: SERVFAIL"),
        "{}{}",
        reply.text,
        reply.stderr
    );
    reload(&scenario, "dns_request_timeout = \"60s\"\n");
    poll_until("the longer timeout to apply", READY_TIMEOUT, || {
        let reply = silent("later.silent.test");
        if reply.text.contains(";; ->>HEADER<<-") {
            Err(format!("still answered: {}", reply.text))
        } else {
            Ok(())
        }
    });
    topology.upstream.signal(upstream_pid, Signal::SIGCONT);

    // Restart-only keys are reported, not applied: v4_prefix too (Boundary reloads it;
    // here the alias keeps the address it has).
    let address = scenario.alias_v4(alice, ALIAS);
    let files = AgentFiles::write_with(
        topology,
        &format!("{SHORT_TIMEOUT}address_idle_timeout = \"10m\"\n"),
    );
    let config = std::fs::read_to_string(&files.config).expect("read the agent's config");
    let running_prefix = format!("v4_prefix = \"{V4_PREFIX}\"");
    assert!(config.contains(&running_prefix), "{config}");
    let config = config.replace(&running_prefix, "v4_prefix = \"100.65.0.0/16\"");
    std::fs::write(&files.config, config).expect("write the agent's config");
    topology.client.signal(scenario.agent().pid, Signal::SIGHUP);
    let status = poll_until("the restart warning", READY_TIMEOUT, || {
        let status = status_json(topology, Some(alice));
        if status["warnings"].to_string().contains("only take") {
            Ok(status)
        } else {
            Err(status.to_string())
        }
    });
    let expected = "the configuration file changed v4_prefix, address_idle_timeout which only \
                    take effect after a restart of the client agent; the previous values are \
                    still in use (v4_prefix: the addresses of existing aliases and sessions \
                    come from the running prefix)";
    assert_eq!(
        status["warnings"],
        serde_json::json!([expected]),
        "{status}"
    );
    assert_eq!(scenario.alias_v4(alice, ALIAS), address);
    scenario.agent().fail_if_exited(topology);
}
