//! Code of this test process inside a namespace: a thread that has `setns`'d into it (see
//! the per-thread pitfall in `netns.rs`), with or without a current-thread tokio runtime.

use std::fs;
use std::future::Future;
use std::path::Path;
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

use super::netns::Netns;

impl Netns {
    /// Runs `task` to completion on a thread inside this namespace with a current-thread
    /// tokio runtime (see `netns.rs` for what that thread can and cannot see).
    /// A panic in `task` is re-raised here.
    pub fn block_on<F, Fut, T>(&self, task: F) -> T
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = T>,
        T: Send,
    {
        self.run_on_thread(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime")
                .block_on(task())
        })
    }

    /// Runs `task` on a thread inside this namespace and returns its result (a panic in
    /// `task` is re-raised here).
    pub fn run_on_thread<T: Send>(&self, task: impl FnOnce() -> T + Send) -> T {
        let path = self.path();
        std::thread::scope(|scope| {
            let thread = scope.spawn(move || {
                enter(&path);
                task()
            });
            match thread.join() {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Starts a thread inside this namespace running `task`, for work that outlives one
    /// call (a server the test talks to through several calls).
    pub fn spawn_thread<T: Send + 'static>(
        &self,
        task: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = self.path();
        std::thread::spawn(move || {
            enter(&path);
            task()
        })
    }
}

/// Moves the calling thread (only it) into the namespace at `path`.
fn enter(path: &Path) {
    let namespace =
        fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    setns(namespace, CloneFlags::CLONE_NEWNET)
        .unwrap_or_else(|e| panic!("setns into {}: {e}", path.display()));
}
