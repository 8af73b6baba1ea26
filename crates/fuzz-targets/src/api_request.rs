//! `api_request`: what a local client sends the agent's local API over one connection
//! (`boundary_agent::api::serve_api_connection`: hyper, the caller guard, the routes and
//! handlers, body limits and deadlines), with a fake agent behind it that grants
//! everything and a caller lookup that always answers uid 1000.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use boundary_agent::api::{
    AgentControl, ApiLimits, ConnectionAddrs, ControlError, serve_api_connection,
};
use boundary_agent::os::{PeerLookupError, PeerUidLookup};
use boundary_wire::api::agent::{AddTokenRequest, AgentSessions, AgentStatus, status};
use tokio_util::sync::CancellationToken;

use crate::mem_stream::{AtEnd, MemStream};
use crate::runtime;

/// An agent that accepts every token and every pause and resume.
struct Agreeable;

#[async_trait]
impl AgentControl for Agreeable {
    async fn add_token(&self, _: u32, _: AddTokenRequest) -> Result<(), ControlError> {
        Ok(())
    }
    async fn has_token(&self, _: u32) -> bool {
        true
    }
    async fn status(&self, _: u32) -> AgentStatus {
        AgentStatus {
            boundary_addr: "http://127.0.0.1:9200".into(),
            auth_token_id: "at_1234567890".into(),
            auth_token_expiry: None,
            version: "fuzz".into(),
            status: status::RUNNING.into(),
            errors: Vec::new(),
            warnings: Vec::new(),
            resolver: None,
        }
    }
    async fn sessions(&self, _: u32) -> AgentSessions {
        AgentSessions::default()
    }
    async fn pause(&self, _: u32) -> Result<(), ControlError> {
        Ok(())
    }
    async fn resume(&self, _: u32) -> Result<(), ControlError> {
        Ok(())
    }
}

/// Every client socket belongs to uid 1000.
struct Uid1000;

#[async_trait]
impl PeerUidLookup for Uid1000 {
    async fn tcp_client_uid(
        &self,
        _: SocketAddr,
        _: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        Ok(Some(1000))
    }
    async fn udp_client_uid(
        &self,
        _: SocketAddr,
        _: SocketAddr,
    ) -> Result<Option<u32>, PeerLookupError> {
        Ok(Some(1000))
    }
}

/// `data[0]` sets how many bytes each read yields (1 to 255, 0: all at once); the rest is
/// what the client sends before waiting for the answers with the connection open, so
/// that the server's own deadlines end it (virtual time: no real waiting). Checks:
/// - whatever arrives, the connection ends (no hang) and the answer is HTTP/1.x (or
///   HTTP/2 for a client that opened with its preface);
/// - the first request, when it carries `Origin` or `Referer`, is never served (the
///   guard's promise: web pages may not use the agent);
/// - a token sent to `POST /v1/tokens` never appears in what the server sends back.
pub fn api_request(data: &[u8]) {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let chunk = if chunk == 0 {
        usize::MAX
    } else {
        usize::from(chunk)
    };
    let written = serve(input, chunk);
    if written.is_empty() || input.starts_with(b"PRI * HTTP/2.0") {
        return;
    }
    assert!(
        written.starts_with(b"HTTP/1.1 ") || written.starts_with(b"HTTP/1.0 "),
        "{:?}",
        String::from_utf8_lossy(&written)
    );
    let status = &written[9..12.min(written.len())];
    if let Some(first) = FirstRequest::parse(input) {
        if first.from_browser {
            assert!(
                !status.starts_with(b"2"),
                "a request from a web page was served"
            );
        }
        if let Some(token) = first.token {
            assert!(
                !contains(&written, token.as_bytes()),
                "the token came back: {:?}",
                String::from_utf8_lossy(&written)
            );
        }
    }
}

/// Serves `input` as one connection's bytes and returns what the server wrote.
fn serve(input: &[u8], chunk: usize) -> Vec<u8> {
    let (stream, written) = MemStream::new(input, chunk, AtEnd::Wait);
    let addrs = ConnectionAddrs {
        peer: SocketAddr::from(([127, 0, 0, 1], 50000)),
        local: Some(SocketAddr::from(([127, 0, 0, 1], 9300))),
    };
    runtime::block_on(serve_api_connection(
        stream,
        addrs,
        Arc::new(Agreeable),
        Arc::new(Uid1000),
        ApiLimits::default(),
        CancellationToken::new(),
    ));
    written.lock().expect("not poisoned").clone()
}

/// What the checks need of the input's first request, read with httparse (what hyper
/// reads heads with) rather than through the code under test.
struct FirstRequest {
    from_browser: bool,
    /// The `token` of a JSON body, when it has a Boundary token's shape (so that it
    /// cannot be a piece of the server's own messages, such as "127.0.0.1 or [::1]") and
    /// appears nowhere else in the input (where the server might rightly echo it).
    token: Option<String>,
}

impl FirstRequest {
    fn parse(input: &[u8]) -> Option<FirstRequest> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(head_len) = request.parse(input).ok()? else {
            return None;
        };
        let headers = &*request.headers;
        let from_browser =
            header(headers, "origin").is_some() || header(headers, "referer").is_some();
        let body_len = header(headers, "content-length").and_then(|value| {
            std::str::from_utf8(value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        });
        let token = body_len
            .and_then(|len| input.get(head_len..head_len.checked_add(len)?))
            .and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok())
            .and_then(|body| Some(body.get("token")?.as_str()?.to_owned()))
            .filter(|token| is_token_shaped(token) && count(input, token.as_bytes()) == 1);
        Some(FirstRequest {
            from_browser,
            token,
        })
    }
}

fn header<'a>(headers: &[httparse::Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case(name))
        .map(|header| header.value)
}

/// `at_<id>_s1<secret>` with a secret of at least 8 characters.
fn is_token_shaped(token: &str) -> bool {
    token.starts_with("at_")
        && token
            .split_once("_s1")
            .is_some_and(|(_, secret)| secret.len() >= 8)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    count(haystack, needle) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness reaches the handlers: without this, a target that only ever sees
    /// hyper refuse its input would pass every check.
    #[test]
    fn requests_reach_the_routes_and_the_guard() {
        let status = b"GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:9300\r\n\r\n";
        let answer = serve(status, usize::MAX);
        assert!(
            answer.starts_with(b"HTTP/1.1 200 "),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
        assert!(contains(&answer, b"\"status\":\"running\""));

        let body =
            br#"{"boundary_addr":"http://127.0.0.1:9200","token":"at_1234567890_s1abcdefghijk"}"#;
        let mut two = format!(
            "POST /v1/tokens HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        two.extend_from_slice(body);
        two.extend_from_slice(
            b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\nOrigin: https://a.example\r\n\r\n",
        );
        let answer = serve(&two, 7);
        assert!(
            answer.starts_with(b"HTTP/1.1 200 "),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
        assert!(
            contains(&answer, b"HTTP/1.1 403 "),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
    }
}
