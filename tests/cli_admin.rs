//! The admin CLI end to end: a real `boundary dev`, driven by the real `boundary` binary
//! the way a user or a script does it.

mod support;

use serde_json::Value;
use support::cli::{Cli, Run};
use support::dev::{AUTH_METHOD_ID, Dev, LOGIN_NAME, PASSWORD, PROJECT_ID, free_port};
use support::keyring::KeyringEntry;
use support::names::unique_alias;

/// `boundary authenticate password` as the seeded admin with `password` (read from the
/// environment), `-keyring-type none` and `extra` flags.
fn authenticate(dev: &Dev, password: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "authenticate",
        "password",
        "-auth-method-id",
        AUTH_METHOD_ID,
        "-login-name",
        LOGIN_NAME,
        "-password",
        "env://TEST_PASSWORD",
        "-keyring-type",
        "none",
    ];
    args.extend_from_slice(extra);
    dev.cli().env("TEST_PASSWORD", password).run(&args)
}

/// Logs in with `-keyring-type none -format json` and returns the token from
/// `.item.attributes.token`, as Boundary scripts do.
fn login_json(dev: &Dev) -> String {
    let doc = authenticate(dev, PASSWORD, &["-format", "json"]).json();
    assert_eq!(doc["status_code"], 200, "{doc}");
    let token = doc["item"]["attributes"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {doc}"))
        .to_owned();
    assert!(token.starts_with("at_"), "{token}");
    token
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn targets_and_aliases_lifecycle_with_boundary_token() {
    let dev = Dev::start();
    let token = login_json(&dev);
    let cli = dev.cli().env("BOUNDARY_TOKEN", &token);

    // Create a target (Go-style flags, `=` form too) and an alias pointing at it.
    let target = cli
        .run(&[
            "targets",
            "create",
            "tcp",
            "-scope-id",
            PROJECT_ID,
            "-name=cli-admin-target",
            "-address",
            "127.0.0.1",
            "-default-port",
            "2222",
            "-default-client-port=2223",
            "-session-connection-limit",
            "-1",
            "-format",
            "json",
        ])
        .json();
    assert_eq!(target["status_code"], 200);
    let target = &target["item"];
    let target_id = target["id"].as_str().expect("target id").to_owned();
    assert!(target_id.starts_with("ttcp_"), "{target}");
    assert_eq!(target["attributes"]["default_port"], 2222);
    assert_eq!(target["attributes"]["default_client_port"], 2223);
    assert_eq!(target["address"], "127.0.0.1");

    let value = unique_alias("db");
    let alias = cli
        .run(&[
            "aliases",
            "create",
            "target",
            "-value",
            &value,
            "-destination-id",
            &target_id,
            "-format",
            "json",
        ])
        .json();
    let alias_id = alias["item"]["id"].as_str().expect("alias id").to_owned();
    assert!(alias_id.starts_with("alt_"), "{alias}");
    assert_eq!(alias["item"]["value"], value.as_str());

    // Lists: Boundary's `{"status_code":200,"items":[…]}`.
    let targets = cli
        .run(&[
            "targets",
            "list",
            "-scope-id",
            PROJECT_ID,
            "-format",
            "json",
        ])
        .json();
    assert_eq!(targets["status_code"], 200);
    assert!(ids(&targets["items"]).contains(&target_id), "{targets}");

    let aliases = cli.run(&["aliases", "list", "--format", "json"]).json();
    let listed = aliases["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|a| a["id"] == alias_id.as_str())
        .unwrap_or_else(|| panic!("alias {alias_id} not listed: {aliases}"))
        .clone();
    assert_eq!(listed["destination_id"], target_id.as_str());

    // Table mode shows the same resources.
    let table = cli.run(&["targets", "list", "-scope-id", PROJECT_ID]).ok();
    assert!(
        table.contains(&target_id) && table.contains("cli-admin-target"),
        "{table}"
    );
    let table = cli.run(&["aliases", "read", "-id", &alias_id]).ok();
    assert!(
        table.contains("Alias information") && table.contains(&value),
        "{table}"
    );

    // Read, update (version read automatically), delete.
    let read = cli
        .run(&["targets", "read", "-id", &target_id, "-format", "json"])
        .json();
    assert_eq!(read["item"]["name"], "cli-admin-target");
    let updated = cli
        .run(&[
            "targets", "update", "tcp", "-id", &target_id, "-name", "renamed", "-format", "json",
        ])
        .json();
    assert_eq!(updated["item"]["name"], "renamed");
    assert!(updated["item"]["version"].as_u64() > read["item"]["version"].as_u64());

    let deleted = cli
        .run(&["aliases", "delete", "-id", &alias_id, "-format", "json"])
        .json();
    assert_eq!(deleted, serde_json::json!({"status_code": 204}));
    cli.run(&["targets", "delete", "-id", &target_id]).ok();

    // Reading what is gone: exit 1, the controller's error as JSON on stdout.
    let gone = cli.run(&["targets", "read", "-id", &target_id, "-format", "json"]);
    assert_eq!(gone.code(), Some(1), "stderr: {}", gone.stderr);
    let doc = gone.json_any();
    assert_eq!(doc["status"], 404, "{doc}");
    assert_eq!(doc["api_error"]["kind"], "NotFound");
    let gone = cli.run(&["aliases", "read", "-id", &alias_id]);
    assert_eq!(gone.code(), Some(1));
    assert!(gone.stderr.contains("NotFound"), "{}", gone.stderr);
}

#[test]
fn keyutils_keyring_stores_the_token_for_later_commands() {
    let dev = Dev::start();
    let name = format!(
        "cli-admin-{}",
        boundary_wire::api::ids::random_base62(10).to_lowercase()
    );
    let _cleanup = KeyringEntry(name.clone());
    let cli = dev.cli().env("BOUNDARY_TOKEN_NAME", &name);

    let dir = tempfile::tempdir().expect("tempdir");
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("write password");
    // No -auth-method-id: the global scope's primary auth method is used.
    let out = cli
        .run(&[
            "authenticate",
            "password",
            "-login-name",
            LOGIN_NAME,
            "-password",
            &format!("file://{}", password_file.display()),
            "-keyring-type",
            "keyutils",
        ])
        .ok();
    assert!(out.contains("successfully stored"), "{out}");
    assert!(!out.contains("_s1"), "the token must not be printed: {out}");

    // No BOUNDARY_TOKEN, no -token: the keyring entry is used.
    let me = cli.run(&["auth-tokens", "read", "-format", "json"]).json();
    let token_id = me["item"]["id"].as_str().expect("token id").to_owned();
    assert!(token_id.starts_with("at_"), "{me}");
    cli.run(&["targets", "list", "-scope-id", PROJECT_ID]).ok();

    // Logging out deletes the token at the controller and forgets it in the keyring.
    cli.run(&["auth-tokens", "delete"]).ok();
    let after = cli.run(&["auth-tokens", "read"]);
    assert_eq!(after.code(), Some(2), "stderr: {}", after.stderr);
    assert!(after.stderr.contains("no -id given"), "{}", after.stderr);
}

#[test]
fn token_lookup_order_flag_then_env() {
    let dev = Dev::start();
    let token = login_json(&dev);
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).expect("write token");

    // -token file:// wins over a bad BOUNDARY_TOKEN.
    let cli = dev
        .cli()
        .env("BOUNDARY_TOKEN", "at_1234567890_s1bad")
        .env("MY_TOKEN", &token);
    let file_flag = format!("file://{}", token_file.display());
    cli.run(&[
        "targets",
        "list",
        "-scope-id",
        PROJECT_ID,
        "-token",
        &file_flag,
        "-keyring-type",
        "none",
    ])
    .ok();
    cli.run(&[
        "targets",
        "list",
        "-scope-id",
        PROJECT_ID,
        "-token",
        "env://MY_TOKEN",
        "-keyring-type",
        "none",
    ])
    .ok();
    // A literal -token is refused without echoing it.
    let literal = cli.run(&["targets", "list", "-token", &token, "-keyring-type", "none"]);
    assert_eq!(literal.code(), Some(2));
    assert!(!literal.stderr.contains(&token), "{}", literal.stderr);
}

#[test]
fn a_bad_token_is_an_api_error_and_a_down_controller_names_its_address() {
    let dev = Dev::start();
    let bad = dev
        .cli()
        .env("BOUNDARY_TOKEN", "at_1234567890_s1NotTheRealSecret")
        .run(&[
            "targets",
            "list",
            "-scope-id",
            PROJECT_ID,
            "-keyring-type",
            "none",
            "-format",
            "json",
        ]);
    assert_eq!(bad.code(), Some(1), "stderr: {}", bad.stderr);
    let doc = bad.json_any();
    let status = doc["status"].as_u64().unwrap_or_default();
    assert!(status == 401 || status == 403, "{doc}");
    assert!(!bad.stderr.contains("NotTheRealSecret"), "{}", bad.stderr);

    let wrong_password = authenticate(&dev, "not-the-password", &[]);
    assert_eq!(wrong_password.code(), Some(1), "{}", wrong_password.stderr);
    assert!(
        wrong_password.stderr.contains("401"),
        "{}",
        wrong_password.stderr
    );

    let down = format!("http://127.0.0.1:{}", free_port());
    let run = Cli::new(&down).run(&["targets", "list", "-keyring-type", "none"]);
    assert_eq!(run.code(), Some(2));
    assert!(
        run.stderr
            .contains(&format!("could not connect to the controller at {down}")),
        "{}",
        run.stderr
    );
    let run = Cli::new(&down).run(&[
        "aliases",
        "list",
        "-keyring-type",
        "none",
        "-format",
        "json",
    ]);
    assert_eq!(run.code(), Some(2));
    let doc = run.json_any();
    assert!(
        doc["error"].as_str().unwrap_or_default().contains(&down),
        "{doc}"
    );
}

/// A stand-in for a real Boundary v0.21.3 controller: it answers the anonymous
/// auth-method list and the password login with the bodies the real one sent
/// (tests/fixtures/boundary-0.21.3/), and records every request line.
struct CapturedController {
    url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl CapturedController {
    fn start() -> CapturedController {
        use std::io::{BufRead, BufReader, Read, Write};
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/boundary-0.21.3");
        let read = |name: &str| std::fs::read_to_string(fixtures.join(name)).expect(name);
        let auth_methods = read("auth-methods-list-anonymous.json");
        let login = read("authenticate-password.json");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded = std::sync::Arc::clone(&requests);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let request = line.trim().to_owned();
                recorded.lock().unwrap().push(request.clone());
                let (status, answer) = if request.starts_with("GET /v1/auth-methods?") {
                    ("200 OK", auth_methods.as_str())
                } else if request.starts_with("POST /v1/auth-methods/ampw_1234567890:authenticate ")
                {
                    ("200 OK", login.as_str())
                } else {
                    (
                        "404 Not Found",
                        r#"{"kind":"NotFound", "message":"Resource not found."}"#,
                    )
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        CapturedController { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// `boundary authenticate password` without `-auth-method-id` finds the scope's primary
/// auth method in the anonymous list. Boundary shows callers without a token neither the
/// times nor the version of its auth methods; that list must still be understood.
#[test]
fn login_without_auth_method_id_reads_boundarys_anonymous_auth_method_list() {
    let controller = CapturedController::start();
    let run = Cli::new(&controller.url)
        .env("TEST_PASSWORD", "password")
        .env("BOUNDARY_SKIP_CLIENT_AGENT", "true")
        .run(&[
            "authenticate",
            "password",
            "-login-name",
            "admin",
            "-password",
            "env://TEST_PASSWORD",
            "-keyring-type",
            "none",
            "-format",
            "json",
        ]);
    let doc = run.json();
    assert_eq!(doc["status_code"], 200, "{doc}");
    assert_eq!(
        doc["item"]["attributes"]["auth_method_id"],
        "ampw_1234567890"
    );
    let requests = controller.requests();
    assert!(
        requests[0].starts_with("GET /v1/auth-methods?") && requests[0].contains("scope_id=global"),
        "{requests:?}"
    );
    assert!(
        requests[1].starts_with("POST /v1/auth-methods/ampw_1234567890:authenticate "),
        "{requests:?}"
    );
}
