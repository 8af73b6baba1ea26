//! Time as the core sees it: always passed in by the shell, never read.
//!
//! Timeouts (idle, refresh, retry) run on a monotonic timeline ([`Moment`]) so that a
//! wall-clock jump cannot expire or revive everything at once. The controller speaks wall
//! time (session `expiration`, token `expiration_time`), so every input carries both
//! clocks in a [`Now`] and the core converts a wall deadline into a moment once, when it
//! learns it.

use boundary_wire::api::Timestamp;
use std::time::Duration;

/// A point on the agent's monotonic timeline: the time elapsed since an origin the shell
/// picks once (typically `Instant` at start-up). Only differences between moments mean
/// anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Moment(Duration);

impl Moment {
    /// The origin of the timeline.
    pub const ORIGIN: Moment = Moment(Duration::ZERO);

    /// The moment `since_origin` after the origin (the shell passes `origin.elapsed()`).
    pub fn from_elapsed(since_origin: Duration) -> Self {
        Self(since_origin)
    }

    pub fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// Time since the origin.
    pub fn elapsed(self) -> Duration {
        self.0
    }

    /// `self - earlier`, zero when `earlier` is later.
    pub fn saturating_since(self, earlier: Moment) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self + d`, saturating instead of overflowing.
    pub fn after(self, d: Duration) -> Moment {
        Moment(self.0.saturating_add(d))
    }
}

/// "Now" in both clocks, given to every `handle_*` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub moment: Moment,
    pub wall: Timestamp,
}

impl Now {
    pub fn new(moment: Moment, wall: Timestamp) -> Self {
        Self { moment, wall }
    }

    /// The moment at which a wall-clock deadline from the controller falls. A deadline in
    /// the past maps to `self.moment` (already due).
    pub fn moment_of(&self, deadline: Timestamp) -> Moment {
        let remaining = deadline - self.wall;
        if remaining.is_positive() {
            self.moment
                .after(Duration::try_from(remaining).unwrap_or(Duration::MAX))
        } else {
            self.moment
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn wall_deadlines_map_onto_the_monotonic_timeline() {
        let now = Now::new(Moment::from_secs(100), datetime!(2030-01-01 00:00 UTC));
        assert_eq!(
            now.moment_of(datetime!(2030-01-01 00:01 UTC)),
            Moment::from_secs(160)
        );
        assert_eq!(
            now.moment_of(datetime!(2029-12-31 23:00 UTC)),
            Moment::from_secs(100)
        );
    }

    #[test]
    fn arithmetic_saturates() {
        let m = Moment::from_secs(5);
        assert_eq!(m.saturating_since(Moment::from_secs(9)), Duration::ZERO);
        assert_eq!(m.after(Duration::MAX).elapsed(), Duration::MAX);
    }
}
