//! The chat domain: users and login, rooms and memberships, messages, permissions. Everything here works on
//! the [`Store`] and publishes to the realtime [`Hub`]; nothing here knows about HTTP.

pub mod messages;
pub mod permissions;
pub mod rooms;
pub mod users;
pub mod views;

use crate::realtime::hub::Hub;
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

/// The chat service: storage, the permission table, and the realtime hub.
pub struct Chat {
    pub store: Store,
    pub perms: PermissionCache,
    pub hub: Hub,
    pub settings: Settings,
}

impl Chat {
    pub fn new(store: Store, settings: Settings) -> Chat {
        Chat {
            store,
            perms: PermissionCache::default(),
            hub: Hub::new(),
            settings,
        }
    }
}
