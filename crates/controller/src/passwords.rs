//! Password hashing and checking (Argon2id with the crate's defaults: 19 MiB of memory and
//! tens of milliseconds of CPU each) on a fixed set of threads with a bounded queue.
//!
//! Anyone can make the controller check a password (a login costs one whether the
//! account exists or not). On tokio's blocking pool, which grows to 512 threads, 200
//! parallel logins meant 200 Argon2 runs and 200 × 19 MiB at once. Here at most
//! [`PasswordWorkers::threads`] run at a time, and at most [`QUEUED_PER_THREAD`] per
//! thread wait (holding nothing but the password); a request beyond that is refused at
//! once with 503 `Unavailable` rather than queued without bound. A queued check whose
//! request has gone away is skipped.
//!
//! Each thread computes in its own [`ArgonMemory`], allocated once and reused, instead of
//! letting Argon2 allocate 19 MiB per call: glibc serves those from its arenas once its
//! mmap threshold has adapted, and fragments them, so that a few dozen logins left
//! ~200 MiB resident even with two threads. With the memory kept, the controller holds
//! exactly threads × 19 MiB for passwords, however many logins come.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::password_hash::{PasswordHasher, generate_salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::error::ApiError;
use boundary_wire::api::Secret;

/// Most threads used however many cores there are (memory: this × 19 MiB).
pub const MAX_THREADS: usize = 8;
/// How many requests may wait per thread: with a check taking ~50 ms in a release build,
/// the last in the queue waits under a second.
pub const QUEUED_PER_THREAD: usize = 16;

type Job = Box<dyn FnOnce(&mut ArgonMemory) + Send>;

/// The threads that hash and check passwords; see the module documentation. Dropping
/// this lets the threads finish the queue and exit.
pub struct PasswordWorkers {
    jobs: SyncSender<Job>,
    threads: usize,
}

impl PasswordWorkers {
    /// [`PasswordWorkers::default_threads`] threads.
    pub fn start() -> std::io::Result<PasswordWorkers> {
        PasswordWorkers::with_threads(PasswordWorkers::default_threads())
    }

    /// One thread per core, at most [`MAX_THREADS`].
    pub fn default_threads() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.clamp(1, MAX_THREADS)
    }

    /// `threads` threads (at least one) and room for [`QUEUED_PER_THREAD`] waiting
    /// requests each.
    pub fn with_threads(threads: usize) -> std::io::Result<PasswordWorkers> {
        let threads = threads.max(1);
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(threads * QUEUED_PER_THREAD);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || run_jobs(&queue))?;
        }
        Ok(PasswordWorkers { jobs, threads })
    }

    /// How many checks run at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The Argon2id PHC string of `password`.
    pub async fn hash(&self, password: Secret) -> Result<String, ApiError> {
        self.run(move |memory| memory.hash(&password))
            .await?
            .map_err(|e| ApiError::internal("password hashing failed", e))
    }

    /// Whether `password` matches the PHC string `hash` (false for a malformed hash).
    pub async fn verify(&self, password: Secret, hash: String) -> Result<bool, ApiError> {
        self.run(move |memory| memory.verify(&password, &hash))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut ArgonMemory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            if !done.is_closed() {
                let _ = done.send(work(memory));
            }
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!("password checks queue full; a request was refused with 503");
                return Err(ApiError::unavailable(
                    "Too many logins at once; try again in a moment.",
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal(
                    "password check",
                    "the password threads have stopped",
                ));
            }
        }
        result
            .await
            .map_err(|_| ApiError::internal("password check", "the password thread failed"))
    }
}

/// One thread's loop: take the next job until the sender is gone. A panicking job (a bug
/// in the hashing code) loses its answer but not the thread.
fn run_jobs(queue: &Mutex<Receiver<Job>>) {
    let mut memory = ArgonMemory::default();
    loop {
        let next = {
            let Ok(queue) = queue.lock() else { return };
            queue.recv()
        };
        let Ok(job) = next else { return };
        if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
            tracing::error!("a password hashing job panicked");
            memory = ArgonMemory::default();
        }
    }
}

/// One thread's Argon2 working memory, reused by all its hashes and checks: allocated at
/// the first, replaced by a larger one only for a stored hash with a larger memory cost,
/// and zeroed after each use (it holds state derived from the password).
#[derive(Default)]
struct ArgonMemory(Vec<Block>);

