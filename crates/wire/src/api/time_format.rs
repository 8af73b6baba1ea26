//! RFC 3339 serde helpers for [`super::Timestamp`], truncated to microseconds so that a
//! value read back from either store compares equal to what was written.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Current time truncated to microseconds (the precision both stores keep).
pub fn now() -> OffsetDateTime {
    truncate(OffsetDateTime::now_utc())
}

pub fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.microsecond();
    t.replace_nanosecond(micros * 1000).unwrap_or(t)
}

/// Microseconds since the Unix epoch, the stores' representation.
pub fn to_micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn format(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn parse(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(s, &Rfc3339)
}

pub use time::serde::rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip_exactly() {
        let t = now();
        assert_eq!(from_micros(to_micros(t)), t);
        assert_eq!(parse(&format(t)).unwrap(), t);
    }
}
