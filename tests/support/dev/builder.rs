//! What a test starts: `boundary dev` with the flags it needs, or `boundary controller
//! -config`. The argument list is also what the end-to-end tests run inside a namespace.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine;
use rand::Rng;

use super::super::server_process::ServerProcess;

/// Where a `boundary dev` listens, chosen before it starts (so a worker can be pointed at
/// it first, or a second dev can take its place).
#[derive(Clone, Copy, Debug)]
pub struct DevPorts {
    pub api: u16,
    pub cluster: u16,
    pub proxy: u16,
}

impl DevPorts {
    /// Three ports nobody listens on right now.
    pub fn free() -> DevPorts {
        DevPorts {
            api: free_port(),
            cluster: free_port(),
            proxy: free_port(),
        }
    }
}

/// A port on 127.0.0.1 nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A fresh random 32-byte key (worker-auth, root).
pub fn random_key() -> [u8; 32] {
    rand::rng().random()
}

pub fn base64(key: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// The flags of one start; see [`super::Dev::builder`] and [`super::Dev::controller`].
#[derive(Clone)]
pub struct DevBuilder {
    pub(super) mode: Mode,
    pub(super) worker_auth_key: [u8; 32],
    extra: Vec<String>,
    pub(super) envs: Vec<(String, String)>,
    pub(super) http: Option<reqwest::Client>,
}

#[derive(Clone)]
pub(super) enum Mode {
    Dev {
        ip: IpAddr,
        ports: DevPorts,
        /// The test chose `ports` (never replaced by other free ones).
        ports_chosen: bool,
        controller_only: bool,
    },
    Controller {
        config: PathBuf,
    },
}

impl DevBuilder {
    pub(super) fn new(mode: Mode, worker_auth_key: [u8; 32]) -> DevBuilder {
        DevBuilder {
            mode,
            worker_auth_key,
            extra: Vec::new(),
            envs: vec![("RUST_LOG".into(), "info,boundary_worker=debug".into())],
            http: None,
        }
    }

    pub(super) fn dev() -> DevBuilder {
        let mode = Mode::Dev {
            ip: Ipv4Addr::LOCALHOST.into(),
            ports: DevPorts::free(),
            ports_chosen: false,
            controller_only: false,
        };
        DevBuilder::new(mode, random_key())
    }

    pub(super) fn controller(config: &Path, worker_auth_key: [u8; 32]) -> DevBuilder {
        let mode = Mode::Controller {
            config: config.to_owned(),
        };
        DevBuilder::new(mode, worker_auth_key)
    }

    /// Listen on these ports of 127.0.0.1 (the default: free ones).
    pub fn ports(self, ports: DevPorts) -> DevBuilder {
        self.listen_on(Ipv4Addr::LOCALHOST.into(), ports)
    }

    /// Listen on these ports of `ip`.
    pub fn listen_on(mut self, ip: IpAddr, ports: DevPorts) -> DevBuilder {
        if let Mode::Dev {
            ip: old_ip,
            ports: old_ports,
            ports_chosen,
            ..
        } = &mut self.mode
        {
            (*old_ip, *old_ports, *ports_chosen) = (ip, ports, true);
        } else {
            panic!("listen addresses are the config's business for `boundary controller`");
        }
        self
    }

    /// After `process` exited: when one of the free ports it was given was taken in the
    /// meantime (free ports are probed, then bound by the server: another test's server
    /// may bind one in between), picks other free ones and returns true. Ports the test
    /// chose are kept (false).
    pub(super) fn repick_taken_ports(&mut self, process: &ServerProcess) -> bool {
        let Mode::Dev {
            ports,
            ports_chosen: false,
            ..
        } = &mut self.mode
        else {
            return false;
        };
        if !process.output().contains("Address already in use") {
            return false;
        }
        *ports = DevPorts::free();
        true
    }

    /// `-controller-only`: no dev worker (tests register the workers they need).
    pub fn controller_only(mut self) -> DevBuilder {
        if let Mode::Dev {
            controller_only, ..
        } = &mut self.mode
        {
            *controller_only = true;
        }
        self
    }

    /// The worker-auth key (a random one by default).
    pub fn worker_auth_key(mut self, key: [u8; 32]) -> DevBuilder {
        self.worker_auth_key = key;
        self
    }

    /// More flags, as given.
    pub fn args(mut self, args: &[&str]) -> DevBuilder {
        self.extra.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// An environment variable for the process (`RUST_LOG` is
    /// `info,boundary_worker=debug` unless set here).
    pub fn env(mut self, key: &str, value: &str) -> DevBuilder {
        self.envs.retain(|(k, _)| k != key);
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The HTTP client REST calls and the readiness check use (e.g. one trusting a test CA
    /// for a TLS API listener).
    pub fn http_client(mut self, http: reqwest::Client) -> DevBuilder {
        self.http = Some(http);
        self
    }

    /// The arguments after the program name.
    pub fn command_line(&self) -> Vec<String> {
        let mut args: Vec<String> = match &self.mode {
            Mode::Dev {
                ip,
                ports,
                controller_only,
                ..
            } => {
                let at = |port: u16| SocketAddr::new(*ip, port).to_string();
                let mut args = vec![
                    "dev".to_owned(),
                    "-api-listen-address".to_owned(),
                    at(ports.api),
                    "-cluster-listen-address".to_owned(),
                    at(ports.cluster),
                    "-proxy-listen-address".to_owned(),
                    at(ports.proxy),
                    "-worker-auth-key".to_owned(),
                    base64(&self.worker_auth_key),
                ];
                if *controller_only {
                    args.push("-controller-only".to_owned());
                }
                args
            }
            Mode::Controller { config } => vec![
                "controller".to_owned(),
                "-config".to_owned(),
                config.display().to_string(),
            ],
        };
        args.extend(self.extra.iter().cloned());
        args
    }

    /// Where the dev worker's proxy listens (none for `-controller-only` or `boundary
    /// controller`).
    pub(super) fn proxy_address(&self) -> Option<SocketAddr> {
        match &self.mode {
            Mode::Dev {
                ip,
                ports,
                controller_only: false,
                ..
            } => Some(SocketAddr::new(*ip, ports.proxy)),
            _ => None,
        }
    }
}
