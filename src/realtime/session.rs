//! One DDP session: the connection's login state, its subscriptions, the methods bots call, and the
//! filtering of hub events into `changed` frames.
//!
//! A session processes the messages of its connection strictly in order (the reader queues them) and hub
//! events in between. Event filtering never touches the database: access is checked when a subscription
//! starts, and membership — which decides whether a private room's events may be delivered — is kept in
//! `member_rooms`, loaded at login and then maintained from the user's own `subscriptions-changed` /
//! `rooms-changed` events, which the hub delivers in order with the messages they precede or follow. So a
//! user removed from a room stops getting its events from the very next event on.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, mpsc};

use super::ddp::Out;
use super::ejson::{self, EJson};
use super::errors::{Code, DdpError};
use super::hub::{Event, RoomBrief};
use crate::chat::Chat;
use crate::error::Error;
use crate::http::auth::login_credentials;
use crate::http::AppState;
use crate::model::{LoginToken, User};
use crate::store::{MessageFilter, Page};
use crate::util::{now_ms, DateStyle};

/// How long the session waits for room in a full outgoing queue before it gives the client up as stuck.
const SLOW_CLIENT: Duration = Duration::from_secs(10);

/// `loadHistory` never returns more than this many messages (DECISIONS 11: keep frames under 1 MiB).
const HISTORY_MAX: i64 = 100;

/// The event name of the "every message I can see" stream.
const MY_MESSAGES: &str = "__my_messages__";

type MethodResult = Result<Option<Value>, DdpError>;

/// What a subscription listens to.
#[derive(Clone, Debug)]
enum Target {
    /// `stream-room-messages` for one room; `public` rooms are readable without membership.
    RoomMessages { rid: String, public: bool },
    /// `stream-room-messages` `__my_messages__`.
    MyMessages,
    /// `stream-notify-user` `<uid>/<event>` for the logged-in user.
    NotifyUser { event: String },
    /// `stream-notify-room` `<rid>/<event>`.
    NotifyRoom { rid: String, event: String },
    /// Accepted, never fires (`meteor.loginServiceConfiguration`, `stream-notify-all`, …).
    Inert,
}

#[derive(Clone, Debug)]
struct Sub {
    id: String,
    /// The publication name, which is also the `collection` of its `changed` frames.
    name: String,
    /// The `eventName` as the client gave it.
    event: String,
    target: Target,
}

impl Sub {
    /// Subscriptions that only make sense for the user who made them; they end on logout or user change.
    fn user_bound(&self) -> bool {
        !matches!(self.target, Target::Inert)
    }
}

pub struct Session {
    state: AppState,
    conn_id: u64,
    out: mpsc::Sender<Out>,
    user: Option<User>,
    /// The token the session logged in with (to revoke on `logout`).
    token: Option<LoginToken>,
    /// Rooms the logged-in user is a member of.
    member_rooms: HashSet<String>,
    subs: Vec<Sub>,
    /// The client stopped reading; nothing more can be sent.
    dead: bool,
}

impl Session {
    pub fn new(state: AppState, conn_id: u64, out: mpsc::Sender<Out>) -> Session {
        Session {
            state,
            conn_id,
            out,
            user: None,
            token: None,
            member_rooms: HashSet::new(),
            subs: Vec::new(),
            dead: false,
        }
    }

    fn chat(&self) -> &Chat {
        &self.state.chat
    }

