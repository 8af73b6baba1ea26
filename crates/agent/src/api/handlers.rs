//! The docs/wire-contract.md §4 endpoints. Each runs after [`super::guard`] has identified the
//! caller, and passes the caller's uid to [`AgentControl`].

use std::sync::Arc;
use std::time::Duration;

use boundary_net::http_serve::TimedBody;
use http_body_util::BodyExt;
use hyper::body::Bytes;

use super::guard::Caller;
use super::response::{Response, error_response, json};
use super::{AgentControl, ControlError, may_pause_or_resume};
use boundary_net::http_serve::is_body_timeout;
use boundary_wire::api::ApiErrorBody;
use boundary_wire::api::agent::AddTokenRequest;
use boundary_wire::api::error::kind;

/// Largest request body accepted (a token request is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A body over the limit is still read (and dropped) up to this size, so the client gets
/// the 400 instead of a connection reset from unread data.
const DRAIN_BYTES: usize = 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

pub(super) type Control = Arc<dyn AgentControl>;

pub(super) async fn add_token(control: Control, caller: Caller, body: TimedBody) -> Response {
    let bytes = match read_limited(body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let request: AddTokenRequest = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(error) => return invalid_json(&error),
    };
    if let Err(error) = check_token_request(&request) {
        return error.into_response();
    }
    match control.add_token(caller.uid, request).await {
        Ok(()) => json(&serde_json::json!({})),
        Err(error) => {
            tracing::info!(uid = caller.uid, %error, "token registration refused");
            error.into_response()
        }
    }
}

pub(super) async fn status(control: Control, caller: Caller) -> Response {
    json(&control.status(caller.uid).await)
}

pub(super) async fn sessions(control: Control, caller: Caller) -> Response {
    json(&control.sessions(caller.uid).await)
}

/// Answers with the caller's status after the change (the CLI's `-format json` item).
pub(super) async fn pause(control: Control, caller: Caller) -> Response {
    change_state(control, caller, StateChange::Pause).await
}

pub(super) async fn resume(control: Control, caller: Caller) -> Response {
    change_state(control, caller, StateChange::Resume).await
}

#[derive(Clone, Copy)]
enum StateChange {
    Pause,
    Resume,
}

async fn change_state(control: Control, caller: Caller, change: StateChange) -> Response {
    let verb = match change {
        StateChange::Pause => "pause",
        StateChange::Resume => "resume",
    };
    if !may_pause_or_resume(control.as_ref(), caller.uid).await {
        return ControlError::PermissionDenied(format!(
            "only root or a user who registered a Boundary token with the client agent \
             (boundary authenticate) may {verb} it"
        ))
        .into_response();
    }
    let result = match change {
        StateChange::Pause => control.pause(caller.uid).await,
        StateChange::Resume => control.resume(caller.uid).await,
    };
    match result {
        Ok(()) => {
            tracing::info!(uid = caller.uid, "client agent {verb} requested");
            json(&control.status(caller.uid).await)
        }
        Err(error) => error.into_response(),
    }
}

/// The request's shape, before the agent spends a round trip to the controller on it.
/// The token is never echoed in an error.
fn check_token_request(request: &AddTokenRequest) -> Result<(), ControlError> {
    let invalid = |field: &str, description: &str| ControlError::InvalidField {
        field: field.to_owned(),
        description: description.to_owned(),
    };
    let address_ok = reqwest::Url::parse(&request.boundary_addr)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some());
    if !address_ok {
        return Err(invalid(
            "boundary_addr",
            "must be the controller's http:// or https:// address",
        ));
    }
    let token = request.token.expose();
    let parts: Vec<&str> = token.split('_').collect();
    let shape_ok = parts.len() == 3
        && parts[0] == "at"
        && !parts[1].is_empty()
        && parts[2].starts_with("s1")
        && parts[2].len() > 2;
    if !shape_ok {
        return Err(invalid(
            "token",
            "not a Boundary auth token (at_<id>_s1<secret>)",
        ));
    }
    Ok(())
}

fn invalid_json(error: &serde_json::Error) -> Response {
    error_response(
        400,
        ApiErrorBody::new(kind::INVALID_ARGUMENT, describe_json_error(error)),
    )
}

