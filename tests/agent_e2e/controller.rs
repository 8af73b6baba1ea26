//! `boundary dev` (controller and worker in one process) in `infra`, as its operator runs
//! it: the seeded ids, the addresses it listens on, start (ready when its listeners
//! accept connections from the client) and a hard stop.

use std::net::SocketAddr;
use std::time::Duration;

use crate::scenario::fail_if_exited;
use crate::support::netns::Netns;
use crate::support::topology::{INFRA_V4, TARGET_V4, Topology};
use crate::support::wait::{READY_TIMEOUT, poll_until};

pub const BOUNDARY: &str = env!("CARGO_BIN_EXE_boundary");
/// Where `boundary dev` listens (infra's address toward the client).
pub const API_PORT: u16 = 9200;
pub const CLUSTER_PORT: u16 = 9201;
pub const PROXY_PORT: u16 = 9202;
/// The controller address users and the agent know.
pub const CONTROLLER_URL: &str = "http://198.18.1.2:9200";
/// `boundary dev`'s seeded ids.
pub const AUTH_METHOD_ID: &str = "ampw_1234567890";
pub const PROJECT_ID: &str = "p_1234567890";
pub const TARGET_ID: &str = "ttcp_1234567890";
/// The log name of `boundary dev`.
pub const CONTROLLER_LOG: &str = "boundary-dev";
/// Stops a hung start (a debug build hashes the admin password first); not a speed
/// expectation.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The running `boundary dev`.
pub struct Controller {
    pub pid: u32,
}

impl Controller {
    /// Starts `boundary dev` in `infra` with its target at the target's sshd, and returns
    /// once the API, cluster and proxy ports accept connections from the client.
    pub fn start(topology: &Topology) -> Controller {
        let address = |port: u16| SocketAddr::new(INFRA_V4.into(), port).to_string();
        let (api, cluster, proxy) = (
            address(API_PORT),
            address(CLUSTER_PORT),
            address(PROXY_PORT),
        );
        let target = TARGET_V4.to_string();
        let pid = topology.spawn(
            &topology.infra,
            CONTROLLER_LOG,
            &[
                BOUNDARY,
                "dev",
                "-api-listen-address",
                &api,
                "-cluster-listen-address",
                &cluster,
                "-proxy-listen-address",
                &proxy,
                "-worker-public-address",
                &proxy,
                "-target-address",
                &target,
                "-target-default-port",
                "22",
            ],
        );
        let controller = Controller { pid };
        // The API may take long to come up (password hashing, database migration in a
        // debug build); once it answers, the cluster and proxy listeners follow promptly.
        for (port, timeout) in [
            (API_PORT, START_TIMEOUT),
            (CLUSTER_PORT, READY_TIMEOUT),
            (PROXY_PORT, READY_TIMEOUT),
        ] {
            let address = SocketAddr::new(INFRA_V4.into(), port);
            poll_until(
                &format!("boundary dev to accept connections on {address}"),
                timeout,
                || {
                    controller.fail_if_exited(topology);
                    tcp_accepts(&topology.client, address)
                },
            );
        }
        controller
    }

    /// Panics with the log if `boundary dev` is no longer running.
    pub fn fail_if_exited(&self, topology: &Topology) {
        fail_if_exited(topology, &topology.infra, self.pid, CONTROLLER_LOG);
    }

    /// Kills controller and worker at once (SIGKILL): the controller is simply gone.
    pub fn kill(&self, topology: &Topology) {
        topology.infra.kill(self.pid);
    }
}

/// Whether one TCP connection from `netns` to `address` is accepted.
pub fn tcp_accepts(netns: &Netns, address: SocketAddr) -> Result<(), String> {
    netns.block_on(|| async move {
        match tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("{address}: {e}")),
            Err(_) => Err(format!("{address}: connect timed out")),
        }
    })
}
