//! Start, resolve, pause, resume, stop; crash and recovery; external rewrites.

use super::support::topology::{ORDINARY_NAME, ORDINARY_V4, ORDINARY_V6};
use super::support::wait::{READY_TIMEOUT, poll_until};
use super::*;

#[test]
fn the_agent_takes_over_dns_answers_ordinary_names_and_puts_everything_back() {
    let mut fixture = Fixture::in_topology();
    let agent = fixture.start();
    let ours = fixture.wait_taken_over();
    assert_eq!(ours.len(), 2, "one v4 and one v6 DNS address: {ours:?}");
    let text = String::from_utf8_lossy(&fixture.resolv_conf()).into_owned();
    assert!(
        text.starts_with("# Written by boundary-client-agent"),
        "{text}"
    );

    // Ordinary names go through the agent to dnsmasq, over UDP and TCP, with dig and
    // with glibc (getent), as every program on the machine resolves them.
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "A"),
        [ORDINARY_V4.to_string()]
    );
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "AAAA"),
        [ORDINARY_V6.to_string()]
    );
    let tcp = fixture
        .client()
        .exec_ok(&["dig", "+short", "+tcp", ORDINARY_NAME, "A"]);
    assert_eq!(tcp.trim(), ORDINARY_V4.to_string());
    let resolved = fixture.client().wait_resolves(ORDINARY_NAME, READY_TIMEOUT);
    assert!(resolved.contains(&IpAddr::V4(ORDINARY_V4)), "{resolved:?}");
    let getent = fixture
        .client()
        .exec_ok(&["getent", "hosts", ORDINARY_NAME]);
    assert!(
        getent.contains(&ORDINARY_V6.to_string()) || getent.contains(&ORDINARY_V4.to_string()),
        "{getent}"
    );

    let status = fixture.cli_ok(&["status"]);
    assert!(status.contains("running"), "{status}");

    // Pause: the previous resolv.conf comes back byte for byte; names still resolve.
    let paused = fixture.cli_ok(&["pause"]);
    assert!(paused.contains("successfully paused"), "{paused}");
    assert_eq!(fixture.resolv_conf(), fixture.resolv_conf_before);
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "A"),
        [ORDINARY_V4.to_string()]
    );
    assert!(fixture.cli_ok(&["status"]).contains("paused"));

    // A paused agent stays paused across a restart.
    assert!(fixture.stop(&agent).success());
    fixture.assert_untouched();
    let agent = fixture.start();
    assert_eq!(
        fixture.resolv_conf(),
        fixture.resolv_conf_before,
        "restarted paused: resolv.conf stays the machine's"
    );
    assert!(fixture.cli_ok(&["status"]).contains("paused"));

    let resumed = fixture.cli_ok(&["resume"]);
    assert!(resumed.contains("successfully resumed"), "{resumed}");
    assert_eq!(fixture.wait_taken_over(), ours, "the same DNS addresses");
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "A"),
        [ORDINARY_V4.to_string()]
    );

    let status = fixture.stop(&agent);
    assert!(
        status.success(),
        "{status:?}: {}",
        fixture.topology.log(&agent.log)
    );
    fixture.assert_untouched();
    assert!(
        fixture.operational_state_file.exists(),
        "the operational state is kept"
    );
}

#[test]
fn after_a_crash_the_next_start_puts_the_machine_back_first() {
    let mut fixture = Fixture::in_topology();
    let agent = fixture.start();
    let ours = fixture.wait_taken_over();
    fixture.client().signal(agent.pid, Signal::SIGKILL);
    fixture
        .client()
        .wait_exit(agent.pid, EXIT_TIMEOUT)
        .expect("killed");
    // What a crash leaves: the agent's resolv.conf and its addresses.
    assert_ne!(fixture.resolv_conf(), fixture.resolv_conf_before);
    assert_ne!(addresses(fixture.client()), fixture.addresses_before);
    assert!(fixture.state_file.exists());

    let agent = fixture.start();
    let log = fixture.topology.log(&agent.log);
    assert!(
        log.contains("undid what an earlier run left behind"),
        "{log}"
    );
    assert_eq!(fixture.wait_taken_over(), ours);
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "A"),
        [ORDINARY_V4.to_string()]
    );
    assert!(fixture.stop(&agent).success());
    fixture.assert_untouched();
}

