//! Running `dnsperf` in a namespace and reading its summary.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Load;
use crate::cpu::CpuMeter;
use crate::dnsperf_summary::summary_field;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::support::process::run_with_timeout;

/// What one dnsperf run reports.
#[derive(Clone, Copy, Debug)]
pub struct DnsRun {
    pub qps: f64,
    pub avg_ms: f64,
    pub stddev_ms: f64,
    pub lost: u64,
    pub completed: u64,
    /// The server's CPU time per query, when it was measured.
    pub cpu_micros: Option<f64>,
}

impl DnsRun {
    /// `41802 q/s, avg 2.10 ms (sd 0.40)` (and the loss, when there was any, and the
    /// server's CPU per query, when measured).
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{:.0} q/s, avg {:.2} ms (sd {:.2})",
            self.qps, self.avg_ms, self.stddev_ms
        );
        if self.lost > 0 {
            let _ = write!(text, ", {} lost", self.lost);
        }
        if let Some(micros) = self.cpu_micros {
            let _ = write!(text, ", {micros:.1} µs CPU/query");
        }
        text
    }
}

/// Writes a dnsperf query file (`name type` lines) readable by every user.
pub fn query_file(dir: &Path, file: &str, queries: impl IntoIterator<Item = String>) -> PathBuf {
    let mut text = String::new();
    for query in queries {
        text.push_str(&query);
        text.push('\n');
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}

/// [`dnsperf`], with the CPU time `server_pid` spent per query.
pub fn dnsperf_with_cpu(
    netns: &Netns,
    user: &OsUser,
    server: SocketAddr,
    server_pid: u32,
    file: &Path,
    load: Load,
) -> DnsRun {
    let meter = CpuMeter::start(server_pid);
    let mut run = dnsperf(netns, user, server, file, load);
    run.cpu_micros = Some(meter.micros_per(run.completed));
    run
}

/// `dnsperf` against `server` with the queries of `file`, as `user` in `netns`, as fast
/// as `load.clients` clients with 200 queries in flight can.
pub fn dnsperf(
    netns: &Netns,
    user: &OsUser,
    server: SocketAddr,
    file: &Path,
    load: Load,
) -> DnsRun {
    let text = run(netns, user, server, file, load, &["-q", "200"]);
    let field = |label| summary_field(&text, label);
    DnsRun {
        qps: field("Queries per second:"),
        avg_ms: field("Average Latency (s):") * 1000.0,
        stddev_ms: field("Latency StdDev (s):") * 1000.0,
        lost: field("Queries lost:") as u64,
        completed: field("Queries completed:") as u64,
        cpu_micros: None,
    }
}

/// Latency percentiles of answered queries, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Latencies {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub answered: usize,
}

impl Latencies {
    /// `p99 0.21 ms, p50 0.08 ms (49 990 answers)`.
    pub fn summary(&self) -> String {
        format!(
            "p99 {:.2} ms, p50 {:.2} ms ({} answers)",
            self.p99_ms, self.p50_ms, self.answered
        )
    }
}

/// Each query's latency at a fixed `rate` (queries per second, well below either server's
/// limit, so queueing in a saturated server does not decide the number), from dnsperf's
/// verbose per-query lines (`> NOERROR name A 0.000123`).
pub fn dnsperf_latencies(
    netns: &Netns,
    user: &OsUser,
    server: SocketAddr,
    file: &Path,
    load: Load,
    rate: u32,
) -> Latencies {
    let rate = rate.to_string();
    let text = run(netns, user, server, file, load, &["-Q", &rate, "-v"]);
    let mut seconds: Vec<f64> = text
        .lines()
        .filter_map(|line| line.strip_prefix("> "))
        .filter_map(|rest| rest.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(
        !seconds.is_empty(),
        "dnsperf -v printed no answers:\n{text}"
    );
    seconds.sort_by(f64::total_cmp);
    let at = |fraction: f64| {
        let index = ((seconds.len() as f64 * fraction).ceil() as usize).saturating_sub(1);
        seconds[index.min(seconds.len() - 1)] * 1000.0
    };
    Latencies {
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        answered: seconds.len(),
    }
}

/// Runs dnsperf with `extra` arguments; its standard output.
fn run(
    netns: &Netns,
    user: &OsUser,
    server: SocketAddr,
    file: &Path,
    load: Load,
    extra: &[&str],
) -> String {
    let mut command = netns.command_as(user, "dnsperf");
    command
        .args(["-s", &server.ip().to_string()])
        .args(["-p", &server.port().to_string()])
        .arg("-d")
        .arg(file)
        .args(["-c", &load.clients.to_string()])
        .args(["-l", &load.duration.as_secs().to_string()])
        .args(extra);
    let output = run_with_timeout(&mut command, None, load.duration + Duration::from_secs(30));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "dnsperf failed ({}): {text}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    text
}
