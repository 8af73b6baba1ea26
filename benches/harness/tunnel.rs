//! The tunnel row: iperf3 from the client through an alias (agent → worker in `infra` →
//! the target) against iperf3 straight from `infra` to the same server, the path the
//! worker's own connection takes. Both directions; iperf3 runs as alice on the client.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;

use crate::Load;
use crate::controller::PROJECT_ID;
use crate::report::{Row, Table};
use crate::scenario::Scenario;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::support::process::run_with_timeout;
use crate::support::topology::TARGET_V4;
use crate::support::wait::READY_TIMEOUT;

/// The alias of the iperf3 target.
const IPERF_ALIAS: &str = "iperf.prod.test";
const IPERF_PORT: u16 = 5201;

pub fn throughput(scenario: &Scenario, load: Load, table: &mut Table) {
    let topology = &scenario.topology;
    topology.spawn(
        &topology.target,
        "bench-iperf3",
        &["iperf3", "--server", "--port", &IPERF_PORT.to_string()],
    );
    topology
        .infra
        .wait_tcp((TARGET_V4, IPERF_PORT).into(), READY_TIMEOUT);
    let target = scenario.admin.cli(
        topology,
        &[
            "targets",
            "create",
            "tcp",
            "-scope-id",
            PROJECT_ID,
            "-name",
            "iperf3",
            "-address",
            &TARGET_V4.to_string(),
            "-default-port",
            &IPERF_PORT.to_string(),
            "-session-connection-limit",
            "-1",
        ],
    );
    let target_id = target["item"]["id"].as_str().expect("target id").to_owned();
    scenario
        .admin
        .create_alias(topology, IPERF_ALIAS, &target_id);
    let alice = &topology.alice;
    // A new registration lists the aliases at once (the periodic refresh may be minutes
    // away); resolving makes the session warm.
    scenario.register_alice_with_curl();
    let alias = scenario.alias_v4(alice, IPERF_ALIAS);
    for (what, reverse) in [("tunnel upload", false), ("tunnel download", true)] {
        let direct = iperf3(&topology.infra, None, IpAddr::V4(TARGET_V4), reverse, load);
        let ours = iperf3(&topology.client, Some(alice), alias, reverse, load);
        table.push(Row {
            what,
            ours: gbits(ours),
            peer: format!("direct TCP infra → target: {}", gbits(direct)),
            ratio: Some(ours / direct),
            target: "≥ 0.5× direct",
        });
    }
}

/// Bits per second the receiver saw, from `iperf3 --json`.
fn iperf3(netns: &Netns, user: Option<&OsUser>, server: IpAddr, reverse: bool, load: Load) -> f64 {
    let mut command = netns.command_for(user, "iperf3");
    command
        .args(["--client", &server.to_string()])
        .args(["--port", &IPERF_PORT.to_string()])
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
        .unwrap_or_else(|| panic!("no end.sum_received.bits_per_second in {text}"))
}

fn gbits(bits_per_second: f64) -> String {
    format!("{:.2} Gbit/s", bits_per_second / 1e9)
}
