//! The state file: round trip, atomic replacement, corrupt and newer files.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use boundary_agent::state::{
    AddedAddress, AliasAddresses, STATE_VERSION, SavedResolvConf, StateError, StateFile,
};

#[test]
fn round_trip_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/state.json");
    let mut state = StateFile::load(&path).unwrap();
    assert_eq!(
        state.state(),
        &Default::default(),
        "missing file = empty state"
    );
    assert!(!path.exists(), "nothing written until something changes");

    let binary = b"nameserver 10.0.0.2\n\xff\x00 not utf-8\n".to_vec();
    state
        .update(|s| {
            s.saved_resolver = Some(SavedResolvConf {
                path: "/etc/resolv.conf".into(),
                content: Some(binary.clone()),
                mode: 0o644,
            });
            s.added_addresses.insert(AddedAddress {
                interface: "eth0".into(),
                address: "100.64.0.7".parse().unwrap(),
            });
            s.alias_addresses.insert(
                "db.prod.example".into(),
                AliasAddresses {
                    v4: Some("100.64.0.7".parse().unwrap()),
                    v6: Some("fd00:a20a::7".parse().unwrap()),
                },
            );
            s.paused = true;
        })
        .unwrap();
    let loaded = StateFile::load(&path).unwrap();
    assert_eq!(loaded.state(), state.state());
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["version"], STATE_VERSION);
    assert_eq!(
        loaded
            .state()
            .saved_resolver
            .as_ref()
            .unwrap()
            .content
            .as_deref(),
        Some(binary.as_slice()),
        "bytes come back exactly"
    );
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["state.json"], "no temporary file left behind");
}

#[test]
fn a_failed_write_leaves_memory_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    // The parent "directory" is a file: writing must fail.
    fs::write(dir.path().join("blocker"), b"").unwrap();
    let mut state = StateFile::empty(dir.path().join("blocker/state.json"));
    let error = state.update(|s| s.paused = true).unwrap_err();
    // The directory cannot be made (a file is in the way).
    assert!(matches!(error, StateError::Unsafe { .. }), "{error}");
    assert!(error.to_string().contains("blocker/state.json"), "{error}");
    assert!(!state.state().paused);
}

#[test]
fn a_corrupt_file_is_reported_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    fs::write(&path, b"{\"added_addresses\": [tru").unwrap();
    let error = StateFile::load(&path).unwrap_err();
    let StateError::Corrupt { kept_at, .. } = &error else {
        panic!("expected Corrupt, got {error}");
    };
    assert!(error.to_string().contains("corrupt"), "{error}");
    assert!(
        error.to_string().contains(&kept_at.display().to_string()),
        "{error}"
    );
    assert_eq!(fs::read(kept_at).unwrap(), b"{\"added_addresses\": [tru");
    assert!(!path.exists());
    // The next start begins empty (the copy stays for inspection).
    assert_eq!(StateFile::load(&path).unwrap().state(), &Default::default());

    fs::write(&path, b"{\"version\": 99}").unwrap();
    let error = StateFile::load(&path).unwrap_err();
    assert!(
        matches!(error, StateError::NewerVersion { found: 99, .. }),
        "{error}"
    );
    assert!(path.exists(), "a newer agent's file is not moved");
}