impl ArgonMemory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            // Replaced rather than grown: one allocation of the final size.
            self.0 = vec![Block::new(); count];
        }
        &mut self.0[..count]
    }

    fn wipe(&mut self) {
        self.0.fill(Block::new());
    }

    /// What [`hash_password`] computes, in this memory.
    fn hash(&mut self, password: &Secret) -> Result<String, String> {
        let argon2 = Argon2::default();
        let params = argon2.params().clone();
        let salt = Salt::new(&generate_salt()).map_err(|e| e.to_string())?;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let computed = argon2.hash_password_into_with_memory(
            password.expose().as_bytes(),
            &salt,
            &mut output,
            self.blocks(params.block_count()),
        );
        self.wipe();
        computed.map_err(|e| e.to_string())?;
        let hash = PasswordHash {
            algorithm: Algorithm::default().ident(),
            version: Some(Version::default().into()),
            params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
            salt: Some(salt),
            hash: Some(Output::new(&output).map_err(|e| e.to_string())?),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` matches the PHC string `phc` (any Argon2 variant, version and
    /// parameters, as argon2's own verifier accepts), computed in this memory.
    fn verify(&mut self, password: &Secret, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
            return false;
        };
        let version = match hash.version.map(Version::try_from).transpose() {
            Ok(version) => version.unwrap_or_default(),
            Err(_) => return false,
        };
        let Ok(params) = Params::try_from(&hash) else {
            return false;
        };
        let blocks = params.block_count();
        let mut output = vec![0u8; expected.len()];
        let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password.expose().as_bytes(),
            salt,
            &mut output,
            self.blocks(blocks),
        );
        self.wipe();
        computed.is_ok() && bool::from(output.as_slice().ct_eq(expected.as_bytes()))
    }
}

/// Argon2id PHC string of a password with argon2's own allocation, on the calling thread
/// (slow on purpose): for one-off hashing outside request handling, e.g. the initial
/// admin at bootstrap. Request handlers use [`PasswordWorkers`].
pub fn hash_password(password: &Secret) -> Result<String, argon2::password_hash::Error> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let workers = PasswordWorkers::with_threads(1).unwrap();
        let hash = workers.hash(Secret::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            workers
                .verify(Secret::new("correct horse"), hash.clone())
                .await
                .unwrap()
        );
        assert!(!workers.verify(Secret::new("wrong"), hash).await.unwrap());
        assert!(
            !workers
                .verify(Secret::new("x"), "not a phc string".into())
                .await
                .unwrap()
        );
    }

    #[test]
    fn hashes_agree_with_argon2s_own_and_the_memory_is_kept_and_wiped() {
        use argon2::PasswordVerifier;
        let mut memory = ArgonMemory::default();
        let password = Secret::new("correct horse");
        let ours = memory.hash(&password).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", ours.as_str())
                .is_ok()
        );
        let theirs = hash_password(&password).unwrap();
        assert!(memory.verify(&password, &theirs));
        assert!(!memory.verify(&Secret::new("correct horsf"), &theirs));
        // Another variant and cost, as a stored hash may have: the memory grows to fit.
        let params = Params::new(2 * Params::DEFAULT_M_COST, 1, 1, None).unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x10, params);
        let other = argon2i.hash_password(b"pw").unwrap().to_string();
        assert!(memory.verify(&Secret::new("pw"), &other));
        assert_eq!(memory.0.len(), 2 * Params::DEFAULT_M_COST as usize);
        let zero = Block::new();
        let zero: &[u64] = zero.as_ref();
        assert!(memory.0.iter().all(|block| block.as_ref() == zero));
        for malformed in [
            "",
            "$argon2id$",
            "not a phc string",
            "$scrypt$ln=1,r=8,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert!(!memory.verify(&password, malformed), "{malformed}");
        }
    }

    #[tokio::test]
    async fn requests_beyond_the_queue_are_refused_with_503_and_the_queue_answered() {
        let workers = PasswordWorkers::with_threads(1).unwrap();
        // Keep the only thread busy, so that requests queue.
        let (started, busy) = std::sync::mpsc::channel();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let job: Job = Box::new(move |_| {
            started.send(()).unwrap();
            let _ = held.recv();
        });
        workers.jobs.try_send(job).unwrap();
        busy.recv().unwrap();

        let mut waiting = Vec::new();
        for n in 0..QUEUED_PER_THREAD {
            let mut request = Box::pin(workers.run(move |_| n));
            assert!(futures_util::poll!(&mut request).is_pending(), "queued");
            waiting.push(request);
        }
        let error = workers.run(|_| 0).await.unwrap_err();
        assert_eq!(error.status().as_u16(), 503, "{error}");
        assert_eq!(error.body().kind, "Unavailable");

        release.send(()).unwrap();
        for (n, request) in waiting.into_iter().enumerate() {
            assert_eq!(request.await.unwrap(), n);
        }
    }
}
