//! Real `dig`, run in a namespace as root or as a user, and its output parsed just enough
//! for assertions.

use std::net::IpAddr;

use super::netns::Netns;
use super::os_user::OsUser;
use super::process::{HANG_TIMEOUT, run_with_timeout};

/// What one dig run printed.
#[derive(Debug)]
pub struct DigReply {
    pub text: String,
    pub stderr: String,
    /// dig's exit status was 0 (it got a reply, whatever its rcode).
    pub success: bool,
}

/// One resource record of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub kind: String,
    pub data: String,
}

/// `dig +time=10 +tries=1 <args>` in `netns` as `user` (root when `None`), whatever it
/// printed. Options in `args` override the defaults (dig takes the last one). The 10 s
/// per try leave room for a server that authorizes a session before it answers.
pub fn run_dig(netns: &Netns, user: Option<&OsUser>, args: &[&str]) -> DigReply {
    let mut command = netns.command_for(user, "dig");
    command.args(["+time=10", "+tries=1"]).args(args);
    let output = run_with_timeout(&mut command, None, HANG_TIMEOUT);
    DigReply {
        text: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        success: output.status.success(),
    }
}

/// [`run_dig`] for a full (not `+short`) reply; `Err` (saying why) when dig got none.
pub fn dig(netns: &Netns, user: Option<&OsUser>, args: &[&str]) -> Result<DigReply, String> {
    let reply = run_dig(netns, user, args);
    if reply.success && reply.text.contains(";; ->>HEADER<<-") {
        Ok(reply)
    } else {
        Err(format!(
            "dig {args:?} (success: {}): {}{}",
            reply.success, reply.text, reply.stderr
        ))
    }
}

/// [`dig`] that panics when there is no reply.
pub fn dig_ok(netns: &Netns, user: Option<&OsUser>, args: &[&str]) -> DigReply {
    dig(netns, user, args).unwrap_or_else(|error| panic!("{error}"))
}

impl DigReply {
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, … of the last reply (after a retry over TCP
    /// dig prints two).
    pub fn status(&self) -> &str {
        self.last_line_with(";; ->>HEADER<<-")
            .and_then(|line| line.split("status: ").nth(1))
            .and_then(|rest| rest.split(',').next())
            .unwrap_or("")
    }

    /// Header flags of the last reply, e.g. `["qr", "aa", "rd", "ra"]`.
    pub fn flags(&self) -> Vec<&str> {
        self.last_line_with(";; flags:")
            .and_then(|line| line.strip_prefix(";; flags:"))
            .and_then(|rest| rest.split(';').next())
            .map(|flags| flags.split_whitespace().collect())
            .unwrap_or_default()
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags().contains(&flag)
    }

    /// The `; EDNS: ...` line of the last reply, if it had an OPT record.
    pub fn edns(&self) -> Option<&str> {
        self.last_line_with("; EDNS:")
    }

    /// Records of a section (`ANSWER`, `AUTHORITY`) of the last reply.
    pub fn section(&self, name: &str) -> Vec<Record> {
        let marker = format!(";; {name} SECTION:");
        let Some(start) = self.text.rfind(&marker) else {
            return Vec::new();
        };
        self.text[start + marker.len()..]
            .lines()
            .skip(1)
            .take_while(|line| !line.trim().is_empty())
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                Some(Record {
                    name: (*fields.first()?).to_owned(),
                    ttl: fields.get(1)?.parse().ok()?,
                    kind: (*fields.get(3)?).to_owned(),
                    data: fields.get(4..)?.join(" "),
                })
            })
            .collect()
    }

    pub fn answers(&self) -> Vec<Record> {
        self.section("ANSWER")
    }

    /// The data of each answer record.
    pub fn answer_data(&self) -> Vec<String> {
        self.answers()
            .into_iter()
            .map(|record| record.data)
            .collect()
    }

    /// The addresses of the A and AAAA answers.
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.answers()
            .iter()
            .filter(|r| r.kind == "A" || r.kind == "AAAA")
            .filter_map(|r| r.data.parse().ok())
            .collect()
    }

    /// Which server answered and over which transport, e.g. `100.64.0.1#53(100.64.0.1) (TCP)`.
    pub fn server(&self) -> &str {
        self.last_line_with(";; SERVER:")
            .and_then(|line| line.strip_prefix(";; SERVER:"))
            .map(str::trim)
            .unwrap_or("")
    }

    /// dig's UDP reply was truncated and it asked again over TCP.
    pub fn retried_over_tcp(&self) -> bool {
        self.text.contains("Truncated, retrying in TCP mode")
    }

    fn last_line_with(&self, prefix: &str) -> Option<&str> {
        self.text.lines().rfind(|l| l.starts_with(prefix))
    }
}
