//! resolv.conf takeover on temporary files and on the bind mount `ip netns exec` makes.

use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use boundary_agent::os::linux::{ResolvConfTakeover, select_resolver, select_resolver_on_bus};
use boundary_agent::os::resolv_conf::AGENT_MARKER;
use boundary_agent::os::{ResolverError, ResolverMode, ResolverTakeover, Restored, TakeoverChange};
use boundary_agent::state::StateFile;

use crate::NETNS_PREFIX;
use crate::support::netns::{Netns, run_ok};
use crate::support::runtime::block_on_thread as block;

/// A D-Bus address where no bus listens: "resolved does not answer", whatever the host runs.
const NO_BUS: Option<&str> = Some("unix:path=/nonexistent/boundary-test-bus");

const ORIGINAL: &[u8] = b"# from DHCP\nsearch corp.example\nnameserver 10.0.0.2\n\
    nameserver 2001:db8::53\noptions edns0\n";

fn ours() -> Vec<IpAddr> {
    vec![
        "100.64.0.1".parse().unwrap(),
        "fd00:a20a::1".parse().unwrap(),
    ]
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn take_over_refresh_and_restore_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resolv.conf");
    fs::write(&path, ORIGINAL).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let state_path = dir.path().join("state.json");
    let mut state = StateFile::load(&state_path).unwrap();
    let takeover = ResolvConfTakeover::new(&path);

    let done = block(takeover.take_over(&ours(), &mut state)).unwrap();
    assert_eq!(done.change, TakeoverChange::TookOver);
    assert_eq!(
        done.upstreams,
        [addr("10.0.0.2:53"), addr("[2001:db8::53]:53")]
    );
    let written = fs::read_to_string(&path).unwrap();
    assert!(written.starts_with(AGENT_MARKER), "{written}");
    assert!(written.contains("nameserver 100.64.0.1\nnameserver fd00:a20a::1\n"));
    assert!(written.contains("search corp.example\n") && !written.contains("10.0.0.2"));
    // The previous content is on disk in the state file, not only in memory.
    let on_disk = StateFile::load(&state_path).unwrap();
    let saved = on_disk.state().saved_resolver.as_ref().expect("saved");
    assert_eq!(saved.content.as_deref(), Some(ORIGINAL));
    assert_eq!(saved.mode, 0o640);

    let again = block(takeover.take_over(&ours(), &mut state)).unwrap();
    assert_eq!(again.change, TakeoverChange::AlreadyOurs);
    assert_eq!(again.upstreams, done.upstreams);
    assert_eq!(
        block(takeover.upstreams(&ours(), &state)).unwrap(),
        done.upstreams
    );

    let fewer = &ours()[..1];
    let refreshed = block(takeover.take_over(fewer, &mut state)).unwrap();
    assert_eq!(refreshed.change, TakeoverChange::Refreshed);
    assert!(!fs::read_to_string(&path).unwrap().contains("fd00:a20a::1"));

    assert_eq!(
        block(takeover.restore(&mut state)).unwrap(),
        Restored::Restored { path: path.clone() }
    );
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    assert!(state.state().saved_resolver.is_none());
    assert!(
        StateFile::load(&state_path)
            .unwrap()
            .state()
            .saved_resolver
            .is_none()
    );
    assert_eq!(
        block(takeover.restore(&mut state)).unwrap(),
        Restored::NothingSaved
    );
}

#[test]
fn an_external_rewrite_is_adopted_as_the_new_previous() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resolv.conf");
    fs::write(&path, ORIGINAL).unwrap();
    let mut state = StateFile::load(dir.path().join("state.json")).unwrap();
    let takeover = ResolvConfTakeover::new(&path);
    block(takeover.take_over(&ours(), &mut state)).unwrap();

    let dhcp = b"# NetworkManager\nnameserver 10.9.9.9\n";
    fs::write(&path, dhcp).unwrap();
    let adopted = block(takeover.take_over(&ours(), &mut state)).unwrap();
    assert_eq!(adopted.change, TakeoverChange::AdoptedExternalChange);
    assert_eq!(adopted.upstreams, [addr("10.9.9.9:53")]);
    assert!(
        fs::read(&path)
            .unwrap()
            .starts_with(AGENT_MARKER.as_bytes())
    );
    block(takeover.restore(&mut state)).unwrap();
    assert_eq!(
        fs::read(&path).unwrap(),
        dhcp,
        "the newer content comes back"
    );

    // Rewritten after the takeover and not taken over again: the newer file stays.
    block(takeover.take_over(&ours(), &mut state)).unwrap();
    fs::write(&path, b"nameserver 10.7.7.7\n").unwrap();
    let restored = block(takeover.restore(&mut state)).unwrap();
    assert_eq!(restored, Restored::KeptNewerContent { path: path.clone() });
    assert_eq!(fs::read(&path).unwrap(), b"nameserver 10.7.7.7\n");
}

