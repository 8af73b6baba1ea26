//! A "controller" a local user could start on the client: an HTTP server on 127.0.0.1 in
//! the client namespace that records the request line of every request it gets and
//! answers each with a 500 whose Boundary-shaped error message is far too long (as a
//! hostile server may), so tests can see both whether the agent contacted it and what
//! the agent repeats of its answer.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::support::netns::Netns;

/// Starts every error message the fake sends; never from the agent itself.
pub const FAKE_MARKER: &str = "FAKE-CONTROLLER-SAYS";
/// Length of the fake's error message.
pub const FAKE_MESSAGE_CHARS: usize = 100_000;

pub struct FakeController {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeController {
    /// Listens on a free port of 127.0.0.1 in `netns` (the socket is made there; a
    /// thread of this process serves it) until the test process ends.
    pub fn start(netns: &Netns) -> FakeController {
        let listener = netns
            .run_on_thread(|| TcpListener::bind("127.0.0.1:0").expect("bind the fake controller"));
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || answer(stream, &recorded));
            }
        });
        FakeController {
            url: format!("http://127.0.0.1:{port}"),
            requests,
        }
    }

    /// The request lines received so far (`GET /v1/auth-tokens/at_… HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one request's head, records its first line, answers the 500 and closes.
fn answer(stream: TcpStream, recorded: &Mutex<Vec<String>>) {
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let mut lines = BufReader::new(reader).lines();
    let Some(Ok(request_line)) = lines.next() else {
        return;
    };
    recorded.lock().unwrap().push(request_line);
    for line in lines {
        match line {
            Ok(line) if !line.is_empty() => {}
            _ => break,
        }
    }
    let message = format!("{FAKE_MARKER} {}", "A".repeat(FAKE_MESSAGE_CHARS));
    let body = serde_json::json!({"kind": "Internal", "message": message}).to_string();
    let head = format!(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}
