//! The DNS server under test, running on its own thread inside the test namespace with a
//! current-thread tokio runtime (setns moves only the calling thread, so the runtime must
//! not have other worker threads).

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use boundary_agent::dns::{DnsServer, DnsServerBuilder};
use tokio::sync::mpsc;

use crate::support::netns::Netns;

type Job = Box<dyn FnOnce(DnsServer) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

pub struct ServerThread {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Builds the server inside `netns` from `builder` (built there, so the runtime is the
    /// namespace thread's).
    pub fn start(netns: &Netns, builder: DnsServerBuilder) -> ServerThread {
        let (jobs, mut receiver) = mpsc::unbounded_channel::<Job>();
        let (ready, is_ready) = std_mpsc::channel();
        let thread = netns.spawn_thread(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let server = builder.build();
                let _ = ready.send(());
                while let Some(job) = receiver.recv().await {
                    job(server.clone()).await;
                }
                server.shutdown().await;
            });
        });
        is_ready
            .recv_timeout(Duration::from_secs(10))
            .expect("server thread started");
        ServerThread {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Runs `job` on the server's thread (inside the namespace) and returns its result.
    pub fn run<R, F, Fut>(&self, job: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(DnsServer) -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
    {
        let (result, get_result) = std_mpsc::channel();
        let job: Job = Box::new(move |server| {
            Box::pin(async move {
                let _ = result.send(job(server).await);
            })
        });
        self.jobs
            .as_ref()
            .expect("running")
            .send(job)
            .expect("server thread alive");
        get_result
            .recv_timeout(Duration::from_secs(60))
            .expect("the job on the server thread finished (did it panic?)")
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
