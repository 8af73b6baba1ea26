//! Carrying out the core's commands, in order, each by the part it belongs to.
//!
//! A `handle_*` call returns commands; some of them lead to more core calls (a failed
//! `AddAddress` is reported back, a `SessionSettled` re-asks every parked input). Those
//! nested calls' commands run right away, before the rest of the outer list, and the
//! answer to a re-asked input is sent only after its own commands ran and a fresh view
//! was published: an alias address is never handed out before its listener exists.

use std::collections::VecDeque;
use std::net::IpAddr;

use tokio::sync::oneshot;

use super::Actor;
use crate::daemon::events::CoreCommand;
use crate::daemon::parking::Parked;
use crate::proxy::ConnectionVerdict;
use boundary_agent_core::{Command, ConnectionDecision, DnsDecision, DnsResolution, SessionKey};

/// One step of carrying out a core call.
pub enum Work {
    Command(CoreCommand),
    /// Consecutive `AddAddress` commands (a new alias's two addresses), carried out with
    /// one write of the recovery record.
    AddAddresses(Vec<IpAddr>),
    /// Publish the fast view (after each call's commands).
    Publish,
    AnswerDns(oneshot::Sender<DnsDecision>, DnsDecision),
    AnswerConnection(oneshot::Sender<ConnectionVerdict>, ConnectionVerdict),
    /// A local API request is done.
    Done(oneshot::Sender<()>),
}

impl Work {
    /// The commands of one core call, then a publish. Requests to the controller
    /// (`Authorize`, `RefreshAliases`) are started first: they only spawn a call whose
    /// answer comes back as an event, handled after this whole list, so no other command
    /// of the list depends on them, while the machine changes before them (an alias's two
    /// addresses, each written to the recovery record first) take milliseconds that the
    /// controller's round trip can overlap. This is the cold path of a new alias: its
    /// lookup waits for the authorization.
    pub fn from_core(commands: Vec<CoreCommand>) -> Vec<Work> {
        let (requests, rest): (Vec<_>, Vec<_>) = commands
            .into_iter()
            .partition(|c| matches!(c, Command::Authorize(_) | Command::RefreshAliases(_)));
        let mut work: Vec<Work> = requests.into_iter().map(Work::Command).collect();
        for command in rest {
            match (command, work.last_mut()) {
                (Command::AddAddress(address), Some(Work::AddAddresses(batch))) => {
                    batch.push(address)
                }
                (Command::AddAddress(address), _) => work.push(Work::AddAddresses(vec![address])),
                (command, _) => work.push(Work::Command(command)),
            }
        }
        work.push(Work::Publish);
        work
    }
}

impl Actor {
    /// Carries out `work` and everything it leads to.
    pub(super) async fn drain(&mut self, work: Vec<Work>) {
        let mut queue: VecDeque<Work> = work.into();
        while let Some(step) = queue.pop_front() {
            let follow = match step {
                Work::Command(command) => self.execute(command).await,
                Work::AddAddresses(addresses) => self.add_addresses(&addresses).await,
                Work::Publish => {
                    self.decisions.publish();
                    let names = self.decisions.published_alias_names();
                    self.machine.route_alias_names(names).await;
                    Vec::new()
                }
                Work::AnswerDns(reply, decision) => {
                    let _ = reply.send(decision);
                    Vec::new()
                }
                Work::AnswerConnection(reply, verdict) => {
                    let _ = reply.send(verdict);
                    Vec::new()
                }
                Work::Done(reply) => {
                    let _ = reply.send(());
                    Vec::new()
                }
            };
            for step in follow.into_iter().rev() {
                queue.push_front(step);
            }
        }
        let core = self.decisions.core();
        self.settings.remember_pause(core.run_state());
        self.link.keep_current(core.controller());
    }

    /// Asks the core about a DNS question or a connection: the answer (after the call's
    /// commands), or the input parks until its key settles.
    pub(super) fn ask(&mut self, input: Parked) -> Vec<Work> {
        let now = self.decisions.now();
        let core = self.decisions.core_mut();
        match input {
            Parked::Dns { question, reply } => {
                let (resolution, commands) = core.handle_dns_question(&question, now);
                let mut work = Work::from_core(commands);
                match resolution {
                    DnsResolution::Decided(decision) => {
                        work.push(Work::AnswerDns(reply, decision));
                    }
                    DnsResolution::AwaitAuthorization(key) => {
                        self.sessions.park(key, Parked::Dns { question, reply });
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
                let (decision, commands) =
                    core.handle_connection_accepted(local, port, peer_uid, now);
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
                        self.sessions.park(key, parked);
                        return work;
                    }
                };
                work.push(Work::AnswerConnection(reply, verdict));
                work
            }
        }
    }

