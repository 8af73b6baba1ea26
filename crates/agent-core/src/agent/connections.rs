//! Connections accepted on alias listeners (docs/architecture.md "On accept").

use super::super::clock::Now;
use super::super::command::{Command, Outbox};
use super::super::prefix::Family;
use super::super::session_table::{ConnectionId, EndReason, SessionKey, SessionState};
use super::{AgentCore, ConnectionDecision, RefuseReason, collect};
use std::net::IpAddr;

impl<T: Clone> AgentCore<T> {
    /// A connection arrived on (local, port); `peer_uid` is the local user owning the
    /// peer socket, `None` for another host or when it cannot be found. Only that user's
    /// own session is used: no session yet but the user's token may use the alias → one
    /// is authorized now; anything else is refused.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_connection_accepted(
        &mut self,
        local: IpAddr,
        port: u16,
        peer_uid: Option<u32>,
        now: Now,
    ) -> (ConnectionDecision<T>, Vec<Command<T>>) {
        let mut out = Outbox::default();
        let decision = self.accept(local, port, peer_uid, now, &mut out);
        (decision, out.finish())
    }

    /// The worker accepted the connection's handshake; `connections_left` is its count
    /// after this connection (-1 unlimited).
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_tunnel_established(
        &mut self,
        connection: ConnectionId,
        connections_left: i32,
        _now: Now,
    ) -> Vec<Command<T>> {
        self.sessions
            .record_connections_left(connection, connections_left);
        Vec::new()
    }

    /// The worker refused the connection (session canceled, expired or unknown there):
    /// the session ends and the next use authorizes a new one. The connection counts as
    /// closed; a later `handle_connection_closed` for it is ignored.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_tunnel_rejected(
        &mut self,
        connection: ConnectionId,
        error: &str,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            if let Some(key) = self.sessions.close_connection(connection, now.moment) {
                self.errors.record(
                    Some(key.uid),
                    format!("the worker refused a connection to {}: {error}", key.alias),
                );
                self.end_session(&key, EndReason::RejectedByWorker, now.moment, out);
            }
        })
    }

    /// A tunnelled connection ended. Unknown or already closed connections are ignored.
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_connection_closed(
        &mut self,
        connection: ConnectionId,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            let Some(key) = self.sessions.close_connection(connection, now.moment) else {
                return;
            };
            self.touch(&key.alias, now.moment);
            let used_up = matches!(
                self.sessions.get(&key.alias, key.uid),
                Some(SessionState::Active(s)) if s.is_exhausted() && s.open_connections == 0
            );
            if used_up {
                self.end_session(&key, EndReason::ConnectionLimit, now.moment, out);
            }
        })
    }

    fn accept(
        &mut self,
        local: IpAddr,
        port: u16,
        peer_uid: Option<u32>,
        now: Now,
        out: &mut Outbox<T>,
    ) -> ConnectionDecision<T> {
        use ConnectionDecision::{AuthorizeThenTunnel, Refuse, Tunnel};
        let now = now.moment;
        if !self.run.is_running() {
            return Refuse(RefuseReason::Paused);
        }
        let Some(uid) = peer_uid else {
            return Refuse(RefuseReason::NoLocalOwner);
        };
        let Some(alias) = self.pool.alias_at(local).map(str::to_owned) else {
            return Refuse(RefuseReason::UnknownAddress);
        };
        let family = Family::of_unmapped(local);
        if !self
            .installed
            .get(&alias)
            .is_some_and(|i| i.ports.contains(&port) && i.usable(family))
        {
            return Refuse(RefuseReason::NotListening);
        }
        let key = SessionKey { alias, uid };
        match self.sessions.get(&key.alias, uid) {
            Some(SessionState::Active(s)) if !s.is_expired(now) && s.port != port => {
                return Refuse(RefuseReason::PortMismatch {
                    uid,
                    session_port: s.port,
                });
            }
            Some(SessionState::Active(s)) if !s.is_expired(now) && !s.is_exhausted() => {
                self.touch(&key.alias, now);
                return match self.sessions.open_connection(&key, now) {
                    Some(grant) => Tunnel(grant),
                    None => Refuse(RefuseReason::NotPermitted { uid }),
                };
            }
            Some(SessionState::Active(s)) => {
                let reason = if s.is_expired(now) {
                    EndReason::Expired
                } else {
                    EndReason::ConnectionLimit
                };
                self.end_session(&key, reason, now, out);
            }
            Some(SessionState::Authorizing { .. }) => return AuthorizeThenTunnel(key),
            Some(SessionState::Failed { error, retry_at }) if now < *retry_at => {
                return Refuse(RefuseReason::AuthorizationFailed {
                    uid,
                    error: error.clone(),
                });
            }
            Some(SessionState::Failed { .. }) | None => {}
        }
        if self.start_authorizing(&key, now, out) {
            self.touch(&key.alias, now);
            AuthorizeThenTunnel(key)
        } else {
            Refuse(RefuseReason::NotPermitted { uid })
        }
    }
}
