//! The error body every endpoint returns (docs/wire-contract.md §1). The HTTP status carries the
//! code; the body has no status field.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// A gRPC code name (`NotFound`, `InvalidArgument`, ...), or `invalid list token`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub op: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ErrorDetails>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_fields: Vec<RequestField>,
    #[serde(default)]
    pub wrapped_errors: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestField {
    pub name: String,
    pub description: String,
}

pub mod kind {
    pub const NOT_FOUND: &str = "NotFound";
    pub const PERMISSION_DENIED: &str = "PermissionDenied";
    pub const UNAUTHENTICATED: &str = "Unauthenticated";
    pub const INVALID_ARGUMENT: &str = "InvalidArgument";
    pub const FAILED_PRECONDITION: &str = "FailedPrecondition";
    pub const ALREADY_EXISTS: &str = "AlreadyExists";
    pub const INTERNAL: &str = "Internal";
    pub const UNIMPLEMENTED: &str = "Unimplemented";
    pub const INVALID_LIST_TOKEN: &str = "invalid list token";
    /// 503: try again later (overloaded, or a dependency cannot be reached).
    pub const UNAVAILABLE: &str = "Unavailable";
    /// 408: the request did not arrive in time.
    pub const DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
}

impl ApiErrorBody {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            op: String::new(),
            message: message.into(),
            details: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(kind::NOT_FOUND, "Resource not found.")
    }

    pub fn forbidden() -> Self {
        Self::new(kind::PERMISSION_DENIED, "Forbidden.")
    }

    pub fn unauthenticated() -> Self {
        Self::new(kind::UNAUTHENTICATED, "Unauthenticated, or invalid token.")
    }

    /// 400 naming the offending request fields.
    pub fn invalid_fields(fields: Vec<RequestField>) -> Self {
        Self {
            kind: kind::INVALID_ARGUMENT.to_owned(),
            op: String::new(),
            message: "Errors in provided fields.".to_owned(),
            details: Some(ErrorDetails {
                request_fields: fields,
                wrapped_errors: vec![],
            }),
        }
    }

    pub fn invalid_field(name: &str, description: impl Into<String>) -> Self {
        Self::invalid_fields(vec![RequestField {
            name: name.to_owned(),
            description: description.into(),
        }])
    }

    pub fn with_op(mut self, op: impl Into<String>) -> Self {
        self.op = op.into();
        self
    }
}

impl std::fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(details) = &self.details {
            for field in &details.request_fields {
                write!(f, " ({}: {})", field.name, field.description)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_bodies_match_boundary() {
        assert_eq!(
            serde_json::to_string(&ApiErrorBody::not_found()).unwrap(),
            r#"{"kind":"NotFound","message":"Resource not found."}"#
        );
        assert_eq!(
            serde_json::to_string(&ApiErrorBody::forbidden()).unwrap(),
            r#"{"kind":"PermissionDenied","message":"Forbidden."}"#
        );
        let body =
            ApiErrorBody::invalid_field("host_id", "bad").with_op("targets.AuthorizeSession");
        let json: serde_json::Value = serde_json::to_value(&body).unwrap();
        assert_eq!(json["details"]["request_fields"][0]["name"], "host_id");
        assert_eq!(json["op"], "targets.AuthorizeSession");
        assert!(
            json["details"]["wrapped_errors"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
}
