//! The token/user map: which local user registered which auth token, for which controller.
//!
//! Each local uid holds at most one token (the one it registered last). All tokens are for
//! one controller: a token for another controller address switches the agent over, and
//! the tokens registered for the old one are dropped (they mean nothing to the new one).
//! The order of registration is kept so a DNS question that cannot be attributed to a
//! user goes to the most recently registered token that may use the alias.

use super::clock::{Moment, Now};
use boundary_wire::api::{Secret, Timestamp};
use std::collections::BTreeMap;

/// A token a local user registered through `POST /v1/tokens`, after the shell validated
/// it with `GET /v1/auth-tokens/{id}`.
#[derive(Clone, Debug)]
pub struct TokenRegistration {
    /// The OS user that called the local API.
    pub uid: u32,
    /// `boundary_addr` from the request, e.g. `https://ctl:9200`.
    pub controller_addr: String,
    /// `at_…`.
    pub token_id: String,
    /// `u_…`, the token's Boundary user.
    pub user_id: String,
    /// The whole token string (`at_…_s1…`); never logged.
    pub token: Secret,
    /// `expiration_time` of the token, if the controller gave one.
    pub expiration: Option<Timestamp>,
}

/// A registered token.
#[derive(Clone, Debug)]
pub struct RegisteredToken {
    pub token_id: String,
    pub user_id: String,
    pub token: Secret,
    pub expiration: Option<Timestamp>,
    /// `expiration` on the monotonic timeline.
    pub expires_at: Option<Moment>,
    /// Registration order; larger is more recent.
    seq: u64,
}

