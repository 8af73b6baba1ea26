//! A controller that serves its API over HTTPS with a certificate from a private CA, as an
//! existing Boundary deployment does: `boundary dev -api-tls-cert-file/-api-tls-key-file`
//! in `infra`. The agent trusts that CA only through `controller_ca_file`; without it the
//! agent refuses alice's token and says why, and alias names stay with the upstream
//! resolver. alice logs in with the stock CLI (`BOUNDARY_CACERT`), which hands her token
//! to the agent, then resolves the seeded alias and reaches the target over ssh.

use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::agent::{Agent, AgentFiles, DNS_V4, V4_PREFIX, assert_no_token, status_json};
use crate::controller::{AUTH_METHOD_ID, Controller, PORTS};
use crate::support::cli::{Cli, Run};
use crate::support::dev::TestTls;
use crate::support::dig::dig_ok;
use crate::support::process::{HANG_TIMEOUT, run_with_timeout};
use crate::support::topology::{INFRA_V4, Topology};

/// The alias `boundary dev` seeds, to its target (here the target namespace's sshd).
const SEEDED_ALIAS: &str = "localhost.boundary.dev";
const PASSWORD_VARIABLE: &str = "BOUNDARY_E2E_PASSWORD";

/// The topology, `boundary dev` with an HTTPS API, and the CA that vouches for it.
struct HttpsController {
    topology: Topology,
    ca_file: PathBuf,
    url: String,
    _controller: Controller,
}

impl HttpsController {
    fn start() -> HttpsController {
        let topology = Topology::new();
        let dir = topology.dir().join("controller-tls");
        fs::create_dir_all(&dir).unwrap();
        // alice's CLI reads the CA file.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let tls = TestTls::write(&dir, "api", &[&INFRA_V4.to_string()]);
        let controller = Controller::start_with(
            &topology,
            &[
                "-api-tls-cert-file",
                &tls.cert_file.to_string_lossy(),
                "-api-tls-key-file",
                &tls.key_file.to_string_lossy(),
            ],
        );
        let url = format!("https://{}", SocketAddr::new(INFRA_V4.into(), PORTS.api));
        HttpsController {
            topology,
            ca_file: tls.ca_file,
            url,
            _controller: controller,
        }
    }

    /// The agent in `client` with `extra_config` added to its configuration.
    fn start_agent(&self, extra_config: &str) -> Agent {
        let files = AgentFiles::write_with(&self.topology, extra_config);
        Agent::start(&self.topology, &files, "agent")
    }

    /// `boundary authenticate password` as alice in `client`, trusting the CA through
    /// `BOUNDARY_CACERT`, with the dev admin's login; the CLI then hands the token to the
    /// agent on its own.
    fn alice_logs_in(&self) -> Run {
        let ca_file = self.ca_file.to_string_lossy();
        Cli::in_netns(&self.topology.client, Some(&self.topology.alice))
            .env("BOUNDARY_CACERT", &ca_file)
            .env(PASSWORD_VARIABLE, "password")
            .run(&[
                "authenticate",
                "password",
                "-addr",
                &self.url,
                "-auth-method-id",
                AUTH_METHOD_ID,
                "-login-name",
                "admin",
                "-password",
                &format!("env://{PASSWORD_VARIABLE}"),
                "-keyring-type",
                "none",
                "-format",
                "json",
            ])
    }
}

#[test]
fn the_agent_trusts_an_https_controller_through_controller_ca_file() {
    let https = HttpsController::start();
    let topology = &https.topology;
    let agent = https.start_agent(&format!(
        "controller_ca_file = \"{}\"\n",
        https.ca_file.display()
    ));

    let login = https.alice_logs_in();
    assert!(login.success(), "{login:?}");
    assert!(
        !login.stderr.contains("not handed to the client agent"),
        "{}",
        login.stderr
    );
    let status = status_json(topology, Some(&topology.alice));
    assert_eq!(status["boundary_addr"], https.url.as_str(), "{status}");
    assert!(
        status["auth_token_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("at_")),
        "{status}"
    );

    let address = agent.resolve_as(topology, &topology.alice, SEEDED_ALIAS, "A");
    let IpAddr::V4(v4) = address else {
        panic!("A answer {address}")
    };
    assert!(V4_PREFIX.contains(&v4), "{SEEDED_ALIAS} → {v4}");

    // The session is authorized over HTTPS at connect time.
    let mut ssh = topology.client.command_as(&topology.alice, "ssh");
    ssh.args(["-o", "ConnectTimeout=30"])
        .arg(format!("{}@{SEEDED_ALIAS}", topology.alice.name))
        .arg("hostname");
    let output = run_with_timeout(&mut ssh, None, HANG_TIMEOUT);
    assert!(
        output.status.success(),
        "ssh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        topology.target_hostname
    );
}

#[test]
fn without_controller_ca_file_the_agent_refuses_the_token_and_says_why() {
    let https = HttpsController::start();
    let topology = &https.topology;
    let agent = https.start_agent("");

    // The CLI trusts the CA and logs in; the agent does not, and the CLI says so.
    let login = https.alice_logs_in();
    assert!(login.success(), "{login:?}");
    assert!(
        login.stderr.contains("not handed to the client agent")
            && login.stderr.contains("certificate"),
        "{}",
        login.stderr
    );
    agent.fail_if_exited(topology);
    assert_no_token(&status_json(topology, Some(&topology.alice)));

    // The alias is not intercepted: dnsmasq, the upstream, does not know it.
    let reply = dig_ok(
        &topology.client,
        Some(&topology.alice),
        &[&format!("@{DNS_V4}"), SEEDED_ALIAS, "A"],
    );
    assert!(reply.addresses().is_empty(), "{}", reply.text);
}
