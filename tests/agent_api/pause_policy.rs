//! Pause and resume affect every user: the local API lets root and users with a
//! registered token ask; a local account without a token may not. (Whether a user with a
//! token may then actually pause is the daemon's policy, `allow_user_pause`: see the
//! agent_e2e pause tests.)

use std::sync::Arc;

use crate::control::{Call, RecordingControl};
use crate::support::cli::parse_json;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::{ALICE_TOKEN, CONTROLLER, DEFAULT_ADDRESS, NETNS_PREFIX, cli, post_token, start_agent};

#[test]
fn users_with_a_token_and_root_may_pause_and_resume_others_may_not() {
    let alice = OsUser::create("btapia");
    let carol = OsUser::create("btapic");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    netns.block_on(|| async {
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;
        let (code, body) = post_token(&netns, Some(&alice), CONTROLLER, ALICE_TOKEN).await;
        assert_eq!(code, 200, "{body}");

        // Carol has no token: refused, nothing reaches pause().
        let refused = cli(&netns, Some(&carol), &["pause"]).await;
        assert_eq!(refused.code(), Some(1), "{refused:?}");
        assert!(refused.stdout.is_empty(), "{refused:?}");
        assert!(
            refused
                .stderr
                .contains("Error from client agent when attempting to pause:"),
            "{refused:?}"
        );
        assert!(refused.stderr.contains("PermissionDenied"), "{refused:?}");
        assert!(refused.stderr.contains("403"), "{refused:?}");
        assert!(!control.paused());

        let refused = cli(&netns, Some(&carol), &["resume", "-format", "json"]).await;
        assert_eq!(refused.code(), Some(1), "{refused:?}");
        let error = parse_json(&refused.stderr);
        assert_eq!(error["status"], 403, "{error}");
        assert_eq!(error["api_error"]["kind"], "PermissionDenied", "{error}");

        let paused = cli(&netns, Some(&alice), &["pause"]).await;
        assert!(paused.success(), "{paused:?}");
        assert_eq!(
            paused.stdout,
            "The client agent has been successfully paused.\n"
        );
        assert!(control.paused());
        let status = cli(&netns, Some(&carol), &["status"]).await;
        assert!(
            status.stdout.contains("paused"),
            "everyone sees the state: {status:?}"
        );

        let resumed = cli(&netns, None, &["resume"]).await;
        assert!(resumed.success(), "{resumed:?}");
        assert_eq!(
            resumed.stdout,
            "The client agent has been successfully resumed.\n"
        );
        assert!(!control.paused());

        // -format json: the item is the caller's status after the change.
        let paused = cli(&netns, None, &["pause", "-format=json"]).await;
        assert!(paused.success(), "{paused:?}");
        let document = parse_json(&paused.stdout);
        assert_eq!(document["status_code"], 200, "{document}");
        assert_eq!(document["item"]["status"], "paused", "{document}");

        assert_eq!(control.uids_for(&Call::Pause), vec![alice.uid, 0]);
        assert_eq!(control.uids_for(&Call::Resume), vec![0]);
        server.shutdown().await.expect("graceful shutdown");
    });
}
