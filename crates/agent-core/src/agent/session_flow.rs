//! Authorizing, activating, failing and ending sessions.

use super::super::clock::{Moment, Now};
use super::super::command::{AuthorizeRequest, CancelRequest, Command, Outbox};
use super::super::prefix::Family;
use super::super::session_table::{ActiveSession, EndReason, Removed, SessionKey, SessionState};
use super::addresses::FamilyState;
use super::{AgentCore, Authorized, ControllerFailure, FailureKind, collect};

impl<T: Clone> AgentCore<T> {
    /// The controller authorized the session an `Authorize` command asked for.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_authorized(
        &mut self,
        key: &SessionKey,
        grant: Authorized<T>,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| self.activate(key, grant, now, out))
    }

    /// The `Authorize` command for `key` (with `token_id`) failed. DNS for the alias fails
    /// open (forwarded) for `authorize_retry_after`; the error shows in the user's status.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_authorize_failed(
        &mut self,
        key: &SessionKey,
        token_id: &str,
        failure: ControllerFailure,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            if !self.sessions.is_authorizing(key, token_id) {
                return;
            }
            if failure.kind == FailureKind::Unauthenticated {
                let message = format!(
                    "the controller no longer accepts auth token {token_id} ({}); register a \
                     new one (boundary authenticate)",
                    failure.message
                );
                self.drop_token(key.uid, EndReason::TokenExpired, &message, now.moment, out);
                return;
            }
            let error = format!(
                "authorizing a session for {} failed: {}; DNS for it falls back to the upstream \
                 resolvers",
                key.alias, failure.message
            );
            self.fail_key(key, EndReason::Superseded, &error, now.moment, out);
            if failure.kind == FailureKind::Network {
                self.network_failed(now, out);
            }
        })
    }

    fn activate(&mut self, key: &SessionKey, grant: Authorized<T>, now: Now, out: &mut Outbox<T>) {
        let session_id = grant.authorization.session_id.clone();
        if !self.run.is_running() || !self.sessions.is_authorizing(key, &grant.token_id) {
            self.cancel(key, session_id, EndReason::Superseded, grant.tunnel, out);
            return;
        }
        let (port, expires_at) = match self.check_grant(key, &grant, now, out) {
            Ok(checked) => checked,
            Err(error) => {
                self.cancel(key, session_id, EndReason::Superseded, grant.tunnel, out);
                self.fail_key(key, EndReason::Superseded, &error, now.moment, out);
                return;
            }
        };
        self.listen(&key.alias, port, out);
        let alias_value = self
            .aliases
            .get(&key.uid)
            .and_then(|a| a.cache.get(&key.alias))
            .map_or_else(|| key.alias.clone(), |t| t.value.clone());
        let connections_left = u32::try_from(grant.authorization.connection_limit).ok();
        self.sessions.set(
            key.clone(),
            SessionState::Active(Box::new(ActiveSession {
                session_id,
                token_id: grant.token_id,
                alias_value,
                port,
                expires_at,
                connection_limit: grant.authorization.connection_limit,
                connections_left,
                open_connections: 0,
                last_activity: now.moment,
                authorization: grant.authorization,
                tunnel: grant.tunnel,
            })),
        );
        self.touch(&key.alias, now.moment);
        out.push(Command::SessionSettled(key.clone()));
    }

    /// The local port and expiry of an authorized session, once its alias's addresses
    /// are in place; or why it cannot be used.
    fn check_grant(
        &mut self,
        key: &SessionKey,
        grant: &Authorized<T>,
        now: Now,
        out: &mut Outbox<T>,
    ) -> Result<(u16, Moment), String> {
        let auth = &grant.authorization;
        let port =
            session_port(grant.default_client_port, auth.endpoint_port).ok_or_else(|| {
                format!(
                    "the session authorized for {} has no usable port (default_client_port {}, \
                 endpoint_port {})",
                    key.alias, grant.default_client_port, auth.endpoint_port
                )
            })?;
        let expires_at = now.moment_of(auth.expiration);
        if expires_at <= now.moment {
            return Err(format!(
                "the session authorized for {} had already expired",
                key.alias
            ));
        }
        self.install(&key.alias, now.moment, out)
            .map_err(|e| e.to_string())?;
        if self.family_state(&key.alias, Family::V4) == FamilyState::AliasUnusable {
            return Err(format!("no local address for {} could be used", key.alias));
        }
        Ok((port, expires_at))
    }

    /// Sends an `Authorize` for `key` with the user's token and marks it pending. False
    /// (and nothing sent) when paused, or the user has no usable token holding the alias.
    pub(super) fn start_authorizing(
        &mut self,
        key: &SessionKey,
        now: Moment,
        out: &mut Outbox<T>,
    ) -> bool {
        if !self.run.is_running() {
            return false;
        }
        let (Some(token), Some(controller), Some(target)) = (
            self.users.get(key.uid).filter(|t| !t.is_expired(now)),
            self.users.controller(),
            self.aliases
                .get(&key.uid)
                .and_then(|a| a.cache.get(&key.alias)),
        ) else {
            return false;
        };
        let request = AuthorizeRequest {
            key: key.clone(),
            alias_value: target.value.clone(),
            destination_id: target.destination_id.clone(),
            controller_addr: controller.to_owned(),
            token_id: token.token_id.clone(),
            token: token.token.clone(),
        };
        self.sessions.set(
            key.clone(),
            SessionState::Authorizing {
                token_id: request.token_id.clone(),
                since: now,
            },
        );
        out.push(Command::Authorize(request));
        true
    }

    /// Ends whatever `key` holds (an active one for `reason`) and remembers `error` so
    /// the key fails open until `authorize_retry_after` has passed.
    pub(super) fn fail_key(
        &mut self,
        key: &SessionKey,
        reason: EndReason,
        error: &str,
        now: Moment,
        out: &mut Outbox<T>,
    ) {
        self.end_session(key, reason, now, out);
        self.errors.record(Some(key.uid), error);
        self.sessions.set(
            key.clone(),
            SessionState::Failed {
                error: error.to_owned(),
                retry_at: now.after(self.config.authorize_retry_after),
            },
        );
    }

    /// Removes whatever `key` holds: a pending one is settled (parked work is asked
    /// again), an active one is cancelled at the worker when `reason` calls for it.
    pub(super) fn end_session(
        &mut self,
        key: &SessionKey,
        reason: EndReason,
        now: Moment,
        out: &mut Outbox<T>,
    ) {
        match self.sessions.remove(key) {
            Some(Removed::Authorizing) => out.push(Command::SessionSettled(key.clone())),
            Some(Removed::Active(session)) => {
                self.touch(&key.alias, now);
                if reason.cancels_at_worker() {
                    self.cancel(key, session.session_id, reason, session.tunnel, out);
                }
            }
            Some(Removed::Failed) | None => {}
        }
    }

    pub(super) fn end_sessions_where(
        &mut self,
        pred: impl FnMut(&SessionKey, &SessionState<T>) -> bool,
        reason: EndReason,
        now: Moment,
        out: &mut Outbox<T>,
    ) {
        for key in self.sessions.keys_where(pred) {
            self.end_session(&key, reason, now, out);
        }
    }

    fn cancel(
        &self,
        key: &SessionKey,
        session_id: String,
        reason: EndReason,
        tunnel: T,
        out: &mut Outbox<T>,
    ) {
        out.push(Command::CancelSession(CancelRequest {
            key: key.clone(),
            session_id,
            reason,
            tunnel,
        }));
    }
}

/// The local port of a session: `default_client_port` when set, else `endpoint_port`.
pub(super) fn session_port(default_client_port: u32, endpoint_port: u32) -> Option<u16> {
    [default_client_port, endpoint_port]
        .into_iter()
        .find(|p| *p != 0)
        .and_then(|p| u16::try_from(p).ok())
}
