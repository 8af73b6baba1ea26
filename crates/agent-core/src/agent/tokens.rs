//! Token registration and the per-token alias caches.

use super::super::alias_cache::{AliasCache, PageOutcome};
use super::super::clock::{Moment, Now};
use super::super::command::{Command, Outbox, RefreshRequest};
use super::super::session_table::EndReason;
use super::super::users::{Registration, TokenRegistration};
use super::{AgentCore, ControllerFailure, FailureKind, UserAliases, collect};
use boundary_wire::api::ListResponse;
use boundary_wire::api::alias::ResolvableAlias;
use std::collections::BTreeSet;

impl<T: Clone> AgentCore<T> {
    /// A local user registered a token (`POST /v1/tokens`) that the shell validated with
    /// `GET /v1/auth-tokens/{id}`. The same token again changes nothing; another token
    /// ends the user's sessions; a token for another controller ends every session and
    /// drops every other token.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_token_registered(
        &mut self,
        registration: TokenRegistration,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            let uid = registration.uid;
            let token_id = registration.token_id.clone();
            match self.users.register(registration, &now) {
                Registration::Renewed => return,
                Registration::Added => {}
                Registration::Replaced { .. } => {
                    self.end_sessions_where(
                        |key, _| key.uid == uid,
                        EndReason::TokenReplaced,
                        now.moment,
                        out,
                    );
                    self.remove_cache(uid, out);
                }
                Registration::SwitchedController {
                    dropped,
                    previous_controller,
                } => {
                    self.end_sessions_where(
                        |_, _| true,
                        EndReason::ControllerSwitched,
                        now.moment,
                        out,
                    );
                    let current = self.users.controller().unwrap_or_default().to_owned();
                    for (dropped_uid, token) in dropped {
                        self.remove_cache(dropped_uid, out);
                        if dropped_uid != uid {
                            self.errors.record(
                                Some(dropped_uid),
                                format!(
                                    "auth token {} was for {previous_controller}; another user \
                                     switched the agent to {current}, so register a token for it",
                                    token.token_id
                                ),
                            );
                        }
                    }
                }
            }
            self.aliases.insert(
                uid,
                UserAliases {
                    token_id,
                    cache: AliasCache::new(),
                    next_refresh_at: now.moment,
                },
            );
            if self.run.is_running() {
                self.refresh_now(uid, out);
            }
        })
    }

    /// Root no longer allows the controller the tokens are for (a reloaded
    /// `controller_addresses`): every token is dropped and every session ends, as in a
    /// controller switch, and each user's `status` says why. Until the next registration
    /// the agent serves no controller.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_controller_disallowed(&mut self, now: Now) -> Vec<Command<T>> {
        collect(|out| {
            let Some(controller) = self.users.controller().map(str::to_owned) else {
                return;
            };
            let message = format!(
                "the client agent's configuration (controller_addresses) no longer allows the \
                 controller at {controller}; register a token of an allowed controller \
                 (boundary authenticate)"
            );
            let uids: Vec<u32> = self.users.uids().collect();
            for uid in uids {
                self.drop_token(
                    uid,
                    EndReason::ControllerSwitched,
                    &message,
                    now.moment,
                    out,
                );
            }
            self.users.forget_controller();
        })
    }

    /// A page answering a `RefreshAliases` command. More pages → another
    /// `RefreshAliases`; the last page applies the listing.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_alias_page(
        &mut self,
        uid: u32,
        token_id: &str,
        page: ListResponse<ResolvableAlias>,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            let interval = self.config.alias_refresh_interval;
            let Some(entry) = self
                .aliases
                .get_mut(&uid)
                .filter(|a| a.token_id == token_id)
            else {
                return;
            };
            match entry.cache.apply_page(page) {
                Ok(PageOutcome::NextPage(list_token)) => {
                    if let Some(request) = self.refresh_request(uid, Some(list_token)) {
                        out.push(Command::RefreshAliases(request));
                    }
                }
                Ok(PageOutcome::Applied(update)) => {
                    entry.next_refresh_at = now.moment.after(interval);
                    for alias in update.removed {
                        self.release_if_unheld(&alias, out);
                    }
                }
                Err(e) => {
                    entry.next_refresh_at = now.moment.after(interval);
                    self.errors
                        .record(Some(uid), format!("listing resolvable aliases failed: {e}"));
                }
            }
        })
    }

    /// A `RefreshAliases` command failed.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_alias_refresh_failed(
        &mut self,
        uid: u32,
        token_id: &str,
        failure: ControllerFailure,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            let interval = self.config.alias_refresh_interval;
            let Some(entry) = self
                .aliases
                .get_mut(&uid)
                .filter(|a| a.token_id == token_id)
            else {
                return;
            };
            match failure.kind {
                // A stale token: start over without one. If a listing without a token is
                // refused that way, treat it like any other refusal rather than loop.
                FailureKind::InvalidListToken if entry.cache.list_token().is_some() => {
                    entry.cache.begin_full_reload();
                    if let Some(request) = self.refresh_request(uid, None) {
                        out.push(Command::RefreshAliases(request));
                    }
                }
                FailureKind::Unauthenticated => {
                    let message = format!(
                        "the controller no longer accepts auth token {token_id} ({}); register \
                         a new one (boundary authenticate)",
                        failure.message
                    );
                    self.drop_token(uid, EndReason::TokenExpired, &message, now.moment, out);
                }
                kind => {
                    entry.cache.abandon_refresh();
                    entry.next_refresh_at = now.moment.after(interval);
                    self.errors.record(
                        Some(uid),
                        format!("listing resolvable aliases failed: {}", failure.message),
                    );
                    if kind == FailureKind::Network {
                        self.network_failed(now, out);
                    }
                }
            }
        })
    }

    /// Starts a refresh of the uid's cache (unless one is under way).
    pub(super) fn refresh_now(&mut self, uid: u32, out: &mut Outbox<T>) {
        let Some(entry) = self.aliases.get_mut(&uid) else {
            return;
        };
        if entry.cache.is_fetching() {
            return;
        }
        let list_token = entry.cache.begin_refresh();
        match self.refresh_request(uid, list_token) {
            Some(request) => out.push(Command::RefreshAliases(request)),
            None => {
                if let Some(entry) = self.aliases.get_mut(&uid) {
                    entry.cache.abandon_refresh();
                }
            }
        }
    }

    /// Forgets the uid's token: its sessions end, its cache goes.
    pub(super) fn drop_token(
        &mut self,
        uid: u32,
        reason: EndReason,
        message: &str,
        now: Moment,
        out: &mut Outbox<T>,
    ) {
        self.users.remove(uid);
        self.end_sessions_where(|key, _| key.uid == uid, reason, now, out);
        self.remove_cache(uid, out);
        self.errors.record(Some(uid), message);
    }

    /// Drops the uid's alias cache and releases the assignments nothing holds any more.
    fn remove_cache(&mut self, uid: u32, out: &mut Outbox<T>) {
        let Some(removed) = self.aliases.remove(&uid) else {
            return;
        };
        let values: BTreeSet<&str> = removed.cache.values().collect();
        for alias in values {
            self.release_if_unheld(alias, out);
        }
    }

    fn refresh_request(&self, uid: u32, list_token: Option<String>) -> Option<RefreshRequest> {
        let token = self.users.get(uid)?;
        Some(RefreshRequest {
            uid,
            controller_addr: self.users.controller()?.to_owned(),
            token_id: token.token_id.clone(),
            user_id: token.user_id.clone(),
            token: token.token.clone(),
            list_token,
        })
    }
}
