//! What each value kind accepts and gives back.

use std::net::SocketAddr;
use std::time::Duration;

use super::tests::{TOP_BLOCKS, TOP_KEYS};
use crate::*;

const FILE: &str = r#"
disable_mlock = true
name = "ctl-1"
port_count = 3
timeout = "1m30s"
upstreams = ["10.0.0.1", "ctl.example:9201"]
listener "tcp" {
  purpose = "api"
  address = "[::1]"
}
listener "tcp" {
  purpose = "cluster"
  address = "0.0.0.0:9301"
}
controller {
  database {
    url = "sqlite::memory:"
  }
}
"#;

#[test]
fn a_file_reads_into_typed_values() {
    parse(FILE, |root| {
        let root = root.section(TOP_KEYS, TOP_BLOCKS)?;
        assert!(root.get("disable_mlock").unwrap().bool()?);
        assert_eq!(root.get("name").unwrap().string()?, "ctl-1");
        assert_eq!(root.get("port_count").unwrap().integer(1u8..=8)?, 3);
        let timeout = root.get("timeout").unwrap();
        assert_eq!(
            timeout.duration(Duration::ZERO..=Duration::from_secs(3600))?,
            Duration::from_secs(90)
        );
        assert_eq!(timeout.line(), Some(5));
        assert_eq!(
            root.get("upstreams").unwrap().strings()?,
            ["10.0.0.1", "ctl.example:9201"]
        );
        let listeners = root.blocks("listener");
        assert_eq!(listeners.len(), 2);
        assert_eq!(listeners[1].path(), "listener \"tcp\"");
        assert_eq!(listeners[1].line(), Some(11));
        let api = listeners[0].section(&["purpose", "address"], &[])?;
        assert_eq!(
            api.get("address").unwrap().socket_addr(9200)?,
            "[::1]:9200".parse::<SocketAddr>().unwrap()
        );
        let controller = root
            .block("controller")?
            .unwrap()
            .section(&[], &["database"])?;
        let database = controller
            .block("database")?
            .unwrap()
            .section(&["url"], &[])?;
        let url = database.require("url", "a database URL")?;
        assert_eq!(url.key(), "controller > database > url");
        assert_eq!(url.line(), Some(17));
        Ok(())
    })
    .unwrap();
}

/// Reads the value of the single key `v` in `text` with `read`.
fn read<T>(text: &str, read: impl FnOnce(Value) -> Result<T, ConfigError>) -> Result<T, String> {
    parse(&format!("v = {text}\n"), |root| {
        read(root.section(&["v"], &[])?.get("v").unwrap())
    })
    .map_err(|e| e.to_string())
}

#[test]
fn default_ports_are_added_only_where_missing() {
    for (address, expected) in [
        ("h", "h:1"),
        ("  h  ", "h:1"),
        ("h:2", "h:2"),
        ("10.0.0.1", "10.0.0.1:1"),
        ("10.0.0.1:2", "10.0.0.1:2"),
        ("::1", "[::1]:1"),
        ("[::1]", "[::1]:1"),
        ("[::1]:2", "[::1]:2"),
        ("a:b:2", "a:b:2"),
    ] {
        assert_eq!(
            with_default_port(address, 1).as_deref(),
            Ok(expected),
            "{address}"
        );
    }
    for bad in ["", "h:", "h:x", ":2", "[h]", "[::1]:x", "a:b:c"] {
        assert!(with_default_port(bad, 1).is_err(), "{bad}");
    }
    assert_eq!(
        read("\"ctl\"", |v| v.address(9201)),
        Ok("ctl:9201".to_owned())
    );
}

#[test]
fn durations_in_go_and_long_forms() {
    let secs = Duration::from_secs;
    for (text, expected) in [
        ("5s", secs(5)),
        ("1m30s", secs(90)),
        ("250ms", Duration::from_millis(250)),
        ("24h", secs(86400)),
        ("1.5h", secs(5400)),
        ("1h 30m", secs(5400)),
        ("2 days", secs(2 * 86400)),
        ("1w", secs(7 * 86400)),
        ("1M", secs(2_630_016)),
        ("10us", Duration::from_micros(10)),
        ("0", Duration::ZERO),
    ] {
        assert_eq!(parse_duration(text), Ok(expected), "{text}");
    }
    for (duration, text) in [
        (Duration::ZERO, "0s"),
        (secs(90), "1m30s"),
        (secs(86400 + 7200), "1d2h"),
        (Duration::from_millis(100), "100ms"),
        (Duration::new(1, 500), "1s500ns"),
    ] {
        assert_eq!(format_duration(duration), text);
        assert_eq!(parse_duration(text), Ok(duration), "{text} reads back");
    }
    let off = |text| read(text, |v| v.duration_or_off(secs(10)..=secs(60)));
    assert_eq!(off("\"0s\""), Ok(None));
    assert_eq!(off("\"30s\""), Ok(Some(secs(30))));
}

