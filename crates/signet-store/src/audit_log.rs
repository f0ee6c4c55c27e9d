//! Audit records of reads (build-credential fetches, exports) written with group commit.
//!
//! A change writes its audit record inside its own transaction ([`crate::db::audit`]). A
//! read has no transaction, and one write transaction per fetch was half the cost of a
//! fetch (bench/server). Here each read queues its record and waits: one writer task puts
//! whatever has queued meanwhile into a single INSERT, then answers every waiter. A
//! read still returns no secret unless its record is committed.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::{
    Actor, OrgId, StoreError,
    db::{AuditRow, insert_audit},
};

/// The most records one transaction takes.
const BATCH: usize = 256;

/// One queued record.
pub(crate) struct Entry {
    pub org: OrgId,
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
    pub(crate) fn start(pool: AnyPool) -> AuditWriter {
        let (queue, jobs) = mpsc::channel(4 * BATCH);
        tokio::spawn(run(pool, jobs));
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

async fn run(pool: AnyPool, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    while jobs.recv_many(&mut batch, BATCH).await > 0 {
        let result = write_batch(&pool, &batch).await;
        let outcome = result.map_err(|e| e.to_string());
        for (_, done) in batch.drain(..) {
            // A waiter that went away (its request was cancelled) needs no answer.
            let _ = done.send(outcome.clone());
        }
    }
}

/// One multi-row INSERT: a single round trip to the database however many reads wait.
async fn write_batch(pool: &AnyPool, batch: &[Job]) -> Result<(), StoreError> {
    let rows: Vec<AuditRow<'_>> = batch
        .iter()
        .map(|(e, _)| AuditRow {
            org: Some(&e.org),
            actor: &e.actor,
            action: &e.action,
            target: &e.target,
            detail: &e.detail,
        })
        .collect();
    insert_audit(pool, &rows).await
}
