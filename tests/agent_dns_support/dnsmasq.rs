//! A real dnsmasq inside the test namespace, the DNS server's upstream.

use std::net::{IpAddr, SocketAddr};
use std::process::Stdio;

use crate::support::dnsmasq::DnsmasqConfig;
use crate::support::netns::Netns;
use crate::support::wait::READY_TIMEOUT;

/// Names dnsmasq answers: `ordinary.test` and `denied.test` (A), `big.test` (10 TXT
/// records of ~250 bytes: 2.6 KB, more than any UDP answer dnsmasq sends). It runs until
/// the namespace is removed.
pub struct Dnsmasq {
    pub addr: SocketAddr,
    _config_dir: tempfile::TempDir,
}

pub const ORDINARY_V4: &str = "198.18.5.5";
pub const DENIED_V4: &str = "198.18.7.7";
pub const BIG_TXT_RECORDS: usize = 10;

impl Dnsmasq {
    pub fn start(netns: &Netns, listen: &str) -> Dnsmasq {
        let listen: IpAddr = listen.parse().expect("listen address");
        let v4 = |ip: &str| -> IpAddr { ip.parse().expect("an IPv4 address") };
        let filler = "x".repeat(250);
        let mut config = DnsmasqConfig::new()
            .listen(listen)
            .host_record("ordinary.test", &[v4(ORDINARY_V4)])
            .host_record("denied.test", &[v4(DENIED_V4)]);
        for i in 0..BIG_TXT_RECORDS {
            config = config.txt_record("big.test", &format!("{i}{filler}"));
        }
        let config_dir = spawn(netns, &config);
        let addr = SocketAddr::new(listen, 53);
        let answers = netns.wait_dns(addr, "ordinary.test", "A", READY_TIMEOUT);
        assert_eq!(answers, [ORDINARY_V4], "dnsmasq's answer");
        Dnsmasq {
            addr,
            _config_dir: config_dir,
        }
    }
}

/// Starts a dnsmasq with `config` in `netns`, running until the namespace is removed;
/// the returned directory holds its configuration file (keep it as long).
pub fn spawn(netns: &Netns, config: &DnsmasqConfig) -> tempfile::TempDir {
    let config_dir = tempfile::tempdir().expect("tempdir");
    let args = config.write(&config_dir.path().join("dnsmasq.conf"));
    let mut command = netns.command(&args[0]);
    command
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    netns.spawn(command);
    config_dir
}
