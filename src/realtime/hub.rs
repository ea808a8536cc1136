//! The in-process event hub: chat code publishes what happened (a message saved or edited, a user's rooms
//! changed, someone typing) and every realtime connection receives it and filters by its own
//! subscriptions and access. Events carry their payloads already rendered in the DDP form, so a message
//! is serialised once however many sockets receive it. A later multi-node setup forwards these events
//! between nodes (PostgreSQL LISTEN/NOTIFY) behind the same `publish`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

/// The part of a room an event needs for filtering and for `__my_messages__` metadata.
#[derive(Clone, Debug)]
pub struct RoomBrief {
    pub id: String,
    pub t: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Event {
    /// A message was inserted or changed; `message` is the EJSON rendering.
    Message {
        room: RoomBrief,
        message: Arc<Value>,
        sender: String,
    },
    /// `stream-notify-user` `<uid>/<event>`.
    NotifyUser {
        uid: String,
        event: String,
        args: Arc<Value>,
    },
    /// `stream-notify-room` `<rid>/<event>`; `origin` is the connection that caused it, which does not get
    /// its own event back.
    NotifyRoom {
        rid: String,
        event: String,
        args: Arc<Value>,
        origin: Option<u64>,
    },
}

pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
    /// Source of realtime connection ids (the `origin` of [`Event::NotifyRoom`]); per hub rather than a
    /// process-wide static so that several servers in one process (tests) stay independent.
    next_connection: AtomicU64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        // A connection that falls this far behind misses events (it is told so and closes), rather than
        // holding memory for everyone.
        let (tx, _) = broadcast::channel(4096);
        Hub {
            tx,
            next_connection: AtomicU64::new(1),
        }
    }

    pub fn publish(&self, event: Event) {
        // No receivers is normal: nobody is connected.
        let _ = self.tx.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// A fresh id for a realtime connection, unique within this hub.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }
}
