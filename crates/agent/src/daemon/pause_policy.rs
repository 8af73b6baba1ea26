//! Who may pause and resume the agent.
//!
//! A pause is agent-wide: every user's sessions end, no alias is answered any more and
//! the machine's previous resolvers come back. Letting any user do that would let one
//! user switch the agent off for everyone (and, after pointing it at a controller of
//! their own, keep it that way). So:
//! - root may always pause and resume;
//! - other users may pause, and resume a requested pause, only when root set
//!   `allow_user_pause = true` (then any user with a registered token may, as before);
//! - any user with a token may resume after an automatic pause (the failure breaker,
//!   e.g. a captive portal): nobody chose that pause, and resuming only restores the
//!   state root configured.
//!
//! The local API has already refused callers that are neither root nor holding a token
//! ([`crate::api::may_pause_or_resume`]).

use boundary_agent_core::{PauseReason, RunState};

/// Why `uid` may not pause the agent; `None` when it may.
pub fn pause_refusal(uid: u32, allow_user_pause: bool) -> Option<String> {
    if uid == 0 || allow_user_pause {
        return None;
    }
    Some(
        "pausing the client agent stops alias resolution and ends the sessions of every user \
         of this machine, so only root may pause it (root can let every user do so with \
         allow_user_pause = true in the agent's configuration)"
            .to_owned(),
    )
}

/// Why `uid` may not resume the agent from `state`; `None` when it may (resuming an agent
/// that is not paused changes nothing, so anyone may).
pub fn resume_refusal(uid: u32, allow_user_pause: bool, state: &RunState) -> Option<String> {
    if uid == 0 || allow_user_pause {
        return None;
    }
    match state {
        RunState::Paused(PauseReason::Requested) => Some(
            "the client agent was paused for every user on request; only root may resume it \
             (root can let every user do so with allow_user_pause = true in the agent's \
             configuration)"
                .to_owned(),
        ),
        RunState::Paused(PauseReason::FailureBreaker { .. })
        | RunState::Running
        | RunState::ShutDown => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const ALICE: u32 = 1000;

    #[test]
    fn only_root_pauses_unless_root_allows_users() {
        assert_eq!(pause_refusal(0, false), None);
        let refusal = pause_refusal(ALICE, false).unwrap();
        assert!(
            refusal.contains("only root") && refusal.contains("allow_user_pause = true"),
            "{refusal}"
        );
        assert_eq!(pause_refusal(ALICE, true), None);
    }

    #[test]
    fn users_resume_only_an_automatic_pause_unless_root_allows_them() {
        let requested = RunState::Paused(PauseReason::Requested);
        let breaker = RunState::Paused(PauseReason::FailureBreaker {
            failures: 20,
            window: Duration::from_secs(60),
        });
        assert_eq!(resume_refusal(0, false, &requested), None);
        let refusal = resume_refusal(ALICE, false, &requested).unwrap();
        assert!(refusal.contains("only root"), "{refusal}");
        assert_eq!(resume_refusal(ALICE, true, &requested), None);
        for state in [breaker, RunState::Running, RunState::ShutDown] {
            assert_eq!(resume_refusal(ALICE, false, &state), None, "{state:?}");
        }
    }
}
