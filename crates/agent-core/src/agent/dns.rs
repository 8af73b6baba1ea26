//! DNS questions (docs/architecture.md "DNS").

use super::super::clock::{Moment, Now};
use super::super::command::{Command, Outbox};
use super::super::dns_decision::{DnsDecision, DnsQuestion, normalized_name, rtype};
use super::super::prefix::Family;
use super::super::session_table::{EndReason, SessionKey, SessionState};
use super::addresses::FamilyState;
use super::{AgentCore, DnsResolution};

/// Browsers ask this name to learn whether they may switch to their own DNS-over-HTTPS
/// resolver; NXDOMAIN tells them not to, so alias names keep working in browsers.
pub const USE_APPLICATION_DNS: &str = "use-application-dns.net";

impl<T: Clone> AgentCore<T> {
    /// Decides a DNS question.
    ///
    /// - Paused → forward. `use-application-dns.net` → NXDOMAIN.
    /// - The alias is looked up for the querying user when the question is attributed to
    ///   a user with a registered token — and only for that user; otherwise for the most
    ///   recently registered token whose cache holds it. Not found → forward.
    /// - An alias, not A/AAAA → NODATA.
    /// - An alias, A/AAAA → its address once a session exists (else an `Authorize` goes
    ///   out and the question waits); a recent authorization failure → forward (fail
    ///   open).
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_dns_question(
        &mut self,
        question: &DnsQuestion,
        now: Now,
    ) -> (DnsResolution, Vec<Command<T>>) {
        let mut out = Outbox::default();
        let resolution = self.resolve(question, now.moment, &mut out);
        (resolution, out.finish())
    }

    fn resolve(
        &mut self,
        question: &DnsQuestion,
        now: Moment,
        out: &mut Outbox<T>,
    ) -> DnsResolution {
        use DnsResolution::{AwaitAuthorization, Decided};
        if !self.run.is_running() {
            return Decided(DnsDecision::Forward);
        }
        let name = normalized_name(&question.name);
        if name == USE_APPLICATION_DNS {
            return Decided(DnsDecision::NxDomain);
        }
        let Some(uid) = self.owner_of_question(&name, question.uid, now) else {
            return Decided(DnsDecision::Forward);
        };
        let family = match question.qtype {
            rtype::A => Family::V4,
            rtype::AAAA => Family::V6,
            _ => return Decided(DnsDecision::NoData),
        };
        if let Some(SessionState::Failed { retry_at, .. }) = self.sessions.get(&name, uid)
            && now < *retry_at
        {
            return Decided(DnsDecision::Forward);
        }
        let addrs = match self.install(&name, now, out) {
            Ok(addrs) => addrs,
            Err(e) => {
                self.errors.record(Some(uid), e.to_string());
                return Decided(DnsDecision::Forward);
            }
        };
        match self.family_state(&name, family) {
            FamilyState::Usable => {}
            FamilyState::Unusable => return Decided(DnsDecision::NoData),
            FamilyState::AliasUnusable => return Decided(DnsDecision::Forward),
        }
        self.touch(&name, now);
        // The hot path (a live session) allocates nothing.
        let pending = match self.sessions.get(&name, uid) {
            Some(SessionState::Active(s)) if !s.is_expired(now) => {
                return Decided(DnsDecision::Address(addrs.answer(family)));
            }
            Some(SessionState::Authorizing { .. }) => true,
            _ => false,
        };
        let key = SessionKey {
            alias: name.into_owned(),
            uid,
        };
        if pending {
            return AwaitAuthorization(key);
        }
        // Nothing, a failure whose retry time has come, or an expired session.
        self.end_session(&key, EndReason::Expired, now, out);
        if self.start_authorizing(&key, now, out) {
            AwaitAuthorization(key)
        } else {
            Decided(DnsDecision::Forward)
        }
    }

    /// Whose token answers for `alias`: the asking user's when it has a valid token
    /// (only that one: a user who may not use the alias gets it forwarded), else the most
    /// recently registered valid token whose cache holds it.
    fn owner_of_question(&self, alias: &str, asker: Option<u32>, now: Moment) -> Option<u32> {
        let holds = |uid: u32| {
            self.aliases
                .get(&uid)
                .is_some_and(|a| a.cache.contains(alias))
        };
        if let Some(uid) = asker
            && self.users.get(uid).is_some_and(|t| !t.is_expired(now))
        {
            return holds(uid).then_some(uid);
        }
        self.users
            .most_recent_first()
            .find(|(uid, token)| !token.is_expired(now) && holds(*uid))
            .map(|(uid, _)| uid)
    }
}
