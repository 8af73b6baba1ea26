use super::*;
use std::net::{IpAddr, Ipv4Addr};

fn tunnel_of(d: ConnectionDecision<String>) -> TunnelGrant<String> {
    match d {
        ConnectionDecision::Tunnel(g) => g,
        other => panic!("expected a tunnel, got {other:?}"),
    }
}

#[test]
fn only_the_owner_reaches_its_session() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[WEB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let addr = v4(&c, DB);

    let (d, cmds) = c.handle_connection_accepted(addr, 22, Some(ALICE), at(2));
    let grant = tunnel_of(d);
    assert_eq!(grant.key, key(DB, ALICE));
    assert_eq!(grant.session_id, "s_1");
    assert_eq!(grant.tunnel, "tunnel-s_1");
    assert!(cmds.is_empty());

    // IPv6 reaches the same session.
    let (d, _) = c.handle_connection_accepted(v6(&c, DB), 22, Some(ALICE), at(2));
    assert_eq!(tunnel_of(d).session_id, "s_1");

    // Bob's token may not use db: refused, nothing authorized.
    let (d, cmds) = c.handle_connection_accepted(addr, 22, Some(BOB), at(2));
    assert_eq!(
        d,
        ConnectionDecision::Refuse(RefuseReason::NotPermitted { uid: BOB })
    );
    assert!(cmds.is_empty());
    // Nor a user without a token, nor another host.
    let (d, _) = c.handle_connection_accepted(addr, 22, Some(0), at(2));
    assert_eq!(
        d,
        ConnectionDecision::Refuse(RefuseReason::NotPermitted { uid: 0 })
    );
    let (d, _) = c.handle_connection_accepted(addr, 22, None, at(2));
    assert_eq!(d, ConnectionDecision::Refuse(RefuseReason::NoLocalOwner));
}

#[test]
fn another_user_with_access_gets_a_session_of_their_own() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_alice", 22, 1);
    let addr = v4(&c, DB);
    let (d, cmds) = c.handle_connection_accepted(addr, 22, Some(BOB), at(2));
    assert_eq!(d, ConnectionDecision::AuthorizeThenTunnel(key(DB, BOB)));
    assert_eq!(authorizes(&cmds)[0].token_id, token_of(BOB));
    // While pending, more connections wait without another Authorize.
    let (d, cmds) = c.handle_connection_accepted(addr, 22, Some(BOB), at(2));
    assert_eq!(d, ConnectionDecision::AuthorizeThenTunnel(key(DB, BOB)));
    assert!(cmds.is_empty());

    let cmds = c.handle_authorized(&key(DB, BOB), granted(BOB, "s_bob", 22, -1), at(3));
    assert_eq!(
        cmds,
        [Command::SessionSettled(key(DB, BOB))],
        "already listening"
    );
    let (d, _) = c.handle_connection_accepted(addr, 22, Some(BOB), at(3));
    assert_eq!(tunnel_of(d).session_id, "s_bob");
    let (d, _) = c.handle_connection_accepted(addr, 22, Some(ALICE), at(3));
    assert_eq!(tunnel_of(d).session_id, "s_alice");
    assert_eq!(c.sessions(ALICE).items.len(), 1);
    assert_eq!(
        c.sessions(ALICE).items[0].session_authorization.session_id,
        "s_alice"
    );
    assert_eq!(
        c.sessions(BOB).items[0].session_authorization.session_id,
        "s_bob"
    );
}

#[test]
fn wrong_addresses_and_ports_are_refused() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB, WEB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let (d, _) = c.handle_connection_accepted(v4(&c, DB), 80, Some(ALICE), at(2));
    assert_eq!(d, ConnectionDecision::Refuse(RefuseReason::NotListening));
    let (d, _) = c.handle_connection_accepted(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        22,
        Some(ALICE),
        at(2),
    );
    assert_eq!(d, ConnectionDecision::Refuse(RefuseReason::UnknownAddress));
    let dns = IpAddr::V4(c.dns_server_addresses().v4);
    let (d, _) = c.handle_connection_accepted(dns, 53, Some(ALICE), at(2));
    assert_eq!(d, ConnectionDecision::Refuse(RefuseReason::UnknownAddress));
}