    /// Processes queued DDP messages and hub events until the reader closes the queue, the client is
    /// stuck, or the session fell too far behind the hub.
    pub async fn run(
        mut self,
        mut work: mpsc::Receiver<Value>,
        mut events: broadcast::Receiver<Arc<Event>>,
    ) {
        loop {
            tokio::select! {
                // Events first: filtering them is cheap and never waits on the database, and serving them
                // promptly is what keeps a busy connection from lagging behind the hub.
                biased;
                ev = events.recv() => match ev {
                    Ok(ev) => self.on_event(&ev).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(conn_id = self.conn_id, missed, "ddp connection fell behind the event hub; closing it");
                        let _ = self.out.try_send(Out::Close(1013, "too far behind, reconnect"));
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                msg = work.recv() => match msg {
                    Some(msg) => self.handle(msg).await,
                    None => return,
                },
            }
            if self.dead {
                return;
            }
        }
    }

    // ---- output ----------------------------------------------------------------------------------------

    async fn send(&mut self, frame: String) {
        if self.dead {
            return;
        }
        match self.out.try_send(Out::Msg(frame)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(m)) => {
                match tokio::time::timeout(SLOW_CLIENT, self.out.send(m)).await {
                    Ok(Ok(())) => {}
                    _ => self.dead = true,
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.dead = true,
        }
    }

    async fn send_value(&mut self, v: Value) {
        self.send(v.to_string()).await;
    }

    async fn protocol_error(&mut self, reason: &str, offending: Value) {
        self.send_value(json!({ "msg": "error", "reason": reason, "offendingMessage": offending }))
            .await;
    }

    // ---- incoming messages -----------------------------------------------------------------------------

    async fn handle(&mut self, msg: Value) {
        match msg.get("msg").and_then(Value::as_str) {
            Some("method") => self.method_frame(msg).await,
            Some("sub") => self.sub_frame(msg).await,
            Some("unsub") => {
                let id = msg.get("id").cloned().unwrap_or(Value::Null);
                if let Some(id) = id.as_str() {
                    self.subs.retain(|s| s.id != id);
                }
                // Meteor answers even for ids it never knew.
                self.send_value(json!({ "msg": "nosub", "id": id })).await;
            }
            _ => self.protocol_error("Bad request", msg).await,
        }
    }

    async fn method_frame(&mut self, msg: Value) {
        let id = msg.get("id").and_then(Value::as_str).map(str::to_string);
        let method = msg
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_string);
        let params = match msg.get("params") {
            None => Some(vec![]),
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => None,
        };
        let seed_ok = msg.get("randomSeed").is_none_or(Value::is_string);
        let (Some(id), Some(method), Some(params), true) = (id, method, params, seed_ok) else {
            self.protocol_error("Malformed method invocation", msg)
                .await;
            return;
        };
        let result = match params
            .into_iter()
            .map(ejson::decode)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(params) => self.call(&method, params).await,
            Err(_) => Err(DdpError::match_failed()),
        };
        let mut frame = Map::new();
        frame.insert("msg".into(), json!("result"));
        frame.insert("id".into(), json!(id));
        match result {
            // Meteor omits `result` when the method returned nothing.
            Ok(None) => {}
            Ok(Some(v)) => {
                frame.insert("result".into(), v);
            }
            Err(e) => {
                let mut e = e;
                if e.details.is_none() && matches!(e.code, Code::Text(_)) {
                    // Rocket.Chat's methods name themselves in `details`.
                    e.details = Some(Box::new(json!({ "method": method })));
                }
                frame.insert("error".into(), e.to_json());
            }
        }
        self.send_value(Value::Object(frame)).await;
        self.send_value(json!({ "msg": "updated", "methods": [id] }))
            .await;
    }