/// What the unit's `ExecStopPost=` does after a crash: `-recover` puts the machine back
/// without starting the agent, and refuses while an agent runs with the same state file.
#[test]
fn recover_alone_puts_the_machine_back_after_a_crash_and_leaves_a_running_agent_alone() {
    let mut fixture = Fixture::in_topology();
    let agent = fixture.start();
    fixture.wait_taken_over();
    let config = fixture.config.display().to_string();
    let refused = fixture
        .client()
        .command(agent_binary())
        .args(["-config", &config, "-recover"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("another boundary-client-agent is running"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_ne!(
        fixture.resolv_conf(),
        fixture.resolv_conf_before,
        "still the agent's"
    );

    fixture.client().signal(agent.pid, Signal::SIGKILL);
    fixture
        .client()
        .wait_exit(agent.pid, EXIT_TIMEOUT)
        .expect("killed");
    let recovered = fixture
        .client()
        .command(agent_binary())
        .args(["-config", &config, "-recover"])
        .output()
        .unwrap();
    assert!(
        recovered.status.success(),
        "{}{}",
        String::from_utf8_lossy(&recovered.stdout),
        String::from_utf8_lossy(&recovered.stderr)
    );
    fixture.assert_untouched();
    // After a clean state, it has nothing to do.
    let again = fixture
        .client()
        .command(agent_binary())
        .args(["-config", &config, "-recover"])
        .output()
        .unwrap();
    assert!(again.status.success());
    fixture.assert_untouched();
}

#[test]
fn a_resolv_conf_rewritten_by_another_program_is_adopted_and_restored_at_exit() {
    let mut fixture = Fixture::in_topology();
    let agent = fixture.start();
    let ours = fixture.wait_taken_over();
    // What a DHCP client would write: the same upstream, other options.
    let rewritten = format!(
        "# written by a DHCP client\nnameserver {}\noptions timeout:3\n",
        super::support::topology::UPSTREAM_V4
    );
    fixture.client().write_resolv_conf(rewritten.as_bytes());
    poll_until("the agent to take over again", READY_TIMEOUT, || {
        let text = String::from_utf8_lossy(&fixture.resolv_conf()).into_owned();
        if text.starts_with("# Written by boundary-client-agent")
            && text.contains("options timeout:3")
        {
            Ok(())
        } else {
            Err(text)
        }
    });
    assert_eq!(fixture.nameservers(), ours);
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "A"),
        [ORDINARY_V4.to_string()]
    );
    assert!(fixture.stop(&agent).success());
    assert_eq!(
        String::from_utf8_lossy(&fixture.resolv_conf()),
        rewritten,
        "the adopted configuration is what comes back"
    );
    assert_eq!(addresses(fixture.client()), fixture.addresses_before);
}

#[test]
fn addresses_removed_by_a_network_change_come_back() {
    let mut fixture = Fixture::in_topology();
    let agent = fixture.start();
    let ours = fixture.wait_taken_over();
    // What a network manager flushing the interface does to the agent's addresses.
    for ip in &ours {
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        let address = format!("{ip}/{prefix}");
        fixture
            .client()
            .exec_ok(&["ip", "addr", "del", &address, "dev", CLIENT_INTERFACE]);
    }
    assert_eq!(fixture.wait_taken_over(), ours, "the addresses are back");
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "A"),
        [ORDINARY_V4.to_string()]
    );
    assert!(fixture.stop(&agent).success());
    fixture.assert_untouched();
}
