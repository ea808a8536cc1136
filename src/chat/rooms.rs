//! Rooms — public channels (`c`), private groups (`p`), direct messages (`d`) — their lookup and access
//! rules, membership changes, and the realtime notifications those produce.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::users::new_subscription;
use super::Chat;
use crate::error::{Error, Result};
use crate::model::{Message, Room, Subscription, User};
use crate::realtime::hub::{Event, RoomBrief};
use crate::util::{new_id, now_ms, DateStyle};

/// Deleted documents as `{_id, _deletedAt}`.
fn removed_json(removed: Vec<(String, i64)>, style: DateStyle) -> Vec<Value> {
    removed
        .into_iter()
        .map(|(id, at)| json!({ "_id": id, "_deletedAt": style.date(at) }))
        .collect()
}

/// Valid room names, as Rocket.Chat's default `UTF8_Channel_Names_Validation`.
pub fn valid_room_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The two kinds of named rooms, which share their whole API but differ in words and rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomKind {
    Channel,
    Group,
}

impl RoomKind {
    pub fn t(self) -> &'static str {
        match self {
            RoomKind::Channel => "c",
            RoomKind::Group => "p",
        }
    }
    /// "channel" / "group" as used in "does not match any …".
    pub fn noun(self) -> &'static str {
        match self {
            RoomKind::Channel => "channel",
            RoomKind::Group => "group",
        }
    }
    /// "The channel, X, is archived" / "The private group, X, is archived".
    pub fn archived_noun(self) -> &'static str {
        match self {
            RoomKind::Channel => "channel",
            RoomKind::Group => "private group",
        }
    }
    pub fn create_permission(self) -> &'static str {
        match self {
            RoomKind::Channel => "create-c",
            RoomKind::Group => "create-p",
        }
    }
    pub fn delete_permission(self) -> &'static str {
        match self {
            RoomKind::Channel => "delete-c",
            RoomKind::Group => "delete-p",
        }
    }
}

pub fn room_not_found(kind: RoomKind) -> Error {
    Error::meteor(
        "error-room-not-found",
        format!(
            "The required \"roomId\" or \"roomName\" param provided does not match any {}",
            kind.noun()
        ),
    )
}

pub fn archived_error(kind: RoomKind, room: &Room) -> Error {
    Error::meteor(
        "error-room-archived",
        format!(
            "The {}, {}, is archived",
            kind.archived_noun(),
            room.display_name()
        ),
    )
}

/// Options of `channels.create` / `groups.create`.
#[derive(Clone, Debug, Default)]
pub struct NewRoom {
    pub name: String,
    pub members: Vec<String>,
    pub read_only: bool,
    pub exclude_self: bool,
}

impl Chat {
    /// Whether `user` may read `room` (and so receive its messages): any public channel with `view-c-room`,
    /// otherwise only rooms the user is a member of.
    pub async fn can_access(&self, user: &User, room: &Room) -> Result<bool> {
        if room.t == "c" && self.perms.has(user, "view-c-room") {
            return Ok(true);
        }
        Ok(self.store.subscription(&room.id, &user.id).await?.is_some())
    }

    /// `channels.*` / `groups.*` room lookup by `roomId` or `roomName` with Rocket.Chat's errors. Private
    /// groups are only found by their members: a group never reveals that it exists.
    pub async fn find_named_room(
        &self,
        kind: RoomKind,
        user: &User,
        room_id: Option<&str>,
        room_name: Option<&str>,
    ) -> Result<Room> {
        let room = match (room_id, room_name) {
            (Some(id), _) if !id.is_empty() => self.store.room_by_id(id).await?,
            (_, Some(name)) if !name.is_empty() => {
                self.store
                    .room_by_name(name.trim_start_matches('#'))
                    .await?
            }
            _ => {
                return Err(Error::meteor(
                    "error-roomid-param-not-provided",
                    "The parameter \"roomId\" or \"roomName\" is required",
                ))
            }
        };
        let room = room
            .filter(|r| r.t == kind.t())
            .ok_or_else(|| room_not_found(kind))?;
        if kind == RoomKind::Group && self.store.subscription(&room.id, &user.id).await?.is_none() {
            return Err(room_not_found(kind));
        }
        Ok(room)
    }

