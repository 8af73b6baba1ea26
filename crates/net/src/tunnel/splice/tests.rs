//! The splice over in-memory streams: a real tungstenite WebSocket pair over a duplex pipe,
//! and duplex pipes standing in for the TCP connections.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_util::sync::CancellationToken;

use super::*;

const PIPE: usize = 256 * 1024;

/// Stops a hung test; never an assertion about speed.
async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

async fn websocket_pair() -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = duplex(PIPE);
    let client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
    let server = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
    (client, server)
}

/// One splice: `app` is the TCP peer's end of the connection the splice forwards.
struct OneSide {
    app: DuplexStream,
    cancel: CancellationToken,
    report: JoinHandle<SpliceReport>,
}

fn spawn_splice(ws: WebSocketStream<DuplexStream>, mode: SpliceMode) -> OneSide {
    let (app, inner) = duplex(PIPE);
    let cancel = CancellationToken::new();
    let report = tokio::spawn(splice(inner, ws, mode, cancel.clone().cancelled_owned()));
    OneSide {
        app,
        cancel,
        report,
    }
}

/// Two splices joined by a WebSocket: the client tunnel and the worker.
async fn tunnel(mode: SpliceMode) -> (OneSide, OneSide) {
    let (client_ws, server_ws) = websocket_pair().await;
    (spawn_splice(client_ws, mode), spawn_splice(server_ws, mode))
}

/// A splice whose WebSocket peer is driven by the test.
async fn splice_against_raw_peer(mode: SpliceMode) -> (OneSide, WebSocketStream<DuplexStream>) {
    let (client_ws, server_ws) = websocket_pair().await;
    (spawn_splice(client_ws, mode), server_ws)
}

async fn read_all(app: &mut DuplexStream) -> Vec<u8> {
    let mut out = Vec::new();
    within("read to EOF", app.read_to_end(&mut out))
        .await
        .expect("read");
    out
}

async fn report(side: OneSide) -> SpliceReport {
    within("splice end", side.report).await.expect("join")
}

