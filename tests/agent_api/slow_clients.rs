//! Local users trying to tie the root agent's API up: connections that never complete a
//! request are closed at the deadlines while others are served, and one user's
//! connections beyond the per-user limit are refused while other users are served.

use std::sync::Arc;

use axum::body::Body;
use boundary_agent::api::{ApiLimits, CONNECTIONS_PER_USER};
use boundary_net::http_serve::ConnectionLimits;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;

use crate::control::{Call, RecordingControl};
use crate::support::cli::parse_json;
use crate::support::curl::curl_async;
use crate::support::netns::Netns;
use crate::support::os_user::OsUser;
use crate::support::process::HANG_TIMEOUT;
use crate::support::slow_clients::slow_clients;
use crate::support::wait::poll_until_async;
use crate::{DEFAULT_ADDRESS, NETNS_PREFIX, start_agent, start_agent_with_limits};

const STATUS_URL: &str = "http://127.0.0.1:9300/v1/status";

/// Silence, one `P`, the h2 preface, a trickled head or body and an idle keep-alive: each
/// closed (the slow body with a 408) within the default deadlines, bounded here by
/// [`HANG_TIMEOUT`].
#[test]
fn slow_silent_and_idle_connections_are_closed_while_others_are_served() {
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    netns.block_on(|| async {
        let server = start_agent(control.clone(), DEFAULT_ADDRESS).await;
        let clients: Vec<_> = slow_clients("localhost:9300", "/v1/status", "/v1/tokens")
            .into_iter()
            .map(|client| {
                tokio::spawn(async move {
                    let received = client.clone().run(DEFAULT_ADDRESS.to_owned()).await;
                    (client, received)
                })
            })
            .collect();
        let (code, body) = curl_async(&netns, None, &[STATUS_URL]).await;
        assert_eq!(code, 200, "{body}");
        for client in clients {
            let (client, received) = client.await.unwrap();
            client.check(&received, true);
        }
        assert!(
            !control
                .calls()
                .iter()
                .any(|(_, call)| matches!(call, Call::AddToken { .. })),
            "the trickled token request reached the agent: {:?}",
            control.calls()
        );
        server.shutdown().await.unwrap();
    });
}

/// A keep-alive connection owned by `user` that has made one `GET /v1/status`.
struct HeldConnection {
    _sender: SendRequest<Body>,
    connection: JoinHandle<()>,
}

impl Drop for HeldConnection {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

async fn hold_connection_of(user: &OsUser) -> HeldConnection {
    let stream = user
        .tcp_socket()
        .connect(DEFAULT_ADDRESS.parse().unwrap())
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = axum::http::Request::get("/v1/status")
        .header("host", "localhost:9300")
        .body(Body::empty())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    axum::body::to_bytes(Body::new(response.into_body()), 64 * 1024)
        .await
        .unwrap();
    HeldConnection {
        _sender: sender,
        connection,
    }
}

#[test]
fn a_user_over_the_connection_limit_is_refused_while_others_are_served() {
    let alice = OsUser::create("btapia");
    let bob = OsUser::create("btapib");
    let netns = Netns::new(NETNS_PREFIX);
    let control = Arc::new(RecordingControl::default());
    // Long deadlines: alice's held connections must stay open through every step.
    let limits = ApiLimits {
        connection: ConnectionLimits {
            idle_timeout: HANG_TIMEOUT * 2,
            body_timeout: HANG_TIMEOUT * 2,
        },
        ..ApiLimits::default()
    };
    netns.block_on(|| async {
        let server = start_agent_with_limits(control.clone(), DEFAULT_ADDRESS, limits).await;
        let mut held = Vec::new();
        for _ in 0..CONNECTIONS_PER_USER {
            held.push(hold_connection_of(&alice).await);
        }
        // Those were alice's, as the agent sees it.
        let statuses: Vec<u32> = control
            .calls()
            .into_iter()
            .filter(|(_, call)| *call == Call::Status)
            .map(|(uid, _)| uid)
            .collect();
        assert_eq!(statuses, vec![alice.uid; CONNECTIONS_PER_USER]);

        // One more of alice's (curl run as her) is refused, with the error body.
        let (code, body) = curl_async(&netns, Some(&alice), &[STATUS_URL]).await;
        assert_eq!(code, 503, "{body}");
        let body = parse_json(&body);
        assert_eq!(body["kind"], "Unavailable", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(&format!("uid {}", alice.uid)), "{message}");
        assert!(
            message.contains(&CONNECTIONS_PER_USER.to_string()),
            "{message}"
        );

        // Other users are served meanwhile.
        for user in [Some(&bob), None] {
            let (code, body) = curl_async(&netns, user, &[STATUS_URL]).await;
            assert_eq!(code, 200, "{body}");
        }

        // A closed connection gives alice her slot back.
        drop(held.pop());
        poll_until_async("alice to be served again", HANG_TIMEOUT, || async {
            match curl_async(&netns, Some(&alice), &[STATUS_URL]).await {
                (200, _) => Ok(()),
                (code, body) => Err(format!("{code}: {body}")),
            }
        })
        .await;
        drop(held);
        server.shutdown().await.unwrap();
    });
}
