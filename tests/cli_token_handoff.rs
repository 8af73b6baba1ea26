//! `boundary authenticate password` against a real `boundary dev`, pushing the new token
//! to "the client agent" on a port where something else listens. A listener of another
//! local user receives nothing and the CLI says whose it is, while the login succeeds and
//! the token is kept in the keyring; so does a listener that never accepts; a listener of
//! root (as the agent runs) receives the token. (The real agent receiving it is covered by
//! agent_e2e.) Needs root.
#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use support::cli::{Cli, Run};
use support::dev::{AUTH_METHOD_ID, Dev, LOGIN_NAME, PASSWORD};
use support::keyring::KeyringEntry;
use support::os_user::{OsUser, as_socket_owner};
use support::process::HANG_TIMEOUT;
use support::runtime::block_on_thread;

/// A listener on 127.0.0.1 that records every byte each connection sends (answering a
/// complete HTTP request with 200, as the agent would), in a thread of its own that
/// lives as long as the test process.
struct RecordingListener {
    port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    /// One message per connection, once it is closed and recorded.
    closed: mpsc::Receiver<()>,
}

impl RecordingListener {
    /// Owned, and its connections accepted, by `owner` (root when `None`).
    fn start(owner: Option<&OsUser>) -> RecordingListener {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (closed_sender, closed) = mpsc::channel();
        let (port_sender, port) = mpsc::channel();
        let record = received.clone();
        let uid = owner.map(|user| user.uid);
        std::thread::spawn(move || {
            let serve = || {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
                port_sender
                    .send(listener.local_addr().unwrap().port())
                    .unwrap();
                for stream in listener.incoming().flatten() {
                    record_connection(stream, &record);
                    let _ = closed_sender.send(());
                }
            };
            match uid {
                Some(uid) => as_socket_owner(uid, serve),
                None => serve(),
            }
        });
        RecordingListener {
            port: port
                .recv_timeout(HANG_TIMEOUT)
                .expect("the listener starts"),
            received,
            closed,
        }
    }

    /// Waits until a connection has come and gone; everything received so far.
    fn received_after_a_connection(&self) -> String {
        self.closed
            .recv_timeout(HANG_TIMEOUT)
            .expect("a connection to the listener, closed");
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

/// Reads until the client closes; a complete HTTP request gets a 200 first.
fn record_connection(mut stream: TcpStream, record: &Mutex<Vec<u8>>) {
    let _ = stream.set_read_timeout(Some(HANG_TIMEOUT));
    let mut connection = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut answered = false;
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        connection.extend_from_slice(&buffer[..n]);
        record.lock().unwrap().extend_from_slice(&buffer[..n]);
        if !answered && is_complete_request(&connection) {
            answered = true;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
    }
}

fn is_complete_request(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
}

/// `boundary authenticate password` as the dev admin, pushing to `port`.
fn authenticate(dev: &Dev, port: u16, extra: &[&str]) -> Run {
    let port = port.to_string();
    let mut args = vec![
        "authenticate",
        "password",
        "-auth-method-id",
        AUTH_METHOD_ID,
        "-login-name",
        LOGIN_NAME,
        "-password",
        "env://BT_HANDOFF_PASSWORD",
        "-client-agent-port",
        &port,
    ];
    args.extend_from_slice(extra);
    Cli::new(&dev.api)
        .env("BT_HANDOFF_PASSWORD", PASSWORD)
        .run(&args)
}

#[test]
fn another_users_listener_on_the_agent_port_gets_no_token() {
    let mallory = OsUser::create("btmal");
    let dev = Dev::builder().controller_only().start();
    let impostor = RecordingListener::start(Some(&mallory));
    let token_name = format!("bt-handoff-{}", std::process::id());
    let _cleanup = KeyringEntry(token_name.clone());

    let run = authenticate(&dev, impostor.port, &["-token-name", &token_name]);

    assert!(run.success(), "the login itself succeeds: {run:?}");
    assert!(
        run.stdout.contains("successfully stored"),
        "the token is in the keyring: {run:?}"
    );
    let stored =
        block_on_thread(boundary::cli::token_store::load(&token_name)).expect("read the keyring");
    assert!(
        stored.is_some(),
        "no token named {token_name} in the keyring"
    );
    let owner = format!("uid {} ({})", mallory.uid, mallory.name);
    assert!(
        run.stderr
            .contains("Warning: the token was not handed to the client agent")
            && run.stderr.contains(&owner)
            && run.stderr.contains("not by root"),
        "the CLI says why, naming {owner}: {}",
        run.stderr
    );
    assert_eq!(
        impostor.received_after_a_connection(),
        "",
        "the impostor received something"
    );
}

#[test]
fn a_listener_of_root_gets_the_token() {
    let dev = Dev::builder().controller_only().start();
    let agent = RecordingListener::start(None);

    let run = authenticate(&dev, agent.port, &["-keyring-type", "none"]);

    assert!(run.success(), "{run:?}");
    assert!(!run.stderr.contains("not handed"), "{}", run.stderr);
    let received = agent.received_after_a_connection();
    assert!(
        received.starts_with("POST /v1/tokens HTTP/1.1\r\n"),
        "{received}"
    );
    assert!(
        received.contains(&format!("\"boundary_addr\":\"{}\"", dev.api)),
        "{received}"
    );
    // The printed token (no keyring) is the one the listener got.
    let token = run
        .stdout
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("at_"))
        .unwrap_or_else(|| panic!("no token printed: {run:?}"));
    assert!(received.contains(token), "{received}");
}

/// A listener that never accepts: who would read the connection is unknown (the kernel
/// may even report root for it), so the CLI gives up after a while and sends nothing.
#[test]
fn a_listener_that_never_accepts_gets_no_token() {
    let mallory = OsUser::create("btmal");
    let dev = Dev::builder().controller_only().start();
    let listener = as_socket_owner(mallory.uid, || TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();

    let run = authenticate(&dev, port, &["-keyring-type", "none"]);

    assert!(run.success(), "the login itself succeeds: {run:?}");
    assert!(
        run.stderr
            .contains("Warning: the token was not handed to the client agent")
            && run.stderr.contains("did not accept the connection"),
        "{}",
        run.stderr
    );
    // The connection is still queued: accepted now, it holds nothing.
    let (mut stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(HANG_TIMEOUT)).unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).unwrap();
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
}
