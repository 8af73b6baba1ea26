//! Alias addresses on the interface and the listeners on them.
//!
//! An alias's addresses are added when it is first answered, listened on for every port
//! a session of it uses, and removed (listeners first) once no session holds the alias
//! and nobody used it for `address_idle_timeout`. The assignment itself (alias → address)
//! outlives that, so the alias comes back on the same address, and is released only when
//! no alias cache holds the alias any more.

use super::super::address_pool::{AliasAddresses, PoolExhausted};
use super::super::clock::{Moment, Now};
use super::super::command::{Command, Outbox};
use super::super::prefix::Family;
use super::super::session_table::{EndReason, SessionState};
use super::{AgentCore, InstalledAlias, collect};
use std::net::IpAddr;

impl InstalledAlias {
    pub(super) fn usable(&self, family: Family) -> bool {
        match family {
            Family::V4 => self.v4_usable,
            Family::V6 => self.v6_usable,
        }
    }

    fn usable_addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        [Family::V4, Family::V6]
            .into_iter()
            .filter(|f| self.usable(*f))
            .map(|f| self.addrs.get(f))
    }
}

/// What an installed alias can do for a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FamilyState {
    Usable,
    /// This family failed, the other works: answer NODATA for it.
    Unusable,
    /// Both families failed: fail open.
    AliasUnusable,
}

impl<T: Clone> AgentCore<T> {
    /// Adding an alias address failed (`Command::AddAddress`).
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_address_failed(
        &mut self,
        addr: IpAddr,
        error: &str,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            self.family_failed(
                addr,
                &format!("could not add address {addr}: {error}"),
                now,
                out,
            )
        })
    }

    /// Listening on an alias address failed (`Command::Listen`).
    #[must_use = "the returned commands are the decision: drop them and nothing happens"]
    pub fn handle_listen_failed(
        &mut self,
        addr: IpAddr,
        port: u16,
        error: &str,
        now: Now,
    ) -> Vec<Command<T>> {
        collect(|out| {
            let message = format!("could not listen on {addr} port {port}: {error}");
            self.family_failed(addr, &message, now, out)
        })
    }

    /// Puts the alias's addresses on the interface unless they are there already.
    pub(super) fn install(
        &mut self,
        alias: &str,
        now: Moment,
        out: &mut Outbox<T>,
    ) -> Result<AliasAddresses, PoolExhausted> {
        if let Some(installed) = self.installed.get(alias) {
            return Ok(installed.addrs);
        }
        let addrs = self.pool.lease(alias)?;
        for addr in addrs.both() {
            out.push(Command::AddAddress(addr));
        }
        out.save_state();
        self.installed.insert(
            alias.to_owned(),
            InstalledAlias {
                addrs,
                v4_usable: true,
                v6_usable: true,
                ports: Default::default(),
                last_used: now,
            },
        );
        Ok(addrs)
    }

    pub(super) fn family_state(&self, alias: &str, family: Family) -> FamilyState {
        match self.installed.get(alias) {
            Some(i) if i.usable(family) => FamilyState::Usable,
            Some(i) if i.v4_usable || i.v6_usable => FamilyState::Unusable,
            _ => FamilyState::AliasUnusable,
        }
    }

    pub(super) fn touch(&mut self, alias: &str, now: Moment) {
        if let Some(i) = self.installed.get_mut(alias) {
            i.last_used = i.last_used.max(now);
        }
    }

    /// Listens on `port` on every usable address of an installed alias.
    pub(super) fn listen(&mut self, alias: &str, port: u16, out: &mut Outbox<T>) {
        if !self.run.is_running() {
            return;
        }
        let Some(installed) = self.installed.get_mut(alias) else {
            return;
        };
        if installed.ports.insert(port) {
            for addr in installed.usable_addrs() {
                out.push(Command::Listen { addr, port });
            }
        }
    }

    /// Stops the alias's listeners and removes its addresses.
    pub(super) fn uninstall(&mut self, alias: &str, out: &mut Outbox<T>) {
        let Some(installed) = self.installed.remove(alias) else {
            return;
        };
        for addr in installed.usable_addrs() {
            for port in &installed.ports {
                out.push(Command::StopListening { addr, port: *port });
            }
        }
        for addr in installed.addrs.both() {
            out.push(Command::RemoveAddress(addr));
        }
        out.save_state();
        self.release_if_unheld(alias, out);
    }

    /// Frees the alias's assignment when it is neither installed nor in any cache.
    pub(super) fn release_if_unheld(&mut self, alias: &str, out: &mut Outbox<T>) {
        if self.installed.contains_key(alias)
            || self.aliases.values().any(|a| a.cache.contains(alias))
        {
            return;
        }
        if self.pool.release(alias).is_some() {
            out.save_state();
        }
    }

    /// One family of an alias cannot be used: stop listening there. When neither family
    /// is left, the alias's sessions end and its users fail open until it is retried.
    fn family_failed(&mut self, addr: IpAddr, message: &str, now: Now, out: &mut Outbox<T>) {
        let Some(alias) = self.pool.alias_at(addr).map(str::to_owned) else {
            return;
        };
        let Some(installed) = self.installed.get_mut(&alias) else {
            return;
        };
        let family = Family::of_unmapped(addr);
        if !installed.usable(family) {
            return;
        }
        let addr = installed.addrs.get(family);
        for port in &installed.ports {
            out.push(Command::StopListening { addr, port: *port });
        }
        match family {
            Family::V4 => installed.v4_usable = false,
            Family::V6 => installed.v6_usable = false,
        }
        let alias_unusable = !installed.v4_usable && !installed.v6_usable;
        self.errors.record(None, message);
        if alias_unusable {
            let keys = self.sessions.keys_where(|key, state| {
                key.alias == alias && !matches!(state, SessionState::Failed { .. })
            });
            let error = format!(
                "the local addresses for {alias} could not be used; DNS for it falls back to \
                 the upstream resolvers"
            );
            for key in keys {
                self.fail_key(&key, EndReason::ListenFailed, &error, now.moment, out);
            }
        }
    }
}
