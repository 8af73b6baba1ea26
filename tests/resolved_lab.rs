//! The systemd-resolved lab itself (`tests/support/resolved_lab`), proven with real
//! programs: glibc and dig through resolved's stub for both shapes of /etc/resolv.conf,
//! and the experiments the agent's `systemd-resolved` mode is designed on (a DNS server
//! on the agent's own tun link, `~.`, what happens when the tun's holder dies, the
//! per-link domain limit). Findings: `docs/notes/systemd-resolved-measurements.md`.
//! Needs root and `scripts/install-test-deps`.
#![cfg(target_os = "linux")]

mod resolved_lab_support;
mod support;

use std::fs;
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use resolved_lab_support::*;
use support::os_user::OsUser;
use support::process::{expect_success, run_with_timeout};
use support::resolved_lab::{ResolvConfShape, STUB_ADDRESS};
use support::wait::{READY_TIMEOUT, poll_until};

fn resolves_through_the_stub(shape: ResolvConfShape, expected_mode: &str) {
    let resolv_conf_before = host_resolv_conf();
    let fixture = Fixture::start(shape);
    let lab = &fixture.lab;

    let kind = lab.exec_ok(&["stat", "-c", "%F", "/etc/resolv.conf"]);
    let content = lab.exec_ok(&["cat", "/etc/resolv.conf"]);
    match shape {
        ResolvConfShape::StubSymlink => {
            assert_eq!(kind.trim(), "symbolic link");
            let target = lab.exec_ok(&["readlink", "/etc/resolv.conf"]);
            assert_eq!(target.trim(), "../run/systemd/resolve/stub-resolv.conf");
            assert!(content.contains("nameserver 127.0.0.53"), "{content}");
        }
        ResolvConfShape::PlainFileNaming127053 => {
            assert_eq!(kind.trim(), "regular file");
            assert_eq!(content, "nameserver 127.0.0.53\n");
        }
        ResolvConfShape::NetworkManagerFile => {
            unreachable!("the tests here run the two shapes that go through resolved")
        }
    }
    let snapshot = lab.snapshot();
    assert_eq!(
        snapshot.modes["ResolvConfMode"], expected_mode,
        "{snapshot:#?}"
    );
    assert_eq!(snapshot.links[UPLINK].dns, [UPSTREAM_V4.to_string()]);
    assert!(snapshot.links[UPLINK].default_route);

    let addresses = fixture.getent(ORDINARY_NAME);
    assert!(
        addresses
            .iter()
            .all(|a| a == ORDINARY_V4 || a == ORDINARY_V6)
            && !addresses.is_empty(),
        "{addresses:?}"
    );
    let reply = lab.dig(&[ORDINARY_NAME, "A"]);
    assert_eq!(reply.answer_data(), [ORDINARY_V4], "{}", reply.text);
    assert!(
        reply.server().starts_with(&format!("{STUB_ADDRESS}#53")),
        "{}",
        reply.text
    );
    // The upstream was asked by resolved, from the lab's uplink address.
    let log = fixture.upstream_log();
    assert!(
        log.contains(&format!("query[A] {ORDINARY_NAME} from {LAB_UPLINK_V4}")),
        "{log}"
    );

    // The rest of /etc is the host's, live: a user made after the lab started is there.
    lab.exec_ok(&["getent", "passwd", "root"]);
    let user = OsUser::create("rlab");
    let id = expect_success("id -un", &lab.run_as(&user, &["id", "-un"]));
    assert_eq!(id.trim(), user.name);
    drop(fixture);
    assert_eq!(
        host_resolv_conf(),
        resolv_conf_before,
        "the host's /etc/resolv.conf"
    );
}

#[test]
fn glibc_and_dig_go_through_the_stub_when_resolv_conf_is_the_stub_symlink() {
    resolves_through_the_stub(ResolvConfShape::StubSymlink, "stub");
}

#[test]
fn glibc_and_dig_go_through_the_stub_when_resolv_conf_is_a_file_naming_127_0_0_53() {
    resolves_through_the_stub(ResolvConfShape::PlainFileNaming127053, "foreign");
}

