//! Running real `dig` in the namespace and reading its output.

use super::netns::Netns;

/// dig's output, parsed just enough for assertions.
#[derive(Debug)]
pub struct DigOutput {
    pub text: String,
    pub success: bool,
}

pub fn dig(netns: &Netns, server: &str, args: &[&str]) -> DigOutput {
    let server = format!("@{server}");
    let mut all = vec![server.as_str(), "+time=4", "+tries=1"];
    all.extend_from_slice(args);
    let output = netns.command("dig", &all).output().expect("run dig");
    DigOutput {
        text: String::from_utf8_lossy(&output.stdout).into_owned(),
        success: output.status.success(),
    }
}

impl DigOutput {
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, ... from the last header line (after a TCP
    /// retry dig prints two).
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

    /// The `; EDNS: ...` line of the last reply, if it had an OPT record.
    pub fn edns(&self) -> Option<&str> {
        self.last_line_with("; EDNS:")
    }

    /// Records of a section (`ANSWER`, `AUTHORITY`) of the last reply, as
    /// `[name, ttl, class, type, data...]` fields.
    pub fn section(&self, name: &str) -> Vec<Vec<&str>> {
        let marker = format!(";; {name} SECTION:");
        let Some(start) = self.text.rfind(&marker) else {
            return Vec::new();
        };
        self.text[start + marker.len()..]
            .lines()
            .skip(1)
            .take_while(|line| !line.trim().is_empty())
            .map(|line| line.split_whitespace().collect())
            .collect()
    }

    /// The data of each answer record.
    pub fn answers(&self) -> Vec<String> {
        self.section("ANSWER")
            .into_iter()
            .map(|fields| fields[4..].join(" "))
            .collect()
    }

    pub fn retried_over_tcp(&self) -> bool {
        self.text.contains("Truncated, retrying in TCP mode")
    }

    fn last_line_with(&self, prefix: &str) -> Option<&str> {
        self.text.lines().rfind(|l| l.starts_with(prefix))
    }
}
