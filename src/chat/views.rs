//! Read-only views of the domain for clients that show whole screens rather than answer one API call (the
//! web UI): a user's sidebar, a room they may read, its recent messages, and the administration listings.
//! Each check here is the same one the REST API applies, so the UI never shows more than the API would.

use super::Chat;
use crate::error::{Error, Result};
use crate::model::{Message, Room, Subscription, User};
use crate::store::{MessageFilter, Page, RoomFilter, RoomSort};
use crate::util::now_ms;

impl Chat {
    /// The rooms a user is subscribed to, with their subscriptions (for the display name of DMs and the
    /// unread count), in subscription order.
    pub async fn subscribed_rooms(&self, user: &User) -> Result<Vec<(Room, Subscription)>> {
        let subs = self.store.subscriptions_of_user(&user.id, None).await?;
        let rooms = self.store.rooms_of_user(&user.id, None).await?;
        Ok(subs
            .into_iter()
            .filter_map(|s| {
                let room = rooms.iter().find(|r| r.id == s.rid)?.clone();
                Some((room, s))
            })
            .collect())
    }

    /// Public channels a user may preview (`view-c-room`) without being a member, up to `limit`.
    pub async fn browsable_channels(&self, user: &User, limit: i64) -> Result<Vec<Room>> {
        if !self.perms.has(user, "view-c-room") {
            return Ok(vec![]);
        }
        let filter = RoomFilter {
            types: vec!["c"],
            ..Default::default()
        };
        let page = Page {
            offset: 0,
            count: limit,
        };
        let (rooms, _) = self
            .store
            .list_rooms(&filter, page, RoomSort::NameAsc)
            .await?;
        Ok(rooms)
    }

    /// A room by id that `user` may read; a room they may not read is reported as not found, so its
    /// existence is not revealed.
    pub async fn readable_room(&self, user: &User, rid: &str) -> Result<Room> {
        let room = self.store.room_by_id(rid).await?.ok_or(Error::NotFound)?;
        if !self.can_access(user, &room).await? {
            return Err(Error::NotFound);
        }
        Ok(room)
    }

    /// The user's subscription to a room, if any.
    pub async fn subscription_of(&self, user: &User, rid: &str) -> Result<Option<Subscription>> {
        Ok(self.store.subscription(rid, &user.id).await?)
    }

    /// The newest `count` messages of a readable room (thread replies included), oldest first.
    pub async fn recent_messages(
        &self,
        user: &User,
        room: &Room,
        count: i64,
    ) -> Result<Vec<Message>> {
        let filter = MessageFilter {
            rid: room.id.clone(),
            latest: Some(now_ms() + 1),
            threads: true,
            ..Default::default()
        };
        let page = Page { offset: 0, count };
        let (mut msgs, _) = self.history(user, room, filter, page).await?;
        msgs.reverse();
        Ok(msgs)
    }

    /// The page of a readable room's messages before the oldest one a client shows, oldest first, and
    /// whether there are older ones still. The client names the oldest timestamp it shows (`before`) and the
    /// ids it shows at exactly that timestamp: messages can share a millisecond (the group commit stores
    /// many at once), so paging on the timestamp alone would skip or repeat some of them. Those ids are the
    /// newest at that timestamp (ties are ordered by insertion), so reading inclusively from `before` and
    /// leaving them out yields exactly the older ones.
    pub async fn messages_before(
        &self,
        user: &User,
        room: &Room,
        before: i64,
        shown_at_before: &[String],
        count: i64,
    ) -> Result<(Vec<Message>, bool)> {
        let filter = MessageFilter {
            rid: room.id.clone(),
            latest: Some(before),
            inclusive: true,
            threads: true,
            ..Default::default()
        };
        let skip = shown_at_before.len() as i64;
        let page = Page {
            offset: 0,
            count: count + skip,
        };
        let (msgs, total) = self.history(user, room, filter, page).await?;
        let fetched = msgs.len();
        let mut older: Vec<Message> = msgs
            .into_iter()
            .filter(|m| !shown_at_before.contains(&m.id))
            .collect();
        let excluded = (fetched - older.len()) as i64;
        older.truncate(count.max(0) as usize);
        let more = total - excluded > older.len() as i64;
        older.reverse();
        Ok((older, more))
    }

    /// Messages of a readable room newer than `after` (milliseconds), oldest first: what a client that
    /// cannot hold a realtime connection polls for.
    pub async fn messages_after(
        &self,
        user: &User,
        room: &Room,
        after: i64,
        count: i64,
    ) -> Result<Vec<Message>> {
        let filter = MessageFilter {
            rid: room.id.clone(),
            oldest: Some(after),
            threads: true,
            ascending: true,
            ..Default::default()
        };
        let page = Page { offset: 0, count };
        Ok(self.history(user, room, filter, page).await?.0)
    }

    /// One message of a readable room.
    pub async fn readable_message(&self, user: &User, room: &Room, id: &str) -> Result<Message> {
        if !self.can_access(user, room).await? {
            return Err(Error::NotFound);
        }
        self.message_in_room(&room.id, id).await
    }

    /// Users for the user administration (`view-user-administration`), by username.
    pub async fn admin_users(
        &self,
        actor: &User,
        page: Page,
        filter: Option<&str>,
    ) -> Result<(Vec<User>, i64)> {
        if !self.perms.has(actor, "view-user-administration") {
            return Err(Error::RouteForbidden);
        }
        Ok(self.store.list_users(page, filter, false).await?)
    }

    /// A user for the user administration.
    pub async fn admin_user(&self, actor: &User, id: &str) -> Result<User> {
        if !self.perms.has(actor, "view-user-administration") {
            return Err(Error::RouteForbidden);
        }
        self.store.user_by_id(id).await?.ok_or(Error::NotFound)
    }

    /// Every room, of every type, for the room administration (`view-room-administration`).
    pub async fn admin_rooms(
        &self,
        actor: &User,
        page: Page,
        filter: Option<&str>,
    ) -> Result<(Vec<Room>, i64)> {
        if !self.perms.has(actor, "view-room-administration") {
            return Err(Error::RouteForbidden);
        }
        let filter = RoomFilter {
            name_contains: filter.map(str::to_string),
            ..Default::default()
        };
        Ok(self
            .store
            .list_rooms(&filter, page, RoomSort::NameAsc)
            .await?)
    }

    /// A room and its members for the room administration.
    pub async fn admin_room(
        &self,
        actor: &User,
        rid: &str,
        page: Page,
    ) -> Result<(Room, Vec<User>, i64)> {
        if !self.perms.has(actor, "view-room-administration") {
            return Err(Error::RouteForbidden);
        }
        let room = self.store.room_by_id(rid).await?.ok_or(Error::NotFound)?;
        let (members, total) = self.store.members(rid, page, None).await?;
        Ok((room, members, total))
    }

    /// The role ids known to the server, for role pickers.
    pub async fn role_ids(&self) -> Result<Vec<String>> {
        Ok(self
            .store
            .roles()
            .await?
            .into_iter()
            .filter(|r| r.scope == "Users")
            .map(|r| r.id)
            .collect())
    }
}
