//! `boundary worker -config FILE` refuses a bad config with an error naming the key, before
//! binding or contacting anything.

use std::process::Command;

fn run_worker(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("worker.hcl");
    std::fs::write(&path, config).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_boundary"))
        .args(["worker", "-config"])
        .arg(&path)
        .output()
        .expect("run boundary worker");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const GOOD: &str = r#"
worker {
  name              = "w1"
  public_addr       = "127.0.0.1:9202"
  initial_upstreams = ["127.0.0.1:9201"]
}
listener "tcp" {
  purpose = "proxy"
  address = "127.0.0.1:0"
}
kms "aead" {
  purpose   = "worker-auth"
  aead_type = "aes-gcm"
  key       = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id    = "global_worker-auth"
}
"#;

#[test]
fn bad_configs_are_refused_naming_the_key() {
    let cases = [
        (
            GOOD.replace("public_addr", "public_adr"),
            "worker.hcl:4: `worker > public_adr`",
        ),
        (
            GOOD.replace("aes-gcm", "rot13"),
            "`kms \"aead\" > aead_type` = \"rot13\"",
        ),
        (
            GOOD.replace("8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ=", "c2hvcnQ="),
            "`kms \"aead\" > key`: decodes to 5 bytes",
        ),
        (
            GOOD.replace("127.0.0.1:0", "not an address"),
            "worker.hcl:9: `listener \"tcp\" > address` = \"not an address\"",
        ),
        (format!("{GOOD}\nfoo = 1\n"), "`foo`"),
    ];
    for (config, key) in cases {
        let (code, stderr) = run_worker(&config);
        assert_eq!(code, 1, "{key}: {stderr}");
        assert!(stderr.contains(key), "{key} not named in: {stderr}");
    }
}

#[test]
fn a_missing_config_file_is_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_boundary"))
        .args(["worker", "-config", "/nonexistent/worker.hcl"])
        .output()
        .expect("run boundary worker");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/worker.hcl"));
}
