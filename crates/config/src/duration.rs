//! Durations: Go's forms (`"5s"`, `"1m30s"`, `"250ms"`, `"1.5h"`, `"24h"`) and the
//! longer ones the client agent has always accepted (`"1 hour 30 min"`, `"2days"`,
//! `"1w"`, `"1M"` — a month of 30.44 days —, `"1y"`), and `"0"`.
//!
//! The grammar is exactly that of humantime 2 (the agent's parser before this crate; the
//! tests compare the two on generated input): numbers with units, without separators or
//! separated by whitespace; a number may have a fraction if the result is a whole number
//! of nanoseconds; whitespace inside a number is skipped; units are case-sensitive. Written
//! here so that this crate needs no dependency for it.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::{ConfigError, Value};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Parses a duration; the error says what is wrong, without repeating the text.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.trim_start();
    if rest.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let (item, after) = next_item(rest)?;
        total = total.checked_add(item).ok_or_else(too_large)?;
        rest = after.trim_start();
    }
    Ok(total)
}

/// One `<number><unit>` at the start of `text` and what follows it.
fn next_item(text: &str) -> Result<(Duration, &str), String> {
    let (number, rest) = number(text)?;
    let unit_len = rest.find(|c: char| !is_unit_char(c)).unwrap_or(rest.len());
    let (unit, after) = rest.split_at(unit_len);
    if let Some(c) = after.chars().next()
        && !c.is_whitespace()
        && !c.is_ascii_digit()
    {
        return Err(format!("{c:?} is not allowed in a duration"));
    }
    let Some(nanos) = unit_nanos(unit) else {
        return Err(match unit {
            "" => format!("{} needs a unit, for example {0}s or {0}ms", number.whole),
            _ => format!(
                "unknown unit {unit:?}; use ns, us, ms, s, m, h, d, w, M (months) or y \
                 (or their long names)"
            ),
        });
    };
    Ok((scaled(number, nanos)?, after))
}

fn is_unit_char(c: char) -> bool {
    c.is_ascii_alphabetic() || c == 'µ'
}

/// A number of units: `whole` and an optional fraction (numerator, denominator).
#[derive(Clone, Copy)]
struct Number {
    whole: u64,
    fraction: Option<(u64, u64)>,
}

/// A number at the start of `text` (digits, whitespace between them ignored) and what
/// follows it.
fn number(text: &str) -> Result<(Number, &str), String> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("expected a number".to_owned());
    }
    let (whole, _, rest) = digits(text)?;
    let Some(after_point) = rest.strip_prefix('.') else {
        let number = Number {
            whole,
            fraction: None,
        };
        return Ok((number, rest));
    };
    let (numerator, count, rest) = digits(after_point)?;
    if count == 0 {
        return Err("a decimal point must be followed by digits".to_owned());
    }
    let denominator = 10u64.checked_pow(count).ok_or_else(too_large)?;
    let fraction = Some((numerator, denominator));
    Ok((Number { whole, fraction }, rest))
}

/// Digits (and whitespace, skipped) at the start of `text`: their value, how many there
/// are, and what follows them.
fn digits(text: &str) -> Result<(u64, u32, &str), String> {
    let end = text
        .find(|c: char| !c.is_ascii_digit() && !c.is_whitespace())
        .unwrap_or(text.len());
    let mut value = 0u64;
    let mut count = 0u32;
    for digit in text[..end].chars().filter_map(|c| c.to_digit(10)) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit)))
            .ok_or_else(too_large)?;
        count = count.saturating_add(1);
    }
    Ok((value, count, &text[end..]))
}

/// The length of one unit in nanoseconds.
fn unit_nanos(unit: &str) -> Option<u128> {
    const SEC: u128 = NANOS_PER_SEC as u128;
    Some(match unit {
        "nanos" | "nsec" | "ns" => 1,
        "usec" | "us" | "µs" => 1_000,
        "millis" | "msec" | "ms" => 1_000_000,
        "seconds" | "second" | "secs" | "sec" | "s" => SEC,
        "minutes" | "minute" | "min" | "mins" | "m" => 60 * SEC,
        "hours" | "hour" | "hr" | "hrs" | "h" => 3_600 * SEC,
        "days" | "day" | "d" => 86_400 * SEC,
        "weeks" | "week" | "wk" | "wks" | "w" => 7 * 86_400 * SEC,
        "months" | "month" | "M" => 2_630_016 * SEC,
        "years" | "year" | "yr" | "yrs" | "y" => 31_557_600 * SEC,
        _ => return None,
    })
}

/// `whole.fraction` units of `unit_nanos` each. As in humantime, a product that does not
/// fit in 64 bits (counted in the unit's own scale) is "too large", and a fraction that
/// does not come to whole nanoseconds is refused.
fn scaled(Number { whole, fraction }: Number, unit_nanos: u128) -> Result<Duration, String> {
    let in_secs = unit_nanos >= u128::from(NANOS_PER_SEC);
    let per_unit = if in_secs {
        unit_nanos / u128::from(NANOS_PER_SEC)
    } else {
        unit_nanos
    };
    check_u64(u128::from(whole) * per_unit)?;
    let mut nanos = u128::from(whole) * unit_nanos;
    if let Some((numerator, denominator)) = fraction {
        nanos += fraction_nanos(numerator, denominator, unit_nanos)?;
    }
    let secs = u64::try_from(nanos / u128::from(NANOS_PER_SEC)).map_err(|_| too_large())?;
    Ok(Duration::new(
        secs,
        (nanos % u128::from(NANOS_PER_SEC)) as u32,
    ))
}

/// The nanoseconds of `numerator / denominator` units. humantime counts hours and longer
/// units in whole seconds, shorter ones in nanoseconds (and refuses a fraction of a
/// nanosecond unit outright).
fn fraction_nanos(numerator: u64, denominator: u64, unit_nanos: u128) -> Result<u128, String> {
    const MINUTE: u128 = 60 * NANOS_PER_SEC as u128;
    let (scale, factor) = match unit_nanos {
        1 => return Err(inexact()),
        n if n <= MINUTE => (1, n),
        n => (u128::from(NANOS_PER_SEC), n / u128::from(NANOS_PER_SEC)),
    };
    let product = check_u64(u128::from(numerator) * factor)?;
    if product % u128::from(denominator) != 0 {
        return Err(inexact());
    }
    Ok(product / u128::from(denominator) * scale)
}

fn check_u64(n: u128) -> Result<u128, String> {
    if n > u128::from(u64::MAX) {
        Err(too_large())
    } else {
        Ok(n)
    }
}

fn too_large() -> String {
    "the number is too large".to_owned()
}

fn inexact() -> String {
    "the fraction is not a whole number of nanoseconds".to_owned()
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
