//! `worker_handshake`: what a client sends the worker once TLS is up — the WebSocket
//! upgrade request (`boundary_worker::accept_upgrade`), then frames until the first
//! message, the `ClientHandshake` (`read_request`, `parse_request`).

use boundary_wire::proto::{ClientHandshake, HandshakeCommand, close};
use boundary_worker::{
    Refusal, Request, TOFU_TOKEN_LEN, accept_upgrade, parse_request, read_request,
};
use prost::Message as _;
use std::time::Duration;
use tokio::time::timeout;

use crate::mem_stream::{AtEnd, MemStream};
use crate::runtime;

/// A well-formed upgrade request, for inputs that start at the first frame.
pub const UPGRADE_REQUEST: &[u8] = b"GET /v1/proxy HTTP/1.1\r\n\
Host: worker.example:9202\r\n\
Connection: Upgrade\r\n\
Upgrade: websocket\r\n\
Sec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Protocol: boundary-tcp-proxy-v2, boundary-tcp-proxy-v1\r\n\
\r\n";

/// `data[0] % 3` chooses what the rest is: 0, a `ClientHandshake` message's payload; 1,
/// the client's frames after [`UPGRADE_REQUEST`]; 2, everything from the upgrade request
/// on. `data[0] / 3` sets how many bytes each read of the stream yields (1 to 85, or all
/// at once), so requests and frames also arrive in pieces. Checks:
/// - a handshake is accepted only with a 20-byte tofu token, and is a cancel exactly when
///   its command says so; every refusal carries the close code and reason the protocol
///   assigns to it;
/// - the worker's answer to an upgrade is an HTTP response, `101` when it succeeded.
pub fn worker_handshake(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let chunk = match usize::from(selector / 3) {
        0 => usize::MAX,
        n => n,
    };
    match selector % 3 {
        0 => check_handshake(rest, parse_request(rest)),
        1 => upgrade_and_read([UPGRADE_REQUEST, rest].concat(), chunk, true),
        _ => upgrade_and_read(rest.to_vec(), chunk, false),
    }
}

/// The worker's bounds on the two steps (`UPGRADE_TIMEOUT`, `HANDSHAKE_TIMEOUT` in
/// the worker's proxy.rs): a client that stalls is cut there, which is not a hang.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(15);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

fn upgrade_and_read(input: Vec<u8>, chunk: usize, canned: bool) {
    let (mut stream, written) = MemStream::new(&input, chunk, AtEnd::Close);
    // The client waits for the upgrade's answer before it sends frames.
    if let Some(head) = input.windows(4).position(|w| w == b"\r\n\r\n") {
        stream = stream.wait_for_answer_at(head + 4);
    }
    let outcome = runtime::block_on_shared(async {
        let upgrade = timeout(UPGRADE_TIMEOUT, accept_upgrade(stream)).await;
        let (mut ws, _mode) = upgrade.ok()?.ok()?;
        timeout(HANDSHAKE_TIMEOUT, read_request(&mut ws)).await.ok()
    });
    let written = written.lock().expect("not poisoned").clone();
    if outcome.is_some() {
        assert!(
            written.starts_with(b"HTTP/1.1 101 "),
            "{:?}",
            String::from_utf8_lossy(&written)
        );
    } else {
        // tungstenite refuses a head trickled in many tiny reads (its AttackCheck), so
        // even the canned request may fail with a small `chunk`; nothing else refuses it.
        assert!(
            !canned || chunk < 128,
            "the canned upgrade request was refused"
        );
        assert!(written.is_empty() || written.starts_with(b"HTTP/1.1 "));
    }
    match outcome {
        Some(Err(refusal)) if refusal.code == close::POLICY_VIOLATION => {
            // A text message where the handshake belongs.
            assert_eq!(refusal.reason, "invalid handshake received");
        }
        Some(Err(refusal)) => check_refusal(&refusal),
        Some(Ok(_)) | None => {}
    }
}

/// A payload's verdict agrees with the message it decodes to.
fn check_handshake(payload: &[u8], verdict: Result<Request, Refusal>) {
    let decoded = ClientHandshake::decode(payload);
    match verdict {
        Ok(Request::Gone) => panic!("a payload was taken for a closed connection"),
        Ok(Request::Connect { tofu_token }) | Ok(Request::Cancel { tofu_token })
            if tofu_token.expose().len() != TOFU_TOKEN_LEN =>
        {
            panic!(
                "a {}-byte tofu token was accepted",
                tofu_token.expose().len()
            )
        }
        Ok(request) => {
            let handshake = decoded.expect("an accepted payload decodes");
            let cancel = handshake.command == HandshakeCommand::SessionCancel as i32;
            assert_eq!(matches!(request, Request::Cancel { .. }), cancel);
        }
        Err(refusal) => {
            check_refusal(&refusal);
            if refusal.code == close::INVALID_PAYLOAD {
                assert!(decoded.is_err());
            }
        }
    }
}

/// The close codes and reasons `parse_request` may refuse with.
fn check_refusal(refusal: &Refusal) {
    let expected = match refusal.code {
        close::INVALID_PAYLOAD => "failed to unmarshal protobuf",
        close::UNSUPPORTED_DATA => close::INVALID_TOFU,
        code => panic!("refused with close code {code}"),
    };
    assert_eq!(refusal.reason, expected);
}
