//! `resolver_mode = "auto"` on a systemd-resolved machine (see [`crate::on_resolved`]):
//! alias names reach the agent through resolved's per-link routing domains on the
//! agent's own link, everything else stays with resolved exactly as before, and pause,
//! exit and a crash leave resolved's configuration as it was.

use std::net::IpAddr;

use nix::sys::signal::Signal;

use crate::controller::TARGET_ID;
use crate::on_resolved::{AGENT_LINK, OnResolved, VPN_ANSWER, VPN_NAME};
use crate::probe::connect_and_read;
use crate::scenario::{ALIAS, ssh_socket};
use crate::support::resolved_lab::ResolvConfShape;
use crate::support::topology::{
    CLIENT_UPSTREAM_INTERFACE, ORDINARY_NAME, ORDINARY_V4, UPSTREAM_V4, UPSTREAM_V6,
};
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// A name created at the controller while the agent runs.
const NEW_ALIAS: &str = "cache.prod.test";
/// The alias `boundary dev` seeds (alice's grants let her resolve it too).
const SEEDED_ALIAS: &str = "localhost.boundary.dev";

#[test]
fn on_a_resolved_desktop_aliases_go_through_the_agent_and_the_rest_is_untouched() {
    let s = OnResolved::start(ResolvConfShape::StubSymlink);
    let alice = &s.topology.alice;
    let status = s.status(None);
    let resolver = &status["resolver"];
    assert_eq!(resolver["mode"], "systemd-resolved", "{status}");
    assert_eq!(resolver["link"], AGENT_LINK, "{status}");
    assert!(
        resolver["routing"]
            .as_str()
            .unwrap_or_default()
            .starts_with("per-alias"),
        "{status}"
    );
    let upstreams = resolver["upstreams"].to_string();
    assert!(
        upstreams.contains("198.18.3.2:53"),
        "the uplink's server: {status}"
    );
    assert!(
        !upstreams.contains("127.0.0.53"),
        "never resolved's stub: {status}"
    );

    s.register_alice();
    let address = s.alias_address(alice, ALIAS);
    // One routing domain per alias alice may resolve, and nothing else.
    wait_for_domains(&s, &[ALIAS, SEEDED_ALIAS]);
    assert_eq!(
        s.ssh_hostname(alice, ALIAS),
        Ok(s.topology.target_hostname.clone()),
        "ssh to the alias lands on the target through the worker"
    );
    // Everything else is resolved's as before: the uplink's answer, the VPN's domain.
    assert_eq!(s.getent(alice, ORDINARY_NAME), Ok(IpAddr::V4(ORDINARY_V4)));
    assert_eq!(s.getent(alice, VPN_NAME), Ok(IpAddr::V4(VPN_ANSWER)));

    // NetworkManager moves the uplink to another server: the agent's upstreams follow.
    s.lab
        .uplink_dns(CLIENT_UPSTREAM_INTERFACE, &[UPSTREAM_V6.into()]);
    poll_until(
        "the agent's upstreams to follow the uplink",
        READY_TIMEOUT,
        || {
            let upstreams = s.status(None)["resolver"]["upstreams"].clone();
            (upstreams == serde_json::json!([format!("[{UPSTREAM_V6}]:53")]))
                .then_some(())
                .ok_or_else(|| upstreams.to_string())
        },
    );
    s.lab.uplink_dns(
        CLIENT_UPSTREAM_INTERFACE,
        &[UPSTREAM_V4.into(), UPSTREAM_V6.into()],
    );

    // Through resolved the asker is invisible, so bob gets the same answer; he is
    // refused where it matters, when he connects.
    let bob = connect_and_read(
        &s.topology.client,
        Some(&s.topology.bob),
        ssh_socket(address),
    );
    assert!(bob.was_refused(), "bob (no token): {}", bob.describe());

    // Aliases added and removed at the controller follow within a refresh.
    let id = s.admin.create_alias(&s.topology, NEW_ALIAS, TARGET_ID);
    wait_for_domains(&s, &[NEW_ALIAS, ALIAS, SEEDED_ALIAS]);
    s.alias_address(alice, NEW_ALIAS);
    s.admin.cli(&s.topology, &["aliases", "delete", "-id", &id]);
    wait_for_domains(&s, &[ALIAS, SEEDED_ALIAS]);

    s.client_agent("pause");
    s.assert_machine_restored("after pause");
    assert!(
        s.getent(alice, ALIAS).is_err(),
        "paused: the alias is the uplink's again (NXDOMAIN)"
    );
    s.client_agent("resume");
    assert_eq!(
        s.alias_address(alice, ALIAS),
        address,
        "the same address again"
    );

    // resolved restarts and forgets the agent's link (its saved copy removed, as after a
    // reboot of resolved alone): the agent configures it again by itself.
    let ifindex = s.lab.ifindex(AGENT_LINK);
    s.lab.kill_resolved();
    s.lab
        .exec_ok(&["rm", "-f", &format!("/run/systemd/resolve/netif/{ifindex}")]);
    s.lab.start_resolved();
    s.alias_address(alice, ALIAS);
    assert_eq!(s.getent(alice, ORDINARY_NAME), Ok(IpAddr::V4(ORDINARY_V4)));

    s.stop_agent(Signal::SIGTERM);
    s.assert_machine_restored("after SIGTERM");
    assert_eq!(s.getent(alice, ORDINARY_NAME), Ok(IpAddr::V4(ORDINARY_V4)));
}

