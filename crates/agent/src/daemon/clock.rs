//! The agent's two clocks, read in one place: the monotonic timeline the core runs on
//! ([`Moment`], since the agent started) and wall time (controller deadlines).

use boundary_agent_core::{Moment, Now};
use tokio::time::Instant;

/// Reads "now" for the core. Copy it freely: every copy shares the origin.
#[derive(Clone, Copy, Debug)]
pub struct AgentClock {
    origin: Instant,
}

impl AgentClock {
    /// A clock whose timeline starts now.
    pub fn start() -> AgentClock {
        AgentClock {
            origin: Instant::now(),
        }
    }

    /// Now on the monotonic timeline (cheap: no allocation, no syscall on Linux).
    pub fn moment(&self) -> Moment {
        Moment::from_elapsed(self.origin.elapsed())
    }

    /// Now in both clocks, for a `handle_*` call.
    pub fn now(&self) -> Now {
        Now::new(self.moment(), time::OffsetDateTime::now_utc())
    }

    /// The instant a moment falls on (for timers).
    pub fn instant_of(&self, moment: Moment) -> Instant {
        self.origin + moment.elapsed()
    }
}
