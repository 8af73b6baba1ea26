//! Properties over arbitrary input sequences: a paused agent opens nothing, and only the
//! owner uid ever reaches a session.

use super::*;
use crate::clock::Now;
use crate::dns_decision::normalize_name;
use crate::session_table::ConnectionId;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

const UIDS: [u32; 4] = [1000, 1001, 1002, 1003];
const ALIASES: [&str; 4] = ["a.example", "b.example", "C.Example.", "d.example"];

#[derive(Debug, Clone)]
enum Op {
    Register {
        user: usize,
        token: u8,
        other_controller: bool,
    },
    Listing {
        user: usize,
        mask: u8,
    },
    RefreshFailed {
        user: usize,
        kind: FailureKind,
    },
    Dns {
        alias: usize,
        qtype: u16,
        asker: Option<usize>,
    },
    Authorized {
        pick: usize,
        port: u32,
        default_client_port: u32,
        limit: i32,
    },
    AuthorizeFailed {
        pick: usize,
        kind: FailureKind,
    },
    /// A connection to a session the shell saw authorized, from `peer` (`None`: its
    /// owner), on its port unless `port` says otherwise.
    AcceptKnown {
        pick: usize,
        v6: bool,
        peer: Option<Option<usize>>,
        port: Option<u16>,
    },
    /// A connection to any alias address.
    Accept {
        alias: usize,
        v6: bool,
        port: u16,
        peer: Option<usize>,
    },
    Established {
        pick: usize,
        left: i32,
    },
    Rejected {
        pick: usize,
    },
    Closed {
        pick: usize,
    },
    AddressFailed {
        alias: usize,
        v6: bool,
    },
    Tick {
        secs: u64,
    },
    Pause,
    Resume,
    NetworkFailure,
}