#[test]
fn dropping_the_lab_leaves_nothing_behind_also_after_a_panic() {
    let before = (host_resolv_conf(), host_mounts());
    let pids = std::sync::Mutex::new(Vec::new());
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let fixture = Fixture::start(ResolvConfShape::StubSymlink);
        fixture.add_tun_with_dnsmasq(false);
        *pids.lock().unwrap() = fixture.lab.pids();
        panic!("a failing test");
    }));
    assert!(result.is_err());
    let pids = pids.into_inner().unwrap();
    assert!(
        pids.len() >= 5,
        "holder, bus, resolved, socat, dnsmasq: {pids:?}"
    );
    for pid in pids {
        assert!(
            fs::metadata(format!("/proc/{pid}")).is_err(),
            "process {pid} of the lab is still there"
        );
    }
    assert_eq!((host_resolv_conf(), host_mounts()), before);
}

#[test]
fn resolved_asks_a_dns_server_on_the_tun_link_itself_for_the_links_routing_domain() {
    let fixture = Fixture::start(ResolvConfShape::StubSymlink);
    fixture.add_tun_with_dnsmasq(false);
    // resolved binds its per-link sockets to the link (IP_UNICAST_IF); a server whose
    // address is the link's own is still reached (the kernel delivers it locally).
    for server in [IpAddr::V4(TUN_V4), IpAddr::V6(TUN_V6)] {
        fixture.configure_tun(server, &["~db.alias.test"], false);
        let leaked_before = fixture.upstream_queries(ALIAS_NAME);
        let ordinary_before = fixture.tun_queries(ORDINARY_NAME);

        let addresses = fixture.getent(ALIAS_NAME);
        assert!(
            addresses.iter().all(|a| a == ALIAS_V4 || a == ALIAS_V6) && !addresses.is_empty(),
            "{addresses:?}"
        );
        let reply = fixture.lab.dig(&[ALIAS_NAME, "A"]);
        assert_eq!(reply.answer_data(), [ALIAS_V4], "{}", reply.text);
        let log = fixture.lab.log("tun-dnsmasq");
        assert!(
            log.contains(&format!("] {ALIAS_NAME} from {server}")),
            "{log}"
        );
        assert_eq!(
            fixture.upstream_queries(ALIAS_NAME),
            leaked_before,
            "alias leaked"
        );

        // Every other name still goes to the uplink only.
        let reply = fixture.lab.dig(&[ORDINARY_NAME, "A"]);
        assert_eq!(reply.answer_data(), [ORDINARY_V4], "{}", reply.text);
        assert_eq!(fixture.tun_queries(ORDINARY_NAME), ordinary_before);
    }
}

#[test]
fn a_catch_all_routing_domain_on_the_tun_link_takes_every_name_from_the_uplink() {
    let fixture = Fixture::start(ResolvConfShape::StubSymlink);
    fixture.add_tun_with_dnsmasq(false);
    // `~.` wins over a default-route link without routing domains, whatever the tun's
    // own default-route setting: the uplink is not asked at all.
    for default_route in [true, false] {
        fixture.configure_tun(TUN_V4.into(), &["~db.alias.test", "~."], default_route);
        let (upstream_before, tun_before) = (
            fixture.upstream_queries(ORDINARY_NAME),
            fixture.tun_queries(ORDINARY_NAME),
        );
        let reply = fixture.lab.dig(&[ORDINARY_NAME, "A"]);
        assert_eq!(reply.status(), "NXDOMAIN", "{}", reply.text);
        assert!(fixture.tun_queries(ORDINARY_NAME) > tun_before);
        assert_eq!(fixture.upstream_queries(ORDINARY_NAME), upstream_before);
    }
    // Without `~.`, a tun link that is a default route is asked for every other name
    // too, in parallel with the uplink; the uplink's positive answer wins over the tun
    // side's NXDOMAIN.
    fixture.configure_tun(TUN_V4.into(), &["~db.alias.test"], true);
    let (upstream_before, tun_before) = (
        fixture.upstream_queries(ORDINARY_NAME),
        fixture.tun_queries(ORDINARY_NAME),
    );
    let reply = fixture.lab.dig(&[ORDINARY_NAME, "A"]);
    assert_eq!(reply.answer_data(), [ORDINARY_V4], "{}", reply.text);
    assert!(fixture.tun_queries(ORDINARY_NAME) > tun_before);
    assert!(fixture.upstream_queries(ORDINARY_NAME) > upstream_before);
}

