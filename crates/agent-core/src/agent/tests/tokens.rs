use super::*;

#[test]
fn the_same_token_again_changes_nothing() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let cmds = c.handle_token_registered(registration(ALICE, &token_of(ALICE)), at(2));
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(c.sessions(ALICE).items.len(), 1);
}

#[test]
fn a_new_token_ends_the_users_sessions_and_reloads_its_aliases() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_a", 22, 1);
    open_session(&mut c, DB, BOB, "s_b", 22, 1);
    let cmds = c.handle_token_registered(registration(ALICE, "at_new"), at(2));
    assert!(
        matches!(&cancels(&cmds)[..], [r] if r.session_id == "s_a" && r.reason == EndReason::TokenReplaced)
    );
    let refresh = refreshes(&cmds)[0];
    assert_eq!(
        (refresh.token_id.as_str(), refresh.list_token.as_deref()),
        ("at_new", None)
    );
    assert_eq!(c.sessions(BOB).items.len(), 1, "bob is untouched");
    assert_eq!(c.status(ALICE).auth_token_id, "at_new");
    // Until the new listing completes, alice has no aliases.
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(3));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    // A late page for the old token is ignored.
    assert!(
        c.handle_alias_page(
            ALICE,
            &token_of(ALICE),
            page(ResponseType::Complete, "x", &[WEB], &[]),
            at(3)
        )
        .is_empty()
    );
    let _ = c.handle_alias_page(
        ALICE,
        "at_new",
        page(ResponseType::Complete, "y", &[DB], &[]),
        at(3),
    );
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(3));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    assert_eq!(authorizes(&cmds)[0].token_id, "at_new");
}

#[test]
fn a_token_for_another_controller_switches_over() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_a", 22, 1);
    open_session(&mut c, DB, BOB, "s_b", 22, 1);
    let mut reg = registration(BOB, "at_other");
    reg.controller_addr = "https://other:9200".into();
    let cmds = c.handle_token_registered(reg, at(2));
    let ended: Vec<_> = cancels(&cmds)
        .iter()
        .map(|r| (r.session_id.as_str(), r.reason))
        .collect();
    assert_eq!(
        ended,
        [
            ("s_a", EndReason::ControllerSwitched),
            ("s_b", EndReason::ControllerSwitched)
        ]
    );
    assert_eq!(refreshes(&cmds)[0].controller_addr, "https://other:9200");
    assert_eq!(
        c.status(ALICE).auth_token_id,
        "",
        "alice's token was for the old controller"
    );
    assert_eq!(c.status(ALICE).boundary_addr, "https://other:9200");
    assert!(c.status(ALICE).errors[0].contains("switched the agent to https://other:9200"));
    assert!(c.status(BOB).errors.is_empty());
    assert_eq!(c.status(BOB).auth_token_id, "at_other");
}

#[test]
fn a_disallowed_controller_loses_every_token_and_session() {
    let mut c = core();
    assert!(
        c.handle_controller_disallowed(at(0)).is_empty(),
        "no controller yet"
    );
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[WEB], 0);
    open_session(&mut c, DB, ALICE, "s_a", 22, 1);
    let cmds = c.handle_controller_disallowed(at(2));
    assert!(
        matches!(&cancels(&cmds)[..], [r] if r.session_id == "s_a" && r.reason == EndReason::ControllerSwitched),
        "{cmds:?}"
    );
    assert_eq!(
        c.controller(),
        None,
        "the next registration picks one again"
    );
    for uid in [ALICE, BOB] {
        let status = c.status(uid);
        assert_eq!(status.auth_token_id, "");
        assert!(
            status.errors[0].contains("no longer allows the controller at https://ctl:9200"),
            "{:?}",
            status.errors
        );
    }
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(3));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert_eq!(
        c.controller_switch_conflict(BOB, "https://other:9200"),
        None
    );
}

#[test]
fn switching_controllers_conflicts_only_when_it_drops_someone_elses_token() {
    let mut c = core();
    let other = "https://other:9200";
    assert_eq!(
        c.controller_switch_conflict(ALICE, other),
        None,
        "no controller yet"
    );
    user_with(&mut c, ALICE, &[DB], 0);
    let current = c.status(ALICE).boundary_addr;
    assert_eq!(
        c.controller_switch_conflict(ALICE, other),
        None,
        "only her own"
    );
    assert_eq!(
        c.controller_switch_conflict(BOB, other),
        Some(current.clone())
    );
    assert_eq!(
        c.controller_switch_conflict(BOB, &format!("{}/", current.to_uppercase())),
        None,
        "the same controller, written differently"
    );
}

