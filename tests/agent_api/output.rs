//! `-format json` shapes, finding the agent on another port, and a clear error when no
//! agent is listening.

use std::sync::Arc;

use crate::control::RecordingControl;
use crate::support::cli::parse_json;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::{
    ALICE_TOKEN, CONTROLLER, DEFAULT_ADDRESS, NETNS_PREFIX, cli, cli_env, post_token, sessions_for,
    start_agent,
};

#[test]
fn json_output_wraps_items_like_boundary() {
    let alice = OsUser::create("btapia");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::with_sessions(sessions_for(alice.uid)));
    netns.block_on(|| async {
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;
        let (code, body) = post_token(&netns, Some(&alice), CONTROLLER, ALICE_TOKEN).await;
        assert_eq!(code, 200, "{body}");

        let status = cli(&netns, Some(&alice), &["status", "-format", "json"]).await;
        assert!(status.success(), "{status:?}");
        assert_eq!(status.stdout.lines().count(), 1, "one document: {status:?}");
        let document = parse_json(&status.stdout);
        assert_eq!(document["status_code"], 200);
        let item = &document["item"];
        assert_eq!(item["boundary_addr"], CONTROLLER);
        assert_eq!(item["auth_token_id"], "at_AAAAAAAAAA");
        assert!(item["auth_token_expiry"].is_string(), "{item}");
        assert_eq!(item["status"], "running");
        assert_eq!(item["version"], env!("CARGO_PKG_VERSION"));
        assert!(
            item["errors"].is_array() && item["warnings"].is_array(),
            "{item}"
        );

        let sessions = cli_env(
            &netns,
            Some(&alice),
            &[("BOUNDARY_CLI_FORMAT", "json")],
            &["sessions"],
        )
        .await;
        assert!(sessions.success(), "{sessions:?}");
        let document = parse_json(&sessions.stdout);
        assert_eq!(document["status_code"], 200);
        let items = document["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["alias"], "db.prod.example");
        assert_eq!(
            items[0]["session_authorization"]["session_id"],
            "s_1111111111"
        );
        assert!(document.get("item").is_none());

        let none = cli(&netns, None, &["sessions", "-format=json"]).await;
        assert_eq!(
            parse_json(&none.stdout),
            serde_json::json!({"status_code": 200, "items": []})
        );

        let resumed = cli(&netns, None, &["resume", "-format", "json"]).await;
        assert!(resumed.success(), "{resumed:?}");
        let document = parse_json(&resumed.stdout);
        assert_eq!(document["status_code"], 200);
        assert_eq!(document["item"]["status"], "running");
        server.shutdown().await.expect("graceful shutdown");
    });
}

#[test]
fn the_port_comes_from_the_flag_or_the_environment() {
    let alice = OsUser::create("btapia");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    netns.block_on(|| async {
        let server = start_agent(control.clone(), "127.0.0.1:9411").await;
        let default = cli(&netns, Some(&alice), &["status"]).await;
        assert_eq!(default.code(), Some(1), "nothing on 9300: {default:?}");

        let flag = cli(
            &netns,
            Some(&alice),
            &["status", "-client-agent-port", "9411"],
        )
        .await;
        assert!(flag.success(), "{flag:?}");
        assert!(flag.stdout.contains("Status:"), "{flag:?}");

        let env = cli_env(
            &netns,
            Some(&alice),
            &[("BOUNDARY_CLIENT_AGENT_LISTENING_PORT", "9411")],
            &["status"],
        )
        .await;
        assert!(env.success(), "{env:?}");
        server.shutdown().await.expect("graceful shutdown");

        // Like Boundary's CLI, it calls localhost: an agent on [::1] is found too.
        let server = start_agent(control.clone(), "[::1]:9412").await;
        let v6 = cli(
            &netns,
            Some(&alice),
            &["status", "-client-agent-port", "9412"],
        )
        .await;
        assert!(v6.success(), "{v6:?}");
        server.shutdown().await.expect("graceful shutdown");
        assert_eq!(
            control.uids_for(&crate::control::Call::Status),
            vec![alice.uid]
        );
    });
}

#[test]
fn a_missing_agent_is_a_clear_error() {
    let alice = OsUser::create("btapia");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    netns.block_on(|| async {
        for args in [&["status"][..], &["pause"], &["resume"], &["sessions"]] {
            let down = cli(&netns, Some(&alice), args).await;
            assert_eq!(down.code(), Some(1), "{args:?}: {down:?}");
            assert!(down.stdout.is_empty(), "{down:?}");
            assert!(down.stderr.contains("127.0.0.1:9300"), "{down:?}");
            assert!(
                down.stderr.contains("Is boundary-client-agent running?"),
                "{down:?}"
            );
            assert!(down.stderr.contains("-client-agent-port"), "{down:?}");
        }
        let down = cli(&netns, Some(&alice), &["status", "-format", "json"]).await;
        assert_eq!(down.code(), Some(1));
        assert!(
            parse_json(&down.stderr)["error"]
                .as_str()
                .unwrap()
                .contains("127.0.0.1:9300")
        );

        // Up, then shut down gracefully: the port is closed again.
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;
        assert!(cli(&netns, Some(&alice), &["status"]).await.success());
        server.shutdown().await.expect("graceful shutdown");
        let down = cli(&netns, Some(&alice), &["status"]).await;
        assert_eq!(down.code(), Some(1), "{down:?}");
        assert!(down.stderr.contains("Connection refused"), "{down:?}");
    });
}
