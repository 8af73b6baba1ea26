//! Durations: Go's forms (`"5s"`, `"1m30s"`, `"250ms"`, `"1.5h"`, `"24h"`) and the
//! longer ones the client agent has always accepted (`"1 hour 30 min"`, `"2days"`,
//! `"1w"`, `"1M"` — a month of 30.44 days —, `"1y"`), and `"0"`.
//!
//! The grammar is humantime's (the agent's parser from the start), and humantime parses
//! it: numbers with units, without separators or separated by whitespace; units are
//! case-sensitive.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::{ConfigError, Value};

/// Parses a duration with humantime (the grammar above); the error says what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if text.trim().is_empty() {
        return Err("it is empty".to_owned());
    }
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// Formats `duration` the way it can be written back: `1d2h`, `1h30m`, `250ms`, `0s`.
pub fn format_duration(duration: Duration) -> String {
    if duration.is_zero() {
        return "0s".to_owned();
    }
    let secs = duration.as_secs();
    let nanos = u64::from(duration.subsec_nanos());
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3_600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
        (nanos / 1_000_000, "ms"),
        (nanos / 1_000 % 1_000, "us"),
        (nanos % 1_000, "ns"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect()
}

impl Value {
    /// A duration string (see the module) within `range`.
    pub fn duration(&self, range: RangeInclusive<Duration>) -> Result<Duration, ConfigError> {
        let duration = self.any_duration()?;
        self.duration_within(duration, range)
    }

    /// A duration within `range`, or zero (`"0s"`, `"0"`) for "off" (`None`).
    pub fn duration_or_off(
        &self,
        range: RangeInclusive<Duration>,
    ) -> Result<Option<Duration>, ConfigError> {
        let duration = self.any_duration()?;
        if duration.is_zero() {
            return Ok(None);
        }
        self.duration_within(duration, range).map(Some)
    }

    /// A duration string of any length.
    pub fn any_duration(&self) -> Result<Duration, ConfigError> {
        let hcl::Expression::String(text) = self.expr() else {
            return Err(self.wrong_type("a duration string such as \"30s\" or \"1m\""));
        };
        parse_duration(text).map_err(|reason| {
            self.invalid(format!(
                "not a duration ({reason}); write it like \"30s\", \"1m\" or \"1h30m\""
            ))
        })
    }

    fn duration_within(
        &self,
        duration: Duration,
        range: RangeInclusive<Duration>,
    ) -> Result<Duration, ConfigError> {
        if range.contains(&duration) {
            return Ok(duration);
        }
        let mut expected = format!(
            "use {} to {}",
            format_duration(*range.start()),
            format_duration(*range.end())
        );
        if self.expr().to_string().contains('M') {
            expected.push_str(" (\"M\" means months; minutes are \"m\")");
        }
        Err(self.out_of_range(expected))
    }
}