fn failure_kind() -> impl Strategy<Value = FailureKind> {
    prop_oneof![
        Just(FailureKind::Network),
        Just(FailureKind::Unauthenticated),
        Just(FailureKind::InvalidListToken),
        Just(FailureKind::Rejected),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..3usize;
    let alias = 0..ALIASES.len();
    let pick = any::<usize>();
    let uid = 0..UIDS.len();
    prop_oneof![
        1 => (user.clone(), 0..3u8, prop::bool::weighted(0.1))
            .prop_map(|(user, token, other_controller)| Op::Register { user, token, other_controller }),
        4 => (user.clone(), prop_oneof![Just(0x0f), any::<u8>()]).prop_map(|(user, mask)| Op::Listing { user, mask }),
        1 => (user, failure_kind()).prop_map(|(user, kind)| Op::RefreshFailed { user, kind }),
        6 => (alias.clone(), prop::sample::select(vec![rtype::A, rtype::AAAA, 16]), prop::option::of(uid.clone()))
            .prop_map(|(alias, qtype, asker)| Op::Dns { alias, qtype, asker }),
        5 => (pick, prop::sample::select(vec![0u32, 22, 2222, 70000]), prop::sample::select(vec![0u32, 0, 15432]), prop::sample::select(vec![-1i32, 1, 2]))
            .prop_map(|(pick, port, default_client_port, limit)| Op::Authorized { pick, port, default_client_port, limit }),
        1 => (pick, failure_kind()).prop_map(|(pick, kind)| Op::AuthorizeFailed { pick, kind }),
        10 => (pick, any::<bool>(), prop::option::weighted(0.4, prop::option::of(uid.clone())), prop::option::weighted(0.2, prop::sample::select(vec![22u16, 2222, 80])))
            .prop_map(|(pick, v6, peer, port)| Op::AcceptKnown { pick, v6, peer, port }),
        2 => (alias.clone(), any::<bool>(), prop::sample::select(vec![22u16, 2222, 15432, 80]), prop::option::of(uid))
            .prop_map(|(alias, v6, port, peer)| Op::Accept { alias, v6, port, peer }),
        1 => (pick, -1..3i32).prop_map(|(pick, left)| Op::Established { pick, left }),
        1 => pick.prop_map(|pick| Op::Rejected { pick }),
        2 => pick.prop_map(|pick| Op::Closed { pick }),
        1 => (alias, any::<bool>()).prop_map(|(alias, v6)| Op::AddressFailed { alias, v6 }),
        3 => prop::sample::select(vec![1u64, 1, 10, 10, 59, 61, 301, 1801, 30_000]).prop_map(|secs| Op::Tick { secs }),
        1 => Just(Op::Pause),
        2 => Just(Op::Resume),
        1 => Just(Op::NetworkFailure),
    ]
}

/// Plays the shell: remembers the controller calls that are out, the sessions it saw
/// authorized and the open tunnels.
#[derive(Default)]
struct Shell {
    now: u64,
    refreshes: BTreeMap<u32, RefreshRequest>,
    authorizations: Vec<AuthorizeRequest>,
    /// (key, port) of every `Listen`-producing authorization.
    sessions: Vec<(SessionKey, u16)>,
    tunnels: Vec<ConnectionId>,
    next_session: u64,
    tunnels_opened: usize,
    /// Addresses the fast view answered without asking the core.
    fast_addresses: usize,
    /// Of those, the ones it could also give without knowing who asked.
    answers_for_anyone: usize,
}

impl Shell {
    fn take(&mut self, cmds: &[Cmd]) {
        for c in cmds {
            match c {
                Command::Authorize(r) => self.authorizations.push(r.clone()),
                Command::RefreshAliases(r) => {
                    self.refreshes.insert(r.uid, r.clone());
                }
                _ => {}
            }
        }
    }

    fn pick_authorization(&mut self, pick: usize) -> Option<AuthorizeRequest> {
        (!self.authorizations.is_empty())
            .then(|| self.authorizations.remove(pick % self.authorizations.len()))
    }

    fn pick_tunnel(&self, pick: usize) -> Option<ConnectionId> {
        (!self.tunnels.is_empty()).then(|| self.tunnels[pick % self.tunnels.len()])
    }
}

fn opens_something(c: &Cmd) -> bool {
    matches!(
        c,
        Command::Authorize(_)
            | Command::Listen { .. }
            | Command::AddAddress(_)
            | Command::TakeOverResolver
    )
}

fn addr_of(core: &Core, alias: &str, v6: bool) -> IpAddr {
    match core.alias_addresses(alias) {
        Some(a) if v6 => IpAddr::V6(a.v6),
        Some(a) => IpAddr::V4(a.v4),
        None => IpAddr::V4(std::net::Ipv4Addr::new(100, 64, 3, 3)),
    }
}

fn accept(
    core: &mut Core,
    shell: &mut Shell,
    addr: IpAddr,
    port: u16,
    peer_uid: Option<u32>,
) -> Result<Vec<Cmd>, TestCaseError> {
    let (decision, cmds) = core.handle_connection_accepted(addr, port, peer_uid, at(shell.now));
    if let ConnectionDecision::Tunnel(grant) = decision {
        // The property: only the owner uid reaches a session.
        prop_assert_eq!(Some(grant.key.uid), peer_uid);
        prop_assert_eq!(
            core.alias_addresses(&grant.key.alias)
                .map(|a| a.both().contains(&addr)),
            Some(true)
        );
        shell.tunnels.push(grant.connection);
        shell.tunnels_opened += 1;
    }
    Ok(cmds)
}

/// Applies one op; returns the commands it produced.
fn apply(core: &mut Core, shell: &mut Shell, op: &Op) -> Result<Vec<Cmd>, TestCaseError> {
    let now = at(shell.now);
    let failure = |kind| ControllerFailure {
        kind,
        message: "x".into(),
    };
    let cmds = match op.clone() {
        Op::Register {
            user,
            token,
            other_controller,
        } => {
            let mut reg = registration(UIDS[user], &format!("at_{}_{token}", UIDS[user]));
            if other_controller {
                reg.controller_addr = "https://elsewhere:9200".into();
            }
            core.handle_token_registered(reg, now)
        }
        Op::Listing { user, mask } => match shell.refreshes.remove(&UIDS[user]) {
            Some(r) => {
                let values: Vec<&str> = (0..ALIASES.len())
                    .filter(|i| mask >> i & 1 == 1)
                    .map(|i| ALIASES[i])
                    .collect();
                let kind = if mask & 0x80 != 0 {
                    ResponseType::Delta
                } else {
                    ResponseType::Complete
                };
                core.handle_alias_page(
                    r.uid,
                    &r.token_id,
                    page(kind, &format!("lt{mask}"), &values, &[]),
                    now,
                )
            }
            None => vec![],
        },
        Op::RefreshFailed { user, kind } => match shell.refreshes.remove(&UIDS[user]) {
            Some(r) => core.handle_alias_refresh_failed(r.uid, &r.token_id, failure(kind), now),
            None => vec![],
        },
        Op::Dns {
            alias,
            qtype,
            asker,
        } => {
            let question = ask(ALIASES[alias], qtype, asker.map(|i| UIDS[i]));
            let (res, cmds) = core.handle_dns_question(&question, now);
            if let DnsResolution::Decided(DnsDecision::Address(answer)) = res {
                let addrs = core.alias_addresses(ALIASES[alias]);
                prop_assert!(addrs.is_some_and(
                    |a| answer == a.answer(Family::V4) || answer == a.answer(Family::V6)
                ));
            }
            cmds
        }
        Op::Authorized {
            pick,
            port,
            default_client_port,
            limit,
        } => match shell.pick_authorization(pick) {
            Some(r) => {
                shell.next_session += 1;
                let mut grant =
                    granted(r.key.uid, &format!("s_{}", shell.next_session), port, limit);
                grant.token_id = r.token_id.clone();
                grant.default_client_port = default_client_port;
                let cmds = core.handle_authorized(&r.key, grant, now);
                let local_port = if default_client_port != 0 {
                    default_client_port
                } else {
                    port
                };
                if let Ok(local_port) = u16::try_from(local_port) {
                    shell.sessions.push((r.key, local_port));
                }
                cmds
            }
            None => vec![],
        },
        Op::AuthorizeFailed { pick, kind } => match shell.pick_authorization(pick) {
            Some(r) => core.handle_authorize_failed(&r.key, &r.token_id, failure(kind), now),
            None => vec![],
        },
        Op::AcceptKnown {
            pick,
            v6,
            peer,
            port,
        } => {
            if shell.sessions.is_empty() {
                vec![]
            } else {
                let (key, session_port) = shell.sessions[pick % shell.sessions.len()].clone();
                let peer_uid = match peer {
                    None => Some(key.uid),
                    Some(other) => other.map(|i| UIDS[i]),
                };
                let addr = addr_of(core, &key.alias, v6);
                accept(core, shell, addr, port.unwrap_or(session_port), peer_uid)?
            }
        }
        Op::Accept {
            alias,
            v6,
            port,
            peer,
        } => {
            let addr = addr_of(core, &normalize_name(ALIASES[alias]), v6);
            accept(core, shell, addr, port, peer.map(|i| UIDS[i]))?
        }
        Op::Established { pick, left } => match shell.pick_tunnel(pick) {
            Some(conn) => core.handle_tunnel_established(conn, left, now),
            None => vec![],
        },
        Op::Rejected { pick } => match shell.pick_tunnel(pick) {
            Some(conn) => core.handle_tunnel_rejected(conn, "1011", now),
            None => vec![],
        },
        Op::Closed { pick } => match shell.pick_tunnel(pick) {
            Some(conn) => {
                shell.tunnels.retain(|c| *c != conn);
                core.handle_connection_closed(conn, now)
            }
            None => vec![],
        },
        Op::AddressFailed { alias, v6 } => {
            core.handle_address_failed(addr_of(core, ALIASES[alias], v6), "EPERM", now)
        }
        Op::Tick { secs } => {
            shell.now += secs;
            core.handle_tick(at(shell.now))
        }
        Op::Pause => core.handle_pause(now),
        Op::Resume => core.handle_resume(now),
        Op::NetworkFailure => core.handle_network_failure(now),
    };
    Ok(cmds)
}

/// Runs `ops`, checking the invariants after each; returns the number of tunnels opened
/// and of addresses the fast view answered.
fn run(ops: &[Op], shut_down_at_end: bool) -> Result<(usize, usize, usize), TestCaseError> {
    let config = CoreConfig {
        breaker: crate::pause::BreakerConfig {
            threshold: 4,
            window: std::time::Duration::from_secs(60),
        },
        ..CoreConfig::default()
    };
    let mut core: Core = AgentCore::new(config, false).unwrap_or_else(|e| panic!("{e}"));
    let mut shell = Shell::default();
    // Start from two users with aliases, so the random part reaches sessions quickly.
    for (uid, mask) in [(UIDS[0], 0x0f), (UIDS[1], 0x03)] {
        let cmds = core.handle_token_registered(registration(uid, &format!("at_{uid}_0")), at(0));
        shell.take(&cmds);
        let setup = Op::Listing {
            user: UIDS.iter().position(|u| *u == uid).unwrap_or_default(),
            mask,
        };
        apply(&mut core, &mut shell, &setup)?;
    }
    for op in ops {
        let paused_before = core.is_paused();
        let cmds = apply(&mut core, &mut shell, op)?;
        if paused_before && !matches!(op, Op::Resume) {
            prop_assert!(
                !cmds.iter().any(opens_something),
                "paused, {:?} produced {:?}",
                op,
                cmds
            );
        }
        for c in &cmds {
            if let Command::Authorize(r) = c {
                // Authorized with the key's own user's token, never someone else's.
                prop_assert_eq!(&core.status(r.key.uid).auth_token_id, &r.token_id);
            }
        }
        check_fast_view(&mut core, &mut shell)?;
        let installed = core.state_snapshot().installed;
        if core.is_paused() {
            prop_assert!(installed.is_empty(), "addresses left while paused");
        }
        let unique: BTreeSet<_> = installed.iter().collect();
        prop_assert_eq!(unique.len(), installed.len());
        shell.take(&cmds);
    }
    if shut_down_at_end {
        let _ = core.handle_shutdown(at(shell.now));
        prop_assert!(core.state_snapshot().installed.is_empty());
        prop_assert!(UIDS.iter().all(|uid| core.sessions(*uid).items.is_empty()));
        for op in ops {
            let cmds = apply(&mut core, &mut shell, op)?;
            prop_assert!(
                !cmds.iter().any(opens_something),
                "after shutdown {:?}: {:?}",
                op,
                cmds
            );
        }
    }
    Ok((
        shell.tunnels_opened,
        shell.fast_addresses,
        shell.answers_for_anyone,
    ))
}

/// The property of the DNS fast path: whenever the published view answers a question on
/// its own, the core (asked on a copy, so the run is not disturbed) answers the same.
/// The view is also asked later than it was built, as the shell does between changes.
/// And where the view says the answer does not depend on who asks, it does not.
fn check_fast_view(core: &mut Core, shell: &mut Shell) -> Result<(), TestCaseError> {
    let view = core.fast_view(at(shell.now).moment);
    for later in [0, 61, 30_001] {
        let now = at(shell.now + later);
        check_fast_view_at(core, shell, &view, now)?;
    }
    Ok(())
}

fn check_fast_view_at(
    core: &Core,
    shell: &mut Shell,
    view: &FastView,
    now: Now,
) -> Result<(), TestCaseError> {
    let askers = UIDS.iter().map(|u| Some(*u)).chain([None, Some(0)]);
    for asker in askers {
        for alias in ALIASES
            .iter()
            .chain(&["ordinary.example", "use-application-dns.net"])
        {
            for qtype in [rtype::A, rtype::AAAA, 15] {
                let question = ask(alias, qtype, asker);
                // One asker and one type suffice (the core is cloned per check).
                if qtype == rtype::A && asker == Some(UIDS[0]) && !view.depends_on_asker(alias) {
                    let (res, _) = core.clone().handle_dns_question(&question, now);
                    let (unattributed, _) = core
                        .clone()
                        .handle_dns_question(&ask(alias, qtype, None), now);
                    prop_assert_eq!(
                        &res,
                        &unattributed,
                        "the answer for {} depends on the asker after all",
                        alias
                    );
                }
                let anyone = view.decide_for_anyone(&question, now.moment);
                let Some(fast) = view.decide(&question, now.moment) else {
                    prop_assert_eq!(
                        anyone,
                        None,
                        "{:?} has an answer for anyone but not for {:?}",
                        alias,
                        asker
                    );
                    continue;
                };
                if let Some(anyone) = &anyone {
                    prop_assert_eq!(
                        anyone,
                        &fast,
                        "{:?}: the answer for anyone is not {:?}'s",
                        alias,
                        asker
                    );
                    if matches!(fast, DnsDecision::Address(_)) {
                        shell.answers_for_anyone += 1;
                    }
                }
                let (res, _) = core.clone().handle_dns_question(&question, now);
                prop_assert_eq!(
                    &res,
                    &DnsResolution::Decided(fast.clone()),
                    "fast view disagrees on {:?}",
                    question
                );
                if matches!(fast, DnsDecision::Address(_)) {
                    shell.fast_addresses += 1;
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_paused_agent_opens_nothing_and_only_owners_reach_sessions(
        ops in prop::collection::vec(op(), 1..120),
        shut_down_at_end in any::<bool>(),
    ) {
        run(&ops, shut_down_at_end)?;
    }
}

/// Guards the property test against vacuity: the generated sequences do reach tunnels.
#[test]
fn the_generated_sequences_reach_tunnels() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = prop::collection::vec(op(), 1..120);
    let (mut tunnels, mut fast, mut anyone) = (0, 0, 0);
    for _ in 0..200 {
        let ops = strategy
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("{e}"))
            .current();
        let (t, f, a) = run(&ops, false).unwrap_or_else(|e| panic!("{e}"));
        tunnels += t;
        fast += f;
        anyone += a;
    }
    assert!(tunnels > 50, "only {tunnels} tunnels in 200 sequences");
    assert!(
        fast > 50,
        "the fast view answered only {fast} addresses in 200 sequences"
    );
    assert!(
        anyone > 20,
        "the fast view answered only {anyone} addresses for anyone in 200 sequences"
    );
}
