//! The real servers of a topology: OpenSSH, an HTTP server and a TCP echo server in
//! `target`, dnsmasq in `upstream`. Every command line names a file in the topology's
//! directory, so `pgrep -f <dir>` finds each of them (and their forked children).

use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::super::dnsmasq::DnsmasqConfig;
use super::super::netns::Netns;
use super::super::ssh_keygen::ssh_keygen;
use super::{ECHO_PORT, HTTP_PORT, SSH_PORT, Topology};

/// Names dnsmasq answers (everything else under `.test` is NXDOMAIN).
pub const ORDINARY_NAME: &str = "ordinary.test";
pub const ORDINARY_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
pub const ORDINARY_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
pub const WWW_NAME: &str = "www.ordinary.test";
pub const WWW_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 8);
pub const WWW_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 8);
/// A web page's name rebound into the agent's prefixes (DNS rebinding): dnsmasq answers
/// it with an address inside `100.64.0.0/10` and one outside, and inside the ULA prefix.
pub const REBIND_NAME: &str = "rebind.test";
pub const REBIND_INSIDE_V4: Ipv4Addr = Ipv4Addr::new(100, 64, 1, 5);
pub const REBIND_OUTSIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 66);
pub const REBIND_INSIDE_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xa20a, 0, 0, 0, 0, 1, 5);
/// A name under `.test` that dnsmasq answers with NXDOMAIN.
pub const MISSING_NAME: &str = "missing.test";
/// A name with [`BIG_TXT_RECORDS`] TXT records of [`BIG_TXT_LENGTH`] characters each:
/// more than fits a 1232-byte EDNS UDP answer, so it comes back truncated over UDP and
/// whole over TCP.
pub const BIG_TXT_NAME: &str = "big.test";
pub const BIG_TXT_RECORDS: usize = 8;
pub const BIG_TXT_LENGTH: usize = 200;

/// The text of TXT record `index` of [`BIG_TXT_NAME`].
/// An sshd to start with [`Topology::spawn_sshd`].
pub struct Sshd<'a> {
    pub netns: &'a Netns,
    /// Its log (see [`Topology::spawn_command`]), and the host key's comment without a
    /// hostname.
    pub log_name: &'a str,
    /// Where its host key, configuration and pid file go (must exist).
    pub dir: &'a Path,
    pub port: u16,
    /// `AuthorizedKeysFile` (may use sshd's `%u`).
    pub authorized_keys: &'a str,
    /// A UTS namespace with this hostname, so `hostname` in a session prints it.
    pub hostname: Option<&'a str>,
    /// More `sshd_config` lines, each ending in a newline.
    pub extra_config: &'a str,
}

pub fn big_txt(index: usize) -> String {
    let letter = char::from(b'a' + (index % 26) as u8);
    format!(
        "{index:02}{}",
        letter.to_string().repeat(BIG_TXT_LENGTH - 2)
    )
}

impl Topology {
    /// sshd in its own UTS namespace (so `hostname` in a session prints the target's
    /// name), each user authorised by a file of their name in the authorized-keys
    /// directory.
    pub(super) fn start_sshd(&self) {
        let authorized = self.authorized_keys_dir();
        make_dir(&authorized);
        self.spawn_sshd(&Sshd {
            netns: &self.target,
            log_name: "sshd",
            dir: &self.dir().join("target"),
            port: SSH_PORT,
            authorized_keys: &format!("{}/%u", authorized.display()),
            hostname: Some(&self.target_hostname),
            extra_config: "LogLevel VERBOSE\n",
        });
    }