/// Data errors name fields and types (all request fields are strings, so no value is
/// quoted); syntax errors only get a position, so that no fragment of a malformed body
/// (which may hold a token) is echoed.
fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => format!("the body does not match the request: {error}"),
        Category::Syntax | Category::Eof | Category::Io => format!(
            "the body is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
    }
}

/// Reads the whole body, at most [`MAX_BODY_BYTES`]; a body slower than the connection's
/// body timeout is a 408.
async fn read_limited(mut body: TimedBody) -> Result<Vec<u8>, Response> {
    let mut bytes = Vec::new();
    while let Some(chunk) = next_data(&mut body).await {
        let chunk = chunk.map_err(|error| {
            if is_body_timeout(&*error) {
                return error_response(
                    408,
                    ApiErrorBody::new(kind::DEADLINE_EXCEEDED, error.to_string()),
                );
            }
            error_response(
                400,
                ApiErrorBody::new(
                    kind::INVALID_ARGUMENT,
                    format!("cannot read the request body: {error}"),
                ),
            )
        })?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            let _ = tokio::time::timeout(DRAIN_TIME, async {
                let mut drained = bytes.len() + chunk.len();
                while drained < DRAIN_BYTES {
                    match next_data(&mut body).await {
                        Some(Ok(more)) => drained += more.len(),
                        _ => break,
                    }
                }
            })
            .await;
            return Err(error_response(
                400,
                ApiErrorBody::new(
                    kind::INVALID_ARGUMENT,
                    format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body's next chunk of data (trailers are skipped); `None` at its end.
async fn next_data(body: &mut TimedBody) -> Option<Result<Bytes, BoxError>> {
    loop {
        match body.frame().await? {
            Ok(frame) => match frame.into_data() {
                Ok(data) => return Some(Ok(data)),
                Err(_trailers) => continue,
            },
            Err(error) => return Some(Err(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_wire::api::Secret;

    fn request(addr: &str, token: &str) -> AddTokenRequest {
        AddTokenRequest {
            boundary_addr: addr.to_owned(),
            token: Secret::new(token),
        }
    }

    #[test]
    fn token_requests_are_checked_without_echoing_the_token() {
        assert!(check_token_request(&request("https://ctl:9200", "at_1234567890_s1abc")).is_ok());
        assert!(
            check_token_request(&request("http://127.0.0.1:9200/", "at_1234567890_s1abc")).is_ok()
        );
        for (addr, token, field) in [
            ("", "at_1234567890_s1abc", "boundary_addr"),
            ("ctl:9200", "at_1234567890_s1abc", "boundary_addr"),
            ("ftp://ctl", "at_1234567890_s1abc", "boundary_addr"),
            ("https://ctl", "", "token"),
            ("https://ctl", "hunter2secret", "token"),
            ("https://ctl", "at_123_s1abc_extra", "token"),
            ("https://ctl", "at__s1abc", "token"),
            ("https://ctl", "at_1234567890_xxhunter2secret", "token"),
        ] {
            let error = check_token_request(&request(addr, token)).unwrap_err();
            let ControlError::InvalidField { field: got, .. } = &error else {
                panic!("{error:?}");
            };
            assert_eq!(got, field, "{addr} {token}");
            if token.len() > 3 {
                assert!(!error.to_string().contains(token));
            }
        }
    }

    #[test]
    fn syntax_errors_do_not_echo_the_body() {
        for body in [
            &br#"{"boundary_addr":"https://ctl","token":"at_1_s1secret"#[..],
            b"{\"token\": at_1_s1secret}",
            b"{\"token\": \"at_1_s1secret\" \"x\"}",
        ] {
            let error = serde_json::from_slice::<AddTokenRequest>(body).unwrap_err();
            let description = describe_json_error(&error);
            assert!(
                description.contains("not valid JSON (line 1"),
                "{description}"
            );
            assert!(!description.contains("secret"), "{description}");
        }
        let error = serde_json::from_slice::<AddTokenRequest>(b"{\"token\": \"x\"}").unwrap_err();
        let description = describe_json_error(&error);
        assert!(
            description.contains("missing field `boundary_addr`"),
            "{description}"
        );
    }
}