    pub async fn create_named_room(
        &self,
        kind: RoomKind,
        owner: &User,
        n: NewRoom,
    ) -> Result<Room> {
        if !self.perms.has(owner, kind.create_permission()) {
            return Err(Error::unauthorized());
        }
        if !valid_room_name(&n.name) {
            return Err(Error::meteor_details(
                "error-invalid-room-name",
                format!("{} is not a valid room name", n.name),
                json!({ "channel_name": n.name }),
            ));
        }
        if self.store.room_by_name(&n.name).await?.is_some() {
            return Err(Error::meteor_details(
                "error-duplicate-channel-name",
                format!("A channel with name '{}' exists", n.name),
                json!({ "channel_name": n.name }),
            ));
        }
        let now = now_ms();
        let room = Room {
            id: new_id(),
            t: kind.t().into(),
            name: Some(n.name.clone()),
            fname: Some(n.name.clone()),
            u: Some(crate::model::UserRef {
                id: owner.id.clone(),
                username: owner.username.clone(),
                name: None,
            }),
            ts: now,
            updated_at: now,
            msgs: 0,
            users_count: 0,
            ro: n.read_only,
            archived: false,
            default: false,
            topic: None,
            lm: None,
            last_message: None,
            usernames: vec![],
            uids: vec![],
            extra: {
                let mut m = Map::new();
                m.insert("sysMes".into(), json!(true));
                m
            },
        };
        let mut members: Vec<User> = Vec::new();
        if !n.exclude_self {
            members.push(owner.clone());
        }
        for name in &n.members {
            if let Some(u) = self
                .store
                .user_by_username(name.trim_start_matches('@'))
                .await?
            {
                if !members.iter().any(|m| m.id == u.id) {
                    members.push(u);
                }
            }
        }
        let subs: Vec<Subscription> = members
            .iter()
            .map(|u| {
                new_subscription(
                    &room,
                    u,
                    if u.id == owner.id {
                        vec!["owner".into()]
                    } else {
                        vec![]
                    },
                    now,
                    None,
                )
            })
            .collect();
        let jobs = self.outgoing.room_created_jobs(&room, owner);
        match self
            .store
            .create_room_with_jobs(&room, &subs, &[], &jobs)
            .await
        {
            Ok(()) => self.jobs_written(jobs.len()),
            Err(crate::store::DbError::Unique(_)) => {
                return Err(Error::meteor_details(
                    "error-duplicate-channel-name",
                    format!("A channel with name '{}' exists", n.name),
                    json!({ "channel_name": n.name }),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        let room = self
            .store
            .room_by_id(&room.id)
            .await?
            .ok_or(Error::NotFound)?;
        for s in &subs {
            self.publish_subscription(s, "inserted");
            self.publish_room_to(&s.u.id, &room, "inserted");
        }
        Ok(room)
    }

    /// Joins a room by the user's own action (public channels only unless `force`).
    pub async fn join_room(&self, user: &User, room: &Room, check_archived: bool) -> Result<Room> {
        if check_archived && room.archived {
            return Err(archived_error(RoomKind::Channel, room));
        }
        if room.t != "c" {
            return Err(Error::not_allowed());
        }
        self.add_member(user, room, None, vec![]).await?;
        Ok(self
            .store
            .room_by_id(&room.id)
            .await?
            .unwrap_or_else(|| room.clone()))
    }

    pub async fn leave_room(&self, kind: RoomKind, user: &User, room: &Room) -> Result<Room> {
        if room.archived {
            return Err(archived_error(kind, room));
        }
        let Some(sub) = self.store.subscription(&room.id, &user.id).await? else {
            return Err(Error::meteor(
                "error-user-not-in-room",
                "You are not in this room",
            ));
        };
        if sub.roles.iter().any(|r| r == "owner")
            && self.count_owners(room).await? == 1
            && room.users_count > 1
        {
            return Err(Error::meteor(
                "error-you-are-last-owner",
                "You are the last owner. Please set new owner before leaving the room.",
            ));
        }
        let msg = Message::system(&room.id, "ul", &user.username, user, now_ms());
        let jobs = self.outgoing.room_user_jobs("roomLeft", room, user);
        if self
            .store
            .remove_member_with_jobs(&room.id, &user.id, Some(&msg), now_ms(), &jobs)
            .await?
        {
            self.jobs_written(jobs.len());
        }
        self.targets.invalidate();
        self.after_member_removed(room, &sub, &msg).await
    }

    async fn count_owners(&self, room: &Room) -> Result<usize> {
        let mut n = 0;
        for uid in self.store.member_ids(&room.id).await? {
            if let Some(s) = self.store.subscription(&room.id, &uid).await? {
                if s.roles.iter().any(|r| r == "owner") {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    async fn after_member_removed(
        &self,
        room: &Room,
        sub: &Subscription,
        msg: &Message,
    ) -> Result<Room> {
        let room = self
            .store
            .room_by_id(&room.id)
            .await?
            .unwrap_or_else(|| room.clone());
        self.publish_subscription(sub, "removed");
        self.publish_room_to(&sub.u.id, &room, "removed");
        self.publish_message(&room, msg);
        Ok(room)
    }

    /// Invites users; skips existing members. Needs `add-user-to-any-{c,p}-room`, or membership plus
    /// `add-user-to-joined-room`.
    pub async fn invite(
        &self,
        kind: RoomKind,
        actor: &User,
        room: &Room,
        users: &[User],
    ) -> Result<()> {
        if room.archived {
            return Err(archived_error(kind, room));
        }
        let sub = self.store.subscription(&room.id, &actor.id).await?;
        let any = match kind {
            RoomKind::Channel => "add-user-to-any-c-room",
            RoomKind::Group => "add-user-to-any-p-room",
        };
        let allowed = self.perms.has(actor, any)
            || (sub.is_some()
                && self
                    .perms
                    .has_in_room(actor, "add-user-to-joined-room", sub.as_ref()));
        if !allowed {
            return Err(Error::not_allowed());
        }
        for u in users {
            self.add_member(u, room, Some(actor), vec![]).await?;
        }
        Ok(())
    }

    pub async fn kick(
        &self,
        kind: RoomKind,
        actor: &User,
        room: &Room,
        target: &User,
    ) -> Result<()> {
        if room.archived {
            return Err(archived_error(kind, room));
        }
        let actor_sub = self.store.subscription(&room.id, &actor.id).await?;
        if !self
            .perms
            .has_in_room(actor, "remove-user", actor_sub.as_ref())
        {
            return Err(Error::not_allowed());
        }
        let Some(sub) = self.store.subscription(&room.id, &target.id).await? else {
            return Err(Error::meteor(
                "error-user-not-in-room",
                "User is not in this room",
            ));
        };
        let msg = Message::system(&room.id, "ru", &target.username, actor, now_ms());
        let jobs = self.outgoing.room_user_jobs("roomLeft", room, target);
        if self
            .store
            .remove_member_with_jobs(&room.id, &target.id, Some(&msg), now_ms(), &jobs)
            .await?
        {
            self.jobs_written(jobs.len());
        }
        self.targets.invalidate();
        self.after_member_removed(room, &sub, &msg).await?;
        Ok(())
    }

    pub async fn set_topic(
        &self,
        kind: RoomKind,
        actor: &User,
        room: &Room,
        topic: &str,
    ) -> Result<String> {
        if room.archived {
            return Err(archived_error(kind, room));
        }
        let sub = self.store.subscription(&room.id, &actor.id).await?;
        if !self.perms.has_in_room(actor, "edit-room", sub.as_ref()) {
            return Err(Error::meteor(
                "error-action-not-allowed",
                "Editing room is not allowed",
            ));
        }
        if kind == RoomKind::Channel && room.topic.as_deref().unwrap_or("") == topic {
            return Err(Error::failure(
                "The channel topic is the same as what it would be changed to.",
            ));
        }
        let mut room = room.clone();
        room.topic = if topic.is_empty() {
            None
        } else {
            Some(topic.to_string())
        };
        room.updated_at = now_ms();
        self.store.update_room(&room, None).await?;
        self.targets.invalidate();
        let msg = Message::system(&room.id, "room_changed_topic", topic, actor, now_ms());
        self.store
            .insert_messages(std::slice::from_ref(&msg))
            .await?;
        self.publish_message(&room, &msg);
        self.notify_room_changed(&room, "updated").await;
        Ok(topic.to_string())
    }

    pub async fn set_archived(
        &self,
        kind: RoomKind,
        actor: &User,
        room: &Room,
        archived: bool,
    ) -> Result<()> {
        let sub = self.store.subscription(&room.id, &actor.id).await?;
        let perm = if archived {
            "archive-room"
        } else {
            "unarchive-room"
        };
        if !self.perms.has_in_room(actor, perm, sub.as_ref()) {
            return Err(Error::meteor("error-not-authorized", "Not authorized"));
        }
        if archived && room.archived {
            return Err(archived_error(kind, room));
        }
        if !archived && !room.archived && kind == RoomKind::Channel {
            return Err(Error::failure(format!(
                "The channel, {}, is not archived",
                room.display_name()
            )));
        }
        let mut room = room.clone();
        room.archived = archived;
        room.updated_at = now_ms();
        let jobs = if archived {
            self.outgoing.room_user_jobs("roomArchived", &room, actor)
        } else {
            vec![]
        };
        self.store
            .update_room_with_jobs(&room, Some(archived), &jobs)
            .await?;
        self.jobs_written(jobs.len());
        self.targets.invalidate();
        let t = if archived {
            "room-archived"
        } else {
            "room-unarchived"
        };
        let msg = Message::system(&room.id, t, "", actor, now_ms());
        self.store
            .insert_messages(std::slice::from_ref(&msg))
            .await?;
        self.publish_message(&room, &msg);
        self.notify_room_changed(&room, "updated").await;
        Ok(())
    }

    pub async fn delete_room(&self, kind: RoomKind, actor: &User, room: &Room) -> Result<()> {
        let sub = self.store.subscription(&room.id, &actor.id).await?;
        if !self
            .perms
            .has_in_room(actor, kind.delete_permission(), sub.as_ref())
        {
            return Err(Error::not_allowed());
        }
        let subs = self.store.delete_room(&room.id, now_ms()).await?;
        self.targets.invalidate();
        for s in &subs {
            self.publish_subscription(s, "removed");
            self.publish_room_to(&s.u.id, room, "removed");
        }
        Ok(())
    }

    /// The 1:1 (or self) direct-message room between `me` and `other`, created when missing. Its id is the
    /// participants' ids concatenated in sorted order, as Rocket.Chat makes it.
    pub async fn direct_room(&self, me: &User, other: &User) -> Result<Room> {
        let mut users = vec![me.clone()];
        if other.id != me.id {
            users.push(other.clone());
        }
        users.sort_by(|a, b| a.id.cmp(&b.id));
        let rid: String = users.iter().map(|u| u.id.as_str()).collect();
        if let Some(room) = self.store.room_by_id(&rid).await? {
            return Ok(room);
        }
        if !self.perms.has(me, "create-d") {
            return Err(Error::not_allowed());
        }
        let now = now_ms();
        let mut usernames: Vec<String> = users.iter().map(|u| u.username.clone()).collect();
        usernames.sort();
        let room = Room {
            id: rid.clone(),
            t: "d".into(),
            name: None,
            fname: None,
            u: None,
            ts: now,
            updated_at: now,
            msgs: 0,
            users_count: 0,
            ro: false,
            archived: false,
            default: false,
            topic: None,
            lm: None,
            last_message: None,
            usernames,
            uids: users.iter().map(|u| u.id.clone()).collect(),
            extra: Map::new(),
        };
        let subs: Vec<Subscription> = users
            .iter()
            .map(|u| {
                let partner = users.iter().find(|o| o.id != u.id).unwrap_or(u);
                new_subscription(&room, u, vec![], now, Some(partner))
            })
            .collect();
        match self.store.create_room(&room, &subs, &[]).await {
            Ok(()) => {}
            // Two concurrent first messages: the other request created it.
            Err(crate::store::DbError::Unique(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let room = self.store.room_by_id(&rid).await?.ok_or(Error::NotFound)?;
        for s in &subs {
            self.publish_subscription(s, "inserted");
            self.publish_room_to(&s.u.id, &room, "inserted");
        }
        Ok(room)
    }

    /// `rooms.get` / DDP `rooms/get`: the rooms `user` is in, rendered in `style`, and — when `since` is given
    /// — only those changed after it plus the rooms deleted since (`{_id, _deletedAt}`).
    pub async fn rooms_changed(
        &self,
        user: &User,
        since: Option<i64>,
        style: DateStyle,
    ) -> Result<(Vec<Value>, Vec<Value>)> {
        let rooms = self.store.rooms_of_user(&user.id, since).await?;
        let removed = match since {
            Some(s) => self.store.deleted_rooms_since(&user.id, s).await?,
            None => vec![],
        };
        Ok((
            rooms.iter().map(|r| r.render(style)).collect(),
            removed_json(removed, style),
        ))
    }

    /// `subscriptions.get` / DDP `subscriptions/get`, as [`Self::rooms_changed`] for subscriptions.
    pub async fn subscriptions_changed(
        &self,
        user: &User,
        since: Option<i64>,
        style: DateStyle,
    ) -> Result<(Vec<Value>, Vec<Value>)> {
        let subs = self.store.subscriptions_of_user(&user.id, since).await?;
        let removed = match since {
            Some(s) => self.store.deleted_subscriptions_since(&user.id, s).await?,
            None => vec![],
        };
        Ok((
            subs.iter().map(|x| x.render(style)).collect(),
            removed_json(removed, style),
        ))
    }

    // ---- realtime notifications ---------------------------------------------------------------------------

    pub fn publish_message(&self, room: &Room, msg: &Message) {
        if !self.hub.has_listeners() {
            return;
        }
        self.hub.publish(Event::Message {
            room: RoomBrief {
                id: room.id.clone(),
                t: room.t.clone(),
                name: room.name.clone(),
            },
            message: Arc::new(msg.render(DateStyle::Ejson)),
            sender: msg.u.id.clone(),
        });
    }

    pub fn publish_room_to(&self, uid: &str, room: &Room, action: &str) {
        self.hub.publish(Event::NotifyUser {
            uid: uid.to_string(),
            event: "rooms-changed".into(),
            args: Arc::new(json!([action, room.render(DateStyle::Ejson)])),
        });
    }

    pub fn publish_subscription(&self, sub: &Subscription, action: &str) {
        self.hub.publish(Event::NotifyUser {
            uid: sub.u.id.clone(),
            event: "subscriptions-changed".into(),
            args: Arc::new(json!([action, sub.render(DateStyle::Ejson)])),
        });
    }

    /// Tells every member that the room changed.
    pub async fn notify_room_changed(&self, room: &Room, action: &str) {
        if let Ok(ids) = self.store.member_ids(&room.id).await {
            for uid in ids {
                self.publish_room_to(&uid, room, action);
            }
        }
    }
}
