//! Agent-wide warnings for `status` (the core leaves `warnings` to the shell): things an
//! administrator should act on that are not errors of one user.

/// The current warnings, by source; each source holds at most one message and is
/// replaced when its situation changes.
#[derive(Clone, Debug, Default)]
pub struct Warnings {
    /// Set at start and kept (e.g. resolver mode fell back to `none`).
    pub startup: Vec<String>,
    /// A reload changed keys that need a restart.
    pub restart_required: Option<String>,
    /// The configuration file could not be reloaded.
    pub reload_failed: Option<String>,
    /// Taking over or restoring the resolver configuration failed.
    pub resolver: Option<String>,
    /// There is no upstream DNS server to forward to.
    pub upstreams: Option<String>,
    /// Upstreams that send the agent's queries back to it (left out of forwarding).
    pub looping: Option<String>,
    /// The agent's addresses disappeared and could not be put back.
    pub addresses: Option<String>,
}

impl Warnings {
    /// Every current warning, most pressing first.
    pub fn all(&self) -> Vec<String> {
        [
            &self.resolver,
            &self.addresses,
            &self.upstreams,
            &self.looping,
            &self.reload_failed,
            &self.restart_required,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .chain(self.startup.iter().cloned())
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_listed_most_pressing_first() {
        let warnings = Warnings {
            startup: vec!["mode none".into()],
            restart_required: Some("restart".into()),
            reload_failed: None,
            resolver: Some("resolver".into()),
            upstreams: Some("upstreams".into()),
            looping: Some("looping".into()),
            addresses: Some("addresses".into()),
        };
        assert_eq!(
            warnings.all(),
            [
                "resolver",
                "addresses",
                "upstreams",
                "looping",
                "restart",
                "mode none"
            ]
        );
        assert!(Warnings::default().all().is_empty());
    }
}
