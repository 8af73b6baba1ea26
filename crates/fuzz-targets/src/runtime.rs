//! The runtimes async targets run on.

use std::future::Future;
use std::time::Duration;

use tokio::runtime::Runtime;

/// How much (virtual) time one input may take before it counts as a hang. The clock is
/// paused, so this costs no real time: it bounds waiting on timers, not CPU.
const VIRTUAL_DEADLINE: Duration = Duration::from_secs(3600);

/// A current-thread runtime with a paused clock: tokio advances it to the next timer
/// whenever every task waits, so the code's own timeouts fire at once, in order.
fn paused_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime")
}

/// Runs `future` on `runtime` and panics if it has not finished after
/// [`VIRTUAL_DEADLINE`] of virtual time: the code under test waits for something that
/// never comes.
fn run<F: Future>(runtime: &Runtime, future: F) -> F::Output {
    runtime
        .block_on(async { tokio::time::timeout(VIRTUAL_DEADLINE, future).await })
        .expect("the input kept the code under test waiting (a hang)")
}

/// [`run`] on a fresh runtime: for code that spawns tasks, so that none outlives its
/// input and inputs stay independent.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    run(&paused_runtime(), future)
}

/// [`run`] on this thread's runtime, kept across inputs: for code that spawns nothing,
/// where building a runtime would cost more than the work itself.
pub(crate) fn block_on_shared<F: Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: Runtime = paused_runtime();
    }
    RUNTIME.with(|runtime| run(runtime, future))
}
