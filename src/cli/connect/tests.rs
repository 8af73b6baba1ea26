//! Flag parsing and the ssh helper's command line.

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};
use boundary_wire::go_flags::normalize_go_style_flags;

fn parse(args: &[&str]) -> Result<ConnectArgs, clap::Error> {
    let argv = ["boundary", "connect"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect();
    match Cli::try_parse_from(normalize_go_style_flags(argv))?.command {
        Command::Connect(c) => Ok(*c),
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn exec_flags_and_passthrough_arguments() {
    let a = parse(&[
        "-exec",
        "nc",
        "-target-id",
        "ttcp_1234567890",
        "-listen-port=4000",
        "--",
        "-v",
        "{{boundary.ip}}",
        "{{boundary.port}}",
    ])
    .unwrap();
    assert_eq!(a.exec.as_deref(), Some("nc"));
    assert_eq!(a.target.target_id.as_deref(), Some("ttcp_1234567890"));
    assert_eq!(a.listen_port, 4000);
    assert_eq!(a.listen_addr.to_string(), "127.0.0.1");
    assert_eq!(a.args, ["-v", "{{boundary.ip}}", "{{boundary.port}}"]);
    assert!(a.helper.is_none() && !a.stdio);
}

#[test]
fn stdio_with_an_alias_as_ssh_proxy_command_uses_it() {
    let a = parse(&["-stdio", "db.prod.example"]).unwrap();
    assert!(a.stdio);
    assert_eq!(a.target.alias.as_deref(), Some("db.prod.example"));
    let a = parse(&["db.prod.example", "-stdio", "-format", "json"]).unwrap();
    assert!(a.stdio);
    assert!(parse(&["-stdio", "-exec", "nc", "x.example"]).is_err());
}

#[test]
fn ssh_helper_flags() {
    let a = parse(&[
        "ssh",
        "-target-name",
        "db",
        "-target-scope-id",
        "p_1234567890",
        "-username",
        "alice",
        "--",
        "-v",
    ])
    .unwrap();
    let Some(ConnectHelper::Ssh(ssh)) = a.helper else {
        panic!("not the ssh helper");
    };
    assert_eq!(ssh.target.target_name.as_deref(), Some("db"));
    assert_eq!(ssh.username.as_deref(), Some("alice"));
    assert_eq!(ssh.args, ["-v"]);
    assert_eq!(ssh.style, "ssh");
}

#[test]
fn the_authz_token_never_shows_in_debug_output() {
    let a = parse(&["-authz-token", "SECRETTOKENVALUE"]).unwrap();
    assert!(!format!("{a:?}").contains("SECRETTOKENVALUE"));
}

fn info(credentials: serde_json::Value, host_id: &str) -> SessionInfo {
    SessionInfo {
        address: "127.0.0.1".into(),
        port: 40123,
        protocol: "tcp".into(),
        expiration: None,
        connection_limit: -1,
        session_id: "s_1234567890".into(),
        credentials: serde_json::from_value(credentials).unwrap(),
        target_id: "ttcp_1234567890".into(),
        host_id: host_id.into(),
    }
}

fn ssh_args(args: &[&str]) -> SshArgs {
    let mut argv = vec!["ssh"];
    argv.extend(args);
    match parse(&argv).unwrap().helper {
        Some(ConnectHelper::Ssh(ssh)) => ssh,
        None => panic!("not the ssh helper"),
    }
}

#[test]
fn ssh_command_line_without_credentials() {
    let plan = exec::ssh_plan(
        &ssh_args(&[
            "-target-id",
            "ttcp_1234567890",
            "-remote-command",
            "uname -a",
            "--",
            "-v",
        ]),
        &info(serde_json::json!([]), ""),
    )
    .unwrap();
    assert_eq!(
        plan.invocation_args(),
        [
            "-v",
            "-p",
            "40123",
            "-o",
            "HostKeyAlias=ttcp_1234567890",
            "127.0.0.1",
            "uname",
            "-a"
        ]
    );
    assert!(plan.unused_credentials.is_empty());
}

#[test]
fn ssh_uses_the_brokered_username_and_shows_the_password() {
    let creds = serde_json::json!([{
        "credential_source": {"id": "credup_1234567890", "credential_type": "username_password"},
        "credential": {"username": "bob", "password": "pw"}
    }]);
    let plan = exec::ssh_plan(
        &ssh_args(&["-target-id", "ttcp_1234567890"]),
        &info(creds.clone(), "hst_1234567890"),
    )
    .unwrap();
    assert_eq!(
        plan.invocation_args(),
        [
            "-p",
            "40123",
            "-o",
            "HostKeyAlias=hst_1234567890",
            "-l",
            "bob",
            "127.0.0.1"
        ]
    );
    assert_eq!(plan.unused_credentials.len(), 1);
    // -username wins over the brokered one.
    let plan = exec::ssh_plan(&ssh_args(&["-username", "carol"]), &info(creds, "")).unwrap();
    assert!(
        plan.invocation_args()
            .windows(2)
            .any(|w| w == ["-l", "carol"])
    );
}

#[test]
fn ssh_writes_a_brokered_private_key_to_a_private_file_and_removes_it() {
    use std::os::unix::fs::PermissionsExt;
    let creds = serde_json::json!([{
        "credential_source": {"id": "credspk_1234567890", "credential_type": "ssh_private_key"},
        "credential": {"username": "dave", "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"}
    }]);
    let plan = exec::ssh_plan(&ssh_args(&[]), &info(creds, "")).unwrap();
    let args = plan.invocation_args();
    let key_path = args[args.iter().position(|a| a == "-i").unwrap() + 1].clone();
    let metadata = std::fs::metadata(&key_path).unwrap();
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&key_path)
            .unwrap()
            .ends_with("-----\n")
    );
    assert!(args.windows(2).any(|w| w == ["-l", "dave"]));
    drop(plan);
    assert!(!std::path::Path::new(&key_path).exists());
}