impl RegisteredToken {
    pub fn is_expired(&self, now: Moment) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What a registration changed.
#[derive(Clone, Debug)]
pub enum Registration {
    /// The uid had no token before.
    Added,
    /// The same token again (the stock CLI re-sends it after every command): only its
    /// expiry and recency are updated, nothing ends.
    Renewed,
    /// A different token replaced the uid's previous one.
    Replaced { previous: RegisteredToken },
    /// The token is for another controller: every token of the old one was dropped.
    SwitchedController {
        previous_controller: String,
        dropped: Vec<(u32, RegisteredToken)>,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Users {
    controller: Option<String>,
    tokens: BTreeMap<u32, RegisteredToken>,
    /// seq → uid, for most-recent-first iteration.
    recency: BTreeMap<u64, u32>,
    next_seq: u64,
}

impl Users {
    pub fn new() -> Self {
        Self::default()
    }

    /// The controller every registered token belongs to.
    pub fn controller(&self) -> Option<&str> {
        self.controller.as_deref()
    }

    pub fn get(&self, uid: u32) -> Option<&RegisteredToken> {
        self.tokens.get(&uid)
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Registered uids in ascending order.
    pub fn uids(&self) -> impl Iterator<Item = u32> + '_ {
        self.tokens.keys().copied()
    }

    /// Tokens, the most recently registered first.
    pub fn most_recent_first(&self) -> impl Iterator<Item = (u32, &RegisteredToken)> + '_ {
        self.recency
            .values()
            .rev()
            .filter_map(|uid| self.tokens.get(uid).map(|t| (*uid, t)))
    }

    /// Uids whose token has expired by `now`, ascending.
    pub fn expired(&self, now: Moment) -> Vec<u32> {
        self.tokens
            .iter()
            .filter(|(_, t)| t.is_expired(now))
            .map(|(uid, _)| *uid)
            .collect()
    }

    pub fn register(&mut self, reg: TokenRegistration, now: &Now) -> Registration {
        let controller = reg.controller_addr.trim().trim_end_matches('/').to_owned();
        let mut outcome = Registration::Added;
        match &self.controller {
            Some(current) if !same_controller(current, &controller) => {
                let dropped: Vec<_> = std::mem::take(&mut self.tokens).into_iter().collect();
                self.recency.clear();
                outcome = Registration::SwitchedController {
                    previous_controller: current.clone(),
                    dropped,
                };
            }
            _ => {}
        }
        self.controller = Some(controller);

        let seq = self.next_seq;
        self.next_seq += 1;
        let token = RegisteredToken {
            expires_at: reg.expiration.map(|t| now.moment_of(t)),
            token_id: reg.token_id,
            user_id: reg.user_id,
            token: reg.token,
            expiration: reg.expiration,
            seq,
        };
        if let Some(previous) = self.tokens.insert(reg.uid, token.clone()) {
            self.recency.remove(&previous.seq);
            if matches!(outcome, Registration::Added) {
                outcome = if previous.token_id == token.token_id {
                    Registration::Renewed
                } else {
                    Registration::Replaced { previous }
                };
            }
        }
        self.recency.insert(seq, reg.uid);
        outcome
    }

    /// Forgets the controller (once every token of it was removed): the next registration
    /// picks one again.
    pub fn forget_controller(&mut self) {
        debug_assert!(self.tokens.is_empty(), "tokens of a forgotten controller");
        self.controller = None;
    }

    /// Forgets the uid's token.
    pub fn remove(&mut self, uid: u32) -> Option<RegisteredToken> {
        let token = self.tokens.remove(&uid)?;
        self.recency.remove(&token.seq);
        Some(token)
    }
}

/// Whether two `boundary_addr` values name the same controller: compared without case,
/// a trailing `/` or the scheme's default port (`https://ctl` = `HTTPS://ctl:443/`).
pub fn same_controller(a: &str, b: &str) -> bool {
    fn identity(addr: &str) -> String {
        let addr = addr.trim().trim_end_matches('/').to_ascii_lowercase();
        for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
            if addr.starts_with(scheme)
                && let Some(bare) = addr.strip_suffix(port)
            {
                return bare.to_owned();
            }
        }
        addr
    }
    identity(a) == identity(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn now(secs: u64) -> Now {
        Now::new(
            Moment::from_secs(secs),
            datetime!(2030-01-01 00:00 UTC) + time::Duration::seconds(secs as i64),
        )
    }

    #[test]
    fn controller_addresses_compare_without_case_slash_or_default_port() {
        for (a, b) in [
            ("https://ctl.example", "HTTPS://Ctl.Example:443/"),
            ("http://10.0.0.1:80", "http://10.0.0.1"),
            ("https://ctl:9200", "https://ctl:9200/"),
        ] {
            assert!(same_controller(a, b), "{a} = {b}");
        }
        for (a, b) in [
            ("https://ctl", "http://ctl"),
            ("https://ctl:443", "https://ctl:9200"),
            ("http://ctl:443", "http://ctl"),
            ("https://ctl", "https://other"),
        ] {
            assert!(!same_controller(a, b), "{a} != {b}");
        }
    }

    fn reg(uid: u32, controller: &str, token_id: &str) -> TokenRegistration {
        TokenRegistration {
            uid,
            controller_addr: controller.into(),
            token_id: token_id.into(),
            user_id: format!("u_{uid}"),
            token: Secret::new(format!("{token_id}_s1secret")),
            expiration: Some(datetime!(2030-01-01 01:00 UTC)),
        }
    }

    #[test]
    fn registration_outcomes() {
        let mut u = Users::new();
        assert!(matches!(
            u.register(reg(1000, "https://ctl:9200/", "at_a"), &now(0)),
            Registration::Added
        ));
        assert_eq!(u.controller(), Some("https://ctl:9200"));
        assert!(matches!(
            u.register(reg(1000, "https://CTL:9200", "at_a"), &now(1)),
            Registration::Renewed
        ));
        assert!(matches!(
            u.register(reg(1000, "https://ctl:9200", "at_b"), &now(2)),
            Registration::Replaced { previous } if previous.token_id == "at_a"
        ));
        assert!(matches!(
            u.register(reg(1001, "https://ctl:9200", "at_c"), &now(3)),
            Registration::Added
        ));
        assert_eq!(u.len(), 2);
        assert_eq!(
            u.get(1000).unwrap().expires_at,
            Some(Moment::from_secs(3600))
        );
    }

    #[test]
    fn another_controller_drops_every_token() {
        let mut u = Users::new();
        u.register(reg(1000, "https://a", "at_a"), &now(0));
        u.register(reg(1001, "https://a", "at_b"), &now(0));
        let Registration::SwitchedController {
            previous_controller,
            dropped,
        } = u.register(reg(1001, "https://b", "at_c"), &now(1))
        else {
            panic!("expected a controller switch");
        };
        assert_eq!(previous_controller, "https://a");
        let dropped: Vec<_> = dropped
            .iter()
            .map(|(uid, t)| (*uid, t.token_id.as_str()))
            .collect();
        assert_eq!(dropped, [(1000, "at_a"), (1001, "at_b")]);
        assert_eq!(u.controller(), Some("https://b"));
        assert_eq!(u.uids().collect::<Vec<_>>(), [1001]);
        assert_eq!(u.get(1001).unwrap().token_id, "at_c");
    }

    #[test]
    fn recency_follows_the_last_registration() {
        let mut u = Users::new();
        u.register(reg(1, "https://a", "at_1"), &now(0));
        u.register(reg(2, "https://a", "at_2"), &now(0));
        u.register(reg(3, "https://a", "at_3"), &now(0));
        u.register(reg(1, "https://a", "at_1"), &now(0));
        let order: Vec<_> = u.most_recent_first().map(|(uid, _)| uid).collect();
        assert_eq!(order, [1, 3, 2]);
        u.remove(3);
        let order: Vec<_> = u.most_recent_first().map(|(uid, _)| uid).collect();
        assert_eq!(order, [1, 2]);
    }

    #[test]
    fn expiry_is_tracked_on_the_monotonic_timeline() {
        let mut u = Users::new();
        u.register(reg(1, "https://a", "at_1"), &now(0));
        let mut forever = reg(2, "https://a", "at_2");
        forever.expiration = None;
        u.register(forever, &now(0));
        assert!(u.expired(Moment::from_secs(3599)).is_empty());
        assert_eq!(u.expired(Moment::from_secs(3600)), [1]);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let mut u = Users::new();
        u.register(reg(1, "https://a", "at_1"), &now(0));
        assert!(!format!("{u:?}").contains("secret"));
    }
}
