//! `operational_state_file`: what must survive a restart, as opposed to the crash-recovery
//! `state_file` (removed on clean shutdown): whether a user paused the agent, and which
//! address each alias has (so `ssh db.prod.example` keeps meeting the same address and
//! known_hosts entries and firewall rules stay valid).
//!
//! It uses the same file format as the crash-recovery state ([`StateFile`]), holding only
//! the `paused` flag and `alias_addresses`.

use std::path::Path;

use crate::state::{self, StateError, StateFile};
use boundary_agent_core::AliasAddresses;

/// The operational state file and what was last written to it.
pub struct OperationalState {
    file: StateFile,
}

/// What the agent starts from.
pub struct Remembered {
    /// A user paused the agent before it stopped.
    pub paused: bool,
    /// Alias → addresses, for `AgentCore::seed_assignment`. Entries missing a family are
    /// left out (the alias then gets fresh addresses).
    pub assignments: Vec<(String, AliasAddresses)>,
}

impl OperationalState {
    /// Loads the file. A corrupt file is moved aside by [`StateFile::load`]; the agent
    /// then starts running with fresh assignments (and says so in the error).
    pub fn load(path: &Path) -> (OperationalState, Remembered, Option<StateError>) {
        let (file, error) = match StateFile::load(path) {
            Ok(file) => (file, None),
            Err(error) => (StateFile::empty(path), Some(error)),
        };
        let state = file.state();
        let assignments = state
            .alias_addresses
            .iter()
            .filter_map(|(alias, addrs)| match (addrs.v4, addrs.v6) {
                (Some(v4), Some(v6)) => Some((alias.clone(), AliasAddresses { v4, v6 })),
                _ => None,
            })
            .collect();
        let remembered = Remembered {
            paused: state.paused,
            assignments,
        };
        (OperationalState { file }, remembered, error)
    }

    /// Records the current assignments (written only when they changed).
    pub fn save_assignments(
        &mut self,
        assignments: &[(String, AliasAddresses)],
    ) -> Result<(), StateError> {
        self.file.update(|s| {
            s.alias_addresses = assignments
                .iter()
                .map(|(alias, addrs)| {
                    let saved = state::AliasAddresses {
                        v4: Some(addrs.v4),
                        v6: Some(addrs.v6),
                    };
                    (alias.clone(), saved)
                })
                .collect();
        })
    }

    /// Records whether a user paused the agent (written only when it changed).
    pub fn save_paused(&mut self, paused: bool) -> Result<(), StateError> {
        self.file.update(|s| s.paused = paused)
    }

    pub fn paused(&self) -> bool {
        self.file.state().paused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_and_pause_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("operational.json");
        let (mut state, remembered, error) = OperationalState::load(&path);
        assert!(error.is_none());
        assert!(!remembered.paused && remembered.assignments.is_empty());
        let addrs = AliasAddresses {
            v4: "100.64.0.9".parse().unwrap(),
            v6: "fd00:a20a::9".parse().unwrap(),
        };
        state
            .save_assignments(&[("db.example".to_owned(), addrs)])
            .unwrap();
        state.save_paused(true).unwrap();
        let (_, remembered, _) = OperationalState::load(&path);
        assert!(remembered.paused);
        assert_eq!(
            remembered.assignments,
            vec![("db.example".to_owned(), addrs)]
        );
    }

    #[test]
    fn a_corrupt_file_is_reported_and_the_agent_starts_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("operational.json");
        std::fs::write(&path, b"{not json").unwrap();
        let (state, remembered, error) = OperationalState::load(&path);
        assert!(
            matches!(error, Some(StateError::Corrupt { .. })),
            "{error:?}"
        );
        assert!(!remembered.paused && !state.paused());
    }
}
