//! What the tunnel rows are compared with besides direct TCP: `ssh -L` through a real
//! sshd on the worker's host (what people use instead), and two plain TCP relays (socat)
//! on the same path, which carry the bytes over the same three TCP connections as the
//! tunnel (client → agent, agent → worker, worker → target) with no TLS and no framing:
//! the ceiling of any design with a local agent and a worker hop on this machine.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::scenario::Scenario;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::support::topology::{INFRA_V4, Sshd, TARGET_V4, Topology};
use crate::support::wait::READY_TIMEOUT;

/// The second sshd, in `infra` (the target's own sshd is not reachable from the client).
const SSHD_PORT: u16 = 2222;
/// Where `ssh -L` listens in the client namespace.
const SSH_FORWARD_PORT: u16 = 15201;
/// socat: the client-side relay's listener, and the infra-side one's.
const RELAY_CLIENT_PORT: u16 = 15202;
const RELAY_INFRA_PORT: u16 = 15203;

/// The local addresses in the client namespace that lead to the target's iperf3 server.
pub struct Relays {
    pub ssh_forward: SocketAddr,
    pub socat: SocketAddr,
}

impl Relays {
    /// Starts sshd in infra, alice's `ssh -N -L` in the client, and the two socat relays;
    /// returns once both local listeners accept.
    pub fn start(scenario: &Scenario, target_port: u16) -> Relays {
        let topology = &scenario.topology;
        start_sshd(topology, &topology.alice);
        let forward = format!("127.0.0.1:{SSH_FORWARD_PORT}:{TARGET_V4}:{target_port}");
        let mut ssh = topology.client.command_as(&topology.alice, "ssh");
        ssh.args(["-N", "-L", &forward, "-p", &SSHD_PORT.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes"])
            .arg(format!("{}@{INFRA_V4}", topology.alice.name));
        topology.spawn_command(&topology.client, "bench-ssh-forward", ssh);

        let infra_listen = format!("TCP-LISTEN:{RELAY_INFRA_PORT},fork,reuseaddr");
        let to_target = format!("TCP:{TARGET_V4}:{target_port}");
        let relay = ["socat", "-b", "131072", &infra_listen, &to_target];
        topology.spawn(&topology.infra, "bench-relay-infra", &relay);
        let client_listen = format!("TCP-LISTEN:{RELAY_CLIENT_PORT},bind=127.0.0.1,fork,reuseaddr");
        let to_infra = format!("TCP:{INFRA_V4}:{RELAY_INFRA_PORT}");
        let relay = ["socat", "-b", "131072", &client_listen, &to_infra];
        topology.spawn(&topology.client, "bench-relay-client", &relay);

        let local = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let relays = Relays {
            ssh_forward: local(SSH_FORWARD_PORT),
            socat: local(RELAY_CLIENT_PORT),
        };
        // Not by connecting: a probe would reach iperf3, which serves one test at a time
        // and resets the next one after an abandoned connection.
        wait_listening(&topology.client, SSH_FORWARD_PORT);
        wait_listening(&topology.client, RELAY_CLIENT_PORT);
        relays
    }
}

/// Polls `ss` until something listens on TCP `port` in `netns`.
fn wait_listening(netns: &Netns, port: u16) {
    let filter = format!("sport = :{port}");
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let output = netns
            .command("ss")
            .args(["-Hltn", &filter])
            .output()
            .expect("run ss");
        if !String::from_utf8_lossy(&output.stdout).trim().is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} in {} (see the topology's logs)",
            netns.name()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// sshd on [`SSHD_PORT`] in infra with `user`'s key authorised (the topology's sshd
/// settings, see `Topology::spawn_sshd`).
fn start_sshd(topology: &Topology, user: &OsUser) {
    let dir = topology.dir().join("bench-sshd");
    fs::create_dir_all(&dir).expect("create the bench sshd directory");
    let authorized = dir.join("authorized_keys");
    let public_key = user.home().join(".ssh/id_ed25519.pub");
    fs::copy(&public_key, &authorized)
        .unwrap_or_else(|e| panic!("copy {}: {e}", public_key.display()));
    topology.spawn_sshd(&Sshd {
        netns: &topology.infra,
        log_name: "bench-sshd",
        dir: &dir,
        port: SSHD_PORT,
        authorized_keys: &authorized.to_string_lossy(),
        hostname: None,
        extra_config: &format!("ListenAddress {INFRA_V4}\nAllowTcpForwarding yes\n"),
    });
    topology
        .infra
        .wait_tcp((INFRA_V4, SSHD_PORT).into(), READY_TIMEOUT);
}
