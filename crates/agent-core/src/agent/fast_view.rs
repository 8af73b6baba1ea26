//! A read-only snapshot of the DNS answers that need no state change, for the DNS
//! receive path.
//!
//! [`AgentCore::handle_dns_question`] takes `&mut self` (it may install an address or
//! start an authorization), so calling it for every query would put one lock, or one
//! actor hop, in front of every lookup on the machine. The shell instead publishes a
//! [`FastView`] after each change of the core and asks it first: it answers ordinary names
//! (forward), `use-application-dns.net`, and aliases whose session is live, and returns
//! `None` — "ask the core" — for everything that might change state (first use of an
//! alias, an expired session, a failed family). Whenever it does answer, the answer is the
//! one the core would give (checked by a property test).
//!
//! Building a view costs O(active sessions + users); the set of alias names (which can be
//! large) is shared between views and rebuilt only when an alias cache changed. A lookup
//! is two hash probes and allocates nothing when the name is already normal.

use super::super::clock::Moment;
use super::super::dns_decision::{AliasAddress, DnsDecision, DnsQuestion, normalized_name, rtype};
use super::super::hashing::{FixedHashMap, FixedState};
use super::super::prefix::Family;
use super::super::session_table::SessionState;
use super::AgentCore;
use super::dns::USE_APPLICATION_DNS;
use std::collections::HashSet;
use std::sync::Arc;

/// Answers the DNS questions that need no state change; see the module documentation.
#[derive(Clone, Debug)]
pub struct FastView {
    running: bool,
    names: Arc<AliasNames>,
    aliases: FixedHashMap<String, FastAlias>,
    /// Registered tokens: uid → expiry (`None`: no expiry), sorted by uid.
    tokens: Vec<(u32, Option<Moment>)>,
}

/// Every normalised alias value some registered token's cache holds.
#[derive(Debug, Default)]
pub struct AliasNames(HashSet<String, FixedState>);

impl AliasNames {
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names in order (for handing to the system resolver).
    pub fn sorted(&self) -> Vec<String> {
        let mut names: Vec<String> = self.0.iter().cloned().collect();
        names.sort_unstable();
        names
    }
}

/// An alias with at least one live session.
#[derive(Clone, Debug, Default)]
struct FastAlias {
    /// Usable addresses (a family whose address or listener failed is `None`).
    v4: Option<AliasAddress>,
    v6: Option<AliasAddress>,
    /// Users whose cache holds the alias.
    holders: Vec<u32>,
    /// (uid, session expiry) of the holders' active sessions.
    sessions: Vec<(u32, Moment)>,
    /// Whose token answers questions not attributed to a token holder, and its expiry.
    unattributed: Option<(u32, Option<Moment>)>,
    /// Every asker gets the same answer (see [`FastView::decide_for_anyone`]).
    same_for_every_asker: bool,
}

impl FastView {
    /// The core's decision, when it can be given without changing state; `None` means
    /// "ask the core".
    pub fn decide(&self, question: &DnsQuestion, now: Moment) -> Option<DnsDecision> {
        self.decide_as(
            &normalized_name(&question.name),
            question.qtype,
            question.uid,
            now,
        )
    }

    /// The answer every asker would get from [`decide`](Self::decide), when it is the same
    /// for all of them and known without a state change: the receive path can then answer
    /// without finding out who asked (a socket-owner lookup per query).
    ///
    /// Ordinary names never depend on the asker. An alias does not when exactly one user
    /// has a token, that user's cache holds the alias, and the unattributed answer is that
    /// user's with the same expiry (the machine of one person, the common case): while the
    /// token is valid, its owner and every other asker reach the owner's session; once it
    /// expired, the owner counts as unattributed like everyone else. With several token
    /// holders their caches and sessions may differ, so `None`.
    pub fn decide_for_anyone(&self, question: &DnsQuestion, now: Moment) -> Option<DnsDecision> {
        let name = normalized_name(&question.name);
        if self.running && self.names.contains(&name) {
            let alias = self.aliases.get(name.as_ref())?;
            if !alias.same_for_every_asker {
                return None;
            }
        }
        self.decide_as(&name, question.qtype, None, now)
    }

    /// Whether the answer for `name` may depend on who asks: the agent is running and some
    /// registered token's cache holds the alias. Only then is it worth finding the local
    /// user behind a query (a socket-owner lookup); for every other name [`decide`] gives
    /// the same answer whatever `uid` the question carries.
    ///
    /// [`decide`]: FastView::decide
    pub fn depends_on_asker(&self, name: &str) -> bool {
        self.running && self.names.contains(&normalized_name(name))
    }

