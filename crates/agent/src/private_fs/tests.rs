use std::os::unix::fs::{PermissionsExt, symlink};

use super::*;

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A uid that is not the agent's (the tests run as root in CI: `nobody`).
fn other_uid() -> u32 {
    nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("the nobody user")
        .uid
        .as_raw()
}

#[test]
fn a_fresh_private_directory_under_a_sticky_tmp_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b");
    ensure_private_dir(&dir).unwrap();
    let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn a_directory_others_may_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    set_mode(tmp.path(), 0o777);
    let error = check_private_dir(tmp.path()).unwrap_err();
    assert!(
        error.to_string().contains("group or others may write"),
        "{error}"
    );
    // Below it too, even when the directory itself is private: the parent could swap it.
    let inner = tmp.path().join("inner");
    DirBuilder::new().mode(0o700).create(&inner).unwrap();
    let error = check_private_dir(&inner).unwrap_err();
    assert!(
        error.to_string().contains("without the sticky bit"),
        "{error}"
    );
    set_mode(tmp.path(), 0o1777);
    check_private_dir(&inner).unwrap();
}

#[test]
fn a_directory_owned_by_another_user_is_refused_naming_the_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("planted");
    fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o700);
    nix::unistd::chown(&dir, Some(other_uid().into()), None).unwrap();
    let error = ensure_private_dir(&dir).unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&dir.display().to_string()), "{text}");
    assert!(text.contains("nobody"), "{text}");
}

#[test]
fn a_symlinked_file_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    fs::write(&victim, b"precious").unwrap();
    let link = tmp.path().join("state.json");
    symlink(&victim, &link).unwrap();
    for how in [
        PrivateOpen::Read,
        PrivateOpen::Append { mode: 0o640 },
        PrivateOpen::Lock,
    ] {
        let error = open_private_file(&link, how).unwrap_err();
        assert!(
            error.to_string().contains("symbolic link"),
            "{how:?}: {error}"
        );
    }
    let error = open_private_file(&link, PrivateOpen::CreateNew { mode: 0o600 }).unwrap_err();
    assert!(matches!(error, PrivatePathError::Io { .. }), "{error}");
    assert_eq!(fs::read(&victim).unwrap(), b"precious");
}

#[test]
fn a_hard_link_or_a_file_of_another_user_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    fs::write(&victim, b"precious").unwrap();
    let link = tmp.path().join("agent.log");
    fs::hard_link(&victim, &link).unwrap();
    let error = open_private_file(&link, PrivateOpen::Append { mode: 0o640 }).unwrap_err();
    assert!(error.to_string().contains("hard links"), "{error}");
    fs::remove_file(&link).unwrap();

    nix::unistd::chown(&victim, Some(other_uid().into()), None).unwrap();
    let error = open_private_file(&victim, PrivateOpen::Read).unwrap_err();
    assert!(error.to_string().contains("owned by nobody"), "{error}");
}

#[test]
fn an_existing_world_readable_log_file_is_narrowed_and_a_new_one_is_not_readable_by_others() {
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("old.log");
    fs::write(&old, b"").unwrap();
    set_mode(&old, 0o666);
    open_private_file(&old, PrivateOpen::Append { mode: 0o640 }).unwrap();
    assert_eq!(
        fs::metadata(&old).unwrap().permissions().mode() & 0o777,
        0o640
    );

    let new = tmp.path().join("new.log");
    open_private_file(&new, PrivateOpen::Append { mode: 0o640 }).unwrap();
    assert_eq!(
        fs::metadata(&new).unwrap().permissions().mode() & 0o007,
        0,
        "never world-readable"
    );
}

#[test]
fn create_new_refuses_an_existing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json.tmp");
    fs::write(&path, b"planted").unwrap();
    let error = open_private_file(&path, PrivateOpen::CreateNew { mode: 0o600 }).unwrap_err();
    assert!(matches!(error, PrivatePathError::Io { .. }), "{error}");
    assert_eq!(fs::read(&path).unwrap(), b"planted");
}
