//! `boundary connect` end to end: a real `boundary dev` (controller and worker in one
//! process), a real `sshd` and real `ssh`, driven through the `boundary` binary the way a
//! user does it, plus the tunnel library against the same worker for the protocol's
//! refusals.

#[path = "../support/mod.rs"]
mod support;

mod sshd;
mod transfer_data;
mod world;

use std::process::Stdio;
use std::time::Duration;

use boundary_net::tunnel::{TunnelError, TunnelSession};
use sshd::Sshd;
use support::cli::BOUNDARY;
use support::runtime::runtime;
use support::tcp_servers::{echo_server, reply_after_eof_server};
use transfer_data::{assert_moves_each_way, hash_stream, random_file};
use world::{BackgroundConnect, World, wait_output};

const TRANSFER: usize = 256 * 1024 * 1024;

#[test]
fn ssh_helper_runs_ssh_through_the_worker_and_cancels_the_session() {
    let world = World::start();
    let sshd = Sshd::start();
    let target = world.target(sshd.port, -1);
    let output = world
        .command()
        .args(["connect", "ssh", "-target-id", &target])
        .args(["-remote-command", "echo connected-through-boundary"])
        .arg("--")
        .args(sshd.client_options())
        .stdin(Stdio::null())
        .output()
        .expect("run boundary connect ssh");
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "connected-through-boundary"
    );
    // The host key is remembered under the target (ssh lower-cases the alias), not under
    // 127.0.0.1:<ephemeral port>.
    let known_hosts = std::fs::read_to_string(sshd.known_hosts()).expect("known_hosts");
    assert!(
        known_hosts.starts_with(&format!("{} ", target.to_lowercase())),
        "{known_hosts}"
    );

    world.wait_target_sessions_ended(&target);
}

#[test]
fn ssh_helper_moves_256_mib_each_way() {
    let world = World::start();
    let sshd = Sshd::start();
    let target = world.target(sshd.port, -1);
    let data = sshd.dir().join("data");
    let sum = random_file(&data, TRANSFER);
    let ssh = |remote: &str, stdin: Stdio| {
        world
            .command()
            .args([
                "connect",
                "ssh",
                "-target-id",
                &target,
                "-remote-command",
                remote,
            ])
            .arg("--")
            .args(sshd.client_options())
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run boundary connect ssh")
    };

    assert_moves_each_way(ssh, &data, &sum, TRANSFER, "");
}

#[test]
fn stdio_proxy_command_carries_ssh_to_an_alias() {
    let world = World::start();
    let sshd = Sshd::start();
    let target = world.target(sshd.port, -1);
    let alias = world.alias(&target);
    let data = sshd.dir().join("data");
    let sum = random_file(&data, TRANSFER);
    let proxy_command = format!("ProxyCommand={} connect -stdio %h", BOUNDARY);
    let ssh = |remote: &str, stdin: Stdio| {
        world
            .program("ssh")
            .args(sshd.client_options())
            .args(["-o", &proxy_command, &alias, remote])
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ssh")
    };

    let hello = wait_output(ssh("echo hello-over-stdio", Stdio::null()), "ssh");
    assert_eq!(
        String::from_utf8_lossy(&hello.stdout).trim(),
        "hello-over-stdio"
    );

    assert_moves_each_way(ssh, &data, &sum, TRANSFER, " over -stdio");

    // Each ssh run authorized its own session and canceled it when ssh was done.
    world.wait_target_sessions_ended(&target);
}