/// The next close frame the raw peer receives, skipping anything before it; then finishes
/// the close handshake the way a well-behaved peer does.
async fn next_close(mut ws: WebSocketStream<DuplexStream>) -> Option<CloseFrame> {
    loop {
        match within("close frame", ws.next()).await {
            Some(Ok(Message::Close(frame))) => {
                finish_close_handshake(ws).await;
                return frame;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// Reads until the stream ends: this flushes the close reply and lets tungstenite finish.
async fn finish_close_handshake(mut ws: WebSocketStream<DuplexStream>) {
    while let Some(Ok(_)) = within("close handshake", ws.next()).await {}
}

#[tokio::test]
async fn v1_forwards_both_ways_and_the_first_eof_ends_both() {
    let (mut client, mut server) = tunnel(SpliceMode::V1).await;
    client.app.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    within("server read", server.app.read_exact(&mut buf))
        .await
        .unwrap();
    assert_eq!(&buf, b"hello");
    server.app.write_all(b"world!").await.unwrap();
    let mut buf = [0u8; 6];
    within("client read", client.app.read_exact(&mut buf))
        .await
        .unwrap();
    assert_eq!(&buf, b"world!");

    client.app.shutdown().await.unwrap();
    assert!(read_all(&mut server.app).await.is_empty());
    // No half-close in v1: the client's own read direction ends too.
    assert!(read_all(&mut client.app).await.is_empty());

    let (c, s) = (report(client).await, report(server).await);
    assert_eq!((c.to_ws, c.from_ws, c.end), (5, 6, SpliceEnd::Normal));
    assert_eq!((s.to_ws, s.from_ws, s.end), (6, 5, SpliceEnd::Normal));
}

#[tokio::test]
async fn v2_half_close_keeps_the_other_direction_flowing() {
    let (mut client, mut server) = tunnel(SpliceMode::V2).await;
    client.app.write_all(b"request").await.unwrap();
    client.app.shutdown().await.unwrap();
    // The server application sees the request and then EOF, like `nc -N` would produce.
    assert_eq!(read_all(&mut server.app).await, b"request");

    // The reply is sent only after the request's EOF, and still arrives.
    let reply = vec![7u8; 3 * CHUNK_SIZE + 11];
    server.app.write_all(&reply).await.unwrap();
    server.app.shutdown().await.unwrap();
    assert_eq!(read_all(&mut client.app).await, reply);

    let (c, s) = (report(client).await, report(server).await);
    assert_eq!(
        (c.to_ws, c.from_ws, c.end),
        (7, reply.len() as u64, SpliceEnd::Normal)
    );
    assert_eq!(
        (s.to_ws, s.from_ws, s.end),
        (reply.len() as u64, 7, SpliceEnd::Normal)
    );
}

#[tokio::test]
async fn v2_sends_exactly_one_half_close_text_then_a_normal_close() {
    let (mut side, mut peer) = splice_against_raw_peer(SpliceMode::V2).await;
    side.app.write_all(b"abc").await.unwrap();
    side.app.shutdown().await.unwrap();
    let first = within("data", peer.next()).await.unwrap().unwrap();
    assert_eq!(first, Message::binary(b"abc".to_vec()));
    let second = within("half-close", peer.next()).await.unwrap().unwrap();
    assert_eq!(second, Message::text(HALF_CLOSE));

    // The peer still sends data after our half-close, then half-closes itself.
    peer.send(Message::binary(b"late reply".to_vec()))
        .await
        .unwrap();
    peer.send(Message::text(HALF_CLOSE)).await.unwrap();
    assert_eq!(read_all(&mut side.app).await, b"late reply");
    let frame = next_close(peer).await.expect("close frame");
    assert_eq!(frame.code, CloseCode::Normal);
    let r = report(side).await;
    assert_eq!((r.to_ws, r.from_ws, r.end), (3, 10, SpliceEnd::Normal));
}

#[tokio::test]
async fn v1_text_message_is_closed_with_1003() {
    let (mut side, mut peer) = splice_against_raw_peer(SpliceMode::V1).await;
    // Even the v2 control message is just an invalid text message in v1.
    peer.send(Message::text(HALF_CLOSE)).await.unwrap();
    let frame = next_close(peer).await.expect("close frame");
    assert_eq!(u16::from(frame.code), 1003);
    assert!(read_all(&mut side.app).await.is_empty());
    let r = report(side).await;
    assert!(
        matches!(r.end, SpliceEnd::ProtocolViolation { code: 1003, .. }),
        "{r:?}"
    );
}

#[tokio::test]
async fn v2_unknown_text_is_closed_with_1003() {
    let (side, mut peer) = splice_against_raw_peer(SpliceMode::V2).await;
    peer.send(Message::text("half-closed")).await.unwrap();
    let frame = next_close(peer).await.expect("close frame");
    assert_eq!(u16::from(frame.code), 1003);
    let r = report(side).await;
    assert!(
        matches!(r.end, SpliceEnd::ProtocolViolation { code: 1003, .. }),
        "{r:?}"
    );
}

#[tokio::test]
async fn v2_second_half_close_is_closed_with_1003() {
    let (mut side, mut peer) = splice_against_raw_peer(SpliceMode::V2).await;
    peer.send(Message::text(HALF_CLOSE)).await.unwrap();
    peer.send(Message::text(HALF_CLOSE)).await.unwrap();
    // The first one shut down our application's read direction.
    assert!(read_all(&mut side.app).await.is_empty());
    let frame = next_close(peer).await.expect("close frame");
    assert_eq!(u16::from(frame.code), 1003);
    let r = report(side).await;
    assert!(
        matches!(r.end, SpliceEnd::ProtocolViolation { code: 1003, .. }),
        "{r:?}"
    );
}

#[tokio::test]
async fn v2_data_after_half_close_is_closed_with_1003() {
    let (side, mut peer) = splice_against_raw_peer(SpliceMode::V2).await;
    peer.send(Message::text(HALF_CLOSE)).await.unwrap();
    peer.send(Message::binary(b"too late".to_vec()))
        .await
        .unwrap();
    let frame = next_close(peer).await.expect("close frame");
    assert_eq!(u16::from(frame.code), 1003);
    let r = report(side).await;
    assert_eq!(r.from_ws, 0);
    assert!(
        matches!(r.end, SpliceEnd::ProtocolViolation { code: 1003, .. }),
        "{r:?}"
    );
}

#[tokio::test]
async fn invalid_utf8_text_is_closed_with_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let (side, mut peer) = splice_against_raw_peer(SpliceMode::V2).await;
    let bad = Frame::message(vec![0xff, 0xfe], OpCode::Data(Data::Text), true);
    peer.send(Message::Frame(bad)).await.unwrap();
    let frame = next_close(peer).await.expect("close frame");
    assert_eq!(u16::from(frame.code), 1007);
    let r = report(side).await;
    assert!(
        matches!(r.end, SpliceEnd::ProtocolViolation { code: 1007, .. }),
        "{r:?}"
    );
}

#[tokio::test]
async fn data_before_a_peer_close_is_delivered() {
    let (mut side, mut peer) = splice_against_raw_peer(SpliceMode::V1).await;
    peer.send(Message::binary(b"last words".to_vec()))
        .await
        .unwrap();
    peer.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "session canceled".into(),
    }))
    .await
    .unwrap();
    finish_close_handshake(peer).await;
    assert_eq!(read_all(&mut side.app).await, b"last words");
    let r = report(side).await;
    assert_eq!((r.from_ws, r.end), (10, SpliceEnd::Normal));
}

