//! The agent's open-file budget.
//!
//! Every forwarded DNS query holds a socket while it waits for its upstream, every
//! proxied connection two, and the local API one per client. Under systemd's default
//! soft limit (1024) a burst of lookups against a dead upstream could use them all, and
//! then the session listeners and the local API fail too. The unit sets `LimitNOFILE`;
//! outside systemd (`sudo boundary-client-agent`, `boundary dev -client-agent`) the soft
//! limit is raised to the hard limit here, which needs no privilege.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit in effect.
/// A failure is logged and the limit left as it was: the agent still works, with less room.
pub fn raise_open_file_limit() -> u64 {
    let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(limits) => limits,
        Err(error) => {
            tracing::warn!(%error, "cannot read the open-file limit");
            return 0;
        }
    };
    if soft >= hard {
        return soft;
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => {
            tracing::debug!(from = soft, to = hard, "raised the open-file limit");
            hard
        }
        Err(error) => {
            tracing::warn!(%error, soft, hard, "cannot raise the open-file limit");
            soft
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let in_effect = raise_open_file_limit();
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert_eq!(in_effect, soft);
        assert_eq!(soft, hard);
    }
}
