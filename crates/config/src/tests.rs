//! Each error names the file, the line and the key path. What each value kind reads is
//! in `tests_values`.

use std::path::Path;
use std::time::Duration;

use crate::*;

pub(super) const TOP_KEYS: &[&str] = &[
    "disable_mlock",
    "name",
    "port_count",
    "timeout",
    "upstreams",
];
pub(super) const TOP_BLOCKS: &[&str] = &["listener", "controller"];

/// Writes `text` to a file and reads it with `read`; returns the error's message and the
/// file's path, so the message can be checked for the file name.
fn load_error<T: std::fmt::Debug>(
    text: &str,
    read: impl FnOnce(Block<'_>) -> Result<T, ConfigError>,
) -> (ConfigError, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.hcl");
    std::fs::write(&path, text).unwrap();
    let error = load(&path, read).unwrap_err();
    (error, path.display().to_string())
}

/// Asserts that `message` says `FILE:LINE:` and names `key` in backticks.
fn assert_names(error: &ConfigError, file: &str, line: usize, key: &str) -> String {
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{file}:{line}: ")),
        "{message}"
    );
    assert!(message.contains(&format!("`{key}`")), "{message}");
    assert_eq!(error.key(), Some(key), "{message}");
    assert_eq!(error.line(), Some(line), "{message}");
    assert_eq!(error.file(), Some(Path::new(file)), "{message}");
    message
}

