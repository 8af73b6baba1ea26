//! `google.protobuf.Timestamp` ↔ [`time::OffsetDateTime`].

use prost_types::Timestamp;
use time::OffsetDateTime;

pub fn to_timestamp(t: OffsetDateTime) -> Timestamp {
    Timestamp {
        seconds: t.unix_timestamp(),
        nanos: t.nanosecond() as i32,
    }
}

/// `None` for a timestamp outside the representable range.
pub fn from_timestamp(ts: &Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}
