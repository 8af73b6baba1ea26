//! Carrying out the core's commands, in order.
//!
//! A `handle_*` call returns commands; some of them lead to more core calls (a failed
//! `AddAddress` is reported back, a `SessionSettled` re-asks every parked input). Those
//! nested calls' commands run right away, before the rest of the outer list, and the
//! answer to a re-asked input is sent only after its own commands ran and a fresh view
//! was published: an alias address is never handed out before its listener exists.

use std::collections::VecDeque;

use tokio::sync::oneshot;

use super::actor::Actor;
use super::controller::{cancel_session, with_causes};
use super::events::{CoreCommand, Event};
use super::parking::Parked;
use crate::proxy::ConnectionVerdict;
use boundary_agent_core::{Command, ConnectionDecision, DnsDecision, DnsResolution};

/// One step of carrying out a core call.
pub enum Work {
    Command(CoreCommand),
    /// Publish the fast view (after each call's commands).
    Publish,
    AnswerDns(oneshot::Sender<DnsDecision>, DnsDecision),
    AnswerConnection(oneshot::Sender<ConnectionVerdict>, ConnectionVerdict),
    /// A local API request is done.
    Done(oneshot::Sender<()>),
}

impl Work {
    /// The commands of one core call, then a publish.
    pub fn from_core(commands: Vec<CoreCommand>) -> Vec<Work> {
        commands
            .into_iter()
            .map(Work::Command)
            .chain([Work::Publish])
            .collect()
    }
}

impl Actor {
    /// Carries out `work` and everything it leads to.
    pub async fn drain(&mut self, work: Vec<Work>) {
        let mut queue: VecDeque<Work> = work.into();
        while let Some(step) = queue.pop_front() {
            match step {
                Work::Command(command) => {
                    let follow = self.execute(command).await;
                    for step in follow.into_iter().rev() {
                        queue.push_front(step);
                    }
                }
                Work::Publish => {
                    self.publish();
                    self.route_alias_names().await;
                }
                Work::AnswerDns(reply, decision) => {
                    let _ = reply.send(decision);
                }
                Work::AnswerConnection(reply, verdict) => {
                    let _ = reply.send(verdict);
                }
                Work::Done(reply) => {
                    let _ = reply.send(());
                }
            }
        }
        self.remember_pause();
        // The current controller's client outlives any number of other validations.
        self.controllers.keep_current(self.core.controller());
    }

    /// Asks the core about a DNS question or a connection: the answer (after the call's
    /// commands), or the input parks until its key settles.
    pub fn ask(&mut self, input: Parked) -> Vec<Work> {
        let now = self.clock.now();
        match input {
            Parked::Dns { question, reply } => {
                let (resolution, commands) = self.core.handle_dns_question(&question, now);
                let mut work = Work::from_core(commands);
                match resolution {
                    DnsResolution::Decided(decision) => {
                        work.push(Work::AnswerDns(reply, decision));
                    }
                    DnsResolution::AwaitAuthorization(key) => {
                        self.parked.park(key, Parked::Dns { question, reply });
                    }
                }
                work
            }
            Parked::Connection {
                local,
                port,
                peer_uid,
                reply,
            } => {
                let (decision, commands) = self
                    .core
                    .handle_connection_accepted(local, port, peer_uid, now);
                let mut work = Work::from_core(commands);
                let verdict = match decision {
                    ConnectionDecision::Tunnel(grant) => ConnectionVerdict::Tunnel(grant),
                    ConnectionDecision::Refuse(reason) => {
                        ConnectionVerdict::Refuse(reason.to_string())
                    }
                    ConnectionDecision::AuthorizeThenTunnel(key) => {
                        let parked = Parked::Connection {
                            local,
                            port,
                            peer_uid,
                            reply,
                        };
                        self.parked.park(key, parked);
                        return work;
                    }
                };
                work.push(Work::AnswerConnection(reply, verdict));
                work
            }
        }
    }

    /// Carries out one command; returns the work it leads to.
    async fn execute(&mut self, command: CoreCommand) -> Vec<Work> {
        match command {
            Command::AddAddress(address) => match self.host.add_address(address).await {
                Ok(()) => Vec::new(),
                Err(error) => {
                    let error = with_causes(&error);
                    tracing::warn!(%address, %error, "cannot add an alias address");
                    let now = self.clock.now();
                    Work::from_core(self.core.handle_address_failed(address, &error, now))
                }
            },
            Command::RemoveAddress(address) => {
                if let Err(error) = self.host.remove_address(address).await {
                    let error = with_causes(&error);
                    tracing::warn!(%address, %error, "cannot remove an alias address; the next start removes it");
                }
                Vec::new()
            }
            Command::Listen { addr, port } => match self.proxy.listen(addr, port) {
                Ok(()) => Vec::new(),
                Err(error) => {
                    let error = with_causes(&error);
                    tracing::warn!(%addr, port, %error, "cannot listen on an alias address");
                    let now = self.clock.now();
                    Work::from_core(self.core.handle_listen_failed(addr, port, &error, now))
                }
            },
            Command::StopListening { addr, port } => {
                self.proxy.stop(addr, port).await;
                Vec::new()
            }
            Command::Authorize(request) => {
                tracing::info!(alias = %request.alias_value, uid = request.key.uid, target = %request.destination_id, "authorizing a session");
                let controllers = self.controllers.clone();
                let actor = self.handle.clone();
                tokio::spawn(async move {
                    let result = controllers.authorize(&request).await.map(Box::new);
                    actor.send(Event::Authorized {
                        key: request.key,
                        token_id: request.token_id,
                        result,
                    });
                });
                Vec::new()
            }
            Command::RefreshAliases(request) => {
                let controllers = self.controllers.clone();
                let actor = self.handle.clone();
                tokio::spawn(async move {
                    let result = controllers.list_aliases(&request).await;
                    actor.send(Event::AliasPage {
                        uid: request.uid,
                        token_id: request.token_id,
                        result,
                    });
                });
                Vec::new()
            }
            Command::CancelSession(request) => {
                tracing::info!(alias = %request.key.alias, uid = request.key.uid, session_id = %request.session_id, reason = %request.reason, "session ended");
                self.cancels.spawn(cancel_session(request));
                Vec::new()
            }
            Command::SessionSettled(key) => self
                .parked
                .take(&key)
                .into_iter()
                .flat_map(|input| self.ask(input))
                .collect(),
            Command::TakeOverResolver => {
                self.take_over_resolver().await;
                Vec::new()
            }
            Command::RestoreResolver => {
                self.restore_resolver().await;
                Vec::new()
            }
            Command::SaveState => {
                let snapshot = self.core.state_snapshot();
                if let Err(error) = self.operational.save_assignments(&snapshot.assignments) {
                    tracing::warn!(%error, "cannot save the alias address assignments");
                }
                Vec::new()
            }
        }
    }
}
