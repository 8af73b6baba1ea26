//! Time passing, pause/resume, the failure breaker and shutdown.

use super::super::clock::{Moment, Now};
use super::super::command::{Command, Outbox};
use super::super::pause::PauseReason;
use super::super::session_table::{EndReason, SessionState};
use super::{AgentCore, collect};

impl<T: Clone> AgentCore<T> {
    /// Lets time pass: expired tokens and sessions end, idle sessions are cancelled,
    /// idle addresses are removed, unanswered authorizations fail, alias caches are
    /// refreshed when due. Call it at [`AgentCore::next_deadline`] (or every second).
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_tick(&mut self, now: Now) -> Vec<Command<T>> {
        collect(|out| {
            let m = now.moment;
            for uid in self.users.expired(m) {
                let token_id = self
                    .users
                    .get(uid)
                    .map(|t| t.token_id.clone())
                    .unwrap_or_default();
                let message = format!(
                    "auth token {token_id} expired; register a new one (boundary authenticate)"
                );
                self.drop_token(uid, EndReason::TokenExpired, &message, m, out);
            }
            self.sweep_sessions(m, out);
            let idle = self.config.address_idle_timeout;
            let idle_aliases: Vec<String> = self
                .installed
                .iter()
                .filter(|(alias, i)| {
                    !self.sessions.alias_in_use(alias) && i.last_used.after(idle) <= m
                })
                .map(|(alias, _)| alias.clone())
                .collect();
            for alias in idle_aliases {
                self.uninstall(&alias, out);
            }
            if self.run.is_running() {
                let due: Vec<u32> = self
                    .aliases
                    .iter()
                    .filter(|(_, a)| !a.cache.is_fetching() && a.next_refresh_at <= m)
                    .map(|(uid, _)| *uid)
                    .collect();
                for uid in due {
                    self.refresh_now(uid, out);
                }
            }
        })
    }

    /// The earliest moment at which `handle_tick` has something to do, if any.
    pub fn next_deadline(&self) -> Option<Moment> {
        let tokens = self
            .users
            .most_recent_first()
            .filter_map(|(_, t)| t.expires_at);
        let sessions = self.sessions.iter().map(|(_, state)| match state {
            SessionState::Authorizing { since, .. } => since.after(self.config.authorize_timeout),
            SessionState::Failed { retry_at, .. } => *retry_at,
            SessionState::Active(s) => {
                let idle = self
                    .config
                    .session_idle_timeout
                    .filter(|_| s.open_connections == 0)
                    .map(|d| s.last_activity.after(d));
                idle.map_or(s.expires_at, |i| i.min(s.expires_at))
            }
        });
        let addresses = self
            .installed
            .iter()
            .filter(|(alias, _)| !self.sessions.alias_in_use(alias))
            .map(|(_, i)| i.last_used.after(self.config.address_idle_timeout));
        let refreshes = self
            .aliases
            .values()
            .filter(|a| self.run.is_running() && !a.cache.is_fetching())
            .map(|a| a.next_refresh_at);
        tokens
            .chain(sessions)
            .chain(addresses)
            .chain(refreshes)
            .min()
    }

    /// `POST /v1/pause`: every session ends (cancelled at the worker), every alias
    /// address and listener goes, the previous resolvers come back.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_pause(&mut self, now: Now) -> Vec<Command<T>> {
        collect(|out| {
            if self.run.pause(PauseReason::Requested) {
                self.stand_down(EndReason::Paused, true, now.moment, out);
            }
        })
    }

    /// `POST /v1/resume`: take over the resolver again and refresh every alias cache.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_resume(&mut self, _now: Now) -> Vec<Command<T>> {
        collect(|out| {
            if !self.run.resume() {
                return;
            }
            out.push(Command::TakeOverResolver);
            let uids: Vec<u32> = self.aliases.keys().copied().collect();
            for uid in uids {
                self.refresh_now(uid, out);
            }
        })
    }

    /// A network failure the shell saw outside any controller call it reports to the core
    /// (an upstream DNS server not answering). Many in a short window pause the agent.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_network_failure(&mut self, now: Now) -> Vec<Command<T>> {
        collect(|out| self.network_failed(now, out))
    }

    /// The agent is exiting: end everything and hand DNS back. Nothing opens afterwards.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_shutdown(&mut self, now: Now) -> Vec<Command<T>> {
        collect(|out| {
            let was_running = self.run.is_running();
            if self.run.shut_down() {
                self.stand_down(EndReason::Shutdown, was_running, now.moment, out);
            }
        })
    }

    pub(super) fn network_failed(&mut self, now: Now, out: &mut Outbox<T>) {
        if let Some(reason) = self.run.record_failure(now.moment) {
            self.errors.record(None, reason.to_string());
            self.stand_down(EndReason::Paused, true, now.moment, out);
        }
    }

    /// After leaving the running state: end sessions, remove addresses, restore DNS.
    fn stand_down(
        &mut self,
        reason: EndReason,
        restore_resolver: bool,
        now: Moment,
        out: &mut Outbox<T>,
    ) {
        self.end_sessions_where(|_, _| true, reason, now, out);
        let aliases: Vec<String> = self.installed.keys().cloned().collect();
        for alias in aliases {
            self.uninstall(&alias, out);
        }
        if restore_resolver {
            out.push(Command::RestoreResolver);
        }
        out.save_state();
    }

    fn sweep_sessions(&mut self, now: Moment, out: &mut Outbox<T>) {
        let idle_timeout = self.config.session_idle_timeout;
        let authorize_timeout = self.config.authorize_timeout;
        let keys = self.sessions.keys_where(|_, _| true);
        for key in keys {
            let Some(state) = self.sessions.get(&key.alias, key.uid) else {
                continue;
            };
            match state {
                SessionState::Active(s) if s.is_expired(now) => {
                    self.end_session(&key, EndReason::Expired, now, out);
                }
                SessionState::Active(s) if s.is_exhausted() && s.open_connections == 0 => {
                    self.end_session(&key, EndReason::ConnectionLimit, now, out);
                }
                SessionState::Active(s)
                    if s.open_connections == 0
                        && idle_timeout.is_some_and(|d| s.last_activity.after(d) <= now) =>
                {
                    self.end_session(&key, EndReason::IdleTimeout, now, out);
                }
                SessionState::Authorizing { since, .. }
                    if since.after(authorize_timeout) <= now =>
                {
                    let error = format!(
                        "authorizing a session for {} got no answer from the controller",
                        key.alias
                    );
                    self.fail_key(&key, EndReason::Superseded, &error, now, out);
                }
                SessionState::Failed { retry_at, .. } if *retry_at <= now => {
                    self.sessions.remove(&key);
                }
                _ => {}
            }
        }
    }
}
