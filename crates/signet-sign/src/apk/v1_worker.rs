//! The v1 entry digests (inflate + hash of each entry's data) on a worker thread, while
//! the signing pass copies the entries and feeds the v2/v3 chunk digests on its own.
//!
//! The copying thread hands the worker the compressed bytes it has just read, in batches
//! of at most [`BATCH`] bytes (many small entries share one, a large one spans several)
//! through a channel of [`IN_FLIGHT`] batches; emptied batches come back for reuse, so
//! memory stays bounded whatever the archive's size. A worker error (bad deflate, an
//! unsupported method) ends the worker, which closes the channel: the next hand-over fails
//! and the copying thread stops, so neither side waits on the other forever.

use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError};

use crate::{
    SignError,
    apk::{Inflater, v1::V1Digest},
    zip::CdEntry,
};

/// Bytes per batch before it is handed over.
const BATCH: usize = 256 * 1024;
/// Batches queued for the worker.
const IN_FLIGHT: usize = 4;

/// What the worker does with the batch's bytes, in order.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// The entry (an index into the entries being copied) whose data follows.
    Start(usize),
    /// The next `n` bytes of the current entry's compressed data.
    Data(usize),
    /// The current entry's data is complete.
    End,
}

/// Compressed bytes of one or more entries, with what they are.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    pieces: Vec<Piece>,
}

/// The copying thread's end: collects entries' bytes into batches for the worker.
pub(super) struct Feed {
    tx: Option<SyncSender<Batch>>,
    recycled: Receiver<Batch>,
    current: Batch,
}

/// The worker has stopped (with an error, which joining it gives).
#[derive(Debug)]
pub(super) struct WorkerStopped;

impl Feed {
    /// Starts the digests of entry `index`.
    pub(super) fn start(&mut self, index: usize) {
        self.current.pieces.push(Piece::Start(index));
    }

    /// Adds compressed data of the current entry.
    pub(super) fn data(&mut self, bytes: &[u8]) -> Result<(), WorkerStopped> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.current.data.extend_from_slice(bytes);
        self.current.pieces.push(Piece::Data(bytes.len()));
        if self.current.data.len() >= BATCH {
            self.hand_over()?;
        }
        Ok(())
    }

    /// Ends the current entry.
    pub(super) fn end(&mut self) -> Result<(), WorkerStopped> {
        self.current.pieces.push(Piece::End);
        // Many small entries share a batch; the piece list is bounded too.
        if self.current.pieces.len() >= 4096 {
            self.hand_over()?;
        }
        Ok(())
    }

    /// Hands what is collected to the worker, and closes the channel: the worker finishes
    /// and its result can be joined.
    pub(super) fn finish(mut self) -> Result<(), WorkerStopped> {
        self.hand_over()?;
        self.tx = None;
        Ok(())
    }

    fn hand_over(&mut self) -> Result<(), WorkerStopped> {
        if self.current.pieces.is_empty() {
            return Ok(());
        }
        let next = match self.recycled.try_recv() {
            Ok(batch) => batch,
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => Batch {
                data: Vec::with_capacity(BATCH + super::COPY_BUF),
                pieces: Vec::new(),
            },
        };
        let full = std::mem::replace(&mut self.current, next);
        let tx = self.tx.as_ref().ok_or(WorkerStopped)?;
        tx.send(full).map_err(|_| WorkerStopped)
    }
}

/// The worker's end of a [`Feed`].
pub(super) struct Worker {
    rx: Receiver<Batch>,
    recycle: Sender<Batch>,
}

/// A connected feed and worker.
pub(super) fn channel() -> (Feed, Worker) {
    let (tx, rx) = std::sync::mpsc::sync_channel(IN_FLIGHT);
    let (recycle, recycled) = std::sync::mpsc::channel();
    (
        Feed {
            tx: Some(tx),
            recycled,
            current: Batch::default(),
        },
        Worker { rx, recycle },
    )
}

impl Worker {
    /// Digests the entries fed, as `(name, digest of the uncompressed data)` in the order
    /// they were fed; an entry whose data did not end (the copying thread stopped) is left
    /// out.
    pub(super) fn run(
        self,
        entries: &[CdEntry],
        alg: V1Digest,
    ) -> Result<Vec<(String, Vec<u8>)>, SignError> {
        let mut inflater = Inflater::new();
        let mut out = Vec::with_capacity(entries.len());
        let mut current: Option<(&CdEntry, aws_lc_rs::digest::Context)> = None;
        let internal = |what: &str| {
            SignError::Io(std::io::Error::other(format!(
                "v1 digest worker: {what} (a bug in signet)"
            )))
        };
        for mut batch in self.rx {
            let mut pos = 0usize;
            for piece in batch.pieces.drain(..) {
                match piece {
                    Piece::Start(index) => {
                        let entry = entries.get(index).ok_or_else(|| internal("no entry"))?;
                        inflater.start(entry)?;
                        current = Some((entry, alg.context()));
                    }
                    Piece::Data(n) => {
                        let bytes = pos
                            .checked_add(n)
                            .and_then(|end| batch.data.get(pos..end))
                            .ok_or_else(|| internal("data out of range"))?;
                        pos += n;
                        let (_, ctx) = current
                            .as_mut()
                            .ok_or_else(|| internal("data outside an entry"))?;
                        inflater.feed(bytes, &mut |c| {
                            ctx.update(c);
                            Ok(())
                        })?;
                    }
                    Piece::End => {
                        let (entry, mut ctx) = current
                            .take()
                            .ok_or_else(|| internal("end outside an entry"))?;
                        inflater.finish(&mut |c| {
                            ctx.update(c);
                            Ok(())
                        })?;
                        out.push((entry.name.clone(), ctx.finish().as_ref().to_vec()));
                    }
                }
            }
            batch.data.clear();
            // The feed may be gone already; the batch is then simply dropped.
            let _ = self.recycle.send(batch);
        }
        Ok(out)
    }
}
