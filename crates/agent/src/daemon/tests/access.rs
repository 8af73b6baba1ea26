//! Who may steer the agent for everyone, through the actor as the local API reaches it:
//! the pause policy (`allow_user_pause`) and `controller_addresses`, both reloadable.

use tokio::sync::oneshot;

use super::*;
use crate::config::{ControllerAddress, ControllerPin, plan_reload};

const ROOT: u32 = 0;
const BOB: u32 = UID + 1;

#[derive(Clone, Copy)]
enum Change {
    Pause,
    Resume,
}

impl Harness {
    /// A pause or resume on behalf of `uid`: `Ok` when carried out, else the refusal.
    async fn state_change(&mut self, change: Change, uid: u32) -> Result<(), String> {
        let (refused, mut refusal) = oneshot::channel();
        let (reply, done) = oneshot::channel();
        let request = match change {
            Change::Pause => ControlRequest::Pause {
                uid,
                refused,
                reply,
            },
            Change::Resume => ControlRequest::Resume {
                uid,
                refused,
                reply,
            },
        };
        self.actor.on_event(Event::Control(request)).await;
        match done.await {
            Ok(()) => Ok(()),
            Err(_) => Err(refusal.try_recv().expect("a refusal with its reason")),
        }
    }

    async fn reload_with(&mut self, edit: impl FnOnce(&mut AgentConfig)) {
        let running = self.config().clone();
        let mut edited = running.clone();
        edit(&mut edited);
        self.actor
            .apply_reload(plan_reload(&running, &edited))
            .await;
    }

    /// Registers `uid`'s token of `controller_addr` as root's local API would (no
    /// switch check): `Ok` when registered, else the refusal.
    async fn register_as_root(&mut self, controller_addr: &str) -> Result<(), String> {
        let registration = TokenRegistration {
            uid: ROOT,
            controller_addr: controller_addr.to_owned(),
            token_id: "at_0000000001".into(),
            user_id: "u_0000000001".into(),
            token: Secret::new("at_0000000001_s1xyz"),
            expiration: None,
        };
        let (refused, mut refusal) = oneshot::channel();
        let (reply, done) = oneshot::channel();
        self.actor
            .on_event(Event::Control(ControlRequest::RegisterToken {
                registration,
                refuse_switch: false,
                refused,
                reply,
            }))
            .await;
        // Either refused at once, or registered (answered once its listing is in, which
        // the closed port fails quickly).
        if let Ok(reason) = refusal.try_recv() {
            return Err(reason);
        }
        self.pump_until_answered(done)
            .await
            .map_err(|_| "dropped without a reason".to_owned())
    }
}

fn pin(addresses: &[&str]) -> ControllerPin {
    ControllerPin::new(
        addresses
            .iter()
            .map(|a| ControllerAddress::parse(a).unwrap())
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_root_pauses_for_everyone_unless_root_allows_users() {
    let mut h = Harness::new();
    h.actor.take_over_resolver().await;
    h.register_with_alias().await;

    // bob (and alice, who holds the token) may not pause: nothing changes for anyone.
    for uid in [BOB, UID] {
        let refusal = h.state_change(Change::Pause, uid).await.unwrap_err();
        assert!(refusal.contains("only root may pause"), "{refusal}");
    }
    assert!(!h.core().is_paused());
    assert_eq!(h.log(), ["take over"], "the resolver was never restored");
    assert_eq!(h.core().status(UID).auth_token_id, TOKEN_ID);
    // Alice's alias is still intercepted: her question waits for an authorization
    // (which the closed port then fails).
    let (reply, mut answer) = oneshot::channel();
    let question = DnsQuestion {
        name: ALIAS.into(),
        qtype: 1,
        uid: Some(UID),
    };
    h.actor.on_event(Event::Dns { question, reply }).await;
    assert!(answer.try_recv().is_err(), "parked for an authorization");
    h.pump_until(|event| matches!(event, Event::Authorized { .. }))
        .await;

    // root pauses for everyone, as before; a user may not undo root's pause.
    h.state_change(Change::Pause, ROOT).await.unwrap();
    assert!(h.core().is_paused());
    assert!(h.log().contains(&"restore".to_owned()), "{:?}", h.log());
    let refusal = h.state_change(Change::Resume, UID).await.unwrap_err();
    assert!(refusal.contains("only root may resume"), "{refusal}");
    assert!(h.core().is_paused());
    h.state_change(Change::Resume, ROOT).await.unwrap();
    assert!(!h.core().is_paused());

    // With allow_user_pause (reloaded), users pause and resume for everyone.
    h.reload_with(|c| c.allow_user_pause = true).await;
    h.state_change(Change::Pause, UID).await.unwrap();
    assert!(h.core().is_paused());
    h.state_change(Change::Resume, BOB).await.unwrap();
    assert!(!h.core().is_paused());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_pin_drops_tokens_of_other_controllers_and_refuses_them() {
    let mut h = Harness::new();
    let serving = format!("http://127.0.0.1:{}", closed_port());
    h.register_at_with_alias(&serving).await;
    assert!(h.actor.link().controllers().client(&serving).is_ok());

    h.reload_with(|c| c.controller_addresses = pin(&["https://ctl.example"]))
        .await;
    let status = h.core().status(UID);
    assert_eq!(status.auth_token_id, "", "alice's token was for {serving}");
    assert!(
        status.errors[0].contains("no longer allows"),
        "{:?}",
        status.errors
    );
    assert_eq!(h.core().controller(), None);
    // The actor checks again (a reload may land between the local API's check and the
    // registration); root is no exception.
    let refusal = h.register_as_root(&serving).await.unwrap_err();
    assert!(
        refusal.contains("only talks to https://ctl.example:443"),
        "{refusal}"
    );
    assert!(h.actor.link().controllers().client(&serving).is_err());

    // Pinned to the address in another spelling: accepted again.
    h.reload_with(|c| c.controller_addresses = pin(&[&format!("{serving}/")]))
        .await;
    h.register_as_root(&serving).await.unwrap();
    assert_eq!(h.core().status(ROOT).boundary_addr, serving);
}
