//! Agent-wide warnings for `status` (the core leaves `warnings` to the shell): things an
//! administrator should act on that are not errors of one user. Each part keeps the
//! warnings it produces; [`status_warnings`] puts them in the order `status` shows.

/// What the machine part ([`super::machine`]) found wrong on the machine. Each source
/// holds at most one message and is replaced when its situation changes.
#[derive(Clone, Debug, Default)]
pub struct MachineWarnings {
    /// Taking over or restoring the resolver configuration failed.
    pub resolver: Option<String>,
    /// The agent's addresses disappeared and could not be put back.
    pub addresses: Option<String>,
    /// There is no upstream DNS server to forward to.
    pub upstreams: Option<String>,
    /// Upstreams that send the agent's queries back to it (left out of forwarding).
    pub looping: Option<String>,
}

/// What the settings part ([`super::settings`]) has to say about the configuration.
#[derive(Clone, Debug, Default)]
pub struct SettingsWarnings {
    /// The configuration file could not be reloaded.
    pub reload_failed: Option<String>,
    /// A reload changed keys that need a restart.
    pub restart_required: Option<String>,
    /// Set at start and kept (e.g. resolver mode fell back to `none`).
    pub startup: Vec<String>,
}

/// Every current warning, most pressing first: what is broken on the machine now, then
/// what the configuration in effect differs in from the file, then what was decided at
/// start.
pub fn status_warnings(machine: &MachineWarnings, settings: &SettingsWarnings) -> Vec<String> {
    [
        &machine.resolver,
        &machine.addresses,
        &machine.upstreams,
        &machine.looping,
        &settings.reload_failed,
        &settings.restart_required,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .chain(settings.startup.iter().cloned())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_listed_most_pressing_first() {
        let machine = MachineWarnings {
            resolver: Some("resolver".into()),
            upstreams: Some("upstreams".into()),
            looping: Some("looping".into()),
            addresses: Some("addresses".into()),
        };
        let settings = SettingsWarnings {
            startup: vec!["mode none".into()],
            restart_required: Some("restart".into()),
            reload_failed: None,
        };
        assert_eq!(
            status_warnings(&machine, &settings),
            [
                "resolver",
                "addresses",
                "upstreams",
                "looping",
                "restart",
                "mode none"
            ]
        );
        let none = status_warnings(&MachineWarnings::default(), &SettingsWarnings::default());
        assert!(none.is_empty());
    }
}
