//! What the agent's actor receives, and the handle the rest of the agent sends it with.
//!
//! Everything that changes the core goes through one channel to one task (the actor), so
//! the core needs no lock. Requests that need an answer carry a oneshot sender; a dropped
//! actor (shutting down) answers every request with the fail-safe default (forward the
//! query, refuse the connection, "unavailable").

use std::net::IpAddr;

use tokio::sync::{mpsc, oneshot};

use crate::proxy::{ConnectionVerdict, SessionTunnel};
use boundary_agent_core::{
    AgentCore, Authorized, Command, ConnectionId, ControllerFailure, DnsDecision, DnsQuestion,
    SessionKey, TokenRegistration,
};
use boundary_wire::api::ListResponse;
use boundary_wire::api::agent::{AgentSessions, AgentStatus};
use boundary_wire::api::alias::ResolvableAlias;

pub type Core = AgentCore<SessionTunnel>;
pub type CoreCommand = Command<SessionTunnel>;
/// The answer to a `Command::Authorize`.
pub type AuthorizeResult = Result<Box<Authorized<SessionTunnel>>, ControllerFailure>;
/// The answer to a `Command::RefreshAliases`.
pub type AliasPageResult = Result<ListResponse<ResolvableAlias>, ControllerFailure>;

/// One input for the actor.
pub enum Event {
    /// A DNS question the fast view could not answer.
    Dns {
        question: DnsQuestion,
        reply: oneshot::Sender<DnsDecision>,
    },
    /// An accepted proxy connection.
    Connection {
        local: IpAddr,
        port: u16,
        peer_uid: Option<u32>,
        reply: oneshot::Sender<ConnectionVerdict>,
    },
    TunnelEstablished {
        connection: ConnectionId,
        connections_left: i32,
    },
    TunnelRejected {
        connection: ConnectionId,
        error: String,
    },
    ConnectionClosed {
        connection: ConnectionId,
    },
    /// The answer to a `Command::Authorize`.
    Authorized {
        key: SessionKey,
        token_id: String,
        result: AuthorizeResult,
    },
    /// The answer to a `Command::RefreshAliases`.
    AliasPage {
        uid: u32,
        token_id: String,
        result: AliasPageResult,
    },
    /// Every upstream DNS server failed for a query.
    UpstreamDnsFailed,
    /// A local API call.
    Control(ControlRequest),
}

/// Local API calls (docs/wire-contract.md §4), on behalf of a uid.
pub enum ControlRequest {
    /// A token the controller accepted (validated before it gets here). A token of a
    /// controller `controller_addresses` does not allow (the file was reloaded since the
    /// local API checked) is not registered, nor, with `refuse_switch`, a token of
    /// another controller while other users hold tokens: the reason goes to `refused`
    /// and `reply` is dropped.
    RegisterToken {
        registration: TokenRegistration,
        refuse_switch: bool,
        refused: oneshot::Sender<String>,
        reply: oneshot::Sender<()>,
    },
    HasToken {
        uid: u32,
        reply: oneshot::Sender<bool>,
    },
    /// [`boundary_agent_core::AgentCore::controller_switch_conflict`].
    ControllerSwitchConflict {
        uid: u32,
        controller_addr: String,
        reply: oneshot::Sender<Option<String>>,
    },
    Status {
        uid: u32,
        reply: oneshot::Sender<AgentStatus>,
    },
    Sessions {
        uid: u32,
        reply: oneshot::Sender<AgentSessions>,
    },
    /// Pause on behalf of `uid`; refused as [`super::pause_policy`] says (the reason
    /// goes to `refused` and `reply` is dropped).
    Pause {
        uid: u32,
        refused: oneshot::Sender<String>,
        reply: oneshot::Sender<()>,
    },
    /// Resume on behalf of `uid`, refused like `Pause`.
    Resume {
        uid: u32,
        refused: oneshot::Sender<String>,
        reply: oneshot::Sender<()>,
    },
}

/// Sends events to the actor. Cheap to clone.
#[derive(Clone)]
pub struct ActorHandle {
    sender: mpsc::UnboundedSender<Event>,
}

impl ActorHandle {
    /// A handle and the receiving end the actor reads.
    pub fn channel() -> (ActorHandle, mpsc::UnboundedReceiver<Event>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (ActorHandle { sender }, receiver)
    }

    /// Sends without waiting; false when the actor is gone.
    pub fn send(&self, event: Event) -> bool {
        self.sender.send(event).is_ok()
    }

    /// Sends a request and waits for its answer; `None` when the actor is gone (or
    /// dropped the request while shutting down).
    pub async fn ask<R>(&self, request: impl FnOnce(oneshot::Sender<R>) -> Event) -> Option<R> {
        let (reply, answer) = oneshot::channel();
        if !self.send(request(reply)) {
            return None;
        }
        answer.await.ok()
    }

    /// A local API request.
    pub async fn control<R>(
        &self,
        request: impl FnOnce(oneshot::Sender<R>) -> ControlRequest,
    ) -> Option<R> {
        self.ask(|reply| Event::Control(request(reply))).await
    }
}