#[test]
fn a_persistent_tun_without_carrier_keeps_its_configuration_but_its_names_leak_meanwhile() {
    let fixture = Fixture::start(ResolvConfShape::StubSymlink);
    let holder = fixture.add_tun_with_dnsmasq(true);
    fixture.configure_tun(TUN_V4.into(), &["~db.alias.test"], false);
    let ifindex = fixture.lab.ifindex(TUN);
    assert!(fixture.lab.link_has_dns_scope(ifindex));
    let configured = fixture
        .lab
        .link_config(ifindex)
        .expect("resolved knows the tun");

    fixture.lab.kill(holder);
    poll_until(
        "resolved to drop the DNS scope of the tun",
        READY_TIMEOUT,
        || (!fixture.lab.link_has_dns_scope(ifindex)).then_some(()),
    );
    assert!(
        fixture.lab.has_interface(TUN),
        "a persistent tun outlives its holder"
    );
    assert_eq!(fixture.lab.link_config(ifindex), Some(configured.clone()));
    fixture.lab.resolvectl(&["flush-caches"]);
    let leaked_before = fixture.upstream_queries(ALIAS_NAME);
    let reply = fixture.lab.dig(&[ALIAS_NAME, "A"]);
    assert_eq!(reply.answer_data(), [LEAKED_V4], "{}", reply.text);
    assert!(fixture.upstream_queries(ALIAS_NAME) > leaked_before);

    // Carrier back: the same configuration applies again.
    fixture.lab.hold_tun(TUN);
    poll_until("resolved to use the tun again", READY_TIMEOUT, || {
        fixture.lab.link_has_dns_scope(ifindex).then_some(())
    });
    assert_eq!(fixture.lab.link_config(ifindex), Some(configured));
    let reply = fixture.lab.dig(&[ALIAS_NAME, "A"]);
    assert_eq!(reply.answer_data(), [ALIAS_V4], "{}", reply.text);
}

#[test]
fn a_tun_created_by_its_holder_vanishes_with_it_and_resolved_forgets_its_configuration() {
    let fixture = Fixture::start(ResolvConfShape::StubSymlink);
    let holder = fixture.add_tun_with_dnsmasq(false);
    fixture.configure_tun(TUN_V4.into(), &["~db.alias.test"], false);
    let ifindex = fixture.lab.ifindex(TUN);

    fixture.lab.kill(holder);
    poll_until(
        "the tun and resolved's link to vanish",
        READY_TIMEOUT,
        || {
            let gone =
                !fixture.lab.has_interface(TUN) && fixture.lab.link_config(ifindex).is_none();
            gone.then_some(())
        },
    );
    assert!(!fixture.lab.snapshot().links.contains_key(TUN));
    let reply = fixture.lab.dig(&[ALIAS_NAME, "A"]);
    assert_eq!(reply.answer_data(), [LEAKED_V4], "{}", reply.text);

    // The same name again is a new link: nothing of the old configuration comes back.
    fixture.add_tun(TUN, false);
    let new_ifindex = fixture.lab.ifindex(TUN);
    assert_ne!(new_ifindex, ifindex);
    let config = poll_until("resolved to know the new tun", READY_TIMEOUT, || {
        fixture.lab.link_config(new_ifindex)
    });
    assert!(
        config.dns.is_empty() && config.domains.is_empty(),
        "{config:?}"
    );
}

#[test]
fn link_settings_survive_a_restart_and_a_crash_of_resolved() {
    let fixture = Fixture::start(ResolvConfShape::StubSymlink);
    fixture.add_tun_with_dnsmasq(false);
    fixture.configure_tun(TUN_V4.into(), &["~db.alias.test"], false);
    let before = fixture.lab.snapshot();
    assert_eq!(before.links[TUN].domains, ["~db.alias.test"]);

    fixture.lab.restart_resolved();
    assert_eq!(fixture.lab.snapshot(), before);

    fixture.lab.kill_resolved();
    let reply = fixture.lab.dig(&["+time=1", ORDINARY_NAME, "A"]);
    assert!(
        !reply.success,
        "nothing answers on the stub: {}",
        reply.text
    );
    fixture.lab.start_resolved();
    assert_eq!(fixture.lab.snapshot(), before);
    assert_eq!(fixture.getent(ALIAS_NAME).len(), 1);

    // A drop-in takes effect at the next start; the links' settings stay.
    fixture
        .lab
        .write_resolved_dropin("global-dns", "[Resolve]\nDNS=192.0.2.53\n");
    fixture.lab.restart_resolved();
    let after = fixture.lab.snapshot();
    assert_eq!(after.dns, ["192.0.2.53"]);
    assert_eq!(after.links, before.links);
}

