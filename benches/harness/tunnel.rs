//! The tunnel rows: iperf3 from the client through an alias (agent → worker in `infra` →
//! the target) against iperf3 straight from `infra` to the same server, the path the
//! worker's own connection takes, both directions; and the time to the first byte of an
//! HTTP answer the same two ways. The client side runs as alice.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::Value;

use crate::Load;
use crate::controller::PROJECT_ID;
use crate::relays::Relays;
use crate::report::{Row, Table};
use crate::scenario::Scenario;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::support::process::run_with_timeout;
use crate::support::topology::{HTTP_PORT, TARGET_V4};
use crate::support::wait::READY_TIMEOUT;

/// The aliases of the iperf3 target and of the target's HTTP server.
const IPERF_ALIAS: &str = "iperf.prod.test";
const HTTP_ALIAS: &str = "http.prod.test";
const IPERF_PORT: u16 = 5201;

/// The aliases of the targets the tunnel rows use, created once.
pub struct BenchTargets {
    iperf: IpAddr,
    http: IpAddr,
    /// Aliases of the HTTP server that nothing has resolved yet: one per cold run.
    cold: Vec<String>,
}

impl BenchTargets {
    /// Starts iperf3 in `target`, creates a TCP target and an alias for it and for the
    /// target's HTTP server, registers alice again (a new registration lists the aliases
    /// at once; the periodic refresh may be minutes away) and resolves both, which makes
    /// their sessions warm. `cold_runs` more aliases of the HTTP server stay unresolved
    /// for [`cold_first_byte`].
    pub fn create(scenario: &Scenario, cold_runs: usize) -> BenchTargets {
        let topology = &scenario.topology;
        topology.spawn(
            &topology.target,
            "bench-iperf3",
            &["iperf3", "--server", "--port", &IPERF_PORT.to_string()],
        );
        topology
            .infra
            .wait_tcp((TARGET_V4, IPERF_PORT).into(), READY_TIMEOUT);
        create_aliased_target(scenario, "iperf3", IPERF_PORT, IPERF_ALIAS);
        let http = create_aliased_target(scenario, "http", HTTP_PORT, HTTP_ALIAS);
        let cold: Vec<String> = (0..cold_runs)
            .map(|n| format!("cold-{n}.prod.test"))
            .collect();
        for alias in &cold {
            scenario.admin.create_alias(topology, alias, &http);
        }
        scenario.register_alice_with_curl();
        let alice = &topology.alice;
        BenchTargets {
            iperf: scenario.alias_v4(alice, IPERF_ALIAS),
            http: scenario.alias_v4(alice, HTTP_ALIAS),
            cold,
        }
    }
}

/// iperf3 both ways: through the alias, direct from infra, through `ssh -L` and through
/// two plain relays (see [`Relays`]).
pub fn throughput(scenario: &Scenario, targets: &BenchTargets, load: Load, table: &mut Table) {
    let topology = &scenario.topology;
    let alice = &topology.alice;
    let relays = Relays::start(scenario, IPERF_PORT);
    let directions = [
        ("tunnel upload", "tunnel upload vs ssh -L", false),
        ("tunnel download", "tunnel download vs ssh -L", true),
    ];
    for (what, what_ssh, reverse) in directions {
        let run = |netns, user, server| iperf3(netns, user, server, reverse, load);
        let direct = run(&topology.infra, None, (TARGET_V4, IPERF_PORT).into());
        let ours = run(
            &topology.client,
            Some(alice),
            (targets.iperf, IPERF_PORT).into(),
        );
        let ssh = run(&topology.client, Some(alice), relays.ssh_forward);
        let plain = run(&topology.client, Some(alice), relays.socat);
        table.push(Row {
            what,
            ours: gbits(ours),
            peer: format!(
                "direct TCP infra → target: {}; two plain TCP relays (socat, no TLS) on the same path: {} ({:.2}× direct)",
                gbits(direct),
                gbits(plain),
                plain / direct
            ),
            ratio: Some(ours / direct),
            target: "≥ 0.5× direct",
        });
        table.push(Row {
            what: what_ssh,
            ours: gbits(ours),
            peer: format!("ssh -L through sshd in infra: {}", gbits(ssh)),
            ratio: Some(ours / ssh),
            target: "≥ 3× ssh -L",
        });
    }
}

