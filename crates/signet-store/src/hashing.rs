//! Password hashing with bounded concurrency and a bounded queue.
//!
//! Argon2id needs 19 MiB and tens of milliseconds of CPU per password by design. Without
//! a bound, every concurrent login runs one on its own blocking thread: a few hundred
//! anonymous logins take gigabytes. Here at most `concurrency` hashes run at once, at
//! most `queue` more wait (each for at most [`QUEUE_WAIT`]), and the rest are refused
//! with [`StoreError::Busy`] (HTTP 503 with `Retry-After`) before any memory is spent.
//!
//! Hashes run on `concurrency` threads of their own, each with one Argon2 working memory
//! it reuses ([`ArgonMemory`]), so the memory hashing takes is the slot count times
//! 19 MiB, allocated once. (Allocated per hash, on the runtime's blocking pool, the freed
//! blocks stayed with the allocator: 400 MiB resident after a flood of logins, with only
//! two hashes running at a time.)

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::{Semaphore, oneshot};

use crate::{StoreError, secrets::ArgonMemory};

/// How long a password waits for a hashing slot before the request is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce(&mut ArgonMemory) + Send>;

/// The hashing slots and the threads that run them.
pub(crate) struct Hasher {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    runs: AtomicU64,
    /// The threads stop when this is dropped.
    jobs: std::sync::mpsc::Sender<Job>,
}

/// Counts a waiter in and out, whatever way the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hasher {
    /// `concurrency` hashes at once (at least one), `queue` more waiting.
    pub(crate) fn new(concurrency: usize, queue: usize) -> Hasher {
        let concurrency = concurrency.max(1);
        let (jobs, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for i in 0..concurrency {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("signet-hash-{i}"))
                .spawn(move || {
                    let mut memory = ArgonMemory::default();
                    loop {
                        let job = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                // Fewer threads than slots: jobs wait for one that exists.
                tracing::warn!(error = %e, "starting a password hashing thread failed");
            }
        }
        Hasher {
            slots: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            queue,
            runs: AtomicU64::new(0),
            jobs,
        }
    }

    /// As many hashes at once as the machine has cores, and four times that waiting.
    pub(crate) fn for_this_machine() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Hasher::new(cores, 4 * cores)
    }

    /// Runs `work` (a password hash or check) on a blocking thread once a slot is free.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut ArgonMemory) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let busy = || StoreError::Busy {
            retry_after: Duration::from_secs(1),
        };
        let waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            return Err(busy());
        }
        let slot = tokio::time::timeout(QUEUE_WAIT, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        drop(waiting);
        self.runs.fetch_add(1, Ordering::Relaxed);
        let (done, out) = oneshot::channel();
        // The slot is released when the work ends, even if the caller stopped waiting.
        let job: Job = Box::new(move |memory| {
            let _ = done.send(work(memory));
            drop(slot);
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Crypto("password hashing threads stopped"))?;
        out.await
            .map_err(|_| StoreError::Crypto("password hashing"))
    }

    /// How many hashes or checks have run.
    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_past_the_queue_and_runs_the_rest() {
        let hasher = Arc::new(Hasher::new(1, 2));
        let gate = Arc::new(std::sync::Barrier::new(2));
        // One running (held at the barrier), two waiting: the fourth is refused.
        let running = {
            let (h, g) = (Arc::clone(&hasher), Arc::clone(&gate));
            tokio::spawn(async move { h.run(move |_| g.wait()).await })
        };
        while hasher.slots.available_permits() != 0 {
            tokio::task::yield_now().await;
        }
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let h = Arc::clone(&hasher);
                tokio::spawn(async move { h.run(|_| ()).await })
            })
            .collect();
        while hasher.waiting.load(Ordering::Acquire) != 2 {
            tokio::task::yield_now().await;
        }
        let refused = hasher.run(|_| ()).await;
        assert!(
            matches!(refused, Err(StoreError::Busy { .. })),
            "{refused:?}"
        );
        gate.wait();
        running.await.unwrap().unwrap();
        for w in waiters {
            w.await.unwrap().unwrap();
        }
        assert_eq!(hasher.runs(), 3);
    }
}