/// The file is truncated before it is written in place; a crash in between must not make
/// the fragment pass for a newer configuration, or the original would be forgotten.
#[test]
fn a_write_cut_short_by_a_crash_is_repaired_from_the_saved_copy() {
    let cut_original = &ORIGINAL[..ORIGINAL.len() / 2];
    assert!(!cut_original.ends_with(b"\n"));
    for fragment in [&b""[..], &AGENT_MARKER.as_bytes()[..5], cut_original] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("resolv.conf");
        fs::write(&path, ORIGINAL).unwrap();
        let mut state = StateFile::load(dir.path().join("state.json")).unwrap();
        let takeover = ResolvConfTakeover::new(&path);
        block(takeover.take_over(&ours(), &mut state)).unwrap();

        fs::write(&path, fragment).unwrap();
        let restored = block(takeover.restore(&mut state)).unwrap();
        let shown = String::from_utf8_lossy(fragment);
        assert_eq!(
            restored,
            Restored::Restored { path: path.clone() },
            "{shown:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), ORIGINAL, "after {shown:?}");
    }
}

#[test]
fn missing_file_agent_file_without_state_and_no_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resolv.conf");
    let mut state = StateFile::load(dir.path().join("state.json")).unwrap();
    let takeover = ResolvConfTakeover::new(&path);

    // No file before: it is created, and removed again on restore.
    let done = block(takeover.take_over(&ours(), &mut state)).unwrap();
    assert_eq!(
        (done.change, done.upstreams.len()),
        (TakeoverChange::TookOver, 0)
    );
    assert!(path.exists());
    block(takeover.restore(&mut state)).unwrap();
    assert!(!path.exists());

    let error = block(takeover.take_over(&[], &mut state)).unwrap_err();
    assert!(
        matches!(error, ResolverError::NoAgentAddresses { .. }),
        "{error}"
    );

    // An agent-written file with no saved copy cannot be "adopted" (that would lose DNS).
    block(takeover.take_over(&ours(), &mut state)).unwrap();
    let mut lost = StateFile::load(dir.path().join("other-state.json")).unwrap();
    let error = block(takeover.take_over(&ours(), &mut lost)).unwrap_err();
    assert!(
        matches!(error, ResolverError::OursWithoutSavedCopy { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("resolv.conf"), "{error}");
}

#[test]
fn auto_mode_and_mode_names() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("resolv.conf");
    fs::write(&plain, ORIGINAL).unwrap();
    let selected = block(select_resolver_on_bus(ResolverMode::Auto, &plain, NO_BUS)).unwrap();
    assert_eq!(
        (selected.mode, selected.warning),
        (ResolverMode::ResolvConf, None)
    );

    let stub = dir.path().join("stub-resolv.conf");
    std::os::unix::fs::symlink("/run/systemd/resolve/stub-resolv.conf", &stub).unwrap();
    let selected = block(select_resolver_on_bus(ResolverMode::Auto, &stub, NO_BUS)).unwrap();
    assert_eq!(selected.mode, ResolverMode::None);
    let warning = selected.warning.expect("a warning");
    assert!(
        warning.contains("systemd-resolved") && warning.contains("does not answer")
            || warning.contains("cannot reach the system D-Bus"),
        "{warning}"
    );
    // A plain file naming only resolved's stub is resolved's too.
    let stub_file = dir.path().join("stub-file.conf");
    fs::write(
        &stub_file,
        "nameserver 127.0.0.53
options edns0 trust-ad
",
    )
    .unwrap();
    let selected = block(select_resolver_on_bus(
        ResolverMode::Auto,
        &stub_file,
        NO_BUS,
    ))
    .unwrap();
    assert_eq!(
        selected.mode,
        ResolverMode::None,
        "never taken over (it would loop)"
    );
    // `none` touches nothing but still reports the system's resolvers.
    let linked = dir.path().join("linked.conf");
    std::os::unix::fs::symlink(&plain, &linked).unwrap();
    let none = block(select_resolver(ResolverMode::None, &linked)).unwrap();
    let mut state = StateFile::load(dir.path().join("state.json")).unwrap();
    let done = block(none.takeover.take_over(&ours(), &mut state)).unwrap();
    assert_eq!(done.change, TakeoverChange::Untouched);
    assert_eq!(
        done.upstreams,
        [addr("10.0.0.2:53"), addr("[2001:db8::53]:53")]
    );
    assert_eq!(fs::read(&plain).unwrap(), ORIGINAL);

    let error = block(select_resolver_on_bus(
        ResolverMode::SystemdResolved,
        &plain,
        NO_BUS,
    ))
    .err()
    .unwrap();
    assert!(
        error
            .to_string()
            .contains("resolver_mode = \"systemd-resolved\", but"),
        "{error}"
    );
    for name in ["auto", "resolv-conf", "systemd-resolved", "none"] {
        assert_eq!(name.parse::<ResolverMode>().unwrap().to_string(), name);
    }
    let error = "resolvconf".parse::<ResolverMode>().unwrap_err();
    assert!(error.to_string().contains("resolv-conf"), "{error}");
}

