//! `boundary-client-agent -config PATH` (Go-style flags, like Boundary's; `--config` works
//! too).

use std::path::PathBuf;

use clap::Parser;

use crate::config::DEFAULT_CONFIG_PATH;
use boundary_wire::go_flags::normalize_go_style_flags;

/// The Boundary client agent: resolves Boundary aliases to local addresses and tunnels
/// connections to them through Boundary workers. Runs as root.
#[derive(Debug, Parser)]
#[command(name = "boundary-client-agent", version)]
pub struct DaemonArgs {
    /// The agent's HCL configuration file.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Only undo what an agent that did not stop cleanly left behind (resolver
    /// configuration, its link, its addresses), then exit; refused while an agent runs
    /// with the same state file. The systemd unit runs it after every stop.
    #[arg(long)]
    pub recover: bool,
}

impl DaemonArgs {
    /// Parses `argv` (program name first); on error or `-help` returns clap's error,
    /// which prints itself with the right exit code.
    pub fn parse(argv: Vec<String>) -> Result<DaemonArgs, clap::Error> {
        DaemonArgs::try_parse_from(normalize_go_style_flags(argv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<DaemonArgs, clap::Error> {
        DaemonArgs::parse(args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn go_style_and_gnu_style_config_flags() {
        for args in [
            &["agent", "-config", "/etc/boundary/a.hcl"][..],
            &["agent", "-config=/etc/boundary/a.hcl"],
            &["agent", "--config", "/etc/boundary/a.hcl"],
        ] {
            assert_eq!(
                parse(args).unwrap().config,
                PathBuf::from("/etc/boundary/a.hcl")
            );
        }
        assert_eq!(
            parse(&["agent"]).unwrap().config,
            PathBuf::from(DEFAULT_CONFIG_PATH)
        );
        assert!(parse(&["agent", "-bogus"]).is_err());
        assert!(parse(&["agent", "-recover"]).unwrap().recover);
        assert!(!parse(&["agent"]).unwrap().recover);
    }
}
