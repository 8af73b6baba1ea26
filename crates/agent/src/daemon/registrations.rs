//! Token registrations waiting for their first alias listing.
//!
//! `boundary authenticate` registers the token and the user's next command is often
//! `ssh <alias>`: if `POST /v1/tokens` answered before the alias list arrived, that first
//! lookup would go upstream and fail. So the answer waits until the listing the
//! registration started is complete (or failed); the local API bounds the wait.

use std::collections::BTreeMap;

use tokio::sync::oneshot;

#[derive(Default)]
pub struct WaitingRegistrations {
    by_token: BTreeMap<(u32, String), Vec<oneshot::Sender<()>>>,
}

impl WaitingRegistrations {
    /// `reply` is sent once the listing for (uid, token_id) is done.
    pub fn wait(&mut self, uid: u32, token_id: String, reply: oneshot::Sender<()>) {
        self.by_token
            .entry((uid, token_id))
            .or_default()
            .push(reply);
    }

    /// The listing for (uid, token_id) is done: the replies to send.
    pub fn listed(&mut self, uid: u32, token_id: &str) -> Vec<oneshot::Sender<()>> {
        self.by_token
            .remove(&(uid, token_id.to_owned()))
            .unwrap_or_default()
    }

    /// The uid registered `token_id`: replies still waiting for its other tokens (whose
    /// listings will never finish) are sent now.
    pub fn superseded(&mut self, uid: u32, token_id: &str) -> Vec<oneshot::Sender<()>> {
        let stale: Vec<(u32, String)> = self
            .by_token
            .keys()
            .filter(|(u, t)| *u == uid && t != token_id)
            .cloned()
            .collect();
        stale
            .into_iter()
            .flat_map(|key| self.by_token.remove(&key).unwrap_or_default())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_released_by_their_listing_or_a_newer_token() {
        let mut waiting = WaitingRegistrations::default();
        let (first, _a) = oneshot::channel();
        let (second, _b) = oneshot::channel();
        let (other_user, _c) = oneshot::channel();
        waiting.wait(1000, "at_1".into(), first);
        waiting.wait(1000, "at_2".into(), second);
        waiting.wait(1001, "at_3".into(), other_user);
        assert_eq!(waiting.superseded(1000, "at_2").len(), 1);
        assert_eq!(waiting.listed(1000, "at_2").len(), 1);
        assert!(waiting.listed(1000, "at_2").is_empty());
        assert_eq!(waiting.listed(1001, "at_3").len(), 1);
    }
}
