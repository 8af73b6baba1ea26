//! Starts the agent must refuse, leaving the machine untouched.

use super::*;

/// Starts an agent that must give up by itself with exit code 1; returns its log.
fn start_refused(fixture: &mut Fixture) -> String {
    let agent = fixture.spawn();
    let status = fixture
        .client()
        .wait_exit(agent.pid, EXIT_TIMEOUT)
        .expect("the agent gives up by itself");
    assert_eq!(status.code(), Some(1));
    fixture.topology.log(&agent.log)
}

#[test]
fn port_53_taken_refuses_to_start_and_changes_nothing() {
    let mut fixture = Fixture::in_topology();
    // A local DNS server on the wildcard address (dnsmasq's default) holds port 53 on
    // every address, the agent's included.
    let pid_file = fixture.topology.dir().join("agent/local-dnsmasq.pid");
    let pid_file = format!("--pid-file={}", pid_file.display());
    fixture.topology.spawn(
        fixture.client(),
        "local-dnsmasq",
        &[
            "dnsmasq",
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            &pid_file,
        ],
    );
    poll_until("the local dnsmasq to hold port 53", READY_TIMEOUT, || {
        let listening = fixture.client().exec_ok(&["ss", "-lun"]);
        if listening.contains("0.0.0.0:53") {
            Ok(())
        } else {
            Err(listening)
        }
    });

    let log = start_refused(&mut fixture);
    assert!(
        log.contains("Error: cannot listen for DNS on 100.64.0.1:53")
            && log.contains("already in use"),
        "the message names the address: {log}"
    );
    fixture.assert_untouched();
}

#[test]
fn a_bad_configuration_is_refused_naming_the_key() {
    let mut fixture = Fixture::in_topology();
    std::fs::write(&fixture.config, "v4_prefix = \"10.0.0.0/24\"\n").unwrap();
    let log = start_refused(&mut fixture);
    assert!(log.contains("v4_prefix"), "{log}");
    fixture.assert_untouched();
}

#[test]
fn a_controller_ca_file_without_a_certificate_is_refused_naming_the_key() {
    let mut fixture = Fixture::in_topology();
    let not_pem = fixture.topology.dir().join("agent/not-a-ca.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    let mut config = std::fs::read_to_string(&fixture.config).unwrap();
    config.push_str(&format!("controller_ca_file = \"{}\"\n", not_pem.display()));
    std::fs::write(&fixture.config, config).unwrap();
    let log = start_refused(&mut fixture);
    assert!(
        log.contains("controller_ca_file") && log.contains("no PEM certificate"),
        "{log}"
    );
    fixture.assert_untouched();
}

#[test]
fn a_second_agent_refuses_and_leaves_the_running_one_alone() {
    let mut fixture = Fixture::in_topology();
    let first = fixture.start();
    let ours = fixture.wait_taken_over();
    let taken_over = fixture.resolv_conf();

    let log = start_refused(&mut fixture);
    assert!(
        log.contains("another boundary-client-agent is running"),
        "{log}"
    );
    assert_eq!(
        fixture.resolv_conf(),
        taken_over,
        "the first agent's resolv.conf"
    );
    assert_eq!(fixture.wait_taken_over(), ours, "and its addresses");
    assert_eq!(
        dig(
            fixture.client(),
            super::support::topology::ORDINARY_NAME,
            "A"
        ),
        [super::support::topology::ORDINARY_V4.to_string()]
    );

    assert!(fixture.stop(&first).success());
    fixture.assert_untouched();
}

/// Another local user prepares the directory the agent is configured to keep its state
/// in: their own directory, a crafted state file naming another file as "the resolver
/// configuration to restore", a lock symlinked to a file root would truncate. The agent
/// refuses to start, names the directory and its owner, and writes nothing anywhere.
#[test]
fn a_state_directory_prepared_by_another_user_is_refused() {
    let mut fixture = Fixture::in_topology();
    let attacker = "nobody";
    let planted = fixture.topology.dir().join("planted");
    std::fs::create_dir(&planted).unwrap();
    let victim = fixture.topology.dir().join("victim-sudoers");
    std::fs::write(&victim, b"root ALL=(ALL) ALL\n").unwrap();
    let state = format!(
        "{{\"version\":1,\"saved_resolver\":{{\"path\":\"{}\",\"content\":\"{}\",\"mode\":288}}}}",
        victim.display(),
        "bm9ib2R5IEFMTD0oQUxMKSBOT1BBU1NXRDogQUxMCg==" // "nobody ALL=(ALL) NOPASSWD: ALL"
    );
    std::fs::write(planted.join("state.json"), state).unwrap();
    std::os::unix::fs::symlink(&victim, planted.join("state.json.lock")).unwrap();
    let chown = std::process::Command::new("chown")
        .args(["-hR", &format!("{attacker}:")])
        .arg(&planted)
        .status()
        .unwrap();
    assert!(chown.success());
    let config = std::fs::read_to_string(&fixture.config).unwrap().replace(
        &fixture.state_file.display().to_string(),
        &planted.join("state.json").display().to_string(),
    );
    std::fs::write(&fixture.config, config).unwrap();

    let log = start_refused(&mut fixture);
    assert!(
        log.contains(&format!("refusing to use {}", planted.display()))
            && log.contains(&format!("owned by {attacker}")),
        "the message names the directory and its owner: {log}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"root ALL=(ALL) ALL\n");
    assert_eq!(fixture.resolv_conf(), fixture.resolv_conf_before);
    assert_eq!(addresses(fixture.client()), fixture.addresses_before);
}

/// The state directory is the agent's own, but a file in it was swapped for a symlink
/// (the directory was briefly writable, or an older agent version made it): the agent
/// never writes through it.
#[test]
fn a_symlinked_state_file_is_not_followed() {
    let mut fixture = Fixture::in_topology();
    let victim = fixture.topology.dir().join("victim");
    std::fs::write(&victim, b"precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, &fixture.state_file).unwrap();
    let log = start_refused(&mut fixture);
    assert!(
        log.contains("symbolic link") && log.contains("state.json"),
        "{log}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    assert_eq!(fixture.resolv_conf(), fixture.resolv_conf_before);
}
