//! Clients that try to hold a server's connection without completing requests
//! (slowloris), for the tests of the controller's and the local API's deadlines.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::process::HANG_TIMEOUT;

pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Between two trickled bytes: far less than any deadline, so only a deadline that
/// bytes do not extend can close the connection.
pub const TRICKLE_INTERVAL: Duration = Duration::from_secs(1);

/// What one slow client does: send `opening`, then (if `trickle`) one more byte every
/// [`TRICKLE_INTERVAL`], else nothing.
#[derive(Clone, Debug)]
pub struct SlowClient {
    pub what: &'static str,
    pub opening: Vec<u8>,
    pub trickle: bool,
}

/// Silence, one `P`, the h2 preface, a head trickled a byte at a time, a body trickled
/// after a complete head (`POST post_path`, which must read its body), and a complete
/// `GET get_path` followed by silence (idle keep-alive). `host` is the Host header.
pub fn slow_clients(host: &str, get_path: &str, post_path: &str) -> Vec<SlowClient> {
    let case = |what, opening: String, trickle| SlowClient {
        what,
        opening: opening.into_bytes(),
        trickle,
    };
    vec![
        case("silent", String::new(), false),
        case("one P", "P".into(), false),
        SlowClient {
            what: "the h2 preface",
            opening: H2_PREFACE.to_vec(),
            trickle: false,
        },
        case(
            "a trickled head",
            format!("GET {get_path} HTTP/1.1\r\nHost: {host}\r\nX-Slow: "),
            true,
        ),
        case(
            "a trickled body",
            format!(
                "POST {post_path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
                 Content-Length: 1000\r\n\r\n{{"
            ),
            true,
        ),
        case(
            "idle keep-alive",
            format!("GET {get_path} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            false,
        ),
    ]
}

impl SlowClient {
    /// Runs this client against `address`; what the server sent before it closed the
    /// connection. Panics if the connection is still open after [`HANG_TIMEOUT`].
    pub async fn run(self, address: String) -> String {
        let stream = TcpStream::connect(&address).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        writer.write_all(&self.opening).await.unwrap();
        let trickle = self.trickle;
        let trickling = tokio::spawn(async move {
            if trickle {
                loop {
                    tokio::time::sleep(TRICKLE_INTERVAL).await;
                    if writer.write_all(b"x").await.is_err() {
                        break;
                    }
                }
            }
            // Keep the writing half open, silent, until the end.
            std::future::pending::<()>().await;
        });
        let mut received = Vec::new();
        let read = tokio::time::timeout(HANG_TIMEOUT, reader.read_to_end(&mut received)).await;
        trickling.abort();
        assert!(
            read.is_ok(),
            "{address}, {}: the connection is still open after {HANG_TIMEOUT:?}",
            self.what
        );
        String::from_utf8_lossy(&received).into_owned()
    }

    /// Panics unless `received` (from [`SlowClient::run`]) is what a server that bounds
    /// this client answers: the idle keep-alive client got its answer, the trickled body
    /// a 408 with Boundary's error body (if `body_read`: the route read the body) or
    /// another 4xx, and the others nothing or a 408 (the h2 preface: the server's
    /// settings frame).
    pub fn check(&self, received: &str, body_read: bool) {
        let what = self.what;
        match what {
            "idle keep-alive" => {
                assert!(received.starts_with("HTTP/1.1 "), "{what}: {received}");
                assert!(!received.starts_with("HTTP/1.1 5"), "{what}: {received}");
            }
            "a trickled body" if body_read => {
                assert!(received.starts_with("HTTP/1.1 408"), "{what}: {received}");
                assert!(received.contains("DeadlineExceeded"), "{what}: {received}");
            }
            "a trickled body" => {
                assert!(received.starts_with("HTTP/1.1 4"), "{what}: {received}");
            }
            "the h2 preface" => {}
            _ => assert!(
                received.is_empty() || received.starts_with("HTTP/1.1 408"),
                "{what}: {received}"
            ),
        }
    }
}
