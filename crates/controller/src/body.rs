//! Request bodies as JSON, with errors in Boundary's body instead of axum's plain text.
//!
//! [`JsonBody`] buffers the body (at most [`MAX_BODY_BYTES`]; more is a 400, a body slower
//! than the listener's body timeout a 408) and parses it
//! on demand, for handlers whose body type depends on the custom action. [`ApiJson`] parses
//! into a fixed type. An empty body counts as `{}`. A body that is not JSON, or has a field
//! of the wrong type, is a 400 naming the field.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use boundary_net::http_serve::is_body_timeout;
use serde::de::DeserializeOwned;

/// Larger bodies are refused with a 400.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The raw body, not yet parsed.
pub struct JsonBody(Bytes);

impl JsonBody {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|e| {
                if is_body_timeout(&e) {
                    return ApiError::request_timeout(format!("{e}."));
                }
                ApiError::invalid_argument(format!(
                    "The request body is larger than {MAX_BODY_BYTES} bytes, or could not be read."
                ))
            })?;
        Ok(JsonBody(bytes))
    }
}

/// A body parsed into `T`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        JsonBody::from_request(req, state)
            .await?
            .parse()
            .map(ApiJson)
    }
}

/// Parses JSON, turning errors into a 400 that names the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::invalid_argument(format!("The request body is not valid JSON: {inner}."))
        } else if path == "." {
            ApiError::invalid_argument(format!("The request body has the wrong shape: {inner}."))
        } else {
            ApiError::invalid_field(&path, format!("{inner}"))
        }
    })?;
    de.end().map_err(|e| {
        ApiError::invalid_argument(format!("The request body is not valid JSON: {e}."))
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_wire::api::target::CreateTargetRequest;
    use proptest::prelude::*;

    #[test]
    fn empty_body_is_an_empty_object() {
        let r: CreateTargetRequest = parse_json(b"").unwrap();
        assert!(r.name.is_none());
        let r: CreateTargetRequest = parse_json(b"  \n").unwrap();
        assert!(r.kind.is_none());
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = parse_json::<CreateTargetRequest>(br#"{"attributes":{"default_port":"x"}}"#)
            .unwrap_err();
        let fields = &e.body().details.as_ref().unwrap().request_fields;
        assert_eq!(fields[0].name, "attributes.default_port");
        let e =
            parse_json::<CreateTargetRequest>(br#"{"session_connection_limit":1.5}"#).unwrap_err();
        assert_eq!(
            e.body().details.as_ref().unwrap().request_fields[0].name,
            "session_connection_limit"
        );
    }

    #[test]
    fn malformed_json_and_wrong_root_are_400s() {
        for bad in [
            &b"{"[..],
            b"nope",
            b"[1,2]",
            b"\"x\"",
            b"{} {}",
            b"\xff\xfe",
        ] {
            let e = parse_json::<CreateTargetRequest>(bad).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST, "{bad:?}");
            assert_eq!(e.body().kind, "InvalidArgument");
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_json::<CreateTargetRequest>(&bytes);
        }
    }
}
