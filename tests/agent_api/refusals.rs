//! Requests a web page could make, oversized and malformed bodies, unknown paths: refused
//! with the docs/wire-contract.md §1 error body, before anything reaches the agent.

use std::sync::Arc;

use crate::control::RecordingControl;
use crate::support::cli::parse_json;
use crate::support::curl::curl_async;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::{DEFAULT_ADDRESS, NETNS_PREFIX, start_agent};

const STATUS_URL: &str = "http://127.0.0.1:9300/v1/status";
const TOKENS_URL: &str = "http://127.0.0.1:9300/v1/tokens";

#[test]
fn browser_like_requests_are_refused_before_reaching_the_agent() {
    let alice = OsUser::create("btapia");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    netns.block_on(|| async {
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;
        for user in [Some(&alice), None] {
            for header in [
                "Origin: https://evil.example",
                "Origin: null",
                "Referer: https://evil.example/page",
                "Host: evil.example",
                "Host: evil.example:9300",
                "Host: 127.0.0.1.evil.example",
            ] {
                let (code, body) = curl_async(&netns, user, &["-H", header, STATUS_URL]).await;
                assert_eq!(code, 403, "{header}: {body}");
                let body = parse_json(&body);
                assert_eq!(body["kind"], "PermissionDenied", "{header}: {body}");
                assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
            }
            // A page POSTing a token is refused too.
            let (code, _) = curl_async(
                &netns,
                user,
                &[
                    "-H",
                    "Origin: https://evil.example",
                    "--data-binary",
                    r#"{"boundary_addr":"https://evil.example","token":"at_1234567890_s1x"}"#,
                    TOKENS_URL,
                ],
            )
            .await;
            assert_eq!(code, 403);
        }
        assert!(control.calls().is_empty(), "{:?}", control.calls());

        // Local names are fine.
        for host in [
            "Host: localhost:9300",
            "Host: [::1]:9300",
            "Host: 127.0.0.1",
        ] {
            let (code, body) = curl_async(&netns, Some(&alice), &["-H", host, STATUS_URL]).await;
            assert_eq!(code, 200, "{host}: {body}");
        }
        server.shutdown().await.expect("graceful shutdown");
    });
}

#[test]
fn bad_bodies_and_unknown_routes_get_the_error_body() {
    let alice = OsUser::create("btapia");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    let big = tempfile::NamedTempFile::new().unwrap();
    let padding = "x".repeat(70 * 1024);
    std::fs::write(
        big.path(),
        format!(r#"{{"boundary_addr":"https://ctl.example","token":"at_1234567890_s1{padding}"}}"#),
    )
    .unwrap();
    let big_arg = format!("@{}", big.path().display());
    // Alice must be able to read the file curl sends.
    std::fs::set_permissions(
        big.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    netns.block_on(|| async {
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;
        let post = |body: &'static str| ["-X", "POST", "--data-binary", body, TOKENS_URL];

        let (code, body) = curl_async(
            &netns,
            Some(&alice),
            &["--data-binary", &big_arg, TOKENS_URL],
        )
        .await;
        assert_eq!(code, 400, "{body}");
        let body = parse_json(&body);
        assert_eq!(body["kind"], "InvalidArgument");
        assert!(
            body["message"].as_str().unwrap().contains("65536"),
            "{body}"
        );

        let (code, body) = curl_async(&netns, Some(&alice), &post(r#"{"boundary_addr": "#)).await;
        assert_eq!(code, 400, "{body}");
        let body = parse_json(&body);
        assert_eq!(body["kind"], "InvalidArgument");
        assert!(
            body["message"].as_str().unwrap().contains("not valid JSON"),
            "{body}"
        );

        let (code, body) = curl_async(
            &netns,
            Some(&alice),
            &post(r#"{"token":"at_1234567890_s1x"}"#),
        )
        .await;
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("boundary_addr"), "{body}");

        let (code, body) = curl_async(
            &netns,
            Some(&alice),
            &post(r#"{"boundary_addr":"https://ctl.example","token":"hunter2-not-a-token"}"#),
        )
        .await;
        assert_eq!(code, 400, "{body}");
        let body = parse_json(&body);
        assert_eq!(
            body["details"]["request_fields"][0]["name"], "token",
            "{body}"
        );
        assert!(
            !body.to_string().contains("hunter2"),
            "never echoed: {body}"
        );

        let (code, body) = curl_async(
            &netns,
            Some(&alice),
            &post(r#"{"boundary_addr":"ctl.example","token":"at_1234567890_s1x"}"#),
        )
        .await;
        assert_eq!(code, 400, "{body}");
        assert_eq!(
            parse_json(&body)["details"]["request_fields"][0]["name"],
            "boundary_addr"
        );

        let (code, body) =
            curl_async(&netns, Some(&alice), &["http://127.0.0.1:9300/v1/nothing"]).await;
        assert_eq!(code, 404, "{body}");
        assert_eq!(parse_json(&body)["kind"], "NotFound");

        let (code, body) =
            curl_async(&netns, Some(&alice), &["http://127.0.0.1:9300/v1/pause"]).await;
        assert_eq!(code, 405, "GET on a POST route: {body}");
        assert!(parse_json(&body)["kind"].is_string());

        let (code, body) = curl_async(&netns, Some(&alice), &["-X", "POST", STATUS_URL]).await;
        assert_eq!(code, 405, "POST on a GET route: {body}");

        assert!(control.calls().is_empty(), "{:?}", control.calls());
        server.shutdown().await.expect("graceful shutdown");
    });
}
