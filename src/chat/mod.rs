//! The chat domain: users and login, rooms and memberships, messages, permissions. Everything here works on
//! the [`Store`] and publishes to the realtime [`Hub`]; nothing here knows about HTTP.

pub mod messages;
pub mod permissions;
pub mod reactions;
pub mod rooms;
pub mod users;
pub mod views;

use crate::realtime::hub::Hub;
use crate::store::batch::BatchWriter;
use crate::store::Store;
use permissions::PermissionCache;

/// Rocket.Chat settings this server honours, with Rocket.Chat's defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    pub site_url: String,
    pub login_expiration_ms: i64,
    /// `Message_MaxAllowedSize`.
    pub max_message_size: usize,
    /// `Message_AllowEditing`, `Message_AllowDeleting`.
    pub allow_editing: bool,
    pub allow_deleting: bool,
}

/// The chat service: storage, the group-commit writer, the permission table, and the realtime hub.
pub struct Chat {
    pub store: Store,
    /// Resolved message destinations for the webhook hot path (see [`TargetCache`]).
    pub targets: TargetCache,
    /// Group commit for messages and request recordings (see [`crate::store::batch`]).
    pub writer: BatchWriter,
    pub perms: PermissionCache,
    pub hub: Hub,
    pub settings: Settings,
    /// Which outgoing integrations an event fires; consulted when writing the event, so its delivery jobs
    /// commit with it (see [`crate::integrations::outgoing`]).
    pub outgoing: std::sync::Arc<crate::integrations::outgoing::Registry>,
}

impl Chat {
    /// Tells this node's delivery workers that jobs were committed (a no-op when there were none).
    pub fn jobs_written(&self, n: usize) {
        if n > 0 {
            self.outgoing.wake.notify_one();
        }
    }

    /// Must be called inside the Tokio runtime: it starts the batch writer task. `keep_requests` is how
    /// many recorded requests each incoming hook keeps.
    pub fn new(store: Store, settings: Settings, keep_requests: i64) -> Chat {
        let writer = BatchWriter::spawn(store.clone(), keep_requests);
        Chat {
            store,
            targets: TargetCache::default(),
            writer,
            perms: PermissionCache::default(),
            hub: Hub::new(),
            outgoing: std::sync::Arc::new(crate::integrations::outgoing::Registry::new(
                settings.site_url.clone(),
            )),
            settings,
        }
    }
}

/// Caches where a (poster, target) pair posts to — the room and the poster's membership — so a busy webhook
/// resolves its destination once instead of on every call. Any local change to rooms, memberships, users or
/// permissions empties it at once (a generation counter); entries also expire after [`TARGET_TTL`], which
/// bounds staleness when another node made the change.
#[derive(Default)]
pub struct TargetCache {
    generation: std::sync::atomic::AtomicU64,
    /// By user id, then target: looked up with borrowed keys on every hook call.
    map: std::sync::Mutex<
        std::collections::HashMap<String, std::collections::HashMap<String, CachedTarget>>,
    >,
}

/// How long a resolved destination may be reused.
pub const TARGET_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Destinations cached before the cache is emptied and starts over.
const TARGET_CACHE_MAX: usize = 10_000;

type CachedTarget = (u64, std::time::Instant, messages::Destination);

impl TargetCache {
    pub fn get(&self, uid: &str, target: &str) -> Option<messages::Destination> {
        let gen = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let map = self.map.lock().expect("target cache poisoned");
        match map.get(uid).and_then(|targets| targets.get(target)) {
            Some((g, at, d)) if *g == gen && at.elapsed() < TARGET_TTL => Some(d.clone()),
            _ => None,
        }
    }

    /// Stores a destination resolved under generation `gen` (read before resolving, so a change made
    /// meanwhile is not hidden).
    pub fn put(&self, gen: u64, uid: &str, target: &str, d: messages::Destination) {
        let mut map = self.map.lock().expect("target cache poisoned");
        if map.values().map(|t| t.len()).sum::<usize>() >= TARGET_CACHE_MAX {
            map.clear();
        }
        map.entry(uid.to_string())
            .or_default()
            .insert(target.to_string(), (gen, std::time::Instant::now(), d));
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Forgets everything: called on every change to rooms, memberships, users or permissions.
    pub fn invalidate(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}
