//! Boundary's 64-bit counters (a session connection's `bytes_up`/`bytes_down`) are JSON
//! strings on the wire — `"17"`, as protobuf's JSON mapping writes 64-bit integers — and
//! are left out when zero. Boundary's Go client reads them with a `,string` tag, so a bare
//! number there makes it fail the whole response. We write strings and read either form
//! (a missing field is 0 through `#[serde(default)]`).
//!
//! Use as `#[serde(default, with = "int64_string", skip_serializing_if = "int64_string::is_zero")]`.

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

pub fn is_zero(v: &u64) -> bool {
    *v == 0
}

pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(CounterVisitor)
}

struct CounterVisitor;

impl Visitor<'_> for CounterVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative 64-bit integer, as a string or a number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        if v.is_empty() {
            return Ok(0);
        }
        v.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct C {
        #[serde(default, with = "super", skip_serializing_if = "super::is_zero")]
        n: u64,
    }

    #[test]
    fn written_as_a_string_and_left_out_when_zero() {
        assert_eq!(
            serde_json::to_string(&C { n: 17 }).unwrap(),
            r#"{"n":"17"}"#
        );
        assert_eq!(serde_json::to_string(&C { n: 0 }).unwrap(), "{}");
    }

    #[test]
    fn read_from_a_string_a_number_null_or_nothing() {
        for (json, n) in [
            (r#"{"n":"17"}"#, 17),
            (r#"{"n":17}"#, 17),
            (r#"{"n":"18446744073709551615"}"#, u64::MAX),
            (r#"{"n":null}"#, 0),
            ("{}", 0),
        ] {
            assert_eq!(serde_json::from_str::<C>(json).unwrap(), C { n }, "{json}");
        }
        for bad in [
            r#"{"n":"x"}"#,
            r#"{"n":-1}"#,
            r#"{"n":"-1"}"#,
            r#"{"n":1.5}"#,
        ] {
            assert!(serde_json::from_str::<C>(bad).is_err(), "{bad}");
        }
    }
}
