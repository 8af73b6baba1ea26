//! Running, paused or shut down — and the failure breaker that pauses by itself.
//!
//! When the controller or the upstream resolvers fail many times in a short window, the
//! agent is more likely to be in the way than helpful (a captive portal, a dead VPN), so
//! it pauses itself: DNS goes back to the resolvers the machine had before, and `status`
//! says why. It stays paused until a user resumes it.

use super::clock::Moment;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// Trip the breaker after `threshold` failures within `window`. A threshold of 0
/// disables it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    pub threshold: usize,
    pub window: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            threshold: 20,
            window: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    Paused(PauseReason),
    /// Shutting down: like paused, but nothing resumes it.
    ShutDown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PauseReason {
    /// A user asked (`POST /v1/pause`) or the operational state file said so at start.
    Requested,
    /// The failure breaker tripped.
    FailureBreaker { failures: usize, window: Duration },
}

impl fmt::Display for PauseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PauseReason::Requested => f.write_str("paused on request"),
            PauseReason::FailureBreaker { failures, window } => write!(
                f,
                "paused automatically after {failures} network failures reaching the \
                 controller or the upstream DNS servers within {}s; DNS uses the previous \
                 resolvers until the agent is resumed (boundary client-agent resume)",
                window.as_secs()
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct PauseState {
    state: RunState,
    failures: VecDeque<Moment>,
    breaker: BreakerConfig,
}

impl PauseState {
    pub fn new(breaker: BreakerConfig, paused: bool) -> Self {
        Self {
            state: if paused {
                RunState::Paused(PauseReason::Requested)
            } else {
                RunState::Running
            },
            failures: VecDeque::new(),
            breaker,
        }
    }

    pub fn state(&self) -> &RunState {
        &self.state
    }

    pub fn is_running(&self) -> bool {
        self.state == RunState::Running
    }

    /// Pauses; false when the agent was not running.
    pub fn pause(&mut self, reason: PauseReason) -> bool {
        if !self.is_running() {
            return false;
        }
        self.state = RunState::Paused(reason);
        self.failures.clear();
        true
    }

    /// Resumes; false when the agent was not paused (running, or shut down).
    pub fn resume(&mut self) -> bool {
        if !matches!(self.state, RunState::Paused(_)) {
            return false;
        }
        self.state = RunState::Running;
        self.failures.clear();
        true
    }

    /// Enters the final state; false when it was already there.
    pub fn shut_down(&mut self) -> bool {
        let changed = self.state != RunState::ShutDown;
        self.state = RunState::ShutDown;
        changed
    }

    /// Counts a network failure; returns the reason when this one trips the breaker (the
    /// state is then already `Paused`). Failures while not running are not counted.
    pub fn record_failure(&mut self, now: Moment) -> Option<PauseReason> {
        if !self.is_running() || self.breaker.threshold == 0 {
            return None;
        }
        while self
            .failures
            .front()
            .is_some_and(|at| now.saturating_since(*at) >= self.breaker.window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if self.failures.len() < self.breaker.threshold {
            return None;
        }
        let reason = PauseReason::FailureBreaker {
            failures: self.failures.len(),
            window: self.breaker.window,
        };
        self.pause(reason.clone());
        Some(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(threshold: usize) -> PauseState {
        PauseState::new(
            BreakerConfig {
                threshold,
                window: Duration::from_secs(10),
            },
            false,
        )
    }

    #[test]
    fn pause_resume_and_shutdown() {
        let mut p = PauseState::new(BreakerConfig::default(), true);
        assert!(!p.is_running());
        assert!(!p.pause(PauseReason::Requested));
        assert!(p.resume());
        assert!(!p.resume());
        assert!(p.pause(PauseReason::Requested));
        assert!(p.shut_down());
        assert!(!p.resume(), "nothing resumes a shut-down agent");
        assert!(!p.is_running());
    }

    #[test]
    fn many_failures_in_the_window_trip_the_breaker() {
        let mut p = breaker(3);
        assert_eq!(p.record_failure(Moment::from_secs(0)), None);
        assert_eq!(p.record_failure(Moment::from_secs(5)), None);
        let reason = p.record_failure(Moment::from_secs(9)).unwrap();
        assert_eq!(
            reason,
            PauseReason::FailureBreaker {
                failures: 3,
                window: Duration::from_secs(10)
            }
        );
        assert_eq!(p.state(), &RunState::Paused(reason.clone()));
        assert!(reason.to_string().contains("client-agent resume"));
        assert_eq!(p.record_failure(Moment::from_secs(9)), None);
    }

    #[test]
    fn failures_spread_out_do_not_trip_it() {
        let mut p = breaker(3);
        for s in [0, 6, 12, 18, 24, 30] {
            assert_eq!(p.record_failure(Moment::from_secs(s)), None, "at {s}s");
        }
        assert!(p.is_running());
        let mut off = breaker(0);
        for _ in 0..100 {
            assert_eq!(off.record_failure(Moment::from_secs(1)), None);
        }
    }

    #[test]
    fn resuming_forgets_old_failures() {
        let mut p = breaker(2);
        p.record_failure(Moment::from_secs(0));
        p.pause(PauseReason::Requested);
        p.resume();
        assert_eq!(p.record_failure(Moment::from_secs(1)), None);
    }
}
