//! Readiness: poll until something is true, with a deadline that only stops a hung test
//! (never a fixed sleep, never an expectation about speed). One mechanism for sync and
//! async tests; the namespace-specific waits (`wait_tcp`, `wait_dns`, `wait_resolves`)
//! are built on it.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::dig::run_dig;
use super::netns::Netns;

/// How long readiness helpers wait by default before failing the test.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Bounds one connection attempt of [`tcp_accepts`] (a silently dropped SYN).
const CONNECT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// What one look at the awaited condition found: `Ok` or `Some` ends the wait with the
/// value; `Err` (its reason is shown if the wait gives up) or `None` means not yet.
pub trait Attempt<T> {
    fn into_result(self) -> Result<T, String>;
}

impl<T> Attempt<T> for Option<T> {
    fn into_result(self) -> Result<T, String> {
        self.ok_or_else(|| "not yet".to_owned())
    }
}

impl<T, E: std::fmt::Display> Attempt<T> for Result<T, E> {
    fn into_result(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Calls `probe` until it succeeds, at most until `timeout` has passed; then panics
/// saying what was awaited and the last reason `probe` gave.
pub fn poll_until<T, A: Attempt<T>>(what: &str, timeout: Duration, probe: impl FnMut() -> A) -> T {
    poll(timeout, probe)
        .unwrap_or_else(|reason| panic!("gave up after {timeout:?} waiting for {what}: {reason}"))
}

/// [`poll_until`] for a caller that handles giving up itself: `Err` with the last reason
/// once `timeout` has passed (`probe` runs at least once).
pub fn poll<T, A: Attempt<T>>(
    timeout: Duration,
    mut probe: impl FnMut() -> A,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match probe().into_result() {
            Ok(value) => return Ok(value),
            Err(reason) if Instant::now() >= deadline => return Err(reason),
            Err(_) => std::thread::sleep(POLL_INTERVAL),
        }
    }
}

/// [`poll_until`] for a probe that is a future (it sleeps on tokio's timer, so the
/// runtime keeps serving other tasks between attempts).
pub async fn poll_until_async<T, A, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    A: Attempt<T>,
    F: FnMut() -> Fut,
    Fut: Future<Output = A>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match probe().await.into_result() {
            Ok(value) => return value,
            Err(reason) if tokio::time::Instant::now() > deadline => {
                panic!("gave up after {timeout:?} waiting for {what}: {reason}")
            }
            Err(_) => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

/// Whether one TCP connection from the calling thread's namespace to `address` is
/// accepted (a probe for [`poll_until`]).
pub fn tcp_accepts(address: SocketAddr) -> Result<(), String> {
    std::net::TcpStream::connect_timeout(&address, CONNECT_ATTEMPT_TIMEOUT)
        .map(drop)
        .map_err(|e| format!("{address}: {e}"))
}

impl Netns {
    /// Waits until a TCP connection from this namespace to `address` is accepted.
    pub fn wait_tcp(&self, address: SocketAddr, timeout: Duration) {
        let what = format!("{address} to accept TCP from {}", self.name());
        self.run_on_thread(|| poll_until(&what, timeout, || tcp_accepts(address)));
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
        let args = ["+short", "+time=1", &at, "-p", &port, name, record_type];
        poll_until(&format!("dig {args:?} in {}", self.name()), timeout, || {
            let output = run_dig(self, None, &args);
            let answers: Vec<String> = output.text.lines().map(str::to_owned).collect();
            if output.success && !answers.is_empty() {
                Ok(answers)
            } else {
                Err(format!("{}{}", output.text, output.stderr))
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
