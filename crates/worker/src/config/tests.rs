//! The worker's configuration: Boundary's shape, defaults, and errors naming the key.

use super::*;

const KEY: &str = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=";

fn config(worker: &str, listener: &str, kms: &str) -> String {
    format!(
        "worker {{\n{worker}\n}}\nlistener \"tcp\" {{\n{listener}\n}}\nkms \"aead\" {{\n{kms}\n}}\n"
    )
}

fn good() -> String {
    config(
        "name = \"w1\"\ndescription = \"d\"\npublic_addr = \"w1.example\"\ninitial_upstreams = [\"127.0.0.1\"]",
        "purpose = \"proxy\"\naddress = \"0.0.0.0:9300\"",
        &format!(
            "purpose = \"worker-auth\"\naead_type = \"aes-gcm\"\nkey = \"{KEY}\"\nkey_id = \"global_worker-auth\""
        ),
    )
}

#[test]
fn a_boundary_style_config_parses_with_defaults_filled_in() {
    let c = WorkerConfig::parse(&good()).unwrap();
    assert_eq!(c.name, "w1");
    assert_eq!(c.description, "d");
    assert_eq!(c.public_addr.as_deref(), Some("w1.example"));
    assert_eq!(c.initial_upstreams, vec!["127.0.0.1:9201"]);
    assert_eq!(c.proxy_listen_addr, "0.0.0.0:9300".parse().unwrap());
    assert_eq!(c.worker_auth_key.expose().len(), 32);
    assert!(!format!("{c:?}").contains(KEY));
}

#[test]
fn other_purposes_and_disable_mlock_are_tolerated() {
    let text = format!(
        "disable_mlock = true\n{}\nlistener \"tcp\" {{\npurpose = \"ops\"\naddress = \"127.0.0.1:9203\"\n}}\nkms \"aead\" {{\npurpose = \"root\"\naead_type = \"aes-gcm\"\nkey = \"{KEY}\"\n}}",
        good()
    );
    assert!(WorkerConfig::parse(&text).is_ok());
    // The controller's keys are not decoded (nor their env:// looked up) by a worker.
    let text = format!(
        "{}\nkms \"aead\" {{\npurpose = [\"root\", \"recovery\"]\nkey = \"env://BOUNDARY_TEST_NO_SUCH_VAR_5d0\"\n}}",
        good()
    );
    assert!(WorkerConfig::parse(&text).is_ok());
}

/// `config/worker.hcl` stays valid; its CA file does not exist here, so it is dropped.
#[test]
fn the_example_config_parses() {
    let text = include_str!("../../../../config/worker.hcl")
        .replace("upstream_ca_file = \"/etc/boundary/cluster-ca.pem\"", "");
    let c = WorkerConfig::parse(&text).unwrap();
    assert_eq!(c.name, "worker-1");
    assert_eq!(c.public_addr.as_deref(), Some("worker-1.example.com:9202"));
    assert_eq!(
        c.initial_upstreams,
        vec!["https://controller-1.example.com:9201"]
    );
    assert_eq!(c.proxy_listen_addr, "0.0.0.0:9202".parse().unwrap());
    let e = WorkerConfig::parse(include_str!("../../../../config/worker.hcl"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`worker > upstream_ca_file`"), "{e}");
}

#[test]
fn unknown_keys_are_named() {
    let bad = good().replace("description", "descripton");
    let e = WorkerConfig::parse(&bad).unwrap_err().to_string();
    assert!(e.contains("line 3: `worker > descripton`"), "{e}");
    let bad = good().replace("address =", "adress =");
    let e = WorkerConfig::parse(&bad).unwrap_err().to_string();
    assert!(e.contains("line 9: `listener \"tcp\" > adress`"), "{e}");
    let e = WorkerConfig::parse(&format!("{}\ncontroller {{}}", good()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`controller`"), "{e}");
}

#[test]
fn bad_values_are_named() {
    let cases = [
        (good().replace(KEY, "not base64!"), "`kms \"aead\" > key`"),
        (good().replace(KEY, "AAAA"), "`kms \"aead\" > key`"),
        (
            good().replace("aes-gcm", "chacha"),
            "`kms \"aead\" > aead_type`",
        ),
        (
            good().replace("0.0.0.0:9300", "nowhere:x"),
            "`listener \"tcp\" > address`",
        ),
        (
            good().replace("public_addr = \"w1.example\"", ""),
            "`worker > public_addr`",
        ),
        (
            good().replace("[\"127.0.0.1\"]", "\"127.0.0.1\""),
            "`worker > initial_upstreams`",
        ),
        (
            good().replace("[\"127.0.0.1\"]", "[]"),
            "`worker > initial_upstreams`",
        ),
        (
            good().replace("name = \"w1\"", "name = 3"),
            "`worker > name`",
        ),
        (good().replace("name = \"w1\"", ""), "`worker > name`"),
        // The credential is derived for the name byte for byte: no padding, no blanks.
        (
            good().replace("name = \"w1\"", "name = \"w1 \""),
            "`worker > name`",
        ),
        (
            good().replace("name = \"w1\"", "name = \"  \""),
            "`worker > name`",
        ),
        (
            good().replace("\"proxy\"", "\"proxi\""),
            "`listener \"tcp\" > purpose`",
        ),
        (
            good().replace("\"w1.example\"", "\"w1.example:http\""),
            "`worker > public_addr`",
        ),
        (
            good().replace("[\"127.0.0.1\"]", "[\"127.0.0.1:x\"]"),
            "`worker > initial_upstreams`",
        ),
    ];
    for (text, key) in cases {
        let e = WorkerConfig::parse(&text).unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    }
}

#[test]
fn missing_blocks_are_named() {
    let no_kms = good().split("kms").next().unwrap().to_owned();
    let e = WorkerConfig::parse(&no_kms).unwrap_err().to_string();
    assert!(e.contains("worker-auth"), "{e}");
    assert!(WorkerConfig::parse("this is { not hcl").is_err());
}

#[test]
fn values_can_come_from_files_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let text = good().replace(KEY, &format!("file://{}", key_file.display()));
    assert_eq!(
        WorkerConfig::parse(&text).unwrap().worker_auth_key,
        WorkerConfig::parse(&good()).unwrap().worker_auth_key
    );
    let missing = good().replace("\"w1\"", "\"env://BOUNDARY_TEST_NO_SUCH_VAR_41c\"");
    let e = WorkerConfig::parse(&missing).unwrap_err().to_string();
    assert!(
        e.contains("`worker > name`") && e.contains("BOUNDARY_TEST_NO_SUCH_VAR_41c"),
        "{e}"
    );
    let e = WorkerConfig::parse(&good().replace(KEY, "file:///nonexistent/key"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`kms \"aead\" > key`") && e.contains("/nonexistent/key"),
        "{e}"
    );
}
