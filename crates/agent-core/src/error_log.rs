//! Recent errors for `status`, most recent first, kept per local user so one user never
//! sees another's alias names, plus agent-wide ones everybody sees.

use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Debug)]
pub struct ErrorLog {
    capacity: usize,
    next_seq: u64,
    global: VecDeque<(u64, String)>,
    per_uid: BTreeMap<u32, VecDeque<(u64, String)>>,
}

impl ErrorLog {
    /// Keeps at most `capacity` errors per user and agent-wide.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            next_seq: 0,
            global: VecDeque::new(),
            per_uid: BTreeMap::new(),
        }
    }

    /// Records an error for `uid`, or agent-wide for `None`. Repeating the latest message
    /// only moves it to the front.
    pub fn record(&mut self, uid: Option<u32>, message: impl Into<String>) {
        let message = message.into();
        let seq = self.next_seq;
        self.next_seq += 1;
        let log = match uid {
            Some(uid) => self.per_uid.entry(uid).or_default(),
            None => &mut self.global,
        };
        log.retain(|(_, m)| *m != message);
        log.push_front((seq, message));
        log.truncate(self.capacity);
    }

    /// What `uid` may see: its own errors and the agent-wide ones, most recent first.
    pub fn visible_to(&self, uid: u32) -> Vec<String> {
        let mut all: Vec<_> = self
            .global
            .iter()
            .chain(self.per_uid.get(&uid).into_iter().flatten())
            .collect();
        all.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
        all.into_iter().map(|(_, m)| m.clone()).collect()
    }

    pub fn forget_uid(&mut self, uid: u32) {
        self.per_uid.remove(&uid);
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorLog;

    #[test]
    fn users_see_their_own_and_global_errors_newest_first() {
        let mut log = ErrorLog::new(2);
        log.record(Some(1), "alice 1");
        log.record(None, "global");
        log.record(Some(2), "bob");
        log.record(Some(1), "alice 2");
        assert_eq!(log.visible_to(1), ["alice 2", "global", "alice 1"]);
        assert_eq!(log.visible_to(2), ["bob", "global"]);
        log.record(Some(1), "alice 3");
        assert_eq!(log.visible_to(1), ["alice 3", "alice 2", "global"]);
        log.record(Some(1), "alice 2");
        assert_eq!(log.visible_to(1), ["alice 2", "alice 3", "global"]);
        log.forget_uid(1);
        assert_eq!(log.visible_to(1), ["global"]);
    }
}
