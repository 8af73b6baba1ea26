//! The controller's configuration: Boundary's layout, defaults, and errors naming the key.

use super::*;
use boundary_config::ErrorKind;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn wa() -> String {
    format!(
        "kms \"aead\" {{\n purpose = \"worker-auth\"\n aead_type = \"aes-gcm\"\n key = \"{KEY}\"\n key_id = \"wa\"\n}}\n"
    )
}

fn parse_err(text: &str) -> String {
    ControllerConfig::parse(text).unwrap_err().to_string()
}

#[test]
fn defaults_with_only_the_worker_auth_key() {
    let c = ControllerConfig::parse(&wa()).unwrap();
    assert_eq!(c.api.address, DEFAULT_API_ADDRESS);
    assert_eq!(c.cluster.address, DEFAULT_CLUSTER_ADDRESS);
    assert!(c.api.tls.is_none());
    assert!(c.database_is_in_memory());
    assert!(c.root_key.is_none());
    assert_eq!(c.worker_auth_key.key[31], 31);
    assert!(!format!("{c:?}").contains(KEY));
}

#[test]
fn full_config() {
    let text = format!(
        r#"
disable_mlock = true
controller {{
  name = "c1"
  description = "first"
  database {{ url = "postgres://u@localhost/db" }}
}}
listener "tcp" {{
  purpose = "api"
  address = "0.0.0.0:9300"
  tls_cert_file = "/etc/cert.pem"
  tls_key_file = "/etc/key.pem"
}}
listener "tcp" {{
  purpose = "cluster"
  address = "10.0.0.1"
  tls_disable = "true"
}}
kms "aead" {{
  purpose = "root"
  aead_type = "aes-gcm"
  key = "{KEY}"
  key_id = "root"
}}
{}"#,
        wa()
    );
    let c = ControllerConfig::parse(&text).unwrap();
    assert_eq!(c.name, "c1");
    assert_eq!(c.database_url.expose(), "postgres://u@localhost/db");
    assert_eq!(c.api.address, "0.0.0.0:9300");
    assert_eq!(
        c.api.tls.as_ref().unwrap().cert_file,
        PathBuf::from("/etc/cert.pem")
    );
    assert_eq!(c.cluster.address, "10.0.0.1:9201");
    assert!(c.cluster.tls.is_none());
    assert_eq!(c.root_key.unwrap().key_id, "root");
}

#[test]
fn purposes_as_a_list() {
    let text =
        format!("kms \"aead\" {{\n purpose = [\"root\", \"worker-auth\"]\n key = \"{KEY}\"\n}}\n");
    let c = ControllerConfig::parse(&text).unwrap();
    assert!(c.root_key.is_some());
}

#[test]
fn database_url_from_env() {
    // A variable name nothing sets, so the lookup fails and the error names it.
    let text = format!(
        "controller {{\n database {{ url = \"env://BOUNDARY_TEST_NO_SUCH_VAR_9f2\" }}\n}}\n{}",
        wa()
    );
    assert!(parse_err(&text).contains("BOUNDARY_TEST_NO_SUCH_VAR_9f2"));
}

#[test]
fn errors_name_the_key() {
    // `;` stands for a newline (HCL allows one attribute per single-line block).
    let cases = [
        ("controller { nmae = \"x\" }", "line 1: `controller > nmae`"),
        ("bogus = 1", "line 1: `bogus`"),
        (
            "listener \"tcp\" {;purpose = \"api\";adress = \"x\";}",
            "line 3: `listener \"tcp\" > adress`",
        ),
        (
            "listener \"tcp\" {;purpose = \"web\";tls_disable = true;}",
            "`listener \"tcp\" > purpose` = \"web\"",
        ),
        (
            "listener \"udp\" { purpose = \"api\" }",
            "\"udp\" is not supported",
        ),
        ("listener \"tcp\" { purpose = \"api\" }", "tls_cert_file"),
        (
            "listener \"tcp\" {;purpose = \"api\";tls_disable = 3;}",
            "line 3: `listener \"tcp\" > tls_disable` = 3",
        ),
        (
            "listener \"tcp\" {;purpose = \"api\";address = \"a:b:c\";tls_disable = true;}",
            "line 3: `listener \"tcp\" > address` = \"a:b:c\"",
        ),
        (
            "kms \"aead\" {;purpose = \"root\";key = \"!!\";}",
            "line 3: `kms \"aead\" > key`",
        ),
        (
            "kms \"aead\" {;purpose = \"root\";key = \"AAAA\";}",
            "32 bytes",
        ),
        (
            "kms \"aead\" {;purpose = \"root\";aead_type = \"chacha\";key = \"AAAA\";}",
            "`kms \"aead\" > aead_type` = \"chacha\"",
        ),
        (
            "kms \"aead\" {;purpose = \"other\";key = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\";}",
            "`kms \"aead\" > purpose` = \"other\"",
        ),
        ("controller { name = 3 }", "`controller > name` = 3"),
        ("controller { name = \"${x}\" }", "templates"),
        ("", "worker-auth"),
        (
            "controller {;database { url = \"postgres://x\" };};WA",
            "root",
        ),
        (
            "listener \"tcp\" {;purpose = \"api\";tls_disable = true;};listener \"tcp\" {;purpose = \"api\";tls_disable = true;}",
            "second",
        ),
    ];
    for (text, needle) in cases {
        let text = text.replace(';', "\n").replace("WA", &wa());
        let err = parse_err(&text);
        assert!(
            err.contains(needle),
            "{text:?} gave {err:?}, expected {needle:?}"
        );
    }
}

#[test]
fn the_example_config_parses() {
    let c = ControllerConfig::parse(include_str!("../../../../config/controller.hcl")).unwrap();
    assert_eq!(c.api.address, "0.0.0.0:9200");
    assert!(c.cluster.tls.is_some() && c.root_key.is_some());
}

#[test]
fn bad_hcl_is_a_syntax_error() {
    for text in [
        "controller {",
        "listener \"tcp\" { purpose = }",
        "= 3",
        "kms \"aead\" { key = \"x\" ",
    ] {
        let error = ControllerConfig::parse(text).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::Syntax { .. }),
            "{text}: {error}"
        );
    }
}

#[test]
fn secrets_stay_out_of_errors_and_the_controller_block_is_single() {
    let text = format!(
        "controller {{\n database {{ url = 3 }}\n}}\nkms \"aead\" {{\n purpose = \"root\"\n key = \"c2VjcmV0\"\n}}\n{}",
        wa()
    );
    let err = parse_err(&text);
    assert!(
        err.contains("line 2: `controller > database > url`: expected a string"),
        "{err}"
    );
    let err = parse_err(&text.replace("url = 3", "url = \"sqlite::memory:\""));
    assert!(
        err.contains("decodes to 6 bytes") && !err.contains("c2VjcmV0"),
        "{err}"
    );
    let err = parse_err(&format!("controller {{\n}}\ncontroller {{\n}}\n{}", wa()));
    assert!(
        err.contains("line 3: `controller`: set twice; the first is at line 1"),
        "{err}"
    );
}

#[test]
fn keys_may_come_from_the_environment_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wa.key");
    std::fs::write(&file, format!("{KEY}\n")).unwrap();
    let text = wa().replace(KEY, &format!("file://{}", file.display()));
    let c = ControllerConfig::parse(&text).unwrap();
    assert_eq!(c.worker_auth_key.key[31], 31);
}
