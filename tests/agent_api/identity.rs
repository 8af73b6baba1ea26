//! The caller's OS user is the identity: each user registers their own token and sees
//! only their own status and sessions, and the uid reaching the agent is theirs.

use std::sync::Arc;

use crate::control::{Call, RecordingControl};
use crate::support::cli::parse_json;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::{
    ALICE_TOKEN, BOB_TOKEN, CONTROLLER, DEFAULT_ADDRESS, NETNS_PREFIX, cli, post_token,
    sessions_for, start_agent,
};

#[test]
fn each_user_sees_only_their_own_token_status_and_sessions() {
    // Declared first so they are dropped last, after the namespace killed its processes.
    let alice = OsUser::create("btapia");
    let bob = OsUser::create("btapib");
    let carol = OsUser::create("btapic");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::with_sessions(sessions_for(alice.uid)));
    netns.block_on(|| async {
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;

        let (code, body) = post_token(&netns, Some(&alice), CONTROLLER, ALICE_TOKEN).await;
        assert_eq!(code, 200, "{body}");
        let (code, body) = post_token(&netns, Some(&bob), "https://other.example", BOB_TOKEN).await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(
            control.calls(),
            vec![
                (
                    alice.uid,
                    Call::AddToken {
                        addr: CONTROLLER.into(),
                        token: ALICE_TOKEN.into()
                    }
                ),
                (
                    bob.uid,
                    Call::AddToken {
                        addr: "https://other.example".into(),
                        token: BOB_TOKEN.into()
                    }
                ),
            ]
        );

        let status = cli(&netns, Some(&alice), &["status"]).await;
        assert!(status.success(), "{status:?}");
        let out = &status.stdout;
        assert!(out.starts_with("\nStatus:\n"), "{out}");
        assert!(
            out.contains(&format!("  Address:                 {CONTROLLER}\n")),
            "{out}"
        );
        assert!(
            out.contains("  Auth Token Id:           at_AAAAAAAAAA\n"),
            "{out}"
        );
        let expiration = out
            .lines()
            .find_map(|l| l.strip_prefix("  Auth Token Expiration:   "))
            .unwrap_or_else(|| panic!("no expiration in {out}"));
        assert!(
            expiration.starts_with("167h") || expiration.starts_with("168h0m0s"),
            "a week from now, as a Go duration: {expiration}"
        );
        assert!(
            out.contains("  Status:                  running\n"),
            "{out}"
        );
        let newest = out.find(&format!("newest error for uid {}", alice.uid));
        let older = out.find(&format!("older error for uid {}", alice.uid));
        assert!(
            newest.is_some() && newest < older,
            "most recent first: {out}"
        );
        assert!(
            !out.contains("BBBBBBBBBB") && !out.contains("other.example"),
            "{out}"
        );

        let status = cli(&netns, Some(&bob), &["status"]).await;
        assert!(status.success(), "{status:?}");
        assert!(status.stdout.contains("at_BBBBBBBBBB"), "{status:?}");
        assert!(!status.stdout.contains("AAAAAAAAAA"), "{status:?}");

        // No token: only the agent's own lines.
        let status = cli(&netns, Some(&carol), &["status"]).await;
        assert!(status.success(), "{status:?}");
        assert!(!status.stdout.contains("Auth Token Id"), "{status:?}");
        assert!(!status.stdout.contains("Address:"), "{status:?}");
        assert!(
            status.stdout.contains("  Status:              running\n"),
            "{status:?}"
        );

        let status = cli(&netns, None, &["status"]).await;
        assert!(status.success(), "{status:?}");
        assert!(
            status.stdout.contains("newest error for uid 0"),
            "{status:?}"
        );
        assert!(
            !status.stdout.contains("Auth Token Id"),
            "root has no token: {status:?}"
        );

        assert_eq!(
            control.uids_for(&Call::Status),
            vec![alice.uid, bob.uid, carol.uid, 0]
        );

        let sessions = cli(&netns, Some(&alice), &["sessions"]).await;
        assert!(sessions.success(), "{sessions:?}");
        let out = &sessions.stdout;
        assert!(
            out.contains("  Alias:                     db.prod.example\n"),
            "{out}"
        );
        assert!(
            out.contains("    Session ID:              s_1111111111\n"),
            "{out}"
        );
        assert!(out.contains("    Created time:            "), "{out}");
        assert!(
            out.contains("      Credential Source ID:   credup_1234567890\n"),
            "{out}"
        );
        assert!(
            out.contains("      Credential Type:        username_password\n"),
            "{out}"
        );
        assert!(
            out.contains("\"password\": \"alice-db-password\""),
            "decoded: {out}"
        );
        assert!(!out.contains("authorization-token"), "{out}");

        for other in [Some(&bob), Some(&carol), None] {
            let sessions = cli(&netns, other, &["sessions"]).await;
            assert!(sessions.success(), "{sessions:?}");
            assert_eq!(sessions.stdout, "No sessions found\n");
        }
        assert_eq!(
            control.uids_for(&Call::Sessions),
            vec![alice.uid, bob.uid, carol.uid, 0]
        );

        server.shutdown().await.expect("graceful shutdown");
    });
}

#[test]
fn a_token_the_agent_refuses_is_reported_with_the_error_body() {
    let alice = OsUser::create("btapia");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    netns.block_on(|| async {
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;
        let (code, body) = post_token(
            &netns,
            Some(&alice),
            CONTROLLER,
            crate::control::REJECTED_TOKEN,
        )
        .await;
        assert_eq!(code, 400, "{body}");
        let body = parse_json(&body);
        assert_eq!(body["kind"], "InvalidArgument");
        assert_eq!(body["details"]["request_fields"][0]["name"], "token");
        assert!(!body.to_string().contains("s1rejected"), "{body}");
        let status = cli(&netns, Some(&alice), &["status"]).await;
        assert!(
            !status.stdout.contains("Auth Token Id"),
            "not registered: {status:?}"
        );
        server.shutdown().await.expect("graceful shutdown");
    });
}
