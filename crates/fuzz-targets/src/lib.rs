//! The fuzz targets' entry points: one `pub fn <target>(data: &[u8])` per target, each
//! driving the real code on untrusted bytes and asserting what that code promises
//! (beyond "does not panic") where the promise is cheap to check.
//!
//! Why a workspace crate rather than code in `fuzz/`: the functions build with the
//! workspace (stable Rust, same Cargo.lock), so `tests/corpus.rs` replays every committed
//! corpus file (`fuzz/corpus/<target>/`) through them in every `scripts/test` run — a crash
//! found once stays fixed — at no extra build. `fuzz/` (cargo-fuzz, nightly, libFuzzer)
//! only wraps each function in `fuzz_target!`.
//!
//! Every entry function panics on a broken invariant and returns normally otherwise, and
//! bounds its own work (no sockets, no real waiting: async code runs on a current-thread
//! runtime whose clock is paused, so a timer fires as soon as nothing else can run) so
//! that a hang is a bug in the code under test. See `fuzz/README.md` for running them.

pub mod api_request;
pub mod config_hcl;
pub mod dns_forward;
pub mod dns_query;
mod mem_stream;
pub mod resolv_conf;
mod runtime;
pub mod session_token;
pub mod worker_handshake;

/// A target's entry function.
pub type Target = fn(&[u8]);

/// Every target by its name in `fuzz/fuzz_targets/` and `fuzz/corpus/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("api_request", api_request::api_request),
    ("config_hcl", config_hcl::config_hcl),
    ("dns_forward", dns_forward::dns_forward),
    ("dns_query", dns_query::dns_query),
    ("resolv_conf", resolv_conf::resolv_conf),
    ("session_token", session_token::session_token),
    ("worker_handshake", worker_handshake::worker_handshake),
];