/// `/etc/resolv.conf` a plain file naming 127.0.0.53 (resolved in "foreign" mode) ends in
/// the same setup, never in a loop: the file is left alone. A SIGKILL takes the agent's
/// link with it, and the next start begins from a clean machine.
#[test]
fn a_plain_file_naming_the_stub_is_resolved_too_and_a_crash_leaves_nothing_behind() {
    let s = OnResolved::start(ResolvConfShape::PlainFileNaming127053);
    let alice = &s.topology.alice;
    assert_eq!(s.status(None)["resolver"]["mode"], "systemd-resolved");
    s.register_alice();
    s.alias_address(alice, ALIAS);
    assert_eq!(s.getent(alice, ORDINARY_NAME), Ok(IpAddr::V4(ORDINARY_V4)));
    assert_eq!(
        s.machine_state().resolv_conf,
        s.before.resolv_conf,
        "resolv.conf is resolved's, untouched"
    );

    s.stop_agent(Signal::SIGKILL);
    s.assert_machine_restored("after SIGKILL (the link went with the agent)");
    assert_eq!(s.getent(alice, ORDINARY_NAME), Ok(IpAddr::V4(ORDINARY_V4)));

    s.start_agent();
    s.register_alice();
    s.alias_address(alice, ALIAS);
    assert_eq!(
        s.ssh_hostname(alice, ALIAS),
        Ok(s.topology.target_hostname.clone())
    );
    s.stop_agent(Signal::SIGTERM);
    s.assert_machine_restored("after SIGTERM");
}

fn wait_for_domains(s: &OnResolved, names: &[&str]) {
    let mut wanted: Vec<String> = names.iter().map(|n| format!("~{n}")).collect();
    wanted.sort();
    poll_until(
        &format!("resolved to route {names:?} to the agent"),
        READY_TIMEOUT,
        || {
            let mut domains = s.agent_link_domains().unwrap_or_default();
            domains.sort();
            (domains == wanted)
                .then_some(())
                .ok_or_else(|| format!("{domains:?}"))
        },
    );
}