    async fn sub_frame(&mut self, msg: Value) {
        let id = msg.get("id").and_then(Value::as_str).map(str::to_string);
        let name = msg.get("name").and_then(Value::as_str).map(str::to_string);
        let params = match msg.get("params") {
            None => Some(vec![]),
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => None,
        };
        let (Some(id), Some(name), Some(params)) = (id, name, params) else {
            self.protocol_error("Malformed subscription", msg).await;
            return;
        };
        // Subscriptions are idempotent per id.
        if self.subs.iter().any(|s| s.id == id) {
            return;
        }
        let params = match params
            .into_iter()
            .map(ejson::decode)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(p) => p,
            Err(_) => {
                self.nosub_error(&id, DdpError::match_failed()).await;
                return;
            }
        };
        let event = params
            .first()
            .and_then(EJson::as_str)
            .unwrap_or("")
            .to_string();
        let collection_mode = match params.get(1) {
            Some(EJson::Bool(b)) => *b,
            Some(EJson::Object(o)) => o.get("useCollection").and_then(Value::as_bool) == Some(true),
            _ => false,
        };
        let is_stream = name.starts_with("stream-");
        let target = match name.as_str() {
            "meteor.loginServiceConfiguration" | "meteor_autoupdate_clientVersions" => {
                Ok(Target::Inert)
            }
            // SDK 1.0 waits for all of these, so they are never refused.
            "stream-notify-all" | "stream-notify-logged" | "stream-user-presence" => {
                Ok(Target::Inert)
            }
            "stream-room-messages" => self.room_messages_target(&event).await,
            "stream-notify-user" => self.notify_user_target(&event),
            "stream-notify-room" => self.notify_room_target(&event).await,
            _ => Err(DdpError::numeric(
                404,
                format!("Subscription '{name}' not found"),
            )),
        };
        match target {
            Ok(target) => {
                if is_stream && collection_mode {
                    // The pseudo-document Asteroid (SDK 0.2.x) must have seen before any `changed`.
                    self.send_value(json!({
                        "msg": "added", "collection": name, "id": "id",
                        "fields": { "eventName": event },
                    }))
                    .await;
                }
                self.subs.push(Sub {
                    id: id.clone(),
                    name,
                    event,
                    target,
                });
                self.send_value(json!({ "msg": "ready", "subs": [id] }))
                    .await;
            }
            Err(e) => self.nosub_error(&id, e).await,
        }
    }

    async fn nosub_error(&mut self, id: &str, e: DdpError) {
        self.send_value(json!({ "msg": "nosub", "id": id, "error": e.to_json() }))
            .await;
    }

    // ---- subscriptions ---------------------------------------------------------------------------------

    fn not_allowed() -> DdpError {
        DdpError::bare("not-allowed")
    }

    async fn room_messages_target(&mut self, event: &str) -> Result<Target, DdpError> {
        if event.is_empty() {
            return Err(DdpError::bare("invalid-event-name"));
        }
        let Some(user) = self.user.clone() else {
            return Err(Self::not_allowed());
        };
        if event == MY_MESSAGES {
            return Ok(Target::MyMessages);
        }
        let room = self
            .chat()
            .store
            .room_by_id(event)
            .await
            .map_err(Error::from)?
            .ok_or_else(Self::not_allowed)?;
        if !self.chat().can_access(&user, &room).await? {
            return Err(Self::not_allowed());
        }
        let public = room.t == "c" && self.chat().perms.has(&user, "view-c-room");
        if !public {
            // Access without a public room means membership; make sure the cache knows.
            self.member_rooms.insert(room.id.clone());
        }
        Ok(Target::RoomMessages {
            rid: room.id,
            public,
        })
    }

    fn notify_user_target(&self, event: &str) -> Result<Target, DdpError> {
        if event.is_empty() {
            return Err(DdpError::bare("invalid-event-name"));
        }
        let user = self.user.as_ref().ok_or_else(Self::not_allowed)?;
        match event.split_once('/') {
            Some((uid, name)) if uid == user.id && !name.is_empty() => Ok(Target::NotifyUser {
                event: name.to_string(),
            }),
            _ => Err(Self::not_allowed()),
        }
    }

    async fn notify_room_target(&mut self, event: &str) -> Result<Target, DdpError> {
        if event.is_empty() {
            return Err(DdpError::bare("invalid-event-name"));
        }
        let Some((rid, name)) = event
            .split_once('/')
            .filter(|(r, n)| !r.is_empty() && !n.is_empty())
        else {
            return Err(Self::not_allowed());
        };
        if self.user.is_none() || !self.is_member(rid).await? {
            return Err(Self::not_allowed());
        }
        Ok(Target::NotifyRoom {
            rid: rid.to_string(),
            event: name.to_string(),
        })
    }

    /// Membership of the logged-in user, from the cache, confirmed with the database when the cache says no
    /// (a join may have happened a moment ago, its event still queued behind this message).
    async fn is_member(&mut self, rid: &str) -> Result<bool, DdpError> {
        if self.member_rooms.contains(rid) {
            return Ok(true);
        }
        let Some(user) = &self.user else {
            return Ok(false);
        };
        let member = self
            .chat()
            .store
            .subscription(rid, &user.id)
            .await
            .map_err(Error::from)?
            .is_some();
        if member {
            self.member_rooms.insert(rid.to_string());
        }
        Ok(member)
    }

    /// Switches the session to `user` (or to nobody). Subscriptions made for someone else end.
    async fn set_user(
        &mut self,
        user: Option<User>,
        token: Option<LoginToken>,
    ) -> Result<(), DdpError> {
        let same = match (&self.user, &user) {
            (Some(a), Some(b)) => a.id == b.id,
            (None, None) => true,
            _ => false,
        };
        let rooms = match &user {
            Some(u) => self
                .chat()
                .store
                .subscriptions_of_user(&u.id, None)
                .await
                .map_err(Error::from)?
                .into_iter()
                .map(|s| s.rid)
                .collect(),
            None => HashSet::new(),
        };
        if !same {
            let (ended, kept): (Vec<Sub>, Vec<Sub>) = std::mem::take(&mut self.subs)
                .into_iter()
                .partition(Sub::user_bound);
            self.subs = kept;
            for s in ended {
                self.send_value(json!({ "msg": "nosub", "id": s.id })).await;
            }
        }
        self.member_rooms = rooms;
        self.user = user;
        self.token = token;
        Ok(())
    }

    // ---- hub events ------------------------------------------------------------------------------------

    async fn on_event(&mut self, ev: &Event) {
        let Some(uid) = self.user.as_ref().map(|u| u.id.clone()) else {
            return;
        };
        match ev {
            Event::Message { room, message, .. } => {
                let frames: Vec<String> = self
                    .subs
                    .iter()
                    .filter_map(|s| match &s.target {
                        Target::RoomMessages { rid, public } if *rid == room.id => (*public
                            || self.member_rooms.contains(rid))
                        .then(|| changed(&s.name, &s.event, &format!("[{message}]"))),
                        Target::MyMessages => self
                            .my_messages_meta(room)
                            .map(|meta| changed(&s.name, &s.event, &format!("[{message},{meta}]"))),
                        _ => None,
                    })
                    .collect();
                for f in frames {
                    self.send(f).await;
                }
            }
            Event::NotifyUser {
                uid: to,
                event,
                args,
            } => {
                if *to != uid {
                    return;
                }
                self.track_membership(event, args);
                let frames: Vec<String> = self
                    .subs
                    .iter()
                    .filter(|s| matches!(&s.target, Target::NotifyUser { event: e } if e == event))
                    .map(|s| changed(&s.name, &s.event, &args.to_string()))
                    .collect();
                for f in frames {
                    self.send(f).await;
                }
            }
            Event::NotifyRoom {
                rid,
                event,
                args,
                origin,
            } => {
                // An event this connection caused (typing) is not echoed back to it.
                if *origin == Some(self.conn_id) || !self.member_rooms.contains(rid) {
                    return;
                }
                let frames: Vec<String> = self
                    .subs
                    .iter()
                    .filter(|s| {
                        matches!(&s.target, Target::NotifyRoom { rid: r, event: e } if r == rid && e == event)
                    })
                    .map(|s| changed(&s.name, &s.event, &args.to_string()))
                    .collect();
                for f in frames {
                    self.send(f).await;
                }
            }
        }
    }

    /// The per-recipient metadata of a `__my_messages__` event, or `None` when the user may not see it:
    /// members get every room, everyone else only public channels (as a non-participant).
    fn my_messages_meta(&self, room: &RoomBrief) -> Option<Value> {
        let participant = self.member_rooms.contains(&room.id);
        let public = room.t == "c"
            && self
                .user
                .as_ref()
                .is_some_and(|u| self.chat().perms.has(u, "view-c-room"));
        if !participant && !public {
            return None;
        }
        let mut meta = Map::new();
        meta.insert("roomParticipant".into(), json!(participant));
        meta.insert("roomType".into(), json!(room.t));
        if let Some(name) = &room.name {
            meta.insert("roomName".into(), json!(name));
        }
        Some(Value::Object(meta))
    }

    /// Keeps `member_rooms` in step with the user's own membership notifications.
    fn track_membership(&mut self, event: &str, args: &Value) {
        let action = args.get(0).and_then(Value::as_str);
        let rid = match event {
            "subscriptions-changed" => args.get(1).and_then(|s| s.get("rid")),
            "rooms-changed" => args.get(1).and_then(|r| r.get("_id")),
            _ => return,
        }
        .and_then(Value::as_str);
        match (action, rid) {
            (Some("inserted"), Some(rid)) => {
                self.member_rooms.insert(rid.to_string());
            }
            (Some("removed"), Some(rid)) => {
                self.member_rooms.remove(rid);
            }
            _ => {}
        }
    }

    // ---- methods ---------------------------------------------------------------------------------------

    fn user(&self) -> Result<&User, DdpError> {
        self.user.as_ref().ok_or_else(DdpError::invalid_user)
    }

    async fn call(&mut self, method: &str, params: Vec<EJson>) -> MethodResult {
        match method {
            "login" => self.login(&params).await,
            "logout" => self.logout().await,
            "sendMessage" => self.send_message(&params).await,
            "rooms/get" => self.rooms_get(&params).await,
            "subscriptions/get" => self.subscriptions_get(&params).await,
            "getRoomIdByNameOrId" => self.room_id_by_name_or_id(&params).await,
            "getRoomNameById" => self.room_name_by_id(&params).await,
            "createDirectMessage" => self.create_direct_message(&params).await,
            "joinRoom" => self.join_room(&params).await,
            "leaveRoom" => self.leave_room(&params).await,
            "loadHistory" => self.load_history(&params).await,
            "setReaction" => self.set_reaction(&params).await,
            "updateMessage" => self.update_message(&params).await,
            "stream-notify-room" => {
                self.notify_room(&params).await;
                Ok(None)
            }
            // Presence is not tracked; Meteor and mobile clients call these all the time.
            "setUserStatus" => Ok(None),
            m if m.starts_with("UserPresence:") => Ok(None),
            _ => Err(DdpError::numeric(
                404,
                format!("Method '{method}' not found"),
            )),
        }
    }

    fn str_param(params: &[EJson], i: usize) -> Result<&str, DdpError> {
        params
            .get(i)
            .and_then(EJson::as_str)
            .ok_or_else(DdpError::match_failed)
    }

    async fn login(&mut self, params: &[EJson]) -> MethodResult {
        let Some(p) = params.first().and_then(EJson::as_object) else {
            return Err(DdpError::match_failed());
        };
        let expiration = self.chat().settings.login_expiration_ms;
        if let Some(resume) = p.get("resume") {
            let token = resume.as_str().ok_or_else(DdpError::match_failed)?;
            let (user, tok) = match self.chat().authenticate(None, token).await {
                Ok(found) => found,
                Err(e @ Error::Internal(_)) => return Err(e.into()),
                Err(_) => {
                    return Err(DdpError::numeric(
                        403,
                        "You've been logged out by the server. Please log in again.",
                    ))
                }
            };
            // Personal access tokens never expire; report a session's lifetime from now.
            let expires = tok.expires_at.unwrap_or_else(|| now_ms() + expiration);
            let id = user.id.clone();
            self.set_user(Some(user), Some(tok)).await?;
            return Ok(Some(json!({
                "id": id, "token": token, "tokenExpires": { "$date": expires }, "type": "resume",
            })));
        }
        if !(p.contains_key("password") || p.contains_key("user")) {
            return Err(DdpError::numeric(
                400,
                "Unrecognized options for login request",
            ));
        }
        // Meteor's `check()` of the password login shape.
        let password_ok = match p.get("password") {
            Some(Value::String(s)) => s.len() <= 256,
            Some(Value::Object(o)) => {
                o.get("algorithm").and_then(Value::as_str) == Some("sha-256")
                    && o.get("digest")
                        .and_then(Value::as_str)
                        .is_some_and(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            }
            _ => false,
        };
        let user_ok = match p.get("user") {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Object(o)) => ["username", "email", "id"]
                .iter()
                .any(|k| o.get(*k).is_some_and(Value::is_string)),
            _ => false,
        };
        if !password_ok || !user_ok {
            return Err(DdpError::match_failed());
        }
        let incorrect = || DdpError::numeric(403, "Incorrect password");
        let (who, digest) = login_credentials(p).map_err(|_| incorrect())?;
        let (user, token) = match self.chat().login_with_digest(&who, &digest).await {
            Ok(found) => found,
            Err(Error::LoginFailed) => {
                let store = &self.chat().store;
                let exists = match &who {
                    crate::chat::users::LoginName::Username(u) => store.user_by_username(u).await,
                    crate::chat::users::LoginName::Email(e) => store.user_by_email(e).await,
                    crate::chat::users::LoginName::Id(i) => store.user_by_id(i).await,
                }
                .map_err(Error::from)?
                .is_some();
                return Err(if exists {
                    incorrect()
                } else {
                    DdpError::numeric(403, "User not found")
                });
            }
            Err(e) => return Err(e.into()),
        };
        let (_, tok) = self.chat().authenticate(None, &token).await?;
        let expires = tok.expires_at.unwrap_or_else(|| now_ms() + expiration);
        let id = user.id.clone();
        self.set_user(Some(user), Some(tok)).await?;
        Ok(Some(json!({
            "id": id, "token": token, "tokenExpires": { "$date": expires }, "type": "password",
        })))
    }

    async fn logout(&mut self) -> MethodResult {
        // Meteor destroys the session's login token. A personal access token used to `resume` is left alone:
        // it is a long-lived credential the user manages explicitly.
        if let Some(tok) = self.token.take().filter(|t| t.kind == "session") {
            self.chat().logout(&tok).await?;
        }
        self.set_user(None, None).await?;
        Ok(None)
    }

    async fn send_message(&mut self, params: &[EJson]) -> MethodResult {
        let Some(msg) = params.first().and_then(EJson::as_object) else {
            return Err(DdpError::match_failed());
        };
        let user = self.user()?;
        let m = self.chat().send_message(user, msg).await?;
        Ok(Some(m.render(DateStyle::Ejson)))
    }

    /// The optional "changed since" date of `rooms/get` / `subscriptions/get`.
    fn since_param(params: &[EJson]) -> Result<Option<i64>, DdpError> {
        match params.first() {
            None | Some(EJson::Null) => Ok(None),
            Some(d) => d.as_date().map(Some).ok_or_else(DdpError::match_failed),
        }
    }

    async fn rooms_get(&mut self, params: &[EJson]) -> MethodResult {
        let since = Self::since_param(params)?;
        let Some(user) = &self.user else {
            return Ok(Some(json!([])));
        };
        let (rooms, remove) = self
            .chat()
            .rooms_changed(user, since, DateStyle::Ejson)
            .await?;
        if since.is_none() {
            // rocketchat-async iterates this: it must be a plain array.
            return Ok(Some(Value::Array(rooms)));
        }
        Ok(Some(json!({ "update": rooms, "remove": remove })))
    }

    async fn subscriptions_get(&mut self, params: &[EJson]) -> MethodResult {
        let since = Self::since_param(params)?;
        let Some(user) = &self.user else {
            return Ok(Some(json!([])));
        };
        let (subs, remove) = self
            .chat()
            .subscriptions_changed(user, since, DateStyle::Ejson)
            .await?;
        if since.is_none() {
            return Ok(Some(Value::Array(subs)));
        }
        Ok(Some(json!({ "update": subs, "remove": remove })))
    }

    /// A room the user can read, looked up by `key` (by id, then by name when `by_name`), else
    /// `error-not-allowed` — a room the user cannot see does not exist for them.
    async fn readable_room(
        &self,
        key: &str,
        by_name: bool,
    ) -> Result<crate::model::Room, DdpError> {
        let user = self.user()?;
        let store = &self.chat().store;
        let room = if by_name {
            store.room_by_id_or_name(key).await
        } else {
            store.room_by_id(key).await
        }
        .map_err(Error::from)?
        .ok_or_else(DdpError::not_allowed)?;
        if !self.chat().can_access(user, &room).await? {
            return Err(DdpError::not_allowed());
        }
        Ok(room)
    }

    async fn room_id_by_name_or_id(&mut self, params: &[EJson]) -> MethodResult {
        let key = Self::str_param(params, 0)?;
        let room = self.readable_room(key, true).await?;
        Ok(Some(json!(room.id)))
    }

    async fn room_name_by_id(&mut self, params: &[EJson]) -> MethodResult {
        let rid = Self::str_param(params, 0)?;
        let room = self.readable_room(rid, false).await?;
        Ok(room.name.map(Value::String))
    }

    async fn create_direct_message(&mut self, params: &[EJson]) -> MethodResult {
        let user = self.user()?.clone();
        let mut names: Vec<&str> = Vec::new();
        for p in params {
            let name = p.as_str().ok_or_else(DdpError::match_failed)?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let name = match names.as_slice() {
            [] => return Err(DdpError::match_failed()),
            [one] => *one,
            _ => {
                return Err(DdpError::new(
                    "error-not-allowed",
                    "Group direct messages are not supported",
                ))
            }
        };
        let other = self
            .chat()
            .store
            .user_by_username(name.trim_start_matches('@'))
            .await
            .map_err(Error::from)?
            .ok_or_else(DdpError::invalid_user)?;
        let room = self.chat().direct_room(&user, &other).await?;
        self.member_rooms.insert(room.id.clone());
        let mut v = room.render(DateStyle::Ejson);
        if let Some(o) = v.as_object_mut() {
            // The SDK reads `rid`.
            o.insert("rid".into(), json!(room.id));
        }
        Ok(Some(v))
    }

    async fn join_room(&mut self, params: &[EJson]) -> MethodResult {
        let rid = Self::str_param(params, 0)?.to_string();
        let user = self.user()?.clone();
        let room = self
            .chat()
            .store
            .room_by_id(&rid)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| DdpError::new("error-invalid-room", "Invalid room"))?;
        if !self.is_member(&rid).await? {
            self.chat().join_room(&user, &room, true).await?;
            self.member_rooms.insert(rid);
        }
        Ok(Some(json!(true)))
    }

    async fn leave_room(&mut self, params: &[EJson]) -> MethodResult {
        let rid = Self::str_param(params, 0)?.to_string();
        let user = self.user()?.clone();
        let room = self
            .chat()
            .store
            .room_by_id(&rid)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| DdpError::new("error-invalid-room", "Invalid room"))?;
        self.chat()
            .leave_room(Chat::kind_of(&room), &user, &room)
            .await?;
        self.member_rooms.remove(&rid);
        Ok(None)
    }

    async fn load_history(&mut self, params: &[EJson]) -> MethodResult {
        let rid = Self::str_param(params, 0)?;
        let date = |i: usize| match params.get(i) {
            None | Some(EJson::Null) => Ok(None),
            Some(d) => d.as_date().map(Some).ok_or_else(DdpError::match_failed),
        };
        let end = date(1)?;
        let limit = match params.get(2) {
            None | Some(EJson::Null) => 20,
            Some(n) => n.as_i64().ok_or_else(DdpError::match_failed)?,
        };
        // Mongo reads a limit of 0 as "no limit"; ours is never more than HISTORY_MAX.
        let limit = if limit <= 0 {
            HISTORY_MAX
        } else {
            limit.min(HISTORY_MAX)
        };
        let ls = date(3)?;
        let threads = match params.get(4) {
            None | Some(EJson::Null) => true,
            Some(b) => b.as_bool().ok_or_else(DdpError::match_failed)?,
        };
        let Some(user) = &self.user else {
            return Ok(Some(json!(false)));
        };
        let store = &self.chat().store;
        let Some(room) = store.room_by_id(rid).await.map_err(Error::from)? else {
            return Ok(Some(json!(false)));
        };
        if !self.chat().can_access(user, &room).await? {
            return Ok(Some(json!(false)));
        }
        let filter = MessageFilter {
            rid: room.id.clone(),
            latest: end,
            inclusive: false,
            threads,
            ..Default::default()
        };
        let (messages, _) = store
            .messages(
                &filter,
                Page {
                    offset: 0,
                    count: limit,
                },
            )
            .await
            .map_err(Error::from)?;
        let mut result = Map::new();
        result.insert(
            "messages".into(),
            messages
                .iter()
                .map(|m| m.render(DateStyle::Ejson))
                .collect(),
        );
        // Rocket.Chat's unread marker: the first message after `ls` that this page did not reach.
        if let (Some(ls), Some(oldest)) = (ls, messages.last()) {
            if oldest.ts > ls {
                let unread = MessageFilter {
                    rid: room.id.clone(),
                    latest: Some(oldest.ts),
                    oldest: Some(ls),
                    inclusive: false,
                    threads,
                    ascending: true,
                };
                let (first, count) = store
                    .messages(
                        &unread,
                        Page {
                            offset: 0,
                            count: 1,
                        },
                    )
                    .await
                    .map_err(Error::from)?;
                if let Some(first) = first.first() {
                    result.insert("firstUnread".into(), first.render(DateStyle::Ejson));
                    result.insert("unreadNotLoaded".into(), json!(count));
                }
            }
        }
        Ok(Some(Value::Object(result)))
    }

    async fn set_reaction(&mut self, params: &[EJson]) -> MethodResult {
        let emoji = Self::str_param(params, 0)?;
        let msg_id = Self::str_param(params, 1)?;
        let should_react = match params.get(2) {
            None | Some(EJson::Null) => None,
            Some(b) => Some(b.as_bool().ok_or_else(DdpError::match_failed)?),
        };
        let user = self.user()?;
        self.chat()
            .set_reaction(user, msg_id, emoji, should_react)
            .await?;
        Ok(None)
    }

    async fn update_message(&mut self, params: &[EJson]) -> MethodResult {
        let Some(msg) = params.first().and_then(EJson::as_object) else {
            return Err(DdpError::match_failed());
        };
        let (Some(id), Some(text)) = (
            msg.get("_id").and_then(Value::as_str),
            msg.get("msg").and_then(Value::as_str),
        ) else {
            return Err(DdpError::match_failed());
        };
        let user = self.user()?;
        let chat = self.chat();
        let m = match msg.get("rid").and_then(Value::as_str) {
            Some(rid) => chat.message_in_room(rid, id).await?,
            None => chat
                .store
                .message_by_id(id)
                .await
                .map_err(Error::from)?
                .ok_or_else(DdpError::not_allowed)?,
        };
        chat.update_message(user, m, text).await?;
        Ok(None)
    }

    /// The `stream-notify-room` method (typing indicators). Always answered with an empty result; the
    /// event is emitted only for a logged-in member naming themself, and mirrored between the current
    /// `user-activity` form and the legacy `typing` form.
    async fn notify_room(&mut self, params: &[EJson]) {
        let Some(user) = self.user.clone() else {
            return;
        };
        let Some((rid, event)) = params
            .first()
            .and_then(EJson::as_str)
            .and_then(|e| e.split_once('/'))
        else {
            return;
        };
        let who = params.get(1).and_then(EJson::as_str).unwrap_or("");
        if who != user.username && who != user.name {
            return;
        }
        let (activities, extra) = match event {
            "user-activity" => {
                let activities = match params.get(2).map(EJson::to_json) {
                    Some(Value::Array(a)) => a,
                    _ => return,
                };
                let extra = match params.get(3).map(EJson::to_json) {
                    Some(v @ Value::Object(_)) => v,
                    _ => json!({}),
                };
                (activities, extra)
            }
            "typing" => {
                let typing = params.get(2).and_then(EJson::as_bool).unwrap_or(false);
                let activities = if typing {
                    vec![json!("user-typing")]
                } else {
                    vec![]
                };
                (activities, json!({}))
            }
            _ => return,
        };
        if !matches!(self.is_member(rid).await, Ok(true)) {
            return;
        }
        let typing = activities.iter().any(|a| a == "user-typing");
        let hub = &self.chat().hub;
        for (name, args) in [
            ("user-activity", json!([who, activities, extra])),
            ("typing", json!([who, typing])),
        ] {
            hub.publish(Event::NotifyRoom {
                rid: rid.to_string(),
                event: name.to_string(),
                args: Arc::new(args),
                origin: Some(self.conn_id),
            });
        }
    }
}

/// A stream event as DDP sends it: a `changed` on the pseudo-document `"id"`. `args` is a JSON array text.
fn changed(collection: &str, event: &str, args: &str) -> String {
    format!(
        r#"{{"msg":"changed","collection":{},"id":"id","fields":{{"eventName":{},"args":{args}}}}}"#,
        Value::String(collection.to_string()),
        Value::String(event.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_frame_is_valid_json() {
        let f = changed("stream-room-messages", "a\"b", r#"[{"x":1}]"#);
        let v: Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["fields"]["eventName"], json!("a\"b"));
        assert_eq!(v["fields"]["args"], json!([{"x": 1}]));
    }
}
