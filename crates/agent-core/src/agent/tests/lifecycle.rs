use super::*;
use std::time::Duration;

fn without_refreshes(cmds: Vec<Cmd>) -> Vec<Cmd> {
    cmds.into_iter()
        .filter(|c| !matches!(c, Command::RefreshAliases(_)))
        .collect()
}

#[test]
fn idle_sessions_are_cancelled_and_idle_addresses_removed() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let (a4, a6) = (v4(&c, DB), v6(&c, DB));
    assert!(without_refreshes(c.handle_tick(at(1800))).is_empty());
    let cmds = without_refreshes(c.handle_tick(at(1801)));
    assert!(
        matches!(&cmds[..], [Command::CancelSession(r)] if r.reason == EndReason::IdleTimeout && r.tunnel == "tunnel-s_1"),
        "{cmds:?}"
    );
    assert!(without_refreshes(c.handle_tick(at(2100))).is_empty());
    let cmds = without_refreshes(c.handle_tick(at(2101)));
    assert_eq!(
        cmds,
        [
            Command::StopListening { addr: a4, port: 22 },
            Command::StopListening { addr: a6, port: 22 },
            Command::RemoveAddress(a4),
            Command::RemoveAddress(a6),
            Command::SaveState,
        ]
    );
    // The alias keeps its assignment while a cache holds it, and comes back there.
    assert_eq!(v4(&c, DB), a4);
    let (_, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(2200));
    assert_eq!(cmds[0], Command::AddAddress(a4));
}

#[test]
fn open_connections_keep_a_session_from_idling() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let (d, _) = c.handle_connection_accepted(v4(&c, DB), 22, Some(ALICE), at(2));
    let ConnectionDecision::Tunnel(grant) = d else {
        panic!("{d:?}");
    };
    assert!(without_refreshes(c.handle_tick(at(10_000))).is_empty());
    let _ = c.handle_connection_closed(grant.connection, at(10_000));
    assert!(without_refreshes(c.handle_tick(at(11_799))).is_empty());
    assert_eq!(cancels(&c.handle_tick(at(11_800))).len(), 1);
}

#[test]
fn expired_sessions_end_without_a_cancel_and_reauthorize() {
    let config = CoreConfig {
        session_idle_timeout: None,
        ..CoreConfig::default()
    };
    let mut c: Core = AgentCore::new(config, false).unwrap();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    assert_eq!(c.sessions(ALICE).items.len(), 1);
    let cmds = without_refreshes(c.handle_tick(at(8 * 3600)));
    assert!(cancels(&cmds).is_empty(), "{cmds:?}");
    assert!(c.sessions(ALICE).items.is_empty());
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(8 * 3600 + 1));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    assert_eq!(authorizes(&cmds).len(), 1);
}

#[test]
fn an_expired_session_is_not_answered_even_before_the_tick() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let mut grant = granted(ALICE, "s_1", 22, -1);
    grant.authorization.expiration = EPOCH + time::Duration::seconds(100);
    let _ = c.handle_authorized(&key(DB, ALICE), grant, at(1));
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(100));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    assert!(cancels(&cmds).is_empty());
    assert_eq!(authorizes(&cmds).len(), 1);
}

#[test]
fn pause_ends_everything_and_resume_takes_over_again() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB, WEB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let _ = c.handle_dns_question(&ask(WEB, rtype::A, Some(ALICE)), at(1));
    let (db4, db6, web4, web6) = (v4(&c, DB), v6(&c, DB), v4(&c, WEB), v6(&c, WEB));
    let cmds = c.handle_pause(at(2));
    assert_eq!(
        cmds,
        [
            Command::CancelSession(CancelRequest {
                key: key(DB, ALICE),
                session_id: "s_1".into(),
                reason: EndReason::Paused,
                tunnel: "tunnel-s_1".into(),
            }),
            Command::SessionSettled(key(WEB, ALICE)),
            Command::StopListening {
                addr: db4,
                port: 22
            },
            Command::StopListening {
                addr: db6,
                port: 22
            },
            Command::RemoveAddress(db4),
            Command::RemoveAddress(db6),
            Command::RemoveAddress(web4),
            Command::RemoveAddress(web6),
            Command::RestoreResolver,
            Command::SaveState,
        ]
    );
    assert!(c.is_paused());
    assert_eq!(c.status(ALICE).status, "paused");
    assert!(c.handle_pause(at(2)).is_empty());
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(3));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(cmds.is_empty());
    let (d, _) = c.handle_connection_accepted(db4, 22, Some(ALICE), at(3));
    assert_eq!(d, ConnectionDecision::Refuse(RefuseReason::Paused));

    // The authorization that was in flight arrives late: cancelled, nothing opened.
    let cmds = c.handle_authorized(&key(WEB, ALICE), granted(ALICE, "s_late", 80, -1), at(3));
    assert!(matches!(&cmds[..], [Command::CancelSession(r)] if r.reason == EndReason::Superseded));
    assert!(without_refreshes(c.handle_tick(at(1000))).is_empty());
    assert!(
        refreshes(&c.handle_tick(at(1000))).is_empty(),
        "no refresh while paused"
    );

    let cmds = c.handle_resume(at(4000));
    assert_eq!(cmds[0], Command::TakeOverResolver);
    assert_eq!(refreshes(&cmds).len(), 1);
    assert_eq!(c.status(ALICE).status, "running");
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(4000));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
}

