//! `boundary dev` (controller and worker in one process) in `infra`, as its operator runs
//! it: the seeded ids, the addresses it listens on, start (ready once it printed its
//! addresses and its listeners accept connections from the client) and a hard stop. The
//! flags and the readiness checks are those of `support::dev`; only the process lives in
//! the topology.

use std::net::SocketAddr;

use crate::scenario::fail_if_exited;
use crate::support::dev::{Dev, DevPorts, START_TIMEOUT, printed_addresses};
use crate::support::topology::{INFRA_V4, TARGET_V4, Topology};
use crate::support::wait::{READY_TIMEOUT, poll_until, tcp_accepts};

pub use crate::support::cli::BOUNDARY;
pub use crate::support::dev::{AUTH_METHOD_ID, PROJECT_ID, TARGET_ID};

/// Where `boundary dev` listens (infra's address toward the client).
pub const PORTS: DevPorts = DevPorts {
    api: 9200,
    cluster: 9201,
    proxy: 9202,
};
/// The controller address users and the agent know.
pub const CONTROLLER_URL: &str = "http://198.18.1.2:9200";
/// The log name of `boundary dev`.
pub const CONTROLLER_LOG: &str = "boundary-dev";

/// The running `boundary dev`.
pub struct Controller {
    pub pid: u32,
}

impl Controller {
    /// Starts `boundary dev` in `infra` with its target at the target's sshd, and returns
    /// once the API, cluster and proxy ports accept connections from the client.
    pub fn start(topology: &Topology) -> Controller {
        Controller::start_with(topology, &[])
    }

    /// [`Controller::start`] with more `boundary dev` flags.
    pub fn start_with(topology: &Topology, extra_args: &[&str]) -> Controller {
        let proxy = SocketAddr::new(INFRA_V4.into(), PORTS.proxy).to_string();
        let target = TARGET_V4.to_string();
        let mut command_line = vec![BOUNDARY.to_owned()];
        command_line.extend(
            Dev::builder()
                .listen_on(INFRA_V4.into(), PORTS)
                .args(&[
                    "-worker-public-address",
                    &proxy,
                    "-target-address",
                    &target,
                    "-target-default-port",
                    "22",
                ])
                .args(extra_args)
                .command_line(),
        );
        let command_line: Vec<&str> = command_line.iter().map(String::as_str).collect();
        let pid = topology.spawn(&topology.infra, CONTROLLER_LOG, &command_line);
        let controller = Controller { pid };
        // The banner comes once the database is ready (password hashing and migration may
        // take long in a debug build); the listeners are bound by then.
        poll_until("boundary dev to print its addresses", START_TIMEOUT, || {
            controller.fail_if_exited(topology);
            printed_addresses(&topology.log(CONTROLLER_LOG)).ok_or("not yet")
        });
        for port in [PORTS.api, PORTS.cluster, PORTS.proxy] {
            let address = SocketAddr::new(INFRA_V4.into(), port);
            poll_until(
                &format!("boundary dev to accept connections on {address} from the client"),
                READY_TIMEOUT,
                || {
                    controller.fail_if_exited(topology);
                    topology.client.run_on_thread(|| tcp_accepts(address))
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
