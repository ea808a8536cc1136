//! Group commit. Writers on the hot path (webhook posts, chat messages) hand their writes to one gatherer
//! that collects whatever has queued up while the previous transaction was committing and commits it all at
//! once. Each caller is answered only after its writes are durable, so "answered 200" still means "stored",
//! but many concurrent requests share one commit — the commit, not the script or the HTTP parsing, is what
//! limits a naive one-commit-per-request pipeline.
//!
//! Where the gathering happens is the backend's choice. SQLite's writer thread gathers jobs itself (see
//! [`super::sqlite`]): a job then crosses one thread boundary on its way in and is answered straight from
//! that thread. Other backends get a gathering task here that applies each group with
//! [`Store::apply_writes`].

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{DbError, DbResult, HistoryRow, MessageRow, Store};
use crate::model::{DeliveryJob, HookRequest};

/// One write the batcher can apply.
#[derive(Clone, Debug)]
pub enum WriteOp {
    Message(Box<MessageRow>),
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
    History(Box<HistoryRow>),
}

/// How a job's writes went, and the writes themselves, handed back to be freed by the thread that made them.
type Outcome = (DbResult<()>, Vec<WriteOp>);

/// One caller's writes and where their outcome goes.
pub struct Job {
    pub ops: Vec<WriteOp>,
    /// `None` for writes nobody waits for (request recordings).
    done: Option<oneshot::Sender<Outcome>>,
}

impl Job {
    /// Tells the caller how its writes went (or logs a failure nobody waits for).
    ///
    /// The writes go back with the answer. The allocator keeps each thread's memory to itself, and memory
    /// freed by another thread costs both threads more (the freeing thread queues it to the owner, which
    /// must collect it before reuse, each touching the other's cache lines): measured in a profile of the
    /// hook routes, the allocator was the largest single item of the HTTP workers' time.
    pub fn answer(self, result: DbResult<()>) {
        match self.done {
            Some(done) => {
                let _ = done.send((result, self.ops));
            }
            None => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "recording a hook request failed");
                }
            }
        }
    }
}

/// Takes a job for the next group commit; gives it back when the gatherer has stopped.
pub type Sink = Arc<dyn Fn(Job) -> Result<(), Job> + Send + Sync>;

/// The most jobs folded into one transaction, so one commit never holds the writer for long.
pub const MAX_BATCH: usize = 512;

/// Every write of a group, in order.
fn all_ops(jobs: &[Job]) -> Vec<&WriteOp> {
    jobs.iter().flat_map(|j| j.ops.iter()).collect()
}

/// Answers a group after its one transaction ran. When that failed and the group held more than one job,
/// the jobs come back to be applied one at a time: one bad write (say, a duplicate id) must not fail its
/// neighbours.
fn settle(jobs: Vec<Job>, result: DbResult<()>, started: std::time::Instant) -> Vec<Job> {
    tracing::debug!(
        jobs = jobs.len(),
        micros = started.elapsed().as_micros() as u64,
        "group commit"
    );
    match result {
        Ok(()) => {
            jobs.into_iter().for_each(|j| j.answer(Ok(())));
            Vec::new()
        }
        Err(_) if jobs.len() > 1 => jobs,
        Err(e) => {
            jobs.into_iter()
                .for_each(|j| j.answer(Err(DbError::Other(e.to_string()))));
            Vec::new()
        }
    }
}

/// Applies a group with `apply` (see [`settle`]) and answers its jobs.
pub fn run_group(jobs: Vec<Job>, mut apply: impl FnMut(&[&WriteOp]) -> DbResult<()>) {
    let started = std::time::Instant::now();
    let result = apply(&all_ops(&jobs));
    for j in settle(jobs, result, started) {
        let r = apply(&all_ops(std::slice::from_ref(&j)));
        j.answer(r);
    }
}

/// The handle callers use; cheap to clone.
#[derive(Clone)]
pub struct BatchWriter {
    sink: Sink,
}

impl BatchWriter {
    /// Starts gathering group commits for `store`. `keep_requests` is how many recorded requests each hook
    /// keeps. Must be called inside the Tokio runtime (a backend without a gatherer of its own gets a task).
    pub fn spawn(store: Store, keep_requests: i64) -> BatchWriter {
        if let Some(sink) = store.group_sink(keep_requests) {
            return BatchWriter { sink };
        }
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
                let started = std::time::Instant::now();
                let result = store.apply_writes(&all_ops(&jobs), keep_requests).await;
                for j in settle(jobs, result, started) {
                    let r = store
                        .apply_writes(&all_ops(std::slice::from_ref(&j)), keep_requests)
                        .await;
                    j.answer(r);
                }
            }
        });
        BatchWriter {
            sink: Arc::new(move |job| tx.send(job).map_err(|e| e.0)),
        }
    }

    /// Writes `ops` in the next group commit and waits until they are durable.
    pub async fn write(&self, ops: Vec<WriteOp>) -> DbResult<()> {
        let (done, rx) = oneshot::channel();
        (self.sink)(Job {
            ops,
            done: Some(done),
        })
        .map_err(|_| DbError::Other("the writer has stopped".into()))?;
        let (result, ops) = rx
            .await
            .map_err(|_| DbError::Other("the writer has stopped".into()))?;
        drop(ops);
        result
    }

    /// Queues `ops` for the next group commit without waiting (for records whose loss on a crash is
    /// acceptable, such as request recordings).
    pub fn submit(&self, ops: Vec<WriteOp>) {
        let _ = (self.sink)(Job { ops, done: None });
    }
}
