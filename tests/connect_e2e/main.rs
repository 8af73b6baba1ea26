//! `boundary connect` end to end: a real `boundary dev` (controller and worker in one
//! process), a real `sshd` and real `ssh`, driven through the `boundary` binary the way a
//! user does it, plus the tunnel library against the same worker for the protocol's
//! refusals.

#[path = "../common/mod.rs"]
mod common;
mod servers;
mod sshd;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use boundary::tunnel::{TunnelError, TunnelSession};
use common::{Dev, PROJECT_ID, boundary_bin, runtime, unique_alias};
use serde_json::Value;
use servers::{echo_server, hash_stream, random_file, reply_after_eof_server};
use sshd::Sshd;

const TRANSFER: usize = 256 * 1024 * 1024;

/// A `boundary dev` with an admin token, and the environment every `boundary` run gets.
struct World {
    dev: Dev,
    token: String,
}

impl World {
    fn start() -> World {
        let dev = Dev::start();
        let token = dev.admin_token();
        World { dev, token }
    }

    /// `boundary` with a clean environment pointing at this controller and token.
    fn command(&self) -> Command {
        self.program(boundary_bin())
    }

    /// Any program with that environment (ssh passes it on to its ProxyCommand).
    fn program(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars() {
            if key.starts_with("BOUNDARY_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("BOUNDARY_ADDR", &self.dev.addr)
            .env("BOUNDARY_TOKEN", &self.token)
            .env("BOUNDARY_KEYRING_TYPE", "none");
        cmd
    }

    fn cli(&self) -> common::Cli {
        self.dev
            .cli()
            .env("BOUNDARY_TOKEN", &self.token)
            .env("BOUNDARY_KEYRING_TYPE", "none")
    }

    /// A tcp target on 127.0.0.1:`port`.
    fn target(&self, port: u16, connection_limit: i32) -> String {
        let doc = self
            .cli()
            .run(&[
                "targets",
                "create",
                "tcp",
                "-scope-id",
                PROJECT_ID,
                "-name",
                &unique_alias("target"),
                "-address",
                "127.0.0.1",
                "-default-port",
                &port.to_string(),
                "-session-connection-limit",
                &connection_limit.to_string(),
                "-format",
                "json",
            ])
            .json();
        doc["item"]["id"].as_str().expect("target id").to_string()
    }

    fn alias(&self, target_id: &str) -> String {
        let value = unique_alias("ssh");
        self.cli()
            .run(&[
                "aliases",
                "create",
                "target",
                "-value",
                &value,
                "-destination-id",
                target_id,
                "-format",
                "json",
            ])
            .json();
        value
    }

    /// `targets authorize-session`: (session id, authorization token).
    fn authorize(&self, target_id: &str) -> (String, String) {
        let doc = self
            .cli()
            .run(&[
                "targets",
                "authorize-session",
                "-id",
                target_id,
                "-format",
                "json",
            ])
            .json();
        let item = &doc["item"];
        (
            item["session_id"].as_str().expect("session id").to_string(),
            item["authorization_token"]
                .as_str()
                .expect("authorization token")
                .to_string(),
        )
    }

    fn session_status(&self, session_id: &str) -> String {
        let doc = self
            .cli()
            .run(&["sessions", "read", "-id", session_id, "-format", "json"])
            .json();
        doc["item"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The target's sessions that are not terminated (the listing leaves those out).
    fn sessions_of(&self, target_id: &str) -> Vec<Value> {
        let doc = self
            .cli()
            .run(&[
                "sessions",
                "list",
                "-scope-id",
                PROJECT_ID,
                "-format",
                "json",
            ])
            .json();
        doc["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s["target_id"] == target_id)
            .collect()
    }

    /// Polls until no session of the target is pending or active any more.
    fn wait_target_sessions_ended(&self, target_id: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let live: Vec<_> = self
                .sessions_of(target_id)
                .into_iter()
                .filter(|s| s["status"] == "pending" || s["status"] == "active")
                .collect();
            if live.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "sessions still live: {live:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls until the session is no longer usable (canceling or terminated).
    fn wait_session_ended(&self, session_id: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.session_status(session_id);
            if status == "canceling" || status == "terminated" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "session {session_id} is still {status:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn wait_output(child: Child, what: &str) -> std::process::Output {
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A `boundary connect -format json` running in the background, its stdout lines
/// collected by a thread.
struct BackgroundConnect {
    child: Child,
    lines: mpsc::Receiver<String>,
    info: Value,
}

impl BackgroundConnect {
    fn start(world: &World, args: &[&str]) -> BackgroundConnect {
        let mut child = world
            .command()
            .arg("connect")
            .args(args)
            .args(["-format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start boundary connect");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut connect = BackgroundConnect {
            child,
            lines,
            info: Value::Null,
        };
        connect.info = connect.next_json();
        connect
    }

    fn next_json(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("boundary connect printed a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    fn address(&self) -> String {
        format!(
            "{}:{}",
            self.info["address"].as_str().unwrap(),
            self.info["port"]
        )
    }

    fn session_id(&self) -> String {
        self.info["session_id"].as_str().unwrap().to_string()
    }

    /// Ctrl-C, then the exit status.
    fn interrupt(&mut self) -> ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "boundary connect ignored SIGINT");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for BackgroundConnect {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

    let upload = ssh(
        "sha256sum",
        Stdio::from(std::fs::File::open(&data).unwrap()),
    );
    let output = wait_output(upload, "upload");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .next(),
        Some(sum.as_str())
    );

    let mut download = ssh(&format!("cat {}", data.display()), Stdio::null());
    let (downloaded, length) = hash_stream(download.stdout.take().unwrap());
    wait_output(download, "download");
    assert_eq!((downloaded, length), (sum, TRANSFER as u64));
}

#[test]
fn stdio_proxy_command_carries_ssh_to_an_alias() {
    let world = World::start();
    let sshd = Sshd::start();
    let target = world.target(sshd.port, -1);
    let alias = world.alias(&target);
    let data = sshd.dir().join("data");
    let sum = random_file(&data, TRANSFER);
    let proxy_command = format!("ProxyCommand={} connect -stdio %h", boundary_bin());
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

    let upload = ssh(
        "sha256sum",
        Stdio::from(std::fs::File::open(&data).unwrap()),
    );
    let output = wait_output(upload, "upload over -stdio");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .next(),
        Some(sum.as_str())
    );

    let mut download = ssh(&format!("cat {}", data.display()), Stdio::null());
    let (downloaded, length) = hash_stream(download.stdout.take().unwrap());
    wait_output(download, "download over -stdio");
    assert_eq!((downloaded, length), (sum, TRANSFER as u64));

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
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut rest = vec![];
    // EOF (or a reset) instead of hanging: the worker closed the tunnel.
    let _ = tcp.read_to_end(&mut rest);
    assert!(rest.is_empty());
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
                assert_eq!(reason, boundary::proto::close::UNABLE_TO_AUTHORIZE)
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
                assert_eq!(reason, boundary::proto::close::TOFU_NOT_ALLOWED)
            }
            other => panic!("second client: {other:?}"),
        }
    });
}
