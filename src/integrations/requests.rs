//! The recorded requests of incoming hooks (the "what arrived" inspector). Recordings are a debugging aid
//! kept to the newest N per hook, so they are not written one per request: each hook's newest recordings
//! wait here and are written together at most every [`FLUSH_EVERY`] (and before every read, and on
//! shutdown). A hook hit ten thousand times a second writes its last N requests twice a second instead of
//! ten thousand rows it would prune again at once. A crash loses at most the last interval's recordings —
//! never a message: messages are committed before their hook call is answered.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::incoming::{complete_record, HookCall};
use crate::model::HookRequest;
use crate::store::batch::{BatchWriter, WriteOp};
use crate::store::DbResult;

/// How long a recording may wait before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);

pub struct RequestLog {
    keep: usize,
    writer: BatchWriter,
    /// Per integration: recordings not yet written, oldest first, at most `keep`, each with the call it
    /// records (turned into the record's request parts only when written).
    pending: Mutex<HashMap<String, VecDeque<(HookRequest, HookCall)>>>,
}

impl RequestLog {
    pub fn new(keep: usize, writer: BatchWriter) -> RequestLog {
        RequestLog {
            keep,
            writer,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `r` for the next write; older unwritten recordings beyond the limit are dropped here, as the
    /// store would prune them anyway.
    pub fn record(&self, r: HookRequest, call: HookCall) {
        if self.keep == 0 {
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        // Looked up before inserting, so a busy hook's id is not copied for every call.
        let queue = match pending.get_mut(&call.integration_id) {
            Some(q) => q,
            None => pending.entry(call.integration_id.clone()).or_default(),
        };
        queue.push_back((r, call));
        while queue.len() > self.keep {
            queue.pop_front();
        }
    }

    /// Writes every pending recording and waits until they are stored.
    pub async fn flush(&self) -> DbResult<()> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if taken.is_empty() {
            return Ok(());
        }
        let ops = taken
            .into_values()
            .flatten()
            .map(|(mut r, call)| {
                complete_record(&mut r, call);
                WriteOp::HookRequest(Box::new(r))
            })
            .collect();
        self.writer.write(ops).await
    }

    /// Forgets the unwritten recordings of one integration (its history is being cleared).
    pub fn forget(&self, integration_id: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(integration_id);
    }

    /// Writes pending recordings every [`FLUSH_EVERY`] until `stop` turns true, then once more.
    pub fn spawn_flusher(
        self: Arc<Self>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                if let Err(e) = self.flush().await {
                    tracing::warn!(error = %e, "writing recorded hook requests failed");
                }
            }
            if let Err(e) = self.flush().await {
                tracing::warn!(error = %e, "writing recorded hook requests failed");
            }
        })
    }
}
