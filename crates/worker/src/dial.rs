//! Dialling a session's endpoint (`tcp://host:port`) from the worker.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// Bound on name resolution and on each connection attempt.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("endpoint {0:?} is not of the form tcp://host:port")]
    Endpoint(String),
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("cannot connect to {host}: {reason}")]
    Connect { host: String, reason: String },
}

/// Connects to the endpoint, trying each resolved address in turn; returns the stream and
/// the address it reached (reported to the controller).
pub async fn dial(endpoint: &str) -> Result<(TcpStream, SocketAddr), DialError> {
    let host = host_port(endpoint)?;
    let resolve = |reason: String| DialError::Resolve {
        host: host.to_owned(),
        reason,
    };
    let addrs: Vec<SocketAddr> = tokio::time::timeout(DIAL_TIMEOUT, tokio::net::lookup_host(host))
        .await
        .map_err(|_| resolve("timed out".into()))?
        .map_err(|e| resolve(e.to_string()))?
        .collect();
    let mut last_error = String::from("no address");
    for addr in addrs {
        match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr));
            }
            Ok(Err(e)) => last_error = format!("{addr}: {e}"),
            Err(_) => last_error = format!("{addr}: timed out"),
        }
    }
    Err(DialError::Connect {
        host: host.to_owned(),
        reason: last_error,
    })
}

/// `tcp://host:port[/]` → `host:port`.
fn host_port(endpoint: &str) -> Result<&str, DialError> {
    let bad = || DialError::Endpoint(endpoint.to_owned());
    let rest = endpoint.strip_prefix("tcp://").ok_or_else(bad)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(rest),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed() {
        assert_eq!(host_port("tcp://10.0.0.5:22").unwrap(), "10.0.0.5:22");
        assert_eq!(
            host_port("tcp://db.example:5432/").unwrap(),
            "db.example:5432"
        );
        assert_eq!(host_port("tcp://[::1]:22").unwrap(), "[::1]:22");
        for bad in [
            "10.0.0.5:22",
            "tcp://host",
            "tcp://:22",
            "udp://h:1",
            "tcp://h:99999",
        ] {
            assert!(host_port(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let e = dial(&format!("tcp://{addr}")).await.unwrap_err();
        assert!(matches!(e, DialError::Connect { .. }), "{e}");
    }
}