#[test]
fn refreshes_page_through_and_apply_changes() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB, WEB], 0);
    assert!(refreshes(&c.handle_tick(at(59))).is_empty());
    let cmds = c.handle_tick(at(60));
    assert_eq!(refreshes(&cmds)[0].list_token.as_deref(), Some("lt1"));
    assert_eq!(refreshes(&cmds)[0].user_id, "u_1000");
    assert!(
        refreshes(&c.handle_tick(at(61))).is_empty(),
        "one refresh at a time"
    );

    let cmds = c.handle_alias_page(
        ALICE,
        &token_of(ALICE),
        page(ResponseType::Delta, "lt2", &[], &[]),
        at(61),
    );
    assert_eq!(refreshes(&cmds)[0].list_token.as_deref(), Some("lt2"));
    // WEB was answered (so it is installed); DB never was.
    let _ = c.handle_dns_question(&ask(WEB, rtype::A, Some(ALICE)), at(61));
    let db_home = c.alias_addresses(DB);
    assert!(
        db_home.is_none(),
        "DB was never answered, so never assigned"
    );
    let _ = c.handle_alias_page(
        ALICE,
        &token_of(ALICE),
        page(ResponseType::Complete, "lt3", &[], &[WEB]),
        at(62),
    );
    let (res, _) = c.handle_dns_question(&ask(WEB, rtype::A, Some(ALICE)), at(63));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(c.alias_addresses(WEB).is_some(), "still installed");
    // Once nothing holds it and it idled, the address goes and so does the assignment.
    let web4 = v4(&c, WEB);
    let _ = c.handle_authorize_failed(
        &key(WEB, ALICE),
        &token_of(ALICE),
        ControllerFailure {
            kind: FailureKind::Rejected,
            message: "404".into(),
        },
        at(63),
    );
    assert!(
        !c.handle_tick(at(360))
            .contains(&Command::RemoveAddress(web4))
    );
    assert!(
        c.handle_tick(at(361))
            .contains(&Command::RemoveAddress(web4))
    );
    assert!(c.alias_addresses(WEB).is_none());
    assert!(c.state_snapshot().assignments.is_empty());
}

#[test]
fn an_invalid_list_token_restarts_the_listing() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_tick(at(60));
    let invalid = ControllerFailure {
        kind: FailureKind::InvalidListToken,
        message: "invalid list token".into(),
    };
    let cmds = c.handle_alias_refresh_failed(ALICE, &token_of(ALICE), invalid.clone(), at(61));
    assert_eq!(refreshes(&cmds)[0].list_token, None);
    // The old entries keep answering during the reload.
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(61));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    // Refused again without a token: an error, not a loop.
    let cmds = c.handle_alias_refresh_failed(ALICE, &token_of(ALICE), invalid, at(62));
    assert!(refreshes(&cmds).is_empty());
    assert!(c.status(ALICE).errors[0].contains("invalid list token"));
    assert_eq!(refreshes(&c.handle_tick(at(122)))[0].list_token, None);
}

#[test]
fn refresh_failures_are_reported_and_retried_later() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_tick(at(60));
    let cmds = c.handle_alias_refresh_failed(
        ALICE,
        &token_of(ALICE),
        ControllerFailure {
            kind: FailureKind::Network,
            message: "connection refused".into(),
        },
        at(61),
    );
    assert!(cmds.is_empty());
    assert!(c.status(ALICE).errors[0].contains("connection refused"));
    assert!(refreshes(&c.handle_tick(at(120))).is_empty());
    assert_eq!(
        refreshes(&c.handle_tick(at(121)))[0].list_token.as_deref(),
        Some("lt1")
    );
    // 401 drops the token.
    let _ = c.handle_alias_refresh_failed(
        ALICE,
        &token_of(ALICE),
        ControllerFailure {
            kind: FailureKind::Unauthenticated,
            message: "401".into(),
        },
        at(122),
    );
    assert_eq!(c.status(ALICE).auth_token_id, "");
}

#[test]
fn status_shows_each_user_their_own_token() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let alice = c.status(ALICE);
    assert_eq!(alice.boundary_addr, CTL);
    assert_eq!(alice.auth_token_id, token_of(ALICE));
    assert_eq!(
        alice.auth_token_expiry,
        Some(EPOCH + time::Duration::days(7))
    );
    assert_eq!(alice.status, "running");
    assert_eq!(alice.version, env!("CARGO_PKG_VERSION"));
    let bob = c.status(BOB);
    assert_eq!(bob.auth_token_id, "");
    assert_eq!(bob.auth_token_expiry, None);
}
