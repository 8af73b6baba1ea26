//! What can go wrong when talking to a controller.

use boundary_wire::api::{ApiErrorBody, error::kind};

/// An error from [`super::ControllerClient`]. The messages name the controller address so
/// that a user reading only the last line knows which controller was meant.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address given to the client is not an `http://` or `https://` URL.
    #[error("invalid controller address {addr:?}: {reason}")]
    InvalidAddress { addr: String, reason: String },

    /// The TLS configuration could not be built (unreadable or empty CA file, ...).
    #[error("TLS setup for the controller client failed: {0}")]
    Tls(String),

    /// The request never got an HTTP answer: refused, unresolvable, TLS failure, timeout,
    /// or the connection broke while reading the answer.
    #[error("{}", transport_message(addr, source))]
    Transport {
        addr: String,
        #[source]
        source: reqwest::Error,
    },

    /// The controller answered with an error status. `body` is the parsed error body; when
    /// the body was not Boundary's JSON error, `kind` is derived from the status and
    /// `message` holds the start of the raw body.
    #[error("the controller answered {status}: {body}")]
    Api { status: u16, body: ApiErrorBody },

    /// The controller answered 2xx but the body is not what the endpoint returns.
    #[error("cannot understand the controller's answer to {what} (from {addr})")]
    Decode {
        what: &'static str,
        addr: String,
        #[source]
        source: serde_json::Error,
    },

    /// A paginated listing could not be followed to its end.
    #[error("listing {what} from {addr} failed: {reason}")]
    Pagination {
        what: &'static str,
        addr: String,
        reason: String,
    },
}

impl ClientError {
    /// The HTTP status of an [`ClientError::Api`] error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error body of an [`ClientError::Api`] error.
    pub fn api_body(&self) -> Option<&ApiErrorBody> {
        match self {
            ClientError::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A 400 saying the `list_token` is stale: the caller must list again without one.
    pub fn is_invalid_list_token(&self) -> bool {
        matches!(self, ClientError::Api { status: 400, body } if body.kind == kind::INVALID_LIST_TOKEN)
    }

    /// True when the request did not reach the controller (or got no answer).
    pub fn is_transport(&self) -> bool {
        matches!(self, ClientError::Transport { .. })
    }
}

fn transport_message(addr: &str, source: &reqwest::Error) -> String {
    if source.is_connect() {
        format!("could not connect to the controller at {addr}")
    } else if source.is_timeout() {
        format!("the controller at {addr} did not answer in time")
    } else {
        format!("the request to the controller at {addr} failed")
    }
}

/// Turns an error status and its body into [`ClientError::Api`], tolerating bodies that
/// are not Boundary's JSON error (a proxy's HTML page, an empty body).
pub(crate) fn api_error(status: u16, body: &[u8]) -> ClientError {
    let parsed = serde_json::from_slice::<ApiErrorBody>(body)
        .ok()
        .filter(|b| !b.kind.is_empty());
    let body = parsed.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let message = if text.is_empty() {
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("no error body")
                .to_owned()
        } else {
            truncate_chars(text, 300)
        };
        ApiErrorBody::new(kind_for_status(status), message)
    });
    ClientError::Api { status, body }
}

fn kind_for_status(status: u16) -> &'static str {
    match status {
        400 => kind::INVALID_ARGUMENT,
        401 => kind::UNAUTHENTICATED,
        403 => kind::PERMISSION_DENIED,
        404 => kind::NOT_FOUND,
        409 => kind::ALREADY_EXISTS,
        405 | 501 => kind::UNIMPLEMENTED,
        500..=599 => kind::INTERNAL,
        _ => "Unknown",
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_bodies_are_parsed() {
        let e = api_error(400, br#"{"kind":"invalid list token","message":"stale"}"#);
        assert!(e.is_invalid_list_token());
        assert_eq!(e.status(), Some(400));
        let e = api_error(
            404,
            br#"{"kind":"NotFound","message":"Resource not found."}"#,
        );
        assert!(e.is_not_found());
        assert_eq!(
            e.to_string(),
            "the controller answered 404: NotFound: Resource not found."
        );
    }

    #[test]
    fn non_json_bodies_keep_the_status_and_some_text() {
        let e = api_error(502, b"<html>Bad Gateway</html>");
        let body = e.api_body().unwrap();
        assert_eq!(body.kind, "Internal");
        assert_eq!(body.message, "<html>Bad Gateway</html>");
        let e = api_error(401, b"");
        let body = e.api_body().unwrap();
        assert_eq!(body.kind, "Unauthenticated");
        assert_eq!(body.message, "Unauthorized");
        let long = "x".repeat(1000);
        let e = api_error(500, long.as_bytes());
        assert!(e.api_body().unwrap().message.chars().count() <= 301);
    }

    #[test]
    fn a_json_body_without_kind_is_not_trusted() {
        let e = api_error(403, br#"{"message":"nope"}"#);
        assert_eq!(e.api_body().unwrap().kind, "PermissionDenied");
    }
}
