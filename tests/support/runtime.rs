//! Async library code from sync tests: a current-thread tokio runtime, and a way to run a
//! future to completion from anywhere (also from inside another runtime, where
//! `Runtime::block_on` would panic).

use std::future::Future;

/// A current-thread runtime with IO and timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `future` on a new thread with its own [`runtime`] and returns its output; a panic
/// in it is re-raised here.
pub fn block_on_thread<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(
        |scope| match scope.spawn(|| runtime().block_on(future)).join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    )
}