    /// The alias names, shared with the views before it until an alias cache changes
    /// (so comparing the `Arc`s tells whether the set changed).
    pub fn alias_names(&self) -> Arc<AliasNames> {
        Arc::clone(&self.names)
    }

    /// How many alias names the view knows (for logs and benchmarks).
    pub fn alias_name_count(&self) -> usize {
        self.names.len()
    }

    /// [`decide`](Self::decide) for the normalised `name`, asked by `uid`.
    fn decide_as(
        &self,
        name: &str,
        qtype: u16,
        uid: Option<u32>,
        now: Moment,
    ) -> Option<DnsDecision> {
        if !self.running {
            return Some(DnsDecision::Forward);
        }
        if name == USE_APPLICATION_DNS {
            return Some(DnsDecision::NxDomain);
        }
        if !self.names.contains(name) {
            return Some(DnsDecision::Forward);
        }
        let alias = self.aliases.get(name)?;
        let asker = uid.filter(|uid| self.has_valid_token(*uid, now));
        let owner = match asker {
            Some(uid) if !alias.holders.contains(&uid) => return Some(DnsDecision::Forward),
            Some(uid) => uid,
            None => match alias.unattributed {
                Some((uid, expiry)) if expiry.is_none_or(|at| now < at) => uid,
                _ => return None,
            },
        };
        let family = match qtype {
            rtype::A => Family::V4,
            rtype::AAAA => Family::V6,
            _ => return Some(DnsDecision::NoData),
        };
        let (_, expires_at) = alias.sessions.iter().find(|(uid, _)| *uid == owner)?;
        if *expires_at <= now {
            return None;
        }
        let address = match family {
            Family::V4 => alias.v4,
            Family::V6 => alias.v6,
        };
        address.map(DnsDecision::Address)
    }

    fn has_valid_token(&self, uid: u32, now: Moment) -> bool {
        self.tokens
            .binary_search_by_key(&uid, |(u, _)| *u)
            .is_ok_and(|i| self.tokens[i].1.is_none_or(|at| now < at))
    }
}

impl<T: Clone> AgentCore<T> {
    /// A snapshot for the DNS receive path, valid until the next `handle_*` call. `now`
    /// decides which tokens count as valid for unattributed questions.
    pub fn fast_view(&mut self, now: Moment) -> FastView {
        let key: Vec<(u32, u64)> = self
            .aliases
            .iter()
            .map(|(uid, a)| (*uid, a.cache.generation()))
            .collect();
        if key != self.alias_names_key {
            let mut names = HashSet::with_hasher(FixedState::default());
            for user in self.aliases.values() {
                names.extend(user.cache.values().map(str::to_owned));
            }
            self.alias_names = Arc::new(AliasNames(names));
            self.alias_names_key = key;
        }

        let mut aliases: FixedHashMap<String, FastAlias> = FixedHashMap::default();
        for (key, state) in self.sessions.iter() {
            if let SessionState::Active(session) = state {
                aliases
                    .entry(key.alias)
                    .or_default()
                    .sessions
                    .push((key.uid, session.expires_at));
            }
        }
        for (alias, fast) in aliases.iter_mut() {
            fast.holders = self
                .aliases
                .iter()
                .filter(|(_, user)| user.cache.contains(alias))
                .map(|(uid, _)| *uid)
                .collect();
            fast.sessions.retain(|(uid, _)| fast.holders.contains(uid));
            fast.unattributed = self
                .users
                .most_recent_first()
                .find(|(uid, token)| !token.is_expired(now) && fast.holders.contains(uid))
                .map(|(uid, token)| (uid, token.expires_at));
            if let Some(installed) = self.installed.get(alias) {
                fast.v4 = installed
                    .usable(Family::V4)
                    .then(|| installed.addrs.answer(Family::V4));
                fast.v6 = installed
                    .usable(Family::V6)
                    .then(|| installed.addrs.answer(Family::V6));
            }
        }

        let mut tokens: Vec<(u32, Option<Moment>)> = self
            .users
            .most_recent_first()
            .map(|(uid, token)| (uid, token.expires_at))
            .collect();
        tokens.sort_unstable_by_key(|(uid, _)| *uid);
        if let [(only, expiry)] = tokens[..] {
            for fast in aliases.values_mut() {
                fast.same_for_every_asker =
                    fast.holders == [only] && fast.unattributed == Some((only, expiry));
            }
        }

        FastView {
            running: self.run.is_running(),
            names: Arc::clone(&self.alias_names),
            aliases,
            tokens,
        }
    }
}