/// NetworkManager writing `/etc/resolv.conf` itself (`rc-manager=symlink`, resolved not
/// in the path): `auto` takes the file over through the symlink; each time
/// NetworkManager renames a new file into place, the agent adopts its servers and takes
/// over again, and `status` names NetworkManager. At exit NetworkManager's latest file
/// is what remains.
#[test]
fn network_manager_rewrites_are_adopted_and_taken_over_again() {
    let s = OnResolved::start(ResolvConfShape::NetworkManagerFile);
    let alice = &s.topology.alice;
    let status = s.status(None);
    assert_eq!(status["resolver"]["mode"], "resolv-conf", "{status}");
    assert_eq!(
        status["resolver"]["managed_by"], "NetworkManager (via ../run/NetworkManager/resolv.conf)",
        "{status}"
    );
    assert!(
        s.network_manager_file()
            .starts_with("# Written by boundary-client-agent")
    );
    s.register_alice();
    s.alias_address(alice, ALIAS);

    for round in 1..=3 {
        let rewritten = format!(
            "# Generated by NetworkManager\nsearch lan round{round}\nnameserver {}\n",
            crate::support::topology::UPSTREAM_V4
        );
        s.network_manager_writes(&rewritten);
        poll_until(
            "the agent to take the file over again",
            READY_TIMEOUT,
            || {
                let now = s.network_manager_file();
                (now.starts_with("# Written by boundary-client-agent")
                    && now.contains(&format!("round{round}")))
                .then_some(())
                .ok_or(now)
            },
        );
        s.alias_address(alice, ALIAS);
        assert_eq!(s.getent(alice, ORDINARY_NAME), Ok(IpAddr::V4(ORDINARY_V4)));
        if round == 3 {
            s.stop_agent(Signal::SIGTERM);
            assert_eq!(
                s.network_manager_file(),
                rewritten,
                "NetworkManager's latest file is what remains"
            );
        }
    }
}

/// More aliases than the agent gives resolved as routing domains: its link takes `~.`
/// and the default route (every name goes through the agent, which forwards ordinary
/// ones to the uplink's server), more specific routing domains (the VPN's) still win;
/// back under the limit, per-alias routing returns.
#[test]
fn above_the_routing_domain_limit_the_agent_link_takes_every_name() {
    let s = OnResolved::start(ResolvConfShape::StubSymlink);
    let alice = &s.topology.alice;
    s.register_alice();
    s.alias_address(alice, ALIAS);
    // 127 more: with db.prod.test and the seeded alias, 129 names (the limit is 128).
    let ids: Vec<String> = (0..127)
        .map(|i| {
            let body = serde_json::json!({
                "scope_id": "global",
                "type": "target",
                "value": format!("host{i}.bulk.test"),
                "destination_id": TARGET_ID,
            });
            let created = s.admin.http(&s.topology, "POST", "/v1/aliases", body);
            created["id"].as_str().expect("alias id").to_owned()
        })
        .collect();
    wait_for_domains_raw(&s, &["~.".to_owned()]);
    let status = s.status(None);
    assert!(
        status["resolver"]["routing"]
            .as_str()
            .unwrap_or_default()
            .starts_with("~."),
        "{status}"
    );
    let link = s.lab.snapshot().links[AGENT_LINK].clone();
    assert!(link.default_route, "{link:?}");
    s.alias_address(alice, "host126.bulk.test");
    assert_eq!(s.getent(alice, ORDINARY_NAME), Ok(IpAddr::V4(ORDINARY_V4)));
    assert_eq!(s.getent(alice, VPN_NAME), Ok(IpAddr::V4(VPN_ANSWER)));

    for id in &ids[..10] {
        s.admin.http(
            &s.topology,
            "DELETE",
            &format!("/v1/aliases/{id}"),
            serde_json::Value::Null,
        );
    }
    poll_until("per-alias routing to return", READY_TIMEOUT, || {
        let domains = s.agent_link_domains().unwrap_or_default();
        (domains.len() == 119 && domains.contains(&format!("~{ALIAS}")))
            .then_some(())
            .ok_or_else(|| format!("{} domains: {:?}", domains.len(), domains.first()))
    });
    assert!(!s.lab.snapshot().links[AGENT_LINK].default_route);
    s.alias_address(alice, ALIAS);
}

fn wait_for_domains_raw(s: &OnResolved, wanted: &[String]) {
    poll_until(
        "resolved's routing of the agent's link",
        READY_TIMEOUT,
        || {
            let domains = s.agent_link_domains().unwrap_or_default();
            (domains == wanted)
                .then_some(())
                .ok_or_else(|| format!("{} domains", domains.len()))
        },
    );
}
