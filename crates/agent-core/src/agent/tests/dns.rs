use super::*;

#[test]
fn an_alias_is_answered_after_its_session_is_authorized() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let (res, cmds) = c.handle_dns_question(&ask("DB.Prod.Example.", rtype::A, Some(ALICE)), at(1));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    let (a4, a6) = (v4(&c, DB), v6(&c, DB));
    assert_eq!(cmds[0], Command::AddAddress(a4));
    assert_eq!(cmds[1], Command::AddAddress(a6));
    assert!(matches!(&cmds[2], Command::Authorize(r) if r.key == key(DB, ALICE)));
    assert_eq!(cmds.last(), Some(&Command::SaveState));
    assert_eq!(cmds.len(), 4);

    // A second question while pending waits too, without a second Authorize.
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::AAAA, Some(ALICE)), at(1));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    assert!(cmds.is_empty(), "{cmds:?}");

    let cmds = c.handle_authorized(&key(DB, ALICE), granted(ALICE, "s_1", 22, -1), at(2));
    assert_eq!(
        cmds,
        [
            Command::Listen { addr: a4, port: 22 },
            Command::Listen { addr: a6, port: 22 },
            Command::SessionSettled(key(DB, ALICE)),
        ]
    );
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(2));
    assert_eq!(
        res,
        DnsResolution::Decided(DnsDecision::Address(
            c.alias_addresses(DB).unwrap().answer(Family::V4)
        ))
    );
    assert!(cmds.is_empty());
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::AAAA, Some(ALICE)), at(2));
    assert_eq!(
        res,
        DnsResolution::Decided(DnsDecision::Address(
            c.alias_addresses(DB).unwrap().answer(Family::V6)
        ))
    );
}

#[test]
fn other_names_and_types() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    for (name, qtype, expected) in [
        (DB, 16, DnsDecision::NoData),
        (DB, 15, DnsDecision::NoData),
        ("example.com", rtype::A, DnsDecision::Forward),
        ("use-application-dns.net.", rtype::A, DnsDecision::NxDomain),
        (
            "Use-Application-DNS.net",
            rtype::AAAA,
            DnsDecision::NxDomain,
        ),
    ] {
        let (res, cmds) = c.handle_dns_question(&ask(name, qtype, Some(ALICE)), at(1));
        assert_eq!(res, DnsResolution::Decided(expected), "{name} {qtype}");
        assert!(cmds.is_empty(), "{name}: {cmds:?}");
    }
}

#[test]
fn a_user_only_gets_the_aliases_their_token_may_use() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[WEB], 0);
    let (res, cmds) = c.handle_dns_question(&ask(WEB, rtype::A, Some(ALICE)), at(1));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(cmds.is_empty());
    let (res, _) = c.handle_dns_question(&ask(WEB, rtype::A, Some(BOB)), at(1));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(WEB, BOB)));
}

#[test]
fn unattributed_questions_use_the_most_recent_token_holding_the_alias() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB, WEB], 0);
    user_with(&mut c, BOB, &[WEB], 1);
    let (res, cmds) = c.handle_dns_question(&ask(WEB, rtype::A, None), at(2));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(WEB, BOB)));
    assert_eq!(authorizes(&cmds)[0].token_id, token_of(BOB));
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, None), at(2));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    // A uid without a token (systemd-resolved, root) counts as unattributed.
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(0)), at(2));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    // Alice registering again makes her the most recent.
    let _ = c.handle_token_registered(registration(ALICE, &token_of(ALICE)), at(3));
    let (res, _) = c.handle_dns_question(&ask(WEB, rtype::AAAA, None), at(3));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(WEB, ALICE)));
}

#[test]
fn failed_authorization_fails_open_then_retries() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let failure = ControllerFailure {
        kind: FailureKind::Rejected,
        message: "403 PermissionDenied".into(),
    };
    // A failure for another token id is stale and ignored.
    assert!(
        c.handle_authorize_failed(&key(DB, ALICE), "at_other", failure.clone(), at(2))
            .is_empty()
    );
    let cmds = c.handle_authorize_failed(&key(DB, ALICE), &token_of(ALICE), failure, at(2));
    assert_eq!(cmds, [Command::SessionSettled(key(DB, ALICE))]);
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(3));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(cmds.is_empty());
    let errors = c.status(ALICE).errors;
    assert!(
        errors[0].contains("403 PermissionDenied") && errors[0].contains(DB),
        "{errors:?}"
    );
    assert!(
        c.status(BOB).errors.is_empty(),
        "bob does not see alice's alias names"
    );

    // After authorize_retry_after (10 s) the next question tries again.
    let (res, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(12));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(DB, ALICE)));
    assert_eq!(authorizes(&cmds).len(), 1);
}