#[test]
fn starting_paused_forwards_everything() {
    let mut c: Core = AgentCore::new(CoreConfig::default(), true).unwrap();
    let cmds = c.handle_token_registered(registration(ALICE, &token_of(ALICE)), at(0));
    assert!(cmds.is_empty(), "no refresh while paused: {cmds:?}");
    let cmds = c.handle_resume(at(1));
    assert_eq!(cmds[0], Command::TakeOverResolver);
    assert_eq!(refreshes(&cmds)[0].list_token, None);
}

#[test]
fn many_network_failures_pause_the_agent() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    for i in 0..19 {
        assert!(c.handle_network_failure(at(10 + i)).is_empty());
    }
    let cmds = c.handle_network_failure(at(30));
    assert!(cmds.contains(&Command::RestoreResolver));
    assert!(matches!(&cancels(&cmds)[..], [r] if r.reason == EndReason::Paused));
    assert!(c.is_paused());
    assert!(matches!(
        c.run_state(),
        RunState::Paused(crate::pause::PauseReason::FailureBreaker { failures: 20, .. })
    ));
    let status = c.status(BOB);
    assert_eq!(status.status, "paused");
    assert!(
        status.errors[0].contains("paused automatically"),
        "{status:?}"
    );
}

#[test]
fn unanswered_authorizations_time_out_and_fail_open() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    assert!(without_refreshes(c.handle_tick(at(60))).is_empty());
    let cmds = without_refreshes(c.handle_tick(at(61)));
    assert_eq!(cmds, [Command::SessionSettled(key(DB, ALICE))]);
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(62));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(c.status(ALICE).errors[0].contains("no answer"));
}

#[test]
fn shutdown_ends_everything_for_good() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let cmds = c.handle_shutdown(at(2));
    assert!(matches!(&cancels(&cmds)[..], [r] if r.reason == EndReason::Shutdown));
    assert_eq!(cmds[cmds.len() - 2], Command::RestoreResolver);
    assert_eq!(cmds.last(), Some(&Command::SaveState));
    assert!(c.state_snapshot().installed.is_empty());
    assert!(c.handle_resume(at(3)).is_empty());
    assert!(c.handle_shutdown(at(3)).is_empty());
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(3));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
}

#[test]
fn shutting_down_while_paused_leaves_the_resolver_alone() {
    let mut c = core();
    let _ = c.handle_pause(at(0));
    assert_eq!(c.handle_shutdown(at(1)), [Command::SaveState]);
}

#[test]
fn expired_tokens_end_their_sessions() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let mut reg = registration(ALICE, &token_of(ALICE));
    reg.expiration = Some(EPOCH + time::Duration::seconds(500));
    assert!(
        c.handle_token_registered(reg, at(2)).is_empty(),
        "same token: renewed"
    );
    let cmds = c.handle_tick(at(500));
    assert!(matches!(&cancels(&cmds)[..], [r] if r.reason == EndReason::TokenExpired));
    let status = c.status(ALICE);
    assert_eq!(status.auth_token_id, "");
    assert!(status.errors[0].contains("expired"), "{status:?}");
}

#[test]
fn state_snapshots_and_seeds_keep_addresses_across_restarts() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let snapshot = c.state_snapshot();
    assert_eq!(snapshot.assignments.len(), 1);
    assert_eq!(snapshot.installed, vec![v4(&c, DB), v6(&c, DB)]);

    let mut recorded = snapshot.assignments[0].1;
    recorded.v4 = std::net::Ipv4Addr::new(100, 64, 77, 77);
    let mut restarted = core();
    restarted.seed_assignment(DB, recorded).unwrap();
    user_with(&mut restarted, ALICE, &[DB], 0);
    let (_, cmds) = restarted.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    assert_eq!(
        cmds[0],
        Command::AddAddress(std::net::IpAddr::V4(recorded.v4))
    );
}

#[test]
fn next_deadline_names_the_earliest_work() {
    let mut c = core();
    assert_eq!(c.next_deadline(), None);
    user_with(&mut c, ALICE, &[DB], 0);
    assert_eq!(
        c.next_deadline(),
        Some(Moment::from_secs(60)),
        "next refresh"
    );
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(30));
    assert_eq!(c.next_deadline(), Some(Moment::from_secs(60)));
    let _ = c.handle_authorize_failed(
        &key(DB, ALICE),
        &token_of(ALICE),
        ControllerFailure {
            kind: FailureKind::Rejected,
            message: "x".into(),
        },
        at(31),
    );
    assert_eq!(c.next_deadline(), Some(Moment::from_secs(41)), "retry");
    let _ = Duration::ZERO;
}