#[test]
fn a_link_takes_256_domains_and_a_failed_larger_set_leaves_it_with_none() {
    let fixture = Fixture::start(ResolvConfShape::StubSymlink);
    fixture.add_tun_with_dnsmasq(false);
    fixture.configure_tun(TUN_V4.into(), &[], false);
    let ifindex = fixture.lab.ifindex(TUN);
    let domains = |lab: &support::resolved_lab::ResolvedLab| {
        lab.link_config(ifindex).expect("the tun").domains.len()
    };

    let too_many = fixture.set_link_domains(ifindex, &routing_names("a", 257));
    assert!(!too_many.status.success());
    let stderr = String::from_utf8_lossy(&too_many.stderr);
    assert!(stderr.contains("Argument list too long"), "{stderr}");
    let full = fixture.set_link_domains(ifindex, &routing_names("h", 256));
    expect_success("256 domains", &full);
    assert_eq!(domains(&fixture.lab), 256);

    // The limit counts old and new domains together while a list is replaced, so even a
    // smaller list fails when it is not a subset of the current one...
    let replaced = fixture.set_link_domains(ifindex, &["db.alias.test".to_owned()]);
    assert!(!replaced.status.success(), "the union is 257");
    // ...and the failure drops every domain of the link: routed names fall back to the
    // default route.
    assert_eq!(domains(&fixture.lab), 0);
    let reply = fixture.lab.dig(&["h7.alias.test", "A"]);
    assert!(
        fixture.upstream_queries("h7.alias.test") > 0,
        "{}",
        reply.text
    );
    // resolved's saved state of the link still has the old list, which a restart brings
    // back.
    let state = fs::read_to_string(
        fixture
            .lab
            .inside(&format!("/run/systemd/resolve/netif/{ifindex}")),
    )
    .expect("resolved's link state file");
    assert!(state.contains("~h255.alias.test"), "{state}");
    fixture.lab.restart_resolved();
    assert_eq!(domains(&fixture.lab), 256);

    // Clearing first works (at the price of a moment without routing domains).
    expect_success("clear", &fixture.set_link_domains(ifindex, &[]));
    expect_success(
        "replace",
        &fixture.set_link_domains(ifindex, &routing_names("g", 256)),
    );
    assert_eq!(domains(&fixture.lab), 256);
}

/// The measurements of `docs/notes/systemd-resolved-measurements.md`: runs
/// `benches/resolved_routing_domains.py` in a lab and prints its report.
/// `RESOLVED_BENCH_COUNTS=256,1000` picks the domain counts.
#[test]
#[ignore = "a measurement, not a test: needs python3 with jeepney; run with --ignored --nocapture"]
fn measure_many_routing_domains_on_one_link() {
    let fixture = Fixture::start(ResolvConfShape::StubSymlink);
    fixture.add_tun_with_dnsmasq(false);
    fixture.configure_tun(TUN_V4.into(), &[], false);
    // Debug logging would dominate the timings.
    fixture.lab.resolvectl(&["log-level", "info"]);
    let jeepney = fixture.lab.run(&["python3", "-c", "import jeepney"]);
    assert!(
        jeepney.status.success(),
        "python3 with jeepney is needed (pip install jeepney)"
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/resolved_routing_domains.py"
    );
    let pid = fixture.lab.resolved_pid().expect("resolved").to_string();
    let mut command = fixture.lab.command("python3");
    command.args([
        script,
        "--interface",
        TUN,
        "--resolved-pid",
        &pid,
        "--ordinary-name",
        ORDINARY_NAME,
    ]);
    if let Ok(counts) = std::env::var("RESOLVED_BENCH_COUNTS") {
        command.args(["--counts", &counts]);
    }
    let output = run_with_timeout(&mut command, None, Duration::from_secs(1800));
    // The script fails on any answer but NOERROR; only the tun side answers the routed
    // names (the upstream refuses them).
    println!("{}", expect_success("the measurement", &output));
}
