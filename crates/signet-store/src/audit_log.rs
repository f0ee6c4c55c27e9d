//! Audit records of reads (build-credential fetches, exports) written with group commit.
//!
//! A change writes its audit record inside its own transaction ([`crate::db::audit`]). A
//! read has no transaction, and one write transaction per fetch was half the cost of a
//! fetch (bench/server). Here each read queues its record and waits: one writer task puts
//! whatever has queued meanwhile into a single transaction, then answers every waiter. A
//! read still returns no secret unless its record is committed.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::{
    Actor, StoreError,
    db::{Backend, audit, begin},
};

/// The most records one transaction takes.
const BATCH: usize = 256;

/// One queued record.
pub(crate) struct Entry {
    pub org: String,
    pub actor: Actor,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
}

type Job = (Entry, oneshot::Sender<Result<(), String>>);

/// The queue to the writer task.
pub(crate) struct AuditWriter {
    queue: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer on the current runtime; it stops when the writer is dropped.
    pub(crate) fn start(pool: AnyPool, backend: Backend) -> AuditWriter {
        let (queue, jobs) = mpsc::channel(4 * BATCH);
        tokio::spawn(run(pool, backend, jobs));
        AuditWriter { queue }
    }

    /// Writes `entry`, returning once it is committed.
    pub(crate) async fn write(&self, entry: Entry) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.queue
            .send((entry, done))
            .await
            .map_err(|_| StoreError::Crypto("audit writer stopped"))?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::AuditFailed(e)),
            Err(_) => Err(StoreError::AuditFailed("audit writer stopped".into())),
        }
    }
}

async fn run(pool: AnyPool, backend: Backend, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    while jobs.recv_many(&mut batch, BATCH).await > 0 {
        let result = write_batch(&pool, backend, &batch).await;
        let outcome = result.map_err(|e| e.to_string());
        for (_, done) in batch.drain(..) {
            // A waiter that went away (its request was cancelled) needs no answer.
            let _ = done.send(outcome.clone());
        }
    }
}

async fn write_batch(pool: &AnyPool, backend: Backend, batch: &[Job]) -> Result<(), StoreError> {
    let mut tx = begin(pool, backend).await?;
    for (e, _) in batch {
        audit(
            &mut tx,
            Some(&e.org),
            &e.actor,
            &e.action,
            &e.target,
            &e.detail,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
