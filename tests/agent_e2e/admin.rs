//! What the administrator of `boundary dev` does: the real `boundary` CLI run in `infra`
//! (another machine than the client, so no admin token ever reaches the client's agent),
//! and plain HTTP with curl where the CLI has no verb (credential stores, credentials, a
//! target's brokered credential sources; bodies as in docs/wire-contract.md §1).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::controller::{AUTH_METHOD_ID, CONTROLLER_URL, Controller, PROJECT_ID, TARGET_ID};
use crate::support::cli::{Cli, Run, parse_json};
use crate::support::curl::curl;
use crate::support::topology::Topology;
use crate::support::wait::{READY_TIMEOUT, poll_until};

const ADMIN_LOGIN: &str = "admin";
const ADMIN_PASSWORD: &str = "password";
/// The environment variable `-password env://…` reads.
const PASSWORD_VARIABLE: &str = "BOUNDARY_E2E_PASSWORD";

/// The grants a user of the agent needs (docs/wire-contract.md §1.7), `read` so that the agent may
/// show the target.
pub const AGENT_USER_GRANTS: [&str; 3] = [
    "type=target;ids=*;actions=authorize-session,read",
    "type=auth-token;ids=*;actions=read:self",
    "type=user;ids=*;actions=list-resolvable-aliases",
];

/// A Boundary user with a password account.
#[derive(Clone, Debug)]
pub struct BoundaryUser {
    pub login_name: String,
    pub password: String,
    pub user_id: String,
    pub account_id: String,
}

/// A logged-in token.
#[derive(Clone, Debug)]
pub struct Login {
    pub token: String,
    pub token_id: String,
}

/// `boundary authenticate password … -keyring-type none -format json` run in `infra`
/// (another machine: nothing is pushed to the client's agent).
pub fn log_in(topology: &Topology, login_name: &str, password: &str) -> Login {
    authenticate(Cli::in_netns(&topology.infra, None), login_name, password)
}

/// `boundary authenticate password` with `cli`; the token comes from `.item.attributes`.
pub fn authenticate(cli: Cli, login_name: &str, password: &str) -> Login {
    let document = run_with_password(cli, &["authenticate", "password"], login_name, password);
    login_from(&document)
}

/// `boundary authenticate password` with `cli`, whatever its outcome (what it printed
/// to stderr about handing the token to the client agent, say).
pub fn authenticate_run(cli: Cli, login_name: &str, password: &str) -> Run {
    password_command(cli, &["authenticate", "password"], login_name, password)
}

/// `boundary <command> -auth-method-id … -login-name <login_name> -password env://…`
/// with `cli` (the password never on a command line); the JSON document.
fn run_with_password(cli: Cli, command: &[&str], login_name: &str, password: &str) -> Value {
    password_command(cli, command, login_name, password).json()
}

fn password_command(cli: Cli, command: &[&str], login_name: &str, password: &str) -> Run {
    let password_source = format!("env://{PASSWORD_VARIABLE}");
    let mut args = command.to_vec();
    args.extend([
        "-auth-method-id",
        AUTH_METHOD_ID,
        "-login-name",
        login_name,
        "-password",
        &password_source,
    ]);
    run_json_cli(&cli.env(PASSWORD_VARIABLE, password), &args)
}

/// `boundary <args> -addr … -keyring-type none -format json` with `cli`.
fn run_json_cli(cli: &Cli, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend([
        "-addr",
        CONTROLLER_URL,
        "-keyring-type",
        "none",
        "-format",
        "json",
    ]);
    cli.run(&all)
}

