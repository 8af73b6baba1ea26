use std::time::Duration;

use tokio::sync::oneshot;

use super::*;
use crate::config::plan_reload;

fn question() -> DnsQuestion {
    DnsQuestion {
        name: ALIAS.into(),
        qtype: 1,
        uid: Some(UID),
    }
}

impl Harness {
    async fn control(&mut self, request: impl FnOnce(oneshot::Sender<()>) -> ControlRequest) {
        let (reply, done) = oneshot::channel();
        self.actor.on_event(Event::Control(request(reply))).await;
        done.await.unwrap();
    }

    /// Asks about the alias; returns where the answer will come.
    async fn ask_alias(&mut self) -> oneshot::Receiver<DnsDecision> {
        let (reply, answer) = oneshot::channel();
        let event = Event::Dns {
            question: question(),
            reply,
        };
        self.actor.on_event(event).await;
        answer
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_alias_question_waits_for_its_authorization_and_then_fails_open() {
    let mut h = Harness::new();
    h.register_with_alias().await;
    assert!(h.actor.decisions().view().load().depends_on_asker(ALIAS));

    let mut answer = h.ask_alias().await;
    assert!(
        answer.try_recv().is_err(),
        "the question waits for the authorization"
    );
    let addrs = h.core().alias_addresses(ALIAS).unwrap();
    assert_eq!(
        h.log(),
        [format!("add {}", addrs.v4), format!("add {}", addrs.v6)],
        "both addresses added, each recorded in the state file first"
    );

    // The controller is not there: the authorization fails, the parked question is asked
    // again and goes upstream, and the user's status says why.
    h.pump_until(|event| matches!(event, Event::Authorized { .. }))
        .await;
    assert_eq!(answer.await.unwrap(), DnsDecision::Forward);
    let errors = h.core().status(UID).errors;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("authorizing a session for db.example failed")),
        "{errors:?}"
    );
    // Failing open is remembered: the next question is answered at once, from the view.
    let view = h.actor.decisions().view().load();
    assert_eq!(
        view.decide(&question(), h.actor.decisions().moment()),
        None,
        "a failed key is the core's business"
    );
    let mut again = h.ask_alias().await;
    assert_eq!(again.try_recv().unwrap(), DnsDecision::Forward);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_hand_the_resolver_back_and_forth_and_are_remembered() {
    let mut h = Harness::new();
    h.actor.take_over_resolver().await;
    assert_eq!(
        h.actor.machine().dns().upstreams(),
        [PREVIOUS_UPSTREAM.parse().unwrap()]
    );
    let operational = h.config().operational_state_file.clone();

    h.control(|reply| ControlRequest::Pause {
        uid: 0,
        refused: oneshot::channel().0,
        reply,
    })
    .await;
    assert_eq!(h.log(), ["take over", "restore"]);
    assert!(read_state(&operational).paused);
    assert!(read_state(&h.state_file()).saved_resolver.is_none());

    h.control(|reply| ControlRequest::Resume {
        uid: 0,
        refused: oneshot::channel().0,
        reply,
    })
    .await;
    assert_eq!(h.log(), ["take over", "restore", "take over"]);
    assert!(!read_state(&operational).paused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_undoes_every_change_and_removes_the_state_file() {
    let mut h = Harness::new();
    h.actor.take_over_resolver().await;
    h.register_with_alias().await;
    let _answer = h.ask_alias().await;
    h.pump_until(|event| matches!(event, Event::Authorized { .. }))
        .await;
    let addrs = h.core().alias_addresses(ALIAS).unwrap();
    assert_eq!(read_state(&h.state_file()).added_addresses.len(), 2);

    h.actor.stand_down().await;
    assert!(h.actor.teardown().await, "everything undone");
    let log = h.log();
    for expected in [
        format!("remove {}", addrs.v4),
        format!("remove {}", addrs.v6),
        "restore".to_owned(),
    ] {
        assert!(log.contains(&expected), "{expected} missing from {log:?}");
    }
    assert!(!h.state_file().exists(), "the crash-recovery state is gone");
    // The assignment survives for the next start.
    let operational = read_state(&h.config().operational_state_file);
    assert!(operational.alias_addresses.contains_key(ALIAS));
}

#[tokio::test]
async fn a_reload_applies_reloadable_keys_and_reports_the_others() {
    let mut h = Harness::new();
    h.actor.refresh_upstreams().await;
    let running = h.config().clone();
    let mut edited = running.clone();
    edited.dns_request_timeout = Duration::from_secs(3);
    edited.override_upstream_dns_servers = vec!["192.0.2.99:53".parse().unwrap()];
    edited.v4_prefix = "100.80.0.0/12".parse().unwrap();
    edited.api_listen_address = "127.0.0.1:9301".parse().unwrap();
    edited.state_file = h.dir.path().join("moved-state.json");

    h.actor.apply_reload(plan_reload(&running, &edited)).await;
    assert_eq!(
        h.actor.machine().dns().upstreams(),
        edited.override_upstream_dns_servers
    );
    assert_eq!(h.actor.machine().host().state_path(), edited.state_file);
    assert_eq!(h.config().dns_request_timeout, Duration::from_secs(3));
    assert_eq!(
        h.config().v4_prefix,
        running.v4_prefix,
        "the pool keeps its prefix"
    );
    let warnings = h.actor.settings().warnings();
    let warning = warnings.restart_required.clone().unwrap();
    assert!(
        warning.contains("api_listen_address") && warning.contains("v4_prefix"),
        "{warning}"
    );

    // Editing the file back: the warning goes, the previous resolvers are upstream again.
    let effective = h.config().clone();
    h.actor
        .apply_reload(plan_reload(&effective, &running))
        .await;
    assert_eq!(h.actor.settings().warnings().restart_required, None);
    assert_eq!(
        h.actor.machine().dns().upstreams(),
        [PREVIOUS_UPSTREAM.parse().unwrap()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_a_network_change_removed_are_put_back() {
    let mut h = Harness::new();
    let dns: Vec<IpAddr> = vec![
        "100.64.0.1".parse().unwrap(),
        "fd00:a20a::1".parse().unwrap(),
    ];
    let host = h.actor.machine_mut().host_mut();
    host.set_dns_addresses(dns.clone());
    for address in &dns {
        host.add_address(*address).await.unwrap();
    }
    h.register_with_alias().await;
    let _answer = h.ask_alias().await;
    let alias = h.core().alias_addresses(ALIAS).unwrap();

    h.actor.check_machine().await;
    assert_eq!(
        h.log().len(),
        4,
        "nothing missing, nothing added: {:?}",
        h.log()
    );

    // A network manager flushes the interface.
    h.present.lock().unwrap().clear();
    h.actor.check_machine().await;
    let present = h.present.lock().unwrap().clone();
    for address in dns.iter().copied().chain(alias.both()) {
        assert!(present.contains(&address), "{address} is back: {present:?}");
    }
    assert!(h.actor.machine().warnings().addresses.is_none());
    assert!(
        h.log().iter().all(|line| !line.contains("NOT RECORDED")),
        "{:?}",
        h.log()
    );
}

/// The local API checks for a controller switch before validating a token, and the actor
/// checks again when it registers it: another user may have registered in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_root_controller_switch_is_refused_at_registration_time() {
    let mut h = Harness::new();
    h.register_with_alias().await;
    let other_uid = UID + 1;
    let registration = boundary_agent_core::TokenRegistration {
        uid: other_uid,
        controller_addr: "https://elsewhere.example".into(),
        token_id: "at_0987654321".into(),
        user_id: "u_0987654321".into(),
        token: boundary_wire::api::Secret::new("at_0987654321_s1xyz"),
        expiration: None,
    };
    let (refused, mut refusal) = oneshot::channel();
    let (reply, mut done) = oneshot::channel();
    h.actor
        .on_event(Event::Control(ControlRequest::RegisterToken {
            registration,
            refuse_switch: true,
            refused,
            reply,
        }))
        .await;
    assert!(done.try_recv().is_err(), "no registration reply");
    let reason = refusal.try_recv().expect("refused");
    assert!(reason.contains("only root"), "{reason}");
    assert_eq!(h.core().status(UID).auth_token_id, TOKEN_ID);
    assert_eq!(h.core().status(other_uid).auth_token_id, "");
}
