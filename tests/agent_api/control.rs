//! A test implementation of the `AgentControl` contract: it keeps tokens and sessions per
//! uid and records every call with the uid it received, so the tests can check what
//! reached the agent and on whose behalf. (The daemon is the real implementation.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use boundary_agent::api::{AgentControl, ControlError};
use boundary_wire::api::agent::{
    AddTokenRequest, AgentSession, AgentSessions, AgentStatus, status,
};

/// A token the fake controller refuses (shape-valid, so it reaches the agent).
pub const REJECTED_TOKEN: &str = "at_0000000000_s1rejected";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    AddToken { addr: String, token: String },
    HasToken,
    Status,
    Sessions,
    Pause,
    Resume,
}

#[derive(Default)]
struct Inner {
    tokens: BTreeMap<u32, AddTokenRequest>,
    sessions: BTreeMap<u32, Vec<AgentSession>>,
    paused: bool,
    calls: Vec<(u32, Call)>,
}

#[derive(Default)]
pub struct RecordingControl {
    inner: Mutex<Inner>,
}

impl RecordingControl {
    pub fn with_sessions(sessions: BTreeMap<u32, Vec<AgentSession>>) -> RecordingControl {
        RecordingControl {
            inner: Mutex::new(Inner {
                sessions,
                ..Inner::default()
            }),
        }
    }

    /// Every call so far, in order, with the uid it carried.
    pub fn calls(&self) -> Vec<(u32, Call)> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The distinct uids that reached the agent, for a given kind of call.
    pub fn uids_for(&self, wanted: &Call) -> Vec<u32> {
        let mut uids: Vec<u32> = self
            .calls()
            .into_iter()
            .filter(|(_, call)| call == wanted)
            .map(|(uid, _)| uid)
            .collect();
        uids.dedup();
        uids
    }

    pub fn paused(&self) -> bool {
        self.inner.lock().unwrap().paused
    }

    fn record(&self, uid: u32, call: Call) {
        self.inner.lock().unwrap().calls.push((uid, call));
    }
}

/// `at_<id>_s1<secret>` → `at_<id>`.
pub fn token_id(token: &str) -> String {
    token
        .rsplit_once('_')
        .map(|(id, _)| id.to_owned())
        .unwrap_or_default()
}

#[async_trait]
impl AgentControl for RecordingControl {
    async fn add_token(&self, uid: u32, request: AddTokenRequest) -> Result<(), ControlError> {
        self.record(
            uid,
            Call::AddToken {
                addr: request.boundary_addr.clone(),
                token: request.token.expose().to_owned(),
            },
        );
        if request.token.expose() == REJECTED_TOKEN {
            return Err(ControlError::InvalidField {
                field: "token".into(),
                description: "the controller does not accept this token".into(),
            });
        }
        self.inner.lock().unwrap().tokens.insert(uid, request);
        Ok(())
    }

    async fn has_token(&self, uid: u32) -> bool {
        self.record(uid, Call::HasToken);
        self.inner.lock().unwrap().tokens.contains_key(&uid)
    }

    async fn status(&self, uid: u32) -> AgentStatus {
        self.record(uid, Call::Status);
        let inner = self.inner.lock().unwrap();
        let token = inner.tokens.get(&uid);
        AgentStatus {
            boundary_addr: token.map(|t| t.boundary_addr.clone()).unwrap_or_default(),
            auth_token_id: token
                .map(|t| token_id(t.token.expose()))
                .unwrap_or_default(),
            auth_token_expiry: token
                .map(|_| time::OffsetDateTime::now_utc() + time::Duration::days(7)),
            version: env!("CARGO_PKG_VERSION").into(),
            status: if inner.paused {
                status::PAUSED
            } else {
                status::RUNNING
            }
            .into(),
            errors: vec![
                format!("newest error for uid {uid}"),
                format!("older error for uid {uid}"),
            ],
            warnings: vec![],
            resolver: None,
        }
    }

    async fn sessions(&self, uid: u32) -> AgentSessions {
        self.record(uid, Call::Sessions);
        AgentSessions {
            items: self
                .inner
                .lock()
                .unwrap()
                .sessions
                .get(&uid)
                .cloned()
                .unwrap_or_default(),
        }
    }

    async fn pause(&self, uid: u32) -> Result<(), ControlError> {
        self.record(uid, Call::Pause);
        self.inner.lock().unwrap().paused = true;
        Ok(())
    }

    async fn resume(&self, uid: u32) -> Result<(), ControlError> {
        self.record(uid, Call::Resume);
        self.inner.lock().unwrap().paused = false;
        Ok(())
    }
}
