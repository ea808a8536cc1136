//! Roles and permissions with Rocket.Chat's ids and default grants. Checks read an in-memory copy that is
//! loaded at start and replaced whenever `permissions.update` writes, so a permission check never costs a
//! query.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::model::{Permission, Role, Subscription, User};

/// Rocket.Chat's permission ids used by this server, with their default roles.
pub const DEFAULT_PERMISSIONS: &[(&str, &[&str])] = &[
    ("access-permissions", &["admin"]),
    ("add-user-to-any-c-room", &["admin"]),
    ("add-user-to-any-p-room", &[]),
    ("add-user-to-joined-room", &["admin", "owner", "moderator"]),
    ("archive-room", &["admin", "owner"]),
    ("assign-roles", &["admin"]),
    ("create-c", &["admin", "user", "bot", "app"]),
    ("create-d", &["admin", "user", "bot", "app"]),
    ("create-p", &["admin", "user", "bot", "app"]),
    ("create-personal-access-tokens", &["admin", "user"]),
    ("create-user", &["admin"]),
    ("delete-c", &["admin", "owner"]),
    ("delete-d", &["admin"]),
    ("delete-message", &["admin", "owner", "moderator"]),
    ("delete-own-message", &["admin", "user"]),
    ("delete-p", &["admin", "owner"]),
    ("delete-user", &["admin"]),
    ("edit-message", &["admin", "owner", "moderator"]),
    ("edit-other-user-active-status", &["admin"]),
    ("edit-other-user-info", &["admin"]),
    ("edit-other-user-password", &["admin"]),
    ("edit-room", &["admin", "owner", "moderator"]),
    ("force-delete-message", &["admin", "owner"]),
    ("manage-incoming-integrations", &["admin"]),
    ("manage-outgoing-integrations", &["admin"]),
    ("manage-own-incoming-integrations", &["admin"]),
    ("manage-own-outgoing-integrations", &["admin"]),
    ("message-impersonate", &["bot", "app"]),
    ("post-readonly", &["admin", "owner", "moderator"]),
    ("preview-c-room", &["admin", "user", "anonymous"]),
    ("remove-user", &["admin", "owner", "moderator"]),
    ("unarchive-room", &["admin"]),
    ("user-generate-access-token", &["admin"]),
    ("view-c-room", &["admin", "user", "bot", "app", "anonymous"]),
    ("view-d-room", &["admin", "user", "bot", "app", "guest"]),
    ("view-full-other-user-info", &["admin"]),
    ("view-joined-room", &["guest", "bot", "app", "anonymous"]),
    ("view-other-user-channels", &["admin"]),
    ("view-p-room", &["admin", "user", "anonymous", "guest"]),
    ("view-room-administration", &["admin"]),
    ("view-statistics", &["admin"]),
    ("view-user-administration", &["admin"]),
];

/// Rocket.Chat's built-in roles: (id, scope, description).
pub const DEFAULT_ROLES: &[(&str, &str, &str)] = &[
    ("admin", "Users", "Admin"),
    ("anonymous", "Users", "Anonymous"),
    ("app", "Users", "App"),
    ("bot", "Users", "Bot"),
    ("guest", "Users", "Guest"),
    ("leader", "Subscriptions", "Leader"),
    ("livechat-agent", "Users", "Livechat Agent"),
    ("livechat-manager", "Users", "Livechat Manager"),
    ("livechat-monitor", "Users", "Livechat Monitor"),
    ("moderator", "Subscriptions", "Moderator"),
    ("owner", "Subscriptions", "Owner"),
    ("user", "Users", "User"),
];

pub fn default_permissions(now: i64) -> Vec<Permission> {
    DEFAULT_PERMISSIONS
        .iter()
        .map(|(id, roles)| Permission {
            id: id.to_string(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            updated_at: now,
        })
        .collect()
}

pub fn default_roles() -> Vec<Role> {
    DEFAULT_ROLES
        .iter()
        .map(|(id, scope, description)| Role {
            id: id.to_string(),
            name: id.to_string(),
            description: description.to_string(),
            protected: true,
            scope: scope.to_string(),
            mandatory_2fa: false,
        })
        .collect()
}

/// The permission → roles table in memory.
#[derive(Default)]
pub struct PermissionCache {
    map: RwLock<HashMap<String, Vec<String>>>,
}

impl PermissionCache {
    pub fn replace(&self, perms: &[Permission]) {
        let map = perms
            .iter()
            .map(|p| (p.id.clone(), p.roles.clone()))
            .collect();
        *self.map.write().expect("permission cache poisoned") = map;
    }

    fn granted<'a>(&self, perm: &str, mut roles: impl Iterator<Item = &'a String>) -> bool {
        let map = self.map.read().expect("permission cache poisoned");
        match map.get(perm) {
            Some(allowed) => roles.any(|r| allowed.contains(r)),
            None => false,
        }
    }

    /// Whether the user's global roles grant `perm`.
    pub fn has(&self, user: &User, perm: &str) -> bool {
        self.granted(perm, user.roles.iter())
    }

    /// Whether the user's global roles, or their roles in a room (owner, moderator), grant `perm`.
    pub fn has_in_room(&self, user: &User, perm: &str, sub: Option<&Subscription>) -> bool {
        let room_roles = sub.map(|s| s.roles.as_slice()).unwrap_or(&[]);
        self.granted(perm, user.roles.iter().chain(room_roles.iter()))
    }

    pub fn has_any(&self, user: &User, perms: &[&str]) -> bool {
        perms.iter().any(|p| self.has(user, p))
    }

    pub fn is_role_known(roles: &[Role], role: &str) -> bool {
        roles.iter().any(|r| r.id == role)
    }
}
