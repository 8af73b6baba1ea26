//! Boundary's REST resources as JSON (docs/wire-contract.md §1), shared by the controller, the CLI,
//! the client agent and the tests.
//!
//! Field names are the protobuf names Boundary emits, in snake_case. Unset optional fields
//! are omitted when serialising and tolerated when absent, as Boundary's protojson does.
//! Unknown fields are ignored on input so that a newer Boundary controller stays readable.

pub mod agent;
pub mod alias;
pub mod auth;
pub mod credential;
pub mod error;
pub mod ids;
pub mod int64_string;
pub mod list;
pub mod role;
pub mod scope;
pub mod secret;
pub mod session;
pub mod target;
pub mod time_format;
pub mod user;
pub mod worker;

pub use error::{ApiErrorBody, ErrorDetails, RequestField};
pub use list::{ListQuery, ListResponse, ResponseType};
pub use scope::ScopeInfo;
pub use secret::Secret;

/// Resource timestamps: RFC 3339 on the wire, microsecond precision in our stores.
pub type Timestamp = time::OffsetDateTime;

/// Splits a path segment of the form `<id>:<action>` (Boundary's custom-action syntax).
/// The split is on the last `:`, because ids never contain one and neither do alias values.
pub fn split_action(segment: &str) -> (&str, Option<&str>) {
    match segment.rsplit_once(':') {
        Some((id, action)) => (id, Some(action)),
        None => (segment, None),
    }
}

#[cfg(test)]
mod tests {
    use super::split_action;

    #[test]
    fn custom_action_is_split_on_the_last_colon() {
        assert_eq!(
            split_action("ttcp_1234567890:authorize-session"),
            ("ttcp_1234567890", Some("authorize-session"))
        );
        assert_eq!(
            split_action("db.prod.example:authorize-session"),
            ("db.prod.example", Some("authorize-session"))
        );
        assert_eq!(split_action("s_1234567890"), ("s_1234567890", None));
    }
}
