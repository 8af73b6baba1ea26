//! A caching resolver on the machine that reads /etc/resolv.conf for its own upstreams
//! (here a real dnsmasq on 127.0.0.1, listed first in resolv.conf, as such setups do):
//! once the agent takes resolv.conf over, that resolver forwards to the agent what the
//! agent forwards to it. The agent finds the loop, leaves that upstream out, keeps
//! resolving through the next one, and says so in `status`.

use std::process::Stdio;

use super::support::topology::{ORDINARY_NAME, ORDINARY_V4};
use super::support::wait::{READY_TIMEOUT, poll_until};
use super::*;

#[test]
fn a_local_resolver_reading_resolv_conf_is_found_looping_left_out_and_reported() {
    let mut fixture = Fixture::in_topology();
    // dnsmasq on 127.0.0.1 reading the namespace's resolv.conf (it skips its own address
    // in there). It watches the file's directory with inotify, so it is given the file
    // behind the namespace's /etc/resolv.conf bind mount: a write through the mount is
    // reported in that directory, not in /etc.
    let conf = fixture.topology.dir().join("agent/local-dnsmasq.conf");
    std::fs::write(
        &conf,
        format!(
            "no-hosts\nbind-interfaces\nlisten-address=127.0.0.1\nresolv-file={}\n\
             log-facility=-\npid-file=\n",
            fixture.client().resolv_conf_path().display()
        ),
    )
    .unwrap();
    let before = String::from_utf8_lossy(&fixture.resolv_conf_before).into_owned();
    let with_local = format!("nameserver 127.0.0.1\n{before}");
    fixture.client().write_resolv_conf(with_local.as_bytes());
    fixture.resolv_conf_before = with_local.into_bytes();
    let mut command = fixture.client().command("dnsmasq");
    command
        .args([
            "--keep-in-foreground",
            &format!("--conf-file={}", conf.display()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    fixture.client().spawn(command);
    fixture.client().wait_dns(
        "127.0.0.1:53".parse().unwrap(),
        ORDINARY_NAME,
        "A",
        READY_TIMEOUT,
    );

    let agent = fixture.start();
    fixture.wait_taken_over();
    let warning = poll_until("status to report the loop", READY_TIMEOUT, || {
        let status = parse_json(&fixture.cli_ok(&["status", "-format", "json"]));
        let warnings = status["item"]["warnings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        warnings
            .iter()
            .filter_map(|w| w.as_str())
            .find(|w| w.contains("sends the agent's queries back"))
            .map(str::to_owned)
            .ok_or(format!(
                "{status}\nagent log:\n{}",
                fixture.topology.log(&agent.log)
            ))
    });
    assert!(warning.contains("127.0.0.1:53"), "{warning}");
    // Ordinary names still resolve, through the next upstream.
    assert_eq!(
        dig(fixture.client(), ORDINARY_NAME, "A"),
        [ORDINARY_V4.to_string()]
    );

    assert!(fixture.stop(&agent).success());
    fixture.assert_untouched();
}
