//! Readiness: poll until something is true, with a deadline that only stops a hung test
//! (never a fixed sleep, never an expectation about speed).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::netns::Netns;

/// How long readiness helpers wait by default before failing the test.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Calls `probe` until it returns `Some`, at most until `timeout` has passed; then panics
/// saying what was awaited and the last reason `probe` gave.
pub fn poll_until<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(reason) if Instant::now() > deadline => {
                panic!("gave up after {timeout:?} waiting for {what}: {reason}")
            }
            Err(_) => std::thread::sleep(POLL_INTERVAL),
        }
    }
}

impl Netns {
    /// Waits until a TCP connection from this namespace to `address` is accepted.
    pub fn wait_tcp(&self, address: SocketAddr, timeout: Duration) {
        let what = format!("{address} to accept TCP from {}", self.name());
        self.block_on(|| async move {
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                let attempt = tokio::time::timeout(
                    Duration::from_secs(1),
                    tokio::net::TcpStream::connect(address),
                )
                .await;
                let reason = match attempt {
                    Ok(Ok(_)) => return,
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "connect timed out".to_owned(),
                };
                if tokio::time::Instant::now() > deadline {
                    panic!("gave up after {timeout:?} waiting for {what}: {reason}");
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        })
    }

    /// Waits until `dig @server name type` from this namespace gets a non-empty answer
    /// section; returns the answers (`+short` lines).
    pub fn wait_dns(
        &self,
        server: SocketAddr,
        name: &str,
        record_type: &str,
        timeout: Duration,
    ) -> Vec<String> {
        let at = format!("@{}", server.ip());
        let port = server.port().to_string();
        let args = [
            "dig",
            "+short",
            "+time=1",
            "+tries=1",
            &at,
            "-p",
            &port,
            name,
            record_type,
        ];
        poll_until(&format!("{args:?} in {}", self.name()), timeout, || {
            let output = self.run(&args);
            let stdout = String::from_utf8_lossy(&output.stdout);
            let answers: Vec<String> = stdout.lines().map(str::to_owned).collect();
            if output.status.success() && !answers.is_empty() {
                Ok(answers)
            } else {
                Err(format!(
                    "{}: {stdout}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ))
            }
        })
    }

    /// Waits until `getent ahosts name` in this namespace (glibc's stub resolver reading
    /// the namespace's resolv.conf, as every ordinary program does) resolves the name;
    /// returns the distinct addresses.
    pub fn wait_resolves(&self, name: &str, timeout: Duration) -> Vec<IpAddr> {
        poll_until(
            &format!("{name} to resolve in {}", self.name()),
            timeout,
            || {
                let output = self.run(&["getent", "ahosts", name]);
                if !output.status.success() {
                    return Err(format!("getent ahosts: {}", output.status));
                }
                let mut addresses = Vec::new();
                for line in String::from_utf8_lossy(&output.stdout).lines() {
                    let parsed = line.split_whitespace().next().and_then(|a| a.parse().ok());
                    if let Some(address) = parsed
                        && !addresses.contains(&address)
                    {
                        addresses.push(address);
                    }
                }
                Ok(addresses)
            },
        )
    }
}