#[tokio::test]
async fn a_non_normal_peer_close_is_reported_with_its_code() {
    let (side, mut peer) = splice_against_raw_peer(SpliceMode::V2).await;
    peer.close(Some(CloseFrame {
        code: CloseCode::Error,
        reason: "internal error".into(),
    }))
    .await
    .unwrap();
    finish_close_handshake(peer).await;
    let r = report(side).await;
    assert_eq!(
        r.end,
        SpliceEnd::PeerClosed {
            code: 1011,
            reason: "internal error".into()
        }
    );
}

#[tokio::test]
async fn a_vanished_websocket_is_a_reset() {
    let (mut side, peer) = splice_against_raw_peer(SpliceMode::V2).await;
    drop(peer);
    assert!(read_all(&mut side.app).await.is_empty());
    let r = report(side).await;
    assert!(
        matches!(
            r.end,
            SpliceEnd::Reset {
                side: Side::WebSocket,
                ..
            }
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn cancel_closes_with_1000_and_ends_both_sides() {
    let (mut client, mut server) = tunnel(SpliceMode::V2).await;
    client.app.write_all(b"x").await.unwrap();
    let mut one = [0u8; 1];
    within("first byte", server.app.read_exact(&mut one))
        .await
        .unwrap();

    client.cancel.cancel();
    assert!(read_all(&mut client.app).await.is_empty());
    assert!(read_all(&mut server.app).await.is_empty());
    assert_eq!(report(client).await.end, SpliceEnd::Cancelled);
    // The worker side sees a normal close from the client.
    assert_eq!(report(server).await.end, SpliceEnd::Normal);
}

#[tokio::test]
async fn cancel_sends_close_code_1000_on_the_wire() {
    let (side, peer) = splice_against_raw_peer(SpliceMode::V1).await;
    side.cancel.cancel();
    let frame = next_close(peer).await.expect("close frame");
    assert_eq!(frame.code, CloseCode::Normal);
    assert_eq!(report(side).await.end, SpliceEnd::Cancelled);
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    rand::rng().fill_bytes(&mut data);
    data
}

/// Writes `data` and half-closes, while reading everything the other way; returns the
/// SHA-256 of what was read.
async fn send_and_receive(app: DuplexStream, data: Vec<u8>) -> [u8; 32] {
    let (mut rd, mut wr) = tokio::io::split(app);
    let writer = async move {
        wr.write_all(&data).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let reader = async move {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 128 * 1024];
        loop {
            let n = rd.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        <[u8; 32]>::from(hasher.finalize())
    };
    let ((), digest) = tokio::join!(writer, reader);
    digest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_large_transfer_both_ways_at_once() {
    const LEN: usize = 24 * 1024 * 1024 + 12345;
    let (client, server) = tunnel(SpliceMode::V2).await;
    let (up, down) = (random_bytes(LEN), random_bytes(LEN - 999));
    let (up_sum, down_sum): ([u8; 32], [u8; 32]) =
        (Sha256::digest(&up).into(), Sha256::digest(&down).into());
    let (got_at_server, got_at_client) = within(
        "large transfer",
        futures_util::future::join(
            tokio::spawn(send_and_receive(server.app, down)),
            tokio::spawn(send_and_receive(client.app, up)),
        ),
    )
    .await;
    assert_eq!(got_at_server.unwrap(), up_sum);
    assert_eq!(got_at_client.unwrap(), down_sum);

    let c = within("client", client.report).await.unwrap();
    let s = within("server", server.report).await.unwrap();
    assert_eq!(
        (c.to_ws, c.from_ws, c.end),
        (LEN as u64, (LEN - 999) as u64, SpliceEnd::Normal)
    );
    assert_eq!((s.to_ws, s.from_ws), (c.from_ws, c.to_ws));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_large_transfer_one_way() {
    const LEN: usize = 16 * 1024 * 1024 + 3;
    let (mut client, mut server) = tunnel(SpliceMode::V1).await;
    let data = random_bytes(LEN);
    let sum: [u8; 32] = Sha256::digest(&data).into();
    let writer = tokio::spawn(async move {
        client.app.write_all(&data).await.unwrap();
        client.app.shutdown().await.unwrap();
        client
    });
    let received = read_all(&mut server.app).await;
    assert_eq!(<[u8; 32]>::from(Sha256::digest(&received)), sum);
    let client = within("writer", writer).await.unwrap();
    let c = report(client).await;
    assert_eq!((c.to_ws, c.end), (LEN as u64, SpliceEnd::Normal));
    assert_eq!(report(server).await.from_ws, LEN as u64);
}
