//! A real dnsmasq inside the test namespace, the DNS server's upstream.

use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::netns::Netns;

/// Names dnsmasq answers: `ordinary.test` and `denied.test` (A), `big.test` (10 TXT
/// records of ~250 bytes: 2.6 KB, more than any UDP answer dnsmasq sends).
pub struct Dnsmasq {
    child: Child,
    pub addr: SocketAddr,
}

pub const ORDINARY_V4: &str = "198.18.5.5";
pub const DENIED_V4: &str = "198.18.7.7";
pub const BIG_TXT_RECORDS: usize = 10;

impl Dnsmasq {
    pub fn start(netns: &Netns, listen: &str) -> Dnsmasq {
        let filler = "x".repeat(250);
        let mut args = vec![
            "--no-daemon".to_owned(),
            "--conf-file=/dev/null".to_owned(),
            "--no-resolv".to_owned(),
            "--no-hosts".to_owned(),
            "--bind-interfaces".to_owned(),
            "--port=53".to_owned(),
            format!("--listen-address={listen}"),
            "--pid-file=".to_owned(),
            format!("--address=/ordinary.test/{ORDINARY_V4}"),
            format!("--address=/denied.test/{DENIED_V4}"),
        ];
        for i in 0..BIG_TXT_RECORDS {
            args.push(format!("--txt-record=big.test,{i}{filler}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = netns
            .command("dnsmasq", &args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        let dnsmasq = Dnsmasq {
            child,
            addr: SocketAddr::new(listen.parse().expect("listen address"), 53),
        };
        dnsmasq.wait_ready(netns);
        dnsmasq
    }

    fn wait_ready(&self, netns: &Netns) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let server = format!("@{}", self.addr.ip());
        loop {
            let out = netns
                .command(
                    "dig",
                    &[&server, "+time=1", "+tries=1", "+short", "ordinary.test"],
                )
                .output()
                .expect("run dig");
            if String::from_utf8_lossy(&out.stdout).trim() == ORDINARY_V4 {
                return;
            }
            assert!(Instant::now() < deadline, "dnsmasq did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