#[test]
fn strings_lists_booleans_and_numbers() {
    assert_eq!(
        read("\"a\"", |v| v.optional_string()),
        Ok(Some("a".to_owned()))
    );
    assert_eq!(read("\"\"", |v| v.optional_string()), Ok(None));
    assert_eq!(read("null", |v| v.optional_string()), Ok(None));
    assert_eq!(read("null", |v| Ok(v.is_null())), Ok(true));
    assert_eq!(
        read("\"root\"", |v| v.string_or_strings()),
        Ok(vec!["root".to_owned()])
    );
    assert_eq!(
        read("[\"root\", \"worker-auth\"]", |v| v.string_or_strings()),
        Ok(vec!["root".to_owned(), "worker-auth".to_owned()])
    );
    assert_eq!(read("[]", |v| v.strings()), Ok(vec![]));
    assert_eq!(read("false", |v| v.bool()), Ok(false));
    assert_eq!(read("\"true\"", |v| v.bool()), Ok(true));
    assert_eq!(read("-3", |v| v.integer(-5i32..=5)), Ok(-3));
    assert_eq!(
        read("70000", |v| v.integer(0u16..=u16::MAX)).map_err(|e| e.contains("out of range")),
        Err(true)
    );
    assert_eq!(
        read("\"warn\"", |v| v.parse::<String>("a level")),
        Ok("warn".to_owned())
    );
}

#[test]
fn ip_prefixes_without_host_bits_and_within_lengths() {
    let v4 = |text| read(text, |v| v.ipv4_prefix(8..=16).map(|p| p.to_string()));
    assert_eq!(v4("\"10.128.0.0/16\""), Ok("10.128.0.0/16".to_owned()));
    assert!(
        v4("\"10.0.0.1/8\"")
            .unwrap_err()
            .contains("host bits set; the prefix is 10.0.0.0/8")
    );
    assert!(
        v4("\"10.0.0.0/24\"")
            .unwrap_err()
            .contains("between /8 and /16")
    );
    assert!(
        v4("\"fd00::/48\"")
            .unwrap_err()
            .contains("expected an IPv4 prefix")
    );
    let v6 = |text| read(text, |v| v.ipv6_prefix(48..=112).map(|p| p.to_string()));
    assert_eq!(v6("\"fd00:1::/64\""), Ok("fd00:1::/64".to_owned()));
    assert!(
        v6("\"fd00::/40\"")
            .unwrap_err()
            .contains("between /48 and /112")
    );
}

#[test]
fn values_can_come_from_the_environment_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "  s3cret\n").unwrap();
    let text = format!("\"file://{}\"", file.display());
    assert_eq!(read(&text, |v| v.indirect()), Ok("s3cret".to_owned()));
    assert_eq!(read("\"plain\"", |v| v.indirect()), Ok("plain".to_owned()));
    let path = std::env::var("PATH").unwrap();
    assert_eq!(read("\"env://PATH\"", |v| v.indirect()), Ok(path));
    let error = read("\"env://BOUNDARY_TEST_NO_SUCH_VAR_c1\"", |v| v.indirect()).unwrap_err();
    assert!(
        error.contains("BOUNDARY_TEST_NO_SUCH_VAR_c1, which is not set"),
        "{error}"
    );
    let error = read("\"file:///nonexistent/key\"", |v| v.indirect()).unwrap_err();
    assert!(error.contains("cannot read /nonexistent/key"), "{error}");
}

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn kms(text: &str, purpose: &str) -> Result<Option<KmsKey>, String> {
    parse(text, |root| {
        Kms::read(&root.section(&[], &["kms"])?)?.key(purpose)
    })
    .map_err(|e| e.to_string())
}

#[test]
fn kms_blocks_are_read_once_for_any_program() {
    let text = format!(
        "kms \"aead\" {{\n  purpose = [\"root\", \"worker-auth\"]\n  aead_type = \"aes-gcm\"\n  key = \"{KEY}\"\n  key_id = \"k\"\n}}\n"
    );
    let key = kms(&text, "worker-auth").unwrap().unwrap();
    assert_eq!((key.key[31], key.key_id.as_str()), (31, "k"));
    assert!(!format!("{key:?}").contains("31"), "{key:?}");
    assert_eq!(kms(&text, "recovery"), Ok(None));
    // A key is decoded only for a purpose asked for.
    let text =
        "kms \"aead\" {\n  purpose = \"root\"\n  key = \"env://BOUNDARY_TEST_UNSET_77\"\n}\n";
    assert_eq!(kms(text, "worker-auth"), Ok(None));
}

#[test]
fn kms_errors_name_the_block_and_never_the_key() {
    let block = |body: &str| format!("kms \"aead\" {{\n{body}\n}}\n");
    let wa = format!("purpose = \"worker-auth\"\nkey = \"{KEY}\"");
    for (text, expected) in [
        (
            block("purpose = \"worker-auth\"\nkey = \"c2hvcnQ=\""),
            "`kms \"aead\" > key`: decodes to 5 bytes",
        ),
        (
            block("purpose = \"worker-auth\"\nkey = \"!!\""),
            "line 3: `kms \"aead\" > key`: is not valid base64",
        ),
        (
            block("purpose = \"worker-auth\""),
            "line 1: `kms \"aead\" > key`: missing",
        ),
        (
            block(&format!("{wa}\naead_type = \"chacha\"")),
            "`kms \"aead\" > aead_type` = \"chacha\": only",
        ),
        (block("key = \"x\""), "`kms \"aead\" > purpose`: missing"),
        (block("purpose = []"), "lists no purpose"),
        (
            format!("{}{}", block(&wa), block(&wa)),
            "a second block with purpose \"worker-auth\"; the first is at line 1",
        ),
        (
            format!("kms \"awskms\" {{\n{wa}\n}}"),
            "type \"awskms\" is not supported; use \"aead\"",
        ),
        (
            block(&format!("{wa}\nregion = \"x\"")),
            "`kms \"aead\" > region`: unknown key",
        ),
    ] {
        let error = kms(&text, "worker-auth").unwrap_err();
        assert!(error.contains(expected), "{text}: {error}");
        assert!(
            !error.contains("c2hvcnQ") && !error.contains(KEY),
            "{error}"
        );
    }
}