#[test]
fn stdio_half_closes_on_stdin_eof_and_returns_the_reply_on_stdout() {
    use std::io::Write;
    let world = World::start();
    let target = world.target(reply_after_eof_server(), -1);
    let request = vec![0xc3u8; 1024 * 1024 + 5];
    let mut child = world
        .command()
        .args([
            "connect",
            "-stdio",
            "-target-id",
            &target,
            "-format",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run boundary connect -stdio");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&request).unwrap();
    drop(stdin);
    let output = wait_output(child, "boundary connect -stdio");
    // Only the connection's bytes on stdout: no session information, even with JSON.
    let (sum, _) = hash_stream(&request[..]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{} {sum}\n", request.len())
    );
    world.wait_target_sessions_ended(&target);
}

#[test]
fn exec_fills_the_templates_and_returns_the_exit_code() {
    let world = World::start();
    let sshd = Sshd::start();
    let target = world.target(sshd.port, -1);
    let mut ssh_args = sshd.client_options();
    ssh_args.extend(
        [
            "-p",
            "{{boundary.port}}",
            "{{ boundary.ip }}",
            "echo via-exec; exit 7",
        ]
        .map(String::from),
    );
    let output = world
        .command()
        .args(["connect", "-target-id", &target, "-exec", "ssh", "--"])
        .args(ssh_args)
        .stdin(Stdio::null())
        .output()
        .expect("run boundary connect -exec");
    assert_eq!(output.status.code(), Some(7), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("via-exec"), "{stdout}");
    assert!(stdout.contains("Proxy listening information"), "{stdout}");
    world.wait_target_sessions_ended(&target);
}

#[test]
fn half_close_reaches_the_target_and_the_reply_still_comes_back() {
    use std::io::{Read, Write};
    let world = World::start();
    let target = world.target(reply_after_eof_server(), -1);
    let mut connect = BackgroundConnect::start(&world, &["-target-id", &target]);

    let request = vec![0x5au8; 3 * 1024 * 1024 + 17];
    let mut tcp = std::net::TcpStream::connect(connect.address()).expect("connect locally");
    tcp.write_all(&request).unwrap();
    tcp.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    let (sum, _) = hash_stream(&request[..]);
    assert_eq!(reply.trim(), format!("{} {sum}", request.len()));
    assert_eq!(connect.next_json()["connections_left"], -1);

    let session = connect.session_id();
    assert!(connect.interrupt().success());
    world.wait_session_ended(&session);
}

#[test]
fn interrupting_an_unused_proxy_cancels_its_session() {
    let world = World::start();
    let target = world.target(echo_server(), -1);
    let mut connect = BackgroundConnect::start(&world, &["-target-id", &target]);
    let session = connect.session_id();
    assert!(connect.interrupt().success());
    world.wait_session_ended(&session);
    let termination = connect.next_json();
    assert_eq!(
        termination["termination_reason"],
        "Received shutdown signal"
    );
}

#[test]
fn cancel_through_the_api_ends_a_live_connection() {
    use std::io::{Read, Write};
    let world = World::start();
    let target = world.target(echo_server(), -1);
    let mut connect = BackgroundConnect::start(&world, &["-target-id", &target]);
    let mut tcp = std::net::TcpStream::connect(connect.address()).expect("connect locally");
    tcp.write_all(b"ping").unwrap();
    let mut pong = [0u8; 4];
    tcp.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"ping");

    world
        .cli()
        .run(&[
            "sessions",
            "cancel",
            "-id",
            &connect.session_id(),
            "-format",
            "json",
        ])
        .json();
    // The worker closes the tunnel: EOF or a reset, nothing more from the target. A
    // tunnel left open would hang here, and the generous bound turns that into a failure
    // (how fast it ends is the fault suite's and the harness's to measure, not a test's).
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut rest = vec![];
    match tcp.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("the cancelled session's connection did not end: {error}"),
    }
    assert!(rest.is_empty(), "bytes after the cancel: {rest:?}");
    connect.interrupt();
}

#[test]
fn connection_limit_two_refuses_the_third_connection() {
    let world = World::start();
    let target = world.target(echo_server(), 2);
    let (_session_id, token) = world.authorize(&target);
    runtime().block_on(async {
        let session = TunnelSession::from_token(&token).expect("token");
        let first = session.connect().await.expect("first connection");
        assert_eq!(first.connections_left(), 1);
        let second = session.connect().await.expect("second connection");
        assert_eq!(second.connections_left(), 0);
        match session.connect().await {
            Err(TunnelError::Refused { reason }) => {
                assert_eq!(reason, boundary_wire::proto::close::UNABLE_TO_AUTHORIZE)
            }
            other => panic!("third connection: {other:?}"),
        }
    });
}

#[test]
fn a_second_client_with_another_tofu_token_is_refused() {
    let world = World::start();
    let target = world.target(echo_server(), -1);
    let (_session_id, token) = world.authorize(&target);
    runtime().block_on(async {
        let owner = TunnelSession::from_token(&token).expect("token");
        let _tunnel = owner.connect().await.expect("first client");
        let intruder = TunnelSession::from_token(&token).expect("token");
        match intruder.connect().await {
            Err(TunnelError::TofuNotAllowed { reason }) => {
                assert_eq!(reason, boundary_wire::proto::close::TOFU_NOT_ALLOWED)
            }
            other => panic!("second client: {other:?}"),
        }
    });
}
