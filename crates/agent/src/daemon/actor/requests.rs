//! Local API requests, as the actor routes them: questions answered from the core and the
//! parts, and changes (token registration, pause, resume) checked against the settings
//! and the controller link before the core is asked.

use tokio::sync::oneshot;

use super::Actor;
use super::work::Work;
use crate::daemon::events::ControlRequest;
use crate::daemon::warnings::status_warnings;
use boundary_agent_core::TokenRegistration;

impl Actor {
    pub(super) fn on_control(&mut self, request: ControlRequest) -> Vec<Work> {
        let core = self.decisions.core();
        match request {
            ControlRequest::RegisterToken {
                registration,
                refuse_switch,
                refused,
                reply,
            } => self.register_token(registration, refuse_switch, refused, reply),
            ControlRequest::ControllerSwitchConflict {
                uid,
                controller_addr,
                reply,
            } => {
                let _ = reply.send(core.controller_switch_conflict(uid, &controller_addr));
                Vec::new()
            }
            ControlRequest::HasToken { uid, reply } => {
                let _ = reply.send(!core.status(uid).auth_token_id.is_empty());
                Vec::new()
            }
            ControlRequest::Status { uid, reply } => {
                let mut status = core.status(uid);
                status.warnings =
                    status_warnings(self.machine.warnings(), self.settings.warnings());
                status.resolver = Some(self.machine.resolver_status());
                let _ = reply.send(status);
                Vec::new()
            }
            ControlRequest::Sessions { uid, reply } => {
                let _ = reply.send(core.sessions(uid));
                Vec::new()
            }
            ControlRequest::Pause {
                uid,
                refused,
                reply,
            } => self.pause(uid, refused, reply),
            ControlRequest::Resume {
                uid,
                refused,
                reply,
            } => self.resume(uid, refused, reply),
        }
    }

    /// Checked again here: the configuration may have been reloaded, or another user may
    /// have registered, since the local API's early checks. The reply waits for the
    /// token's first alias listing (see [`crate::daemon::registrations`]).
    fn register_token(
        &mut self,
        registration: TokenRegistration,
        refuse_switch: bool,
        refused: oneshot::Sender<String>,
        reply: oneshot::Sender<()>,
    ) -> Vec<Work> {
        let uid = registration.uid;
        let addr = &registration.controller_addr;
        let core = self.decisions.core();
        let conflict = core
            .controller_switch_conflict(uid, addr)
            .filter(|_| refuse_switch);
        if let Some(reason) = self.link.registration_refusal(&registration, conflict) {
            let _ = refused.send(reason);
            return Vec::new();
        }
        self.link
            .log_controller_choice(uid, addr, core.controller());
        let token_id = registration.token_id.clone();
        let now = self.decisions.now();
        let commands = self
            .decisions
            .core_mut()
            .handle_token_registered(registration, now);
        let done = self.link.registered(uid, token_id, &commands, reply);
        let mut work = Work::from_core(commands);
        work.extend(done.into_iter().map(Work::Done));
        work
    }

    fn pause(
        &mut self,
        uid: u32,
        refused: oneshot::Sender<String>,
        reply: oneshot::Sender<()>,
    ) -> Vec<Work> {
        if let Some(reason) = self.settings.pause_refusal(uid) {
            tracing::info!(uid, "pause refused: only root may pause the agent");
            let _ = refused.send(reason);
            return Vec::new();
        }
        let now = self.decisions.now();
        let mut work = Work::from_core(self.decisions.core_mut().handle_pause(now));
        work.push(Work::Done(reply));
        work
    }

    fn resume(
        &mut self,
        uid: u32,
        refused: oneshot::Sender<String>,
        reply: oneshot::Sender<()>,
    ) -> Vec<Work> {
        let run_state = self.decisions.core().run_state();
        if let Some(reason) = self.settings.resume_refusal(uid, run_state) {
            tracing::info!(uid, "resume refused: root paused the agent");
            let _ = refused.send(reason);
            return Vec::new();
        }
        let now = self.decisions.now();
        let mut work = Work::from_core(self.decisions.core_mut().handle_resume(now));
        work.push(Work::Done(reply));
        work
    }
}
