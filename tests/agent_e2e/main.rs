//! The client agent end to end, as a user runs it: the real `boundary dev` (controller and
//! worker) in `infra`, the real `boundary-client-agent` as root in `client`, real users
//! running `ssh`, `dig`, `getent`, `curl` and `boundary client-agent …` there, a real sshd
//! in `target` (reachable from `infra` only) and dnsmasq in `upstream` as the resolver the
//! client had before the agent (see `tests/support/topology`). Needs root.
//!
//! Every test builds its own [`Scenario`] (topology, controller, admin set-up, agent) so
//! tests are independent; each file is one topic of the agent's documented behaviour
//! (docs/architecture.md "Client agent behaviour", docs/wire-contract.md §4 and §5).
//!
//! While a program the scenario needs is not built yet (it prints "not built yet" and
//! exits), the scenario fails at once with that program's output instead of waiting.
#![cfg(target_os = "linux")]

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod agent;
mod controller;
mod fake_controller;
mod on_resolved;
mod probe;
mod scenario;

mod controller_down;
mod controller_pin;
mod dns_answers;
mod dns_sources;
mod failure_breaker;
mod https_controller;
mod local_api;
mod pause_resume;
mod refusals;
mod reload;
mod resolved_mode;
mod shutdown;
mod ssh_through_alias;
mod status_and_sessions;
mod two_users;

pub use scenario::Scenario;