/// Reads `text` through a top level taking TOP_KEYS and TOP_BLOCKS, then `read`.
fn top_error(
    text: &str,
    read: impl FnOnce(&Section<'_>) -> Result<(), ConfigError>,
) -> (ConfigError, String) {
    load_error(text, |root| read(&root.section(TOP_KEYS, TOP_BLOCKS)?))
}

#[test]
fn an_unknown_key_is_refused_naming_it_and_the_known_ones() {
    let text = "name = \"a\"\nlistener \"tcp\" {\n  purpose = \"api\"\n  adress = \"x\"\n}\n";
    let (error, file) = top_error(text, |root| {
        root.blocks("listener")[0].section(&["purpose", "address"], &[])?;
        Ok(())
    });
    let message = assert_names(&error, &file, 4, "listener \"tcp\" > adress");
    assert!(
        message.contains("unknown key; known keys here: purpose, address"),
        "{message}"
    );
    assert!(matches!(error.kind(), ErrorKind::UnknownKey { .. }));

    let (error, file) = top_error("\nnmae = \"a\"\n", |_| Ok(()));
    assert_names(&error, &file, 2, "nmae");
}

#[test]
fn an_unknown_block_is_refused_naming_it() {
    let (error, file) = top_error("name = \"a\"\ncontroler {\n}\n", |_| Ok(()));
    let message = assert_names(&error, &file, 2, "controler");
    assert!(
        message.contains("unknown block; known blocks here: listener, controller"),
        "{message}"
    );

    let text = "controller {\n  database \"x\" {\n    url = \"u\"\n    pool {}\n  }\n}\n";
    let (error, file) = top_error(text, |root| {
        let controller = root
            .block("controller")?
            .unwrap()
            .section(&[], &["database"])?;
        controller
            .block("database")?
            .unwrap()
            .section(&["url"], &[])?;
        Ok(())
    });
    let message = assert_names(&error, &file, 4, "controller > database \"x\" > pool");
    assert!(message.contains("only `key = value`"), "{message}");
}

#[test]
fn a_value_of_the_wrong_type_is_refused_showing_it() {
    let cases = [
        ("name = 3", "name", "`name` = 3: expected a string"),
        (
            "name = \"${var.x}\"",
            "name",
            "interpolation (${…}) are not evaluated",
        ),
        ("name = upper(\"x\")", "name", "functions"),
        (
            "disable_mlock = \"yes\"",
            "disable_mlock",
            "expected true or false",
        ),
        (
            "port_count = \"3\"",
            "port_count",
            "expected a whole number",
        ),
        ("port_count = 2.5", "port_count", "expected a whole number"),
        ("timeout = 60", "timeout", "expected a duration string"),
        (
            "upstreams = \"10.0.0.1\"",
            "upstreams",
            "expected a list of strings",
        ),
        ("upstreams = [\"a\", 3]", "upstreams", "3 is not a string"),
    ];
    for (line, key, expected) in cases {
        let (error, file) = top_error(&format!("\n{line}\n"), |root| {
            let value = root.get(key).unwrap();
            match key {
                "name" => value.string().map(drop),
                "disable_mlock" => value.bool().map(drop),
                "port_count" => value.integer(0u32..=10).map(drop),
                "timeout" => value.any_duration().map(drop),
                _ => value.strings().map(drop),
            }
        });
        let message = assert_names(&error, &file, 2, key);
        assert!(message.contains(expected), "{line}: {message}");
        assert!(
            matches!(error.kind(), ErrorKind::WrongType { .. }),
            "{line}"
        );
    }
}

#[test]
fn a_value_out_of_range_is_refused_naming_the_range() {
    type Read = fn(&Value) -> Result<(), ConfigError>;
    let cases: [(&str, &str, Read); 5] = [
        ("port_count = 9", "use 1 to 8", |v| {
            v.integer(1u8..=8).map(drop)
        }),
        ("port_count = -1", "use 1 to 8", |v| {
            v.integer(1u8..=8).map(drop)
        }),
        ("timeout = \"2h\"", "use 1s to 1h", |v| {
            v.duration(Duration::from_secs(1)..=Duration::from_secs(3600))
                .map(drop)
        }),
        ("timeout = \"1M\"", "\"M\" means months", |v| {
            v.duration(Duration::ZERO..=Duration::from_secs(86400))
                .map(drop)
        }),
        ("timeout = \"1s\"", "use 1m to 1h", |v| {
            v.duration_or_off(Duration::from_secs(60)..=Duration::from_secs(3600))
                .map(drop)
        }),
    ];
    for (line, expected, read) in cases {
        let key = line.split(' ').next().unwrap();
        let (error, file) = top_error(&format!("name = \"a\"\n\n{line}\n"), |root| {
            read(&root.get(key).unwrap())
        });
        let message = assert_names(&error, &file, 3, key);
        assert!(
            message.contains("out of range") && message.contains(expected),
            "{line}: {message}"
        );
        assert!(
            matches!(error.kind(), ErrorKind::OutOfRange { .. }),
            "{line}"
        );
    }
}

#[test]
fn a_bad_duration_is_refused_saying_how_to_write_one() {
    for (text, reason) in [
        ("soon", "expected number"),
        ("5", "time unit needed"),
        ("5 parsecs", "unknown time unit \"parsecs\""),
        ("1.s", "invalid character at 1"),
        ("1h-5m", "invalid character at 2"),
        ("", "empty"),
    ] {
        let (error, file) = top_error(&format!("timeout = \"{text}\"\n"), |root| {
            root.get("timeout").unwrap().any_duration().map(drop)
        });
        let message = assert_names(&error, &file, 1, "timeout");
        assert!(
            message.contains("not a duration") && message.contains(reason),
            "{text}: {message}"
        );
        assert!(message.contains(&format!("= \"{text}\"")), "{message}");
    }
}

#[test]
fn a_bad_address_is_refused_saying_why() {
    for (text, reason) in [
        ("ctl.example:http", "not host:port"),
        (":9200", "no host"),
        ("[ctl.example]", "not an IPv6 address"),
        ("", "empty"),
        ("ctl.example", "not an IP address and port"),
    ] {
        let text = format!("listener \"tcp\" {{\n  address = \"{text}\"\n}}\n");
        let (error, file) = top_error(&text, |root| {
            let listener = root.blocks("listener")[0].section(&["address"], &[])?;
            listener.get("address").unwrap().socket_addr(9200).map(drop)
        });
        let message = assert_names(&error, &file, 2, "listener \"tcp\" > address");
        assert!(message.contains(reason), "{text}: {message}");
    }
}

#[test]
fn a_key_set_twice_is_refused_naming_both_lines() {
    let (error, file) = top_error("name = \"a\"\n\nname = \"b\"\n", |_| Ok(()));
    let message = assert_names(&error, &file, 3, "name");
    assert!(
        message.contains("set twice; the first is at line 1"),
        "{message}"
    );
    assert!(matches!(
        error.kind(),
        ErrorKind::Duplicate {
            first_line: Some(1)
        }
    ));

    let text = "name = \"a\"\nlistener \"tcp\" {\n  address = \"a\"\n  purpose = \"api\"\n  address = \"b\"\n}\n";
    let (error, file) = top_error(text, |_| Ok(()));
    let message = assert_names(&error, &file, 5, "listener \"tcp\" > address");
    assert!(message.contains("the first is at line 3"), "{message}");
}

#[test]
fn a_block_that_may_appear_once_is_refused_the_second_time() {
    let (error, file) = top_error("controller {\n}\n\ncontroller {\n}\n", |root| {
        root.block("controller").map(drop)
    });
    let message = assert_names(&error, &file, 4, "controller");
    assert!(
        message.contains("set twice; the first is at line 1"),
        "{message}"
    );
}

#[test]
fn a_missing_key_is_named_at_its_block() {
    let (error, file) = top_error(
        "name = \"a\"\ncontroller {\n  database {\n  }\n}\n",
        |root| {
            let controller = root
                .block("controller")?
                .unwrap()
                .section(&[], &["database"])?;
            let database = controller
                .block("database")?
                .unwrap()
                .section(&["url"], &[])?;
            database.require("url", "a database URL").map(drop)
        },
    );
    let message = assert_names(&error, &file, 3, "controller > database > url");
    assert!(
        message.ends_with("missing; expected a database URL"),
        "{message}"
    );
}

#[test]
fn text_that_is_not_hcl_is_refused_with_its_line() {
    let (error, file) = top_error(
        "name = \"a\"\nlistener \"tcp\" {\n  purpose = \n}\n",
        |_| Ok(()),
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{file}:3: not valid HCL: ")),
        "{message}"
    );
    assert!(
        matches!(error.kind(), ErrorKind::Syntax { .. }),
        "{message}"
    );
    assert_eq!(error.key(), None);
}

#[test]
fn an_unreadable_file_is_named() {
    let error = load(Path::new("/nonexistent/config.hcl"), |_| Ok(())).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("cannot read /nonexistent/config.hcl: "),
        "{message}"
    );
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn errors_without_a_file_name_the_line() {
    let error = parse("\nport_count = true\n", |root| {
        let root = root.section(TOP_KEYS, TOP_BLOCKS)?;
        root.get("port_count").unwrap().integer(0u8..=1).map(drop)
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2: `port_count` = true: expected a whole number"
    );
    let error = ConfigError::invalid("kms \"aead\" > key", "decodes to 3 bytes");
    assert_eq!(
        error.to_string(),
        "`kms \"aead\" > key`: decodes to 3 bytes"
    );
}

#[test]
fn secrets_are_never_shown() {
    let (error, _) = top_error("name = \"hunter2\"\n", |root| {
        root.secret("name").unwrap().integer(0u8..=1).map(drop)
    });
    let message = error.to_string();
    assert!(
        !message.contains("hunter2") && message.contains("`name`: expected"),
        "{message}"
    );
}

#[test]
fn a_block_label_must_be_one_of_the_known_ones() {
    let (error, file) = top_error("listener \"udp\" {\n}\n", |root| {
        root.blocks("listener")[0].label(&["tcp"]).map(drop)
    });
    let message = assert_names(&error, &file, 1, "listener \"udp\"");
    assert!(
        message.contains("type \"udp\" is not supported; use \"tcp\""),
        "{message}"
    );
    let (error, _) = top_error("listener {\n}\n", |root| {
        root.blocks("listener")[0].label(&["tcp", "unix"]).map(drop)
    });
    assert!(
        error
            .to_string()
            .contains("exactly one label, one of \"tcp\" or \"unix\""),
        "{error}"
    );
}
