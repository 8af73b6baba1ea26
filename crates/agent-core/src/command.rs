//! What the core asks the shell to do. Every `handle_*` call returns a list of these; the
//! shell carries them out **in order** (an address is added before it is listened on).

use super::session_table::{EndReason, SessionKey};
use boundary_wire::api::Secret;
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<T> {
    /// Add the address to the agent's interface (`/32`, or `/128` without DAD). Report a
    /// failure with `handle_address_failed`; "already there" is success.
    AddAddress(IpAddr),
    /// Remove the address from the interface; "not there" is success.
    RemoveAddress(IpAddr),
    /// Listen for TCP on (addr, port) and hand accepted connections to
    /// `handle_connection_accepted`. Report a failure with `handle_listen_failed`.
    Listen { addr: IpAddr, port: u16 },
    /// Close that listener (connections already accepted keep running).
    StopListening { addr: IpAddr, port: u16 },
    /// `POST /v1/targets/{alias_value}:authorize-session` with the token; answer with
    /// `handle_authorized` or `handle_authorize_failed`, always exactly once.
    Authorize(AuthorizeRequest),
    /// Cancel the session at the worker (a `SESSION_CANCEL` handshake with the session's
    /// tofu token). Best effort; nothing to report back.
    CancelSession(CancelRequest<T>),
    /// `GET /v1/users/{user_id}:list-resolvable-aliases` (with `list_token` when given);
    /// answer with `handle_alias_page` or `handle_alias_refresh_failed`, always exactly
    /// once: no other refresh for that user starts until then. A 400 whose `kind` is
    /// `invalid list token` is `FailureKind::InvalidListToken`.
    RefreshAliases(RefreshRequest),
    /// The key's authorization settled (authorized, failed or abandoned): ask again about
    /// every DNS question and connection parked on it.
    SessionSettled(SessionKey),
    /// Make the agent the system resolver again (resume).
    TakeOverResolver,
    /// Put back the resolvers the machine had before (pause, shutdown).
    RestoreResolver,
    /// Address assignments or installed addresses changed: write the state file from
    /// `AgentCore::state_snapshot`. Emitted at most once per call, last.
    SaveState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub key: SessionKey,
    /// The alias as the controller lists it: the `{id}` of the authorize-session call.
    pub alias_value: String,
    /// The alias's destination target (for logs; the call goes through the alias so the
    /// alias's `host_id` applies).
    pub destination_id: String,
    pub controller_addr: String,
    pub token_id: String,
    pub token: Secret,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelRequest<T> {
    pub key: SessionKey,
    pub session_id: String,
    pub reason: EndReason,
    /// The session's tunnel data (from `Authorized::tunnel`).
    pub tunnel: T,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRequest {
    pub uid: u32,
    pub controller_addr: String,
    pub token_id: String,
    /// The token's Boundary user: the `{u_id}` of the call.
    pub user_id: String,
    pub token: Secret,
    pub list_token: Option<String>,
}

/// Collects commands during one `handle_*` call.
pub(crate) struct Outbox<T> {
    commands: Vec<Command<T>>,
    save_state: bool,
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Self {
            commands: Vec::new(),
            save_state: false,
        }
    }
}

impl<T> Outbox<T> {
    pub(crate) fn push(&mut self, command: Command<T>) {
        self.commands.push(command);
    }

    /// Asks for one `SaveState` at the end.
    pub(crate) fn save_state(&mut self) {
        self.save_state = true;
    }

    pub(crate) fn finish(mut self) -> Vec<Command<T>> {
        if self.save_state {
            self.commands.push(Command::SaveState);
        }
        self.commands
    }
}
