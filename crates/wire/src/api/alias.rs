//! Aliases: DNS-like names that point at a target (docs/wire-contract.md §1.3, §1.4).

use super::{ScopeInfo, Timestamp, time_format::rfc3339};
use serde::{Deserialize, Serialize};

pub const TARGET_ALIAS_TYPE: &str = "target";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    pub id: String,
    pub scope_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeInfo>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(with = "rfc3339")]
    pub created_time: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_time: Timestamp,
    pub version: u32,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AliasAttributes>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_actions: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_session_arguments: Option<AuthorizeSessionArguments>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizeSessionArguments {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
}

/// What `:list-resolvable-aliases` returns per alias: exactly these six keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvableAlias {
    pub id: String,
    #[serde(with = "rfc3339")]
    pub created_time: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_time: Timestamp,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `POST /v1/aliases`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CreateAliasRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AliasAttributes>,
}

/// `PATCH /v1/aliases/{id}`: `version` must match; a JSON `null` clears a field, an absent
/// key leaves it alone.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UpdateAliasRequest {
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_id: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributes: Option<Option<AliasAttributes>>,
}

/// Why an alias value is not acceptable; the message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AliasValueError {
    #[error("alias value is empty")]
    Empty,
    #[error("alias value must be shorter than 254 characters")]
    TooLong,
    #[error("alias value must not end with a dot")]
    TrailingDot,
    #[error("alias value contains an empty label")]
    EmptyLabel,
    #[error("alias label {0:?} is longer than 63 characters")]
    LabelTooLong(String),
    #[error("alias label {0:?} must not start or end with '-'")]
    LabelHyphen(String),
    #[error("alias value contains {0:?}; only letters, digits, '-' and '.' are allowed")]
    BadCharacter(char),
    #[error("the last label of an alias value must not be all digits")]
    NumericLastLabel,
}

/// Checks Boundary's alias value syntax, case-insensitively: labels of `[a-z0-9-]{1,63}`
/// without a leading or trailing `-`, joined by `.`, shorter than 254 in total, the last
/// label not all digits, no trailing dot.
pub fn validate_alias_value(value: &str) -> Result<(), AliasValueError> {
    if value.is_empty() {
        return Err(AliasValueError::Empty);
    }
    if value.len() >= 254 {
        return Err(AliasValueError::TooLong);
    }
    if value.ends_with('.') {
        return Err(AliasValueError::TrailingDot);
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(AliasValueError::BadCharacter(c));
    }
    let mut last = "";
    for label in value.split('.') {
        if label.is_empty() {
            return Err(AliasValueError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(AliasValueError::LabelTooLong(label.to_owned()));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(AliasValueError::LabelHyphen(label.to_owned()));
        }
        last = label;
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AliasValueError::NumericLastLabel);
    }
    Ok(())
}

/// Serde helper that tells "absent" (outer `None`) from "null" (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_dns_like_values_in_any_case() {
        for ok in [
            "db.prod.example",
            "localhost.boundary.dev",
            "A-1.B2",
            "x",
            "web01",
            "a.b.c1d",
        ] {
            assert_eq!(validate_alias_value(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_each_broken_rule() {
        assert_eq!(validate_alias_value(""), Err(AliasValueError::Empty));
        assert_eq!(
            validate_alias_value("db.example."),
            Err(AliasValueError::TrailingDot)
        );
        assert_eq!(
            validate_alias_value("db..example"),
            Err(AliasValueError::EmptyLabel)
        );
        assert_eq!(
            validate_alias_value("db_1.example"),
            Err(AliasValueError::BadCharacter('_'))
        );
        assert_eq!(
            validate_alias_value("*.example"),
            Err(AliasValueError::BadCharacter('*'))
        );
        assert_eq!(
            validate_alias_value("-db.example"),
            Err(AliasValueError::LabelHyphen("-db".into()))
        );
        assert_eq!(
            validate_alias_value("db.example-"),
            Err(AliasValueError::LabelHyphen("example-".into()))
        );
        assert_eq!(
            validate_alias_value("10.0.0.1"),
            Err(AliasValueError::NumericLastLabel)
        );
        assert!(matches!(
            validate_alias_value(&"a".repeat(64)),
            Err(AliasValueError::LabelTooLong(_))
        ));
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(long.len() >= 254);
        assert_eq!(validate_alias_value(&long), Err(AliasValueError::TooLong));
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let p: UpdateAliasRequest =
            serde_json::from_str(r#"{"version":2,"destination_id":null}"#).unwrap();
        assert_eq!(p.destination_id, Some(None));
        assert_eq!(p.name, None);
    }

    proptest! {
        #[test]
        fn validation_never_panics(s in "\\PC{0,300}") {
            let _ = validate_alias_value(&s);
        }

        #[test]
        fn valid_values_only_hold_allowed_characters(s in "[a-zA-Z0-9.-]{1,80}") {
            if validate_alias_value(&s).is_ok() {
                prop_assert!(!s.starts_with('.') && !s.ends_with('.') && !s.contains(".."));
            }
        }
    }
}