#[test]
fn a_session_on_another_port_is_not_used() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    user_with(&mut c, BOB, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_alice", 22, 1);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(BOB)), at(1));
    let cmds = c.handle_authorized(&key(DB, BOB), granted(BOB, "s_bob", 2222, -1), at(1));
    assert!(cmds.contains(&Command::Listen {
        addr: v4(&c, DB),
        port: 2222
    }));
    let (d, _) = c.handle_connection_accepted(v4(&c, DB), 22, Some(BOB), at(2));
    assert_eq!(
        d,
        ConnectionDecision::Refuse(RefuseReason::PortMismatch {
            uid: BOB,
            session_port: 2222
        })
    );
}

#[test]
fn a_used_up_connection_limit_reauthorizes_on_next_use() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let _ = c.handle_authorized(&key(DB, ALICE), granted(ALICE, "s_1", 22, 1), at(1));
    let addr = v4(&c, DB);
    let (d, _) = c.handle_connection_accepted(addr, 22, Some(ALICE), at(2));
    let first = tunnel_of(d);
    assert!(
        c.handle_tunnel_established(first.connection, 0, at(2))
            .is_empty()
    );

    let (d, cmds) = c.handle_connection_accepted(addr, 22, Some(ALICE), at(3));
    assert_eq!(d, ConnectionDecision::AuthorizeThenTunnel(key(DB, ALICE)));
    assert!(
        cancels(&cmds).is_empty(),
        "the worker knows; nothing to cancel"
    );
    assert_eq!(authorizes(&cmds).len(), 1);
    let _ = c.handle_authorized(&key(DB, ALICE), granted(ALICE, "s_2", 22, 1), at(3));
    let (d, _) = c.handle_connection_accepted(addr, 22, Some(ALICE), at(3));
    assert_eq!(tunnel_of(d).session_id, "s_2");

    // The first connection closing does not touch the new session.
    assert!(
        c.handle_connection_closed(first.connection, at(4))
            .is_empty()
    );
    assert_eq!(
        c.sessions(ALICE).items[0].session_authorization.session_id,
        "s_2"
    );
}

#[test]
fn the_last_connection_of_a_used_up_session_ends_it() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    let _ = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let _ = c.handle_authorized(&key(DB, ALICE), granted(ALICE, "s_1", 22, 1), at(1));
    let (d, _) = c.handle_connection_accepted(v4(&c, DB), 22, Some(ALICE), at(2));
    let conn = tunnel_of(d).connection;
    assert_eq!(c.sessions(ALICE).items.len(), 1);
    let cmds = c.handle_connection_closed(conn, at(3));
    assert!(cancels(&cmds).is_empty());
    assert!(c.sessions(ALICE).items.is_empty());
    assert!(c.handle_connection_closed(conn, at(3)).is_empty());
}

#[test]
fn a_refusal_by_the_worker_ends_the_session() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let (d, _) = c.handle_connection_accepted(v4(&c, DB), 22, Some(ALICE), at(2));
    let conn = tunnel_of(d).connection;
    let cmds = c.handle_tunnel_rejected(conn, "1011 unable to authorize connection", at(2));
    assert!(cancels(&cmds).is_empty());
    assert!(c.sessions(ALICE).items.is_empty());
    assert!(c.status(ALICE).errors[0].contains("1011"));
    let (d, cmds) = c.handle_connection_accepted(v4(&c, DB), 22, Some(ALICE), at(3));
    assert_eq!(d, ConnectionDecision::AuthorizeThenTunnel(key(DB, ALICE)));
    assert_eq!(authorizes(&cmds).len(), 1);
}

#[test]
fn a_failed_authorization_refuses_connections_for_a_while() {
    let mut c = core();
    user_with(&mut c, ALICE, &[DB], 0);
    open_session(&mut c, DB, ALICE, "s_1", 22, 1);
    let (d, _) = c.handle_connection_accepted(v4(&c, DB), 22, Some(ALICE), at(2));
    let _ = c.handle_tunnel_rejected(tunnel_of(d).connection, "canceled", at(2));
    let _ = c.handle_connection_accepted(v4(&c, DB), 22, Some(ALICE), at(3));
    let _ = c.handle_authorize_failed(
        &key(DB, ALICE),
        &token_of(ALICE),
        ControllerFailure {
            kind: FailureKind::Rejected,
            message: "No workers are available".into(),
        },
        at(3),
    );
    let (d, cmds) = c.handle_connection_accepted(v4(&c, DB), 22, Some(ALICE), at(4));
    assert!(matches!(
        d,
        ConnectionDecision::Refuse(RefuseReason::AuthorizationFailed { uid: ALICE, ref error })
            if error.contains("No workers")
    ));
    assert!(cmds.is_empty());
}