#[test]
fn an_unauthenticated_token_is_dropped() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let cmds = c.handle_authorize_failed(
        &key(DB, ALICE),
        &token_of(ALICE),
        ControllerFailure {
            kind: FailureKind::Unauthenticated,
            message: "401".into(),
        },
        at(2),
    );
    assert!(cmds.contains(&Command::SessionSettled(key(DB, ALICE))));
    assert_eq!(c.status(ALICE).auth_token_id, "");
    assert!(c.status(ALICE).errors[0].contains("no longer accepts"));
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(3));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
}

#[test]
fn the_port_is_default_client_port_else_endpoint_port() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB, WEB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let mut grant = granted(ALICE, "s_1", 5432, -1);
    grant.default_client_port = 15432;
    let cmds = c.handle_authorized(&key(DB, ALICE), grant, at(1));
    assert!(cmds.contains(&Command::Listen {
        addr: v4(&c, DB),
        port: 15432
    }));

    let _ = c.handle_dns_question(&ask(WEB, rtype::A, Some(ALICE)), at(1));
    let cmds = c.handle_authorized(&key(WEB, ALICE), granted(ALICE, "s_2", 0, -1), at(1));
    assert!(
        matches!(&cancels(&cmds)[..], [r] if r.session_id == "s_2"),
        "{cmds:?}"
    );
    assert!(cmds.contains(&Command::SessionSettled(key(WEB, ALICE))));
    assert!(!cmds.iter().any(|c| matches!(c, Command::Listen { .. })));
    let (res, _) = c.handle_dns_question(&ask(WEB, rtype::A, Some(ALICE)), at(2));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(c.status(ALICE).errors[0].contains("no usable port"));
}

#[test]
fn an_address_family_that_cannot_be_added_answers_nodata() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let cmds = c.handle_address_failed(v6(&c, DB), "IPv6 is disabled", at(1));
    assert!(cmds.is_empty(), "{cmds:?}");
    let cmds = c.handle_authorized(&key(DB, ALICE), granted(ALICE, "s_1", 22, -1), at(1));
    assert_eq!(
        cmds,
        [
            Command::Listen {
                addr: v4(&c, DB),
                port: 22
            },
            Command::SessionSettled(key(DB, ALICE)),
        ]
    );
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::AAAA, Some(ALICE)), at(2));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::NoData));
    let (d, _) = c.handle_connection_accepted(v6(&c, DB), 22, Some(ALICE), at(2));
    assert_eq!(d, ConnectionDecision::Refuse(RefuseReason::NotListening));
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(2));
    assert!(matches!(
        res,
        DnsResolution::Decided(DnsDecision::Address(_))
    ));

    // Losing the other family too ends the session and fails open.
    let cmds = c.handle_listen_failed(v4(&c, DB), 22, "EADDRINUSE", at(3));
    assert!(cmds.contains(&Command::StopListening {
        addr: v4(&c, DB),
        port: 22
    }));
    assert!(matches!(&cancels(&cmds)[..], [r] if r.reason == EndReason::ListenFailed));
    let (res, _) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(4));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(
        c.status(ALICE)
            .errors
            .iter()
            .any(|e| e.contains("EADDRINUSE"))
    );
}

#[test]
fn an_exhausted_pool_fails_open() {
    let config = CoreConfig {
        v6_prefix: "fd00::/120".parse().unwrap(),
        ..CoreConfig::default()
    };
    let mut c: Core = AgentCore::new(config, false).unwrap();
    let names: Vec<String> = (0..254).map(|i| format!("h{i}.example")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    user_with(&mut c, ALICE, &refs, 0);
    for name in &names[..253] {
        let (res, _) = c.handle_dns_question(&ask(name, rtype::A, Some(ALICE)), at(1));
        assert!(
            matches!(res, DnsResolution::AwaitAuthorization(_)),
            "{name}"
        );
    }
    let (res, cmds) = c.handle_dns_question(&ask(&names[253], rtype::A, Some(ALICE)), at(1));
    assert_eq!(res, DnsResolution::Decided(DnsDecision::Forward));
    assert!(cmds.is_empty());
    assert!(c.status(ALICE).errors[0].contains("no free IPv6 address"));
}
