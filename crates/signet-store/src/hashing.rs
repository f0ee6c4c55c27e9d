//! Password hashing with bounded concurrency and a bounded queue.
//!
//! Argon2id needs 19 MiB and tens of milliseconds of CPU per password by design. Without
//! a bound, every concurrent login runs one on its own blocking thread: a few hundred
//! anonymous logins take gigabytes. Here at most `concurrency` hashes run at once, at
//! most `queue` more wait (each for at most [`QUEUE_WAIT`]), and the rest are refused
//! with [`StoreError::Busy`] (HTTP 503 with `Retry-After`) before any memory is spent.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::Semaphore;

use crate::StoreError;

/// How long a password waits for a hashing slot before the request is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// The hashing slots.
pub(crate) struct Hasher {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    runs: AtomicU64,
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
        Hasher {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
            runs: AtomicU64::new(0),
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
        work: impl FnOnce() -> T + Send + 'static,
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
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(slot);
            out
        })
        .await
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
            tokio::spawn(async move { h.run(move || g.wait()).await })
        };
        while hasher.slots.available_permits() != 0 {
            tokio::task::yield_now().await;
        }
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let h = Arc::clone(&hasher);
                tokio::spawn(async move { h.run(|| ()).await })
            })
            .collect();
        while hasher.waiting.load(Ordering::Acquire) != 2 {
            tokio::task::yield_now().await;
        }
        let refused = hasher.run(|| ()).await;
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
