//! Group commit. Writers on the hot path (webhook posts, chat messages) hand their writes to one task that
//! gathers whatever has queued up while the previous transaction was committing and commits it all at once.
//! Each caller is answered only after its writes are durable, so "answered 200" still means "stored", but
//! many concurrent requests share one commit — the commit, not the script or the HTTP parsing, is what
//! limits a naive one-commit-per-request pipeline.

use tokio::sync::{mpsc, oneshot};

use super::{DbError, DbResult, Store};
use crate::model::{DeliveryJob, HookRequest, Message, OutgoingHistory};

/// One write the batcher can apply.
#[derive(Clone, Debug)]
pub enum WriteOp {
    Message(Box<Message>),
    HookRequest(Box<HookRequest>),
    /// A new outgoing delivery job; written with the message that caused it, in the same transaction.
    Job(Box<DeliveryJob>),
    /// A finished job (delivered, or failed for good): removed from the queue.
    JobDone(String),
    /// A job to try again at `due_at`.
    JobRetry {
        id: String,
        due_at: i64,
    },
    /// One attempt's history record (inserted, or replaced when the id exists).
    History(Box<OutgoingHistory>),
}

struct Job {
    ops: Vec<WriteOp>,
    /// Where the result goes; `None` for writes nobody waits for (request recordings).
    done: Option<oneshot::Sender<DbResult<()>>>,
}

/// The handle callers use; cheap to clone.
#[derive(Clone)]
pub struct BatchWriter {
    tx: mpsc::UnboundedSender<Job>,
}

/// The most jobs folded into one transaction, so one commit never holds the writer for long.
const MAX_BATCH: usize = 512;

impl BatchWriter {
    /// Starts the writer task. `keep_requests` is how many recorded requests each hook keeps.
    pub fn spawn(store: Store, keep_requests: i64) -> BatchWriter {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let ops: Vec<&WriteOp> = jobs.iter().flat_map(|j| j.ops.iter()).collect();
                let started = std::time::Instant::now();
                let result = store.apply_writes(&ops, keep_requests).await;
                tracing::debug!(
                    jobs = jobs.len(),
                    ops = ops.len(),
                    micros = started.elapsed().as_micros() as u64,
                    "group commit"
                );
                match result {
                    Ok(()) => {
                        for j in jobs {
                            if let Some(done) = j.done {
                                let _ = done.send(Ok(()));
                            }
                        }
                    }
                    // One bad write (say, a duplicate id) must not fail its neighbours: retry one by one.
                    Err(_) if jobs.len() > 1 => {
                        for j in jobs {
                            let ops: Vec<&WriteOp> = j.ops.iter().collect();
                            let r = store.apply_writes(&ops, keep_requests).await;
                            if let Err(e) = &r {
                                if j.done.is_none() {
                                    tracing::warn!(error = %e, "recording a hook request failed");
                                }
                            }
                            if let Some(done) = j.done {
                                let _ = done.send(r);
                            }
                        }
                    }
                    Err(e) => {
                        for j in jobs {
                            match j.done {
                                Some(done) => {
                                    let _ = done.send(Err(DbError::Other(e.to_string())));
                                }
                                None => {
                                    tracing::warn!(error = %e, "recording a hook request failed")
                                }
                            }
                        }
                    }
                }
            }
        });
        BatchWriter { tx }
    }

    /// Writes `ops` in the next group commit and waits until they are durable.
    pub async fn write(&self, ops: Vec<WriteOp>) -> DbResult<()> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Job {
                ops,
                done: Some(done),
            })
            .map_err(|_| DbError::Other("the writer has stopped".into()))?;
        rx.await
            .map_err(|_| DbError::Other("the writer has stopped".into()))?
    }

    /// Queues `ops` for the next group commit without waiting (for records whose loss on a crash is
    /// acceptable, such as request recordings).
    pub fn submit(&self, ops: Vec<WriteOp>) {
        let _ = self.tx.send(Job { ops, done: None });
    }
}