    /// Starts `sshd` (see [`Sshd`]) with a new ed25519 host key `ssh_host_ed25519_key` in
    /// its directory, in its own mount namespace: a private tmpfs on /run holds the
    /// privilege-separation directory /run/sshd, which the host may not have.
    pub fn spawn_sshd(&self, sshd: &Sshd<'_>) {
        let host_key = sshd.dir.join("ssh_host_ed25519_key");
        ssh_keygen(&host_key, sshd.hostname.unwrap_or(sshd.log_name));
        let config = sshd.dir.join("sshd_config");
        let config_text = format!(
            "Port {port}\n\
             HostKey {host_key}\n\
             PidFile {pid}\n\
             AuthorizedKeysFile {authorized}\n\
             UsePAM no\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin no\n\
             StrictModes no\n\
             UseDNS no\n\
             {extra}",
            port = sshd.port,
            host_key = host_key.display(),
            pid = sshd.dir.join("sshd.pid").display(),
            authorized = sshd.authorized_keys,
            extra = sshd.extra_config,
        );
        fs::write(&config, config_text).expect("write sshd_config");
        let mut command = sshd.netns.command("unshare");
        let config = config.to_string_lossy();
        match sshd.hostname {
            Some(hostname) => command.args([
                "--uts",
                "--mount",
                "sh",
                "-c",
                "hostname \"$1\" && mount -t tmpfs -o mode=0755 tmpfs /run && \
                 mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f \"$2\"",
                "sh",
                hostname,
                &config,
            ]),
            None => command.args([
                "--mount",
                "sh",
                "-c",
                "mount -t tmpfs -o mode=0755 tmpfs /run && \
                 mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f \"$1\"",
                "sh",
                &config,
            ]),
        };
        self.spawn_command(sshd.netns, sshd.log_name, command);
    }

    /// The target's public host key line (`ssh-ed25519 AAAA… comment`).
    pub fn target_host_key(&self) -> String {
        let path = self.dir().join("target/ssh_host_ed25519_key.pub");
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// `python3 -m http.server` on both families, serving a directory whose `index.html`
    /// is the target's hostname.
    pub(super) fn start_http(&self) {
        let www = self.dir().join("target/www");
        make_dir(&www);
        fs::write(
            www.join("index.html"),
            format!("{}\n", self.target_hostname),
        )
        .expect("write index.html");
        let port = HTTP_PORT.to_string();
        let www = www.to_string_lossy();
        let args = [
            "python3",
            "-u",
            "-m",
            "http.server",
            "--bind",
            "::",
            "--directory",
            &www,
            &port,
        ];
        self.spawn(&self.target, "http", &args);
    }

    /// socat echoing every connection back (one `cat` per connection); an EOF from the
    /// client ends cat, which then ends the connection after the echo.
    pub(super) fn start_echo(&self) {
        let lock = self.dir().join("target/echo.lock");
        let listen = format!("TCP6-LISTEN:{ECHO_PORT},ipv6only=0,reuseaddr,fork");
        let args = ["socat", "-L", &lock.to_string_lossy(), &listen, "EXEC:cat"];
        self.spawn(&self.target, "echo", &args);
    }

    /// dnsmasq on the upstream's link addresses, logging queries to its log, with its
    /// configuration in `<dir>/upstream/dnsmasq.conf` (never the host's).
    pub(super) fn start_dnsmasq(&self) {
        let dir = self.dir().join("upstream");
        let mut config = DnsmasqConfig::new()
            .option("log-queries")
            .option("local=/test/")
            .listen(self.client_upstream.b_v4.into())
            .listen(self.client_upstream.b_v6.into())
            .pid_file(&self.upstream_dns_pid_file())
            .host_record(ORDINARY_NAME, &[ORDINARY_V4.into(), ORDINARY_V6.into()])
            .host_record(WWW_NAME, &[WWW_V4.into(), WWW_V6.into()])
            .host_record(
                REBIND_NAME,
                &[
                    REBIND_INSIDE_V4.into(),
                    REBIND_OUTSIDE_V4.into(),
                    REBIND_INSIDE_V6.into(),
                ],
            );
        for index in 0..BIG_TXT_RECORDS {
            config = config.txt_record(BIG_TXT_NAME, &big_txt(index));
        }
        let args = config.write(&dir.join("dnsmasq.conf"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.spawn(&self.upstream, "dnsmasq", &args);
    }

    /// The upstream dnsmasq's pid (for [`Netns::signal`] on `upstream`: stopping it makes
    /// every upstream silent).
    pub fn upstream_dns_pid(&self) -> u32 {
        let path = self.upstream_dns_pid_file();
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        text.trim().parse().expect("a pid")
    }

    fn upstream_dns_pid_file(&self) -> PathBuf {
        self.dir().join("upstream/dnsmasq.pid")
    }
}

/// A root-owned directory everyone may traverse and read (sshd reads authorized keys as
/// the logging-in user).
pub(super) fn make_dir(path: &Path) {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}