    /// Carries out one command by the part it belongs to; returns the work it leads to.
    async fn execute(&mut self, command: CoreCommand) -> Vec<Work> {
        match command {
            Command::AddAddress(address) => return self.add_addresses(&[address]).await,
            Command::Listen { addr, port } => return self.listen(addr, port),
            Command::SessionSettled(key) => return self.settled(&key),
            Command::RemoveAddress(address) => self.machine.remove_alias_address(address).await,
            Command::StopListening { addr, port } => {
                self.sessions.stop_listening(addr, port).await;
            }
            Command::Authorize(request) => self.link.authorize(request),
            Command::RefreshAliases(request) => self.link.refresh_aliases(request),
            Command::CancelSession(request) => self.sessions.cancel(request),
            Command::TakeOverResolver => self.take_over_resolver().await,
            Command::RestoreResolver => self.machine.restore_resolver().await,
            Command::SaveState => {
                let snapshot = self.decisions.core().state_snapshot();
                self.settings.save_assignments(&snapshot.assignments);
            }
        }
        Vec::new()
    }

    /// `AddAddress` commands; each failure goes back to the core.
    async fn add_addresses(&mut self, addresses: &[IpAddr]) -> Vec<Work> {
        let failed = self.machine.add_alias_addresses(addresses).await;
        self.address_failures(failed)
    }

    /// What the core makes of alias addresses the machine could not add (or put back).
    pub(super) fn address_failures(&mut self, failed: Vec<(IpAddr, String)>) -> Vec<Work> {
        let mut work = Vec::new();
        for (address, error) in failed {
            let now = self.decisions.now();
            let core = self.decisions.core_mut();
            work.extend(Work::from_core(
                core.handle_address_failed(address, &error, now),
            ));
        }
        work
    }

    /// `Listen`; a failure goes back to the core.
    fn listen(&mut self, addr: IpAddr, port: u16) -> Vec<Work> {
        let Err(error) = self.sessions.listen(addr, port) else {
            return Vec::new();
        };
        let now = self.decisions.now();
        let core = self.decisions.core_mut();
        Work::from_core(core.handle_listen_failed(addr, port, &error, now))
    }

    /// `SessionSettled`: every input parked on `key` is asked again, oldest first.
    fn settled(&mut self, key: &SessionKey) -> Vec<Work> {
        self.sessions
            .settled(key)
            .into_iter()
            .flat_map(|input| self.ask(input))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_agent_core::{AuthorizeRequest, SessionKey};
    use std::net::Ipv4Addr;

    fn authorize() -> CoreCommand {
        Command::Authorize(AuthorizeRequest {
            key: SessionKey {
                alias: "db.prod".into(),
                uid: 1000,
            },
            alias_value: "db.prod".into(),
            destination_id: "ttcp_1234567890".into(),
            controller_addr: "https://controller".into(),
            token_id: "at_1234567890".into(),
            token: boundary_wire::api::Secret::new("token"),
        })
    }

    fn shape(work: &[Work]) -> Vec<String> {
        work.iter()
            .map(|w| match w {
                Work::Command(Command::Authorize(_)) => "authorize".to_owned(),
                Work::Command(Command::SaveState) => "save".to_owned(),
                Work::Command(Command::RemoveAddress(a)) => format!("remove {a}"),
                Work::AddAddresses(batch) => {
                    let batch: Vec<String> = batch.iter().map(IpAddr::to_string).collect();
                    format!("add {}", batch.join(" "))
                }
                Work::Publish => "publish".to_owned(),
                _ => "other".to_owned(),
            })
            .collect()
    }

    #[test]
    fn controller_requests_start_before_the_machine_changes_of_their_call() {
        let address = IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1));
        let work = Work::from_core(vec![
            Command::AddAddress(address),
            Command::SaveState,
            authorize(),
        ]);
        assert_eq!(
            shape(&work),
            ["authorize", "add 100.64.0.1", "save", "publish"]
        );
    }

    #[test]
    fn consecutive_addresses_are_added_with_one_record_write_and_order_is_kept() {
        let ip = |last| IpAddr::V4(Ipv4Addr::new(100, 64, 0, last));
        let work = Work::from_core(vec![
            Command::AddAddress(ip(1)),
            Command::AddAddress(ip(2)),
            Command::RemoveAddress(ip(3)),
            Command::AddAddress(ip(4)),
            Command::SaveState,
        ]);
        assert_eq!(
            shape(&work),
            [
                "add 100.64.0.1 100.64.0.2",
                "remove 100.64.0.3",
                "add 100.64.0.4",
                "save",
                "publish"
            ]
        );
    }
}