/// Environment for the child half of the bind-mount test (this same test, re-run by
/// `ip netns exec` so `/etc/resolv.conf` is the namespace's bind-mounted file).
const CHILD_NETNS: &str = "BOUNDARY_TEST_RESOLV_NETNS";
const CHILD_STATE: &str = "BOUNDARY_TEST_RESOLV_STATE";
const CHILD_PHASE: &str = "BOUNDARY_TEST_RESOLV_PHASE";

#[test]
fn takeover_through_the_ip_netns_exec_bind_mount() {
    if let Ok(netns) = std::env::var(CHILD_NETNS) {
        return bind_mount_child(&netns);
    }
    let netns = Netns::new(NETNS_PREFIX);
    let original = netns.write_resolv_conf(ORIGINAL);
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("state.json");
    let run_child = |phase: &str| {
        let mut command = netns.command(std::env::current_exe().unwrap().to_str().unwrap());
        command
            .args([
                "--exact",
                "resolver::takeover_through_the_ip_netns_exec_bind_mount",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD_NETNS, netns.name())
            .env(CHILD_STATE, &state_path)
            .env(CHILD_PHASE, phase);
        let output = run_ok(&mut command);
        assert!(
            output.contains("1 passed"),
            "the child ran the test: {output}"
        );
    };

    run_child("take-over");
    let seen_inside = netns.exec_ok(&["cat", "/etc/resolv.conf"]);
    assert!(seen_inside.starts_with(AGENT_MARKER), "{seen_inside}");
    assert_eq!(fs::read_to_string(&original).unwrap(), seen_inside);
    run_child("restore");
    assert_eq!(fs::read(&original).unwrap(), ORIGINAL);
    assert_eq!(
        netns.exec_ok(&["cat", "/etc/resolv.conf"]).as_bytes(),
        ORIGINAL
    );
}

fn bind_mount_child(netns: &str) {
    let etc = Path::new("/etc/resolv.conf");
    // Only ever touch /etc/resolv.conf when it is the namespace's bind-mounted file.
    let mounted = fs::metadata(etc).unwrap();
    let namespace_file =
        fs::metadata(Path::new("/etc/netns").join(netns).join("resolv.conf")).unwrap();
    assert_eq!(
        (mounted.dev(), mounted.ino()),
        (namespace_file.dev(), namespace_file.ino()),
        "/etc/resolv.conf is not the namespace's file: refusing to touch it"
    );
    let mut state = StateFile::load(std::env::var(CHILD_STATE).unwrap()).unwrap();
    let takeover = ResolvConfTakeover::new(etc);
    match std::env::var(CHILD_PHASE).unwrap().as_str() {
        "take-over" => {
            let done = block(takeover.take_over(&ours(), &mut state)).unwrap();
            assert_eq!(done.change, TakeoverChange::TookOver);
        }
        "restore" => {
            let restored = block(takeover.restore(&mut state)).unwrap();
            assert_eq!(
                restored,
                Restored::Restored {
                    path: etc.to_path_buf()
                }
            );
        }
        phase => panic!("unknown phase {phase}"),
    }
}
