//! dnsmasq as a test's DNS server: a configuration file naming the records it answers and
//! where it listens, with no upstream and no hosts file (nothing of the host's resolver)
//! and its log on stdout. The caller starts the command line it returns in a namespace.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The configuration of one dnsmasq.
#[derive(Clone, Debug, Default)]
pub struct DnsmasqConfig {
    listen: Vec<IpAddr>,
    pid_file: Option<PathBuf>,
    lines: Vec<String>,
}

impl DnsmasqConfig {
    pub fn new() -> DnsmasqConfig {
        DnsmasqConfig::default()
    }

    /// Listens (port 53, UDP and TCP) on `address`, which must be assigned in the
    /// namespace it runs in.
    pub fn listen(mut self, address: IpAddr) -> DnsmasqConfig {
        self.listen.push(address);
        self
    }

    /// Writes its pid there (none by default).
    pub fn pid_file(mut self, path: &Path) -> DnsmasqConfig {
        self.pid_file = Some(path.to_owned());
        self
    }

    /// `name` answers with `addresses` (A and AAAA by family).
    pub fn host_record(mut self, name: &str, addresses: &[IpAddr]) -> DnsmasqConfig {
        let addresses: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
        self.lines
            .push(format!("host-record={name},{}", addresses.join(",")));
        self
    }

    /// One more TXT record of `name`.
    pub fn txt_record(mut self, name: &str, text: &str) -> DnsmasqConfig {
        self.lines.push(format!("txt-record={name},\"{text}\""));
        self
    }

    /// Any other configuration line (`log-queries`, `local=/test/`, …).
    pub fn option(mut self, line: &str) -> DnsmasqConfig {
        self.lines.push(line.to_owned());
        self
    }

    /// The configuration file's text.
    pub fn text(&self) -> String {
        let mut text = String::from("no-resolv\nno-hosts\nbind-interfaces\nlog-facility=-\n");
        for address in &self.listen {
            text.push_str(&format!("listen-address={address}\n"));
        }
        let pid_file = self.pid_file.as_deref().map(Path::display);
        text.push_str(&format!(
            "pid-file={}\n",
            pid_file.map(|p| p.to_string()).unwrap_or_default()
        ));
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Writes the configuration to `path`; returns the command line running dnsmasq with
    /// it in the foreground (as in production otherwise: forked TCP handlers).
    pub fn write(&self, path: &Path) -> Vec<String> {
        fs::write(path, self.text()).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        vec![
            "dnsmasq".to_owned(),
            "--keep-in-foreground".to_owned(),
            format!("--conf-file={}", path.display()),
        ]
    }
}