/// Connect and first byte of an HTTP answer with a warm session: curl's
/// `time_starttransfer` through the alias against straight from infra, medians.
pub fn first_byte(scenario: &Scenario, targets: &BenchTargets, load: Load, table: &mut Table) {
    let topology = &scenario.topology;
    let runs = if load.duration.as_secs() <= 1 { 5 } else { 100 };
    let direct = median_first_byte(&topology.infra, None, IpAddr::V4(TARGET_V4), runs);
    let ours = median_first_byte(&topology.client, Some(&topology.alice), targets.http, runs);
    table.push(Row {
        what: "connect + first byte, warm session, p50",
        ours: format!("{:.2} ms", ours * 1e3),
        peer: format!("direct infra → target: {:.2} ms", direct * 1e3),
        ratio: Some(direct / ours),
        target: "≤ direct + 1 ms",
    });
}

/// The cold path: curl by name through an alias nothing has resolved yet, so its lookup
/// makes the agent authorize a session at the controller before the connection is
/// tunnelled; `time_starttransfer` includes the name lookup. One alias per run.
pub fn cold_first_byte(scenario: &Scenario, targets: &BenchTargets, table: &mut Table) {
    let topology = &scenario.topology;
    let mut lookups = Vec::new();
    let mut first_bytes = Vec::new();
    for alias in &targets.cold {
        let url = format!("http://{alias}:{HTTP_PORT}/");
        let [lookup, first_byte] = curl_times(&topology.client, Some(&topology.alice), &url);
        lookups.push(lookup);
        first_bytes.push(first_byte);
    }
    table.push(Row {
        what: "cold: getaddrinfo → authorize → connect → first byte, p50",
        ours: format!(
            "{:.2} ms (of which the name lookup {:.2} ms), {} runs",
            median(first_bytes) * 1e3,
            median(lookups) * 1e3,
            targets.cold.len()
        ),
        peer: "—".to_owned(),
        ratio: None,
        target: "≤ 5 ms",
    });
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Returns the target's id.
fn create_aliased_target(scenario: &Scenario, name: &str, port: u16, alias: &str) -> String {
    let topology = &scenario.topology;
    let target = scenario.admin.cli(
        topology,
        &[
            "targets",
            "create",
            "tcp",
            "-scope-id",
            PROJECT_ID,
            "-name",
            name,
            "-address",
            &TARGET_V4.to_string(),
            "-default-port",
            &port.to_string(),
            "-session-connection-limit",
            "-1",
        ],
    );
    let target_id = target["item"]["id"].as_str().expect("target id");
    scenario.admin.create_alias(topology, alias, target_id);
    target_id.to_owned()
}

/// The median of `runs` curl `time_starttransfer`s (seconds) against `server`'s HTTP port.
fn median_first_byte(netns: &Netns, user: Option<&OsUser>, server: IpAddr, runs: usize) -> f64 {
    let url = format!("http://{server}:{HTTP_PORT}/");
    median(
        (0..runs)
            .map(|_| curl_times(netns, user, &url)[1])
            .collect(),
    )
}

/// curl's `time_namelookup` and `time_starttransfer` (seconds) for one GET of `url`.
fn curl_times(netns: &Netns, user: Option<&OsUser>, url: &str) -> [f64; 2] {
    let mut command = netns.command_for(user, "curl");
    command.args(["--silent", "--output", "/dev/null", "--max-time", "10"]);
    command.args([
        "--write-out",
        "%{time_namelookup} %{time_starttransfer}",
        url,
    ]);
    let output = run_with_timeout(&mut command, None, Duration::from_secs(20));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "curl {url} failed ({}): {text}",
        output.status
    );
    let times: Vec<f64> = text
        .split_whitespace()
        .map(|t| {
            t.parse()
                .unwrap_or_else(|_| panic!("curl printed no time: {text}"))
        })
        .collect();
    <[f64; 2]>::try_from(times).unwrap_or_else(|_| panic!("curl printed two times? {text}"))
}

/// Bits per second the receiver saw, from `iperf3 --json`.
fn iperf3(
    netns: &Netns,
    user: Option<&OsUser>,
    server: SocketAddr,
    reverse: bool,
    load: Load,
) -> f64 {
    let mut command = netns.command_for(user, "iperf3");
    command
        .args(["--client", &server.ip().to_string()])
        .args(["--port", &server.port().to_string()])
        .args(["--time", &load.duration.as_secs().to_string()])
        .arg("--json");
    if reverse {
        command.arg("--reverse");
    }
    let output = run_with_timeout(&mut command, None, load.duration + Duration::from_secs(30));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "iperf3 to {server} failed ({}): {text}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&text).expect("iperf3 --json prints JSON");
    report["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .unwrap_or_else(|| {
            panic!("iperf3 to {server}: no end.sum_received.bits_per_second in {text}")
        })
}

fn gbits(bits_per_second: f64) -> String {
    format!("{:.2} Gbit/s", bits_per_second / 1e9)
}
