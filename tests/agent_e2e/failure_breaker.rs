//! The failure breaker end to end: with every upstream silent (its process stopped, so
//! queries are dropped, not refused), forwarded queries get SERVFAIL after
//! `dns_request_timeout` per upstream; the twentieth failure within a minute pauses the
//! agent, which hands DNS back to the previous resolvers; once the upstream is back, a
//! user with a token may resume (nobody chose this pause) and the agent takes over again.

use std::thread;

use nix::sys::signal::Signal;

use crate::agent::{DNS_V4, client_agent_ok, status_json, wait_until_the_agent_is_the_resolver};
use crate::scenario::Scenario;
use crate::support::dig::{dig, dig_ok};
use crate::support::topology::{ORDINARY_NAME, ORDINARY_V4, UPSTREAM_V4};
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// `BreakerConfig::default()`: failures within a minute that pause the agent.
const BREAKER_THRESHOLD: usize = 20;

#[test]
fn silent_upstreams_give_servfail_then_the_breaker_pauses_and_a_user_resumes() {
    let scenario = Scenario::start_with("dns_request_timeout = \"1s\"\n");
    let topology = &scenario.topology;
    let (client, alice) = (&topology.client, &topology.alice);
    let upstream_pid = topology.upstream_dns_pid();
    topology.upstream.signal(upstream_pid, Signal::SIGSTOP);

    // Unique names, all at once: each is forwarded to both upstream addresses (the
    // stopped dnsmasq), waits 1 s at each and gets SERVFAIL.
    let at = format!("@{DNS_V4}");
    let statuses: Vec<String> = thread::scope(|s| {
        let digs: Vec<_> = (0..BREAKER_THRESHOLD)
            .map(|i| {
                let at = at.as_str();
                s.spawn(move || {
                    let name = format!("n{i}.unknown.test");
                    let args = [at, name.as_str(), "A", "+tries=1", "+timeout=15"];
                    dig_ok(client, Some(alice), &args).status().to_owned()
                })
            })
            .collect();
        digs.into_iter().map(|d| d.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| s == "SERVFAIL"), "{statuses:?}");

    poll_until(
        "resolv.conf to be restored by the breaker",
        READY_TIMEOUT,
        || {
            let now = std::fs::read(client.resolv_conf_path()).expect("read resolv.conf");
            if now == scenario.before.resolv_conf {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&now).into_owned())
            }
        },
    );
    let status = status_json(topology, Some(alice));
    assert_eq!(status["status"], "paused", "{status}");
    let expected = format!(
        "paused automatically after {BREAKER_THRESHOLD} network failures reaching the \
         controller or the upstream DNS servers within 60s; DNS uses the previous resolvers \
         until the agent is resumed (boundary client-agent resume)"
    );
    assert_eq!(status["errors"], serde_json::json!([expected]), "{status}");

    // The upstream answers again: through the restored resolv.conf, straight to it.
    topology.upstream.signal(upstream_pid, Signal::SIGCONT);
    let reply = poll_until("the upstream to answer again", READY_TIMEOUT, || {
        dig(client, Some(alice), &[ORDINARY_NAME, "A"])
    });
    assert!(
        reply.server().starts_with(&format!("{UPSTREAM_V4}#53")),
        "{}",
        reply.text
    );
    assert_eq!(
        reply.addresses(),
        [std::net::IpAddr::V4(ORDINARY_V4)],
        "{}",
        reply.text
    );

    // alice (a token holder, not root) may resume from an automatic pause.
    let resumed = client_agent_ok(topology, Some(alice), &["resume"]);
    assert_eq!(resumed, "The client agent has been successfully resumed.\n");
    assert_eq!(status_json(topology, Some(alice))["status"], "running");
    wait_until_the_agent_is_the_resolver(topology);
    let reply = dig_ok(client, Some(alice), &[ORDINARY_NAME, "A"]);
    assert_eq!(
        reply.addresses(),
        [std::net::IpAddr::V4(ORDINARY_V4)],
        "{}",
        reply.text
    );
    assert!(
        reply.server().starts_with(&format!("{DNS_V4}#53")),
        "{}",
        reply.text
    );
    scenario.agent().fail_if_exited(topology);
}