/// The token and its id from `authenticate password -format json` output.
fn login_from(document: &Value) -> Login {
    let attributes = &document["item"]["attributes"];
    let field = |name: &str| {
        attributes[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in the login answer {attributes}"))
            .to_owned()
    };
    Login {
        token: field("token"),
        token_id: field("id"),
    }
}

/// The administrator: the seeded `admin` logged in, acting with the real CLI.
pub struct Admin {
    token: String,
    /// A root-only file holding the `Authorization` header for curl (never on a command
    /// line).
    header_file: PathBuf,
}

impl Admin {
    pub fn log_in(topology: &Topology) -> Admin {
        let login = log_in(topology, ADMIN_LOGIN, ADMIN_PASSWORD);
        let header_file = topology.dir().join("admin-authorization-header");
        fs::write(
            &header_file,
            format!("Authorization: Bearer {}\n", login.token),
        )
        .expect("write the admin's header file");
        fs::set_permissions(&header_file, fs::Permissions::from_mode(0o600))
            .expect("chmod the admin's header file");
        Admin {
            token: login.token,
            header_file,
        }
    }

    /// `boundary <args> -addr … -keyring-type none -format json` in `infra` with the
    /// admin's token; panics unless it succeeds; returns the JSON document.
    pub fn cli(&self, topology: &Topology, args: &[&str]) -> Value {
        self.try_cli(topology, args).json()
    }

    pub fn try_cli(&self, topology: &Topology, args: &[&str]) -> Run {
        run_json_cli(&self.cli_env(topology), args)
    }

    /// `boundary` in `infra` with the admin's token.
    fn cli_env<'a>(&self, topology: &'a Topology) -> Cli<'a> {
        Cli::in_netns(&topology.infra, None).env("BOUNDARY_TOKEN", &self.token)
    }

    /// A REST call with curl in `infra`; panics unless the answer is 2xx; returns the
    /// JSON body (`Null` when empty).
    pub fn http(&self, topology: &Topology, method: &str, path: &str, body: Value) -> Value {
        let header = format!("@{}", self.header_file.display());
        let url = format!("{CONTROLLER_URL}{path}");
        let body = body.to_string();
        let args = [
            "-X",
            method,
            "-H",
            &header,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
            &url,
        ];
        let (code, text) = curl(&topology.infra, None, &args, None);
        assert!(
            (200..300).contains(&code),
            "{method} {path} answered {code}: {text}"
        );
        if text.trim().is_empty() {
            Value::Null
        } else {
            parse_json(&text)
        }
    }

    /// Waits until the dev worker has registered, proven by the admin authorizing a
    /// session on the seeded target (then cancelled), so the agent's first
    /// authorization cannot meet "No workers are available".
    pub fn wait_for_worker(&self, topology: &Topology, controller: &Controller) {
        let session_id = poll_until("the dev worker to register", READY_TIMEOUT, || {
            controller.fail_if_exited(topology);
            let run = self.try_cli(
                topology,
                &["targets", "authorize-session", "-id", TARGET_ID],
            );
            if !run.success() {
                return Err(format!("{}{}", run.stdout, run.stderr));
            }
            let document = run.json();
            Ok(document["item"]["session_id"]
                .as_str()
                .unwrap_or_else(|| panic!("no session_id in {document}"))
                .to_owned())
        });
        self.cli(topology, &["sessions", "cancel", "-id", &session_id]);
    }

    /// A global alias `value` → `target_id`; returns its id.
    pub fn create_alias(&self, topology: &Topology, value: &str, target_id: &str) -> String {
        let document = self.cli(
            topology,
            &[
                "aliases",
                "create",
                "target",
                "-value",
                value,
                "-destination-id",
                target_id,
            ],
        );
        id_of(&document)
    }

    /// A user with a password account `login_name` and a global role holding `grants`
    /// for the global scope and every scope below it (targets live in a project).
    /// `grants` empty: no role at all.
    pub fn create_user(
        &self,
        topology: &Topology,
        login_name: &str,
        password: &str,
        grants: &[&str],
    ) -> BoundaryUser {
        let account = run_with_password(
            self.cli_env(topology),
            &["accounts", "create", "password"],
            login_name,
            password,
        );
        let account_id = id_of(&account);
        let user_id = id_of(&self.cli(
            topology,
            &[
                "users",
                "create",
                "-scope-id",
                "global",
                "-name",
                login_name,
            ],
        ));
        self.cli(
            topology,
            &[
                "users",
                "add-accounts",
                "-id",
                &user_id,
                "-account",
                &account_id,
            ],
        );
        if !grants.is_empty() {
            let role_name = format!("{login_name}-role");
            let role_id = id_of(&self.cli(
                topology,
                &[
                    "roles",
                    "create",
                    "-scope-id",
                    "global",
                    "-name",
                    &role_name,
                    "-grant-scope-id",
                    "this",
                    "-grant-scope-id",
                    "descendants",
                ],
            ));
            let mut add_grants = vec!["roles", "add-grants", "-id", &role_id];
            for grant in grants {
                add_grants.extend(["-grant", grant]);
            }
            self.cli(topology, &add_grants);
            self.cli(
                topology,
                &[
                    "roles",
                    "add-principals",
                    "-id",
                    &role_id,
                    "-principal",
                    &user_id,
                ],
            );
        }
        BoundaryUser {
            login_name: login_name.to_owned(),
            password: password.to_owned(),
            user_id,
            account_id,
        }
    }

    /// A static credential store in the project holding one `username_password`
    /// credential, brokered by `target_id`; returns the credential's id.
    pub fn attach_username_password(
        &self,
        topology: &Topology,
        target_id: &str,
        username: &str,
        password: &str,
    ) -> String {
        let store = self.http(
            topology,
            "POST",
            "/v1/credential-stores",
            json!({"scope_id": PROJECT_ID, "type": "static", "name": "e2e store"}),
        );
        let credential = self.http(
            topology,
            "POST",
            "/v1/credentials",
            json!({
                "credential_store_id": store["id"],
                "type": "username_password",
                "name": "db login",
                "attributes": {"username": username, "password": password},
            }),
        );
        let credential_id = credential["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {credential}"))
            .to_owned();
        let target = self.cli(topology, &["targets", "read", "-id", target_id]);
        self.http(
            topology,
            "POST",
            &format!("/v1/targets/{target_id}:add-credential-sources"),
            json!({
                "version": target["item"]["version"],
                "brokered_credential_source_ids": [credential_id],
            }),
        );
        credential_id
    }

    /// Every session in the dev project, as the controller sees them.
    pub fn sessions(&self, topology: &Topology) -> Vec<Value> {
        let document = self.cli(topology, &["sessions", "list", "-scope-id", PROJECT_ID]);
        document["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {document}"))
            .clone()
    }
}

fn id_of(document: &Value) -> String {
    document["item"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no item id in {document}"))
        .to_owned()
}
