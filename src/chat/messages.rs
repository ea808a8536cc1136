//! Messages: building a message from a Slack/Rocket.Chat-style payload (the rules every sender relies on —
//! `chat.postMessage`, incoming webhooks, outgoing replies), resolving `#room` / `@user` / id targets,
//! the send checks, and posting, editing, deleting and reading history.

use serde_json::{json, Map, Value};

use super::rooms::RoomKind;
use super::Chat;
use crate::error::{Error, Result};
use crate::model::{Message, Room, Subscription, User, UserRef};
use crate::store::{MessageFilter, Page};
use crate::util::{new_id, now_ms};

/// Integration defaults applied when the payload does not say (empty for `chat.postMessage`).
#[derive(Clone, Debug, Default)]
pub struct MessageDefaults {
    pub alias: String,
    pub avatar: String,
    pub emoji: String,
    /// The message's `bot` field, whatever the payload says (an incoming hook marks its messages).
    pub bot: Option<Value>,
}

/// The message content built from a payload, before it is given a room.
#[derive(Clone, Debug, Default)]
pub struct MessageContent {
    pub msg: String,
    pub tmid: Option<String>,
    pub extra: Map<String, Value>,
}

/// A "full URL" as Rocket.Chat's attachment validator wants it: absolute, never `javascript:`.
fn valid_href(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("javascript:")
        || lower.starts_with("data:")
        || lower.starts_with("vbscript:")
    {
        return false;
    }
    let Some((scheme, rest)) = lower.split_once("://") else {
        return url.starts_with("/file-upload/");
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
}

fn match_error(expected: &str, path: &str) -> Error {
    Error::failure(format!("Match error: Expected {expected} in field {path}"))
}

/// Whether every field of an attachment that `validate_attachment` checks is already valid and nothing
/// needs rewriting, found in one pass over its fields. Most attachments are; the ordered checks below
/// (which decide which error a bad one gets) then need not look each field up.
fn attachment_is_clean(a: &Map<String, Value>) -> bool {
    a.iter().all(|(k, v)| match k.as_str() {
        "color" | "text" | "author_name" | "title" | "image_preview" | "image_type"
        | "audio_type" | "video_type" | "button_alignment" => v.is_string() || v.is_null(),
        "collapsed" | "title_link_download" => v.is_boolean() || v.is_null(),
        "image_size" | "audio_size" | "video_size" => v.is_number() || v.is_null(),
        "ts" => v.is_string() || v.is_number() || v.is_null(),
        "image_dimensions" => v.is_object() || v.is_null(),
        "thumb_url" | "message_link" | "author_link" | "author_icon" | "title_link"
        | "image_url" | "audio_url" | "video_url" => match v {
            Value::Null => true,
            Value::String(u) => valid_href(u),
            _ => false,
        },
        // Left to the full checks: `msg` is rewritten, fields and actions are checked item by item.
        "msg" => false,
        "fields" | "actions" => v.is_null(),
        _ => true,
    })
}

/// Validates one attachment as Rocket.Chat does ("check the field if present"); unknown keys pass through.
fn validate_attachment(a: &mut Map<String, Value>, i: usize) -> Result<()> {
    if attachment_is_clean(a) {
        return Ok(());
    }
    if let Some(Value::String(m)) = a.remove("msg") {
        a.entry("text")
            .or_insert(Value::String(m.trim().to_string()));
    }
    let p = |k: &str| format!("attachments[{i}].{k}");
    for k in [
        "color",
        "text",
        "author_name",
        "title",
        "image_preview",
        "image_type",
        "audio_type",
        "video_type",
        "button_alignment",
    ] {
        if let Some(v) = a.get(k) {
            if !v.is_string() && !v.is_null() {
                return Err(match_error("string", &p(k)));
            }
        }
    }
    for k in ["collapsed", "title_link_download"] {
        if let Some(v) = a.get(k) {
            if !v.is_boolean() && !v.is_null() {
                return Err(match_error("boolean", &p(k)));
            }
        }
    }
    for k in ["image_size", "audio_size", "video_size"] {
        if let Some(v) = a.get(k) {
            if !v.is_number() && !v.is_null() {
                return Err(match_error("number", &p(k)));
            }
        }
    }
    if let Some(v) = a.get("ts") {
        if !(v.is_string() || v.is_number() || v.is_null()) {
            return Err(match_error("string or number", &p("ts")));
        }
    }
    if let Some(v) = a.get("image_dimensions") {
        if !v.is_object() && !v.is_null() {
            return Err(match_error("object", &p("image_dimensions")));
        }
    }
    for k in [
        "thumb_url",
        "message_link",
        "author_link",
        "author_icon",
        "title_link",
        "image_url",
        "audio_url",
        "video_url",
    ] {
        match a.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(u)) if valid_href(u) => {}
            Some(Value::String(_)) => return Err(Error::failure("Invalid href value provided")),
            Some(_) => return Err(match_error("string", &p(k))),
        }
    }
    match a.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(fields)) => {
            for f in fields {
                let Some(f) = f.as_object() else {
                    return Err(match_error("object", &p("fields")));
                };
                let truthy = |v: Option<&Value>| match v {
                    None | Some(Value::Null) => false,
                    Some(Value::String(s)) => !s.is_empty(),
                    Some(Value::Bool(b)) => *b,
                    Some(Value::Number(n)) => n.as_f64() != Some(0.0),
                    Some(_) => true,
                };
                if !truthy(f.get("title")) || !truthy(f.get("value")) {
                    return Err(Error::failure(
                        "Invalid attachment field, title and value is required",
                    ));
                }
                if !f.get("title").is_some_and(Value::is_string) {
                    return Err(match_error("string", &p("fields.title")));
                }
                if let Some(s) = f.get("short") {
                    if !s.is_boolean() && !s.is_null() {
                        return Err(match_error("boolean", &p("fields.short")));
                    }
                }
            }
        }
        Some(_) => return Err(match_error("array", &p("fields"))),
    }
    match a.get("actions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(actions)) => {
            for act in actions {
                let Some(act) = act.as_object() else {
                    return Err(match_error("object", &p("actions")));
                };
                for k in ["url", "image_url"] {
                    match act.get(k) {
                        None | Some(Value::Null) => {}
                        Some(Value::String(u)) if valid_href(u) => {}
                        _ => return Err(Error::failure("Invalid href value provided")),
                    }
                }
            }
        }
        Some(_) => return Err(match_error("array", &p("actions"))),
    }
    Ok(())
}

/// The payload fields `build_content` reads, found in one pass over the payload instead of one hashed
/// lookup each.
#[derive(Default)]
struct PayloadFields<'a> {
    text: Option<&'a Value>,
    msg: Option<&'a Value>,
    username: Option<&'a Value>,
    alias: Option<&'a Value>,
    icon_url: Option<&'a Value>,
    avatar: Option<&'a Value>,
    icon_emoji: Option<&'a Value>,
    emoji: Option<&'a Value>,
    attachments: Option<&'a Value>,
    parse_urls: Option<&'a Value>,
    groupable: Option<&'a Value>,
    custom_fields: Option<&'a Value>,
    tmid: Option<&'a Value>,
    bot: Option<&'a Value>,
}

impl<'a> PayloadFields<'a> {
    fn of(body: &'a Map<String, Value>) -> Self {
        let mut f = PayloadFields::default();
        for (k, v) in body {
            let slot = match k.as_str() {
                "text" => &mut f.text,
                "msg" => &mut f.msg,
                "username" => &mut f.username,
                "alias" => &mut f.alias,
                "icon_url" => &mut f.icon_url,
                "avatar" => &mut f.avatar,
                "icon_emoji" => &mut f.icon_emoji,
                "emoji" => &mut f.emoji,
                "attachments" => &mut f.attachments,
                "parseUrls" => &mut f.parse_urls,
                "groupable" => &mut f.groupable,
                "customFields" => &mut f.custom_fields,
                "tmid" => &mut f.tmid,
                "bot" => &mut f.bot,
                _ => continue,
            };
            *slot = Some(v);
        }
        f
    }
}

/// A field's text when it is a non-empty string.
fn non_empty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Builds message content from a payload with Rocket.Chat's `processWebhookMessage` rules: `text` (or `msg`)
/// trimmed, `username` over `alias`, `icon_url`/`avatar` over `icon_emoji`/`emoji` over the defaults,
/// validated attachments, `parseUrls` defaulting to "no attachments", `groupable` false, empty keys removed.
pub fn build_content(
    body: &Map<String, Value>,
    defaults: &MessageDefaults,
) -> Result<MessageContent> {
    let f = PayloadFields::of(body);
    let text = match f.text.or(f.msg) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(_) => return Err(match_error("string", "text")),
    };
    // Room for every field a message gets here and in `finish_and_insert`, so the map is not regrown.
    let mut extra = Map::with_capacity(12);
    let alias = non_empty(f.username)
        .or(non_empty(f.alias))
        .unwrap_or(&defaults.alias);
    extra.insert("alias".into(), json!(alias));
    let avatar = non_empty(f.icon_url).or(non_empty(f.avatar));
    let emoji = non_empty(f.icon_emoji).or(non_empty(f.emoji));
    match (avatar, emoji) {
        (Some(a), _) => {
            extra.insert("avatar".into(), json!(a));
        }
        (None, Some(e)) => {
            extra.insert("emoji".into(), json!(e));
        }
        (None, None) if !defaults.avatar.is_empty() => {
            extra.insert("avatar".into(), json!(defaults.avatar));
        }
        (None, None) if !defaults.emoji.is_empty() => {
            extra.insert("emoji".into(), json!(defaults.emoji));
        }
        _ => {}
    }
    if let Some(a) = extra.get("avatar").and_then(Value::as_str) {
        let lower = a.trim().to_ascii_lowercase();
        if lower.starts_with("javascript:") || lower.starts_with("data:text") {
            return Err(Error::failure("Invalid href value provided"));
        }
    }
    let mut attachments = Vec::new();
    if let Some(Value::Array(list)) = f.attachments {
        for (i, a) in list.iter().enumerate() {
            match a {
                Value::Object(o) => {
                    let mut o = o.clone();
                    validate_attachment(&mut o, i)?;
                    attachments.push(Value::Object(o));
                }
                // A `null` entry (a misbehaving sender) is dropped, never a crash.
                Value::Null => {}
                _ => return Err(match_error("object", &format!("attachments[{i}]"))),
            }
        }
    }
    let parse_urls = match f.parse_urls {
        Some(Value::Bool(b)) => *b,
        _ => attachments.is_empty(),
    };
    extra.insert("attachments".into(), Value::Array(attachments));
    extra.insert("parseUrls".into(), json!(parse_urls));
    extra.insert(
        "groupable".into(),
        json!(f.groupable.and_then(Value::as_bool).unwrap_or(false)),
    );
    if let Some(cf) = f.custom_fields {
        if !cf.is_object() && !cf.is_null() {
            return Err(match_error("object", "customFields"));
        }
        if cf.is_object() {
            extra.insert("customFields".into(), cf.clone());
        }
    }
    let tmid = non_empty(f.tmid).map(str::to_string);
    if let Some(bot) = defaults.bot.as_ref().or(f.bot) {
        if !bot.is_null() {
            extra.insert("bot".into(), bot.clone());
        }
    }
    // removeEmpty: drop empty strings, as Rocket.Chat does before saving.
    extra.retain(|k, v| !(v.as_str() == Some("") && k != "alias"));
    Ok(MessageContent {
        msg: text,
        tmid,
        extra,
    })
}

/// A user's (non-system) message in `room`.
fn new_message(
    id: String,
    user: &User,
    room: &Room,
    msg: String,
    extra: Map<String, Value>,
    ts: i64,
    now: i64,
) -> Message {
    Message {
        id,
        rid: room.id.clone(),
        msg,
        ts,
        updated_at: now,
        u: UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
            name: Some(user.name.clone()),
        },
        t: None,
        tmid: None,
        edited_at: None,
        edited_by: None,
        extra,
    }
}

/// URLs in a message text, as `urls: [{url}]`.
fn extract_urls(text: &str) -> Vec<Value> {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '(' || c == ')')
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| json!({ "url": w.trim_end_matches(['.', ',', ';', '!', '?']) }))
        .collect()
}

impl Chat {
    /// Resolves one `chat.postMessage`/webhook target with Rocket.Chat's rules: `#room` by name or id,
    /// `@user` to the DM (created on demand), anything else as a room id or name, then as a user id for a
    /// DM. Public channels the poster is not in are joined automatically.
    pub async fn resolve_target(&self, poster: &User, target: &str) -> Result<Room> {
        let invalid = || Error::meteor_code("invalid-channel");
        let room = if let Some(name) = target.strip_prefix('#') {
            self.store
                .room_by_id_or_name(name)
                .await?
                .ok_or_else(invalid)?
        } else if let Some(who) = target.strip_prefix('@') {
            match self.store.user_by_id_or_username(who).await? {
                Some(other) => self.direct_room(poster, &other).await?,
                None => match self.store.room_by_id(who).await? {
                    Some(r) if r.is_dm() => r,
                    _ => return Err(invalid()),
                },
            }
        } else {
            match self.store.room_by_id_or_name(target).await? {
                Some(r) => r,
                None => match self.store.user_by_id(target).await? {
                    Some(other) => self.direct_room(poster, &other).await?,
                    None => return Err(invalid()),
                },
            }
        };
        Ok(room)
    }

    /// The checks before anything is posted into `room` by `user` (plain errors, no `errorType`, as in
    /// Rocket.Chat), given the poster's membership.
    fn check_rules(
        &self,
        user: &User,
        room: &Room,
        sub: Option<&Subscription>,
        msg_len: usize,
    ) -> Result<()> {
        if sub.is_none() && room.t != "c" {
            return Err(Error::failure("error-not-allowed"));
        }
        if room.archived {
            return Err(Error::failure("error-room-archived"));
        }
        if room.ro && !self.perms.has_in_room(user, "post-readonly", sub) {
            return Err(Error::failure(
                "You can't send messages because the room is readonly.",
            ));
        }
        if msg_len > self.settings.max_message_size {
            return Err(Error::failure("error-message-size-exceeded"));
        }
        Ok(())
    }

    /// The send checks, reading the poster's membership.
    pub async fn check_can_post(&self, user: &User, room: &Room, msg_len: usize) -> Result<()> {
        let sub = self.store.subscription(&room.id, &user.id).await?;
        self.check_rules(user, room, sub.as_ref(), msg_len)
    }

    /// Where `target` leads for `user`, from the cache when possible.
    pub async fn destination(&self, user: &User, target: &str) -> Result<Destination> {
        if let Some(d) = self.targets.get(&user.id, target) {
            return Ok(d);
        }
        let gen = self.targets.generation();
        let room = self.resolve_target(user, target).await?;
        let sub = self.store.subscription(&room.id, &user.id).await?;
        let d = Destination {
            room: std::sync::Arc::new(room),
            sub: sub.map(std::sync::Arc::new),
        };
        self.targets.put(gen, &user.id, target, d.clone());
        Ok(d)
    }

    /// Posts prepared content into a room after the send checks; public channels are joined first.
    pub async fn post_content(
        &self,
        user: &User,
        room: &Room,
        content: &MessageContent,
    ) -> Result<Message> {
        let sub = self.store.subscription(&room.id, &user.id).await?;
        let d = Destination {
            room: std::sync::Arc::new(room.clone()),
            sub: sub.map(std::sync::Arc::new),
        };
        self.check_rules(user, &d.room, d.sub.as_deref(), content.msg.chars().count())?;
        self.post_checked(user, &d, content.clone()).await
    }

    /// Posts content whose destination passed [`Self::check_rules`].
    async fn post_checked(
        &self,
        user: &User,
        d: &Destination,
        content: MessageContent,
    ) -> Result<Message> {
        let room = d.room.as_ref();
        for a in content
            .extra
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if a.get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| t.chars().count() > self.settings.max_message_size)
            {
                return Err(Error::failure("error-message-size-exceeded"));
            }
        }
        if room.t == "c" && d.sub.is_none() {
            self.add_member(user, room, None, vec![]).await?;
        }
        let now = now_ms();
        let mut m = new_message(new_id(), user, room, content.msg, content.extra, now, now);
        if let Some(tmid) = &content.tmid {
            m.tmid = Some(self.thread_root(room, tmid).await?);
        }
        self.finish_and_insert(room, m).await
    }

    /// A thread reply to a reply is re-pointed at its thread root; the parent must be in the same room.
    async fn thread_root(&self, room: &Room, tmid: &str) -> Result<String> {
        let parent = self
            .store
            .message_by_id(tmid)
            .await?
            .filter(|p| p.rid == room.id)
            .ok_or_else(|| Error::meteor("error-invalid-message", "Invalid thread message id"))?;
        Ok(parent.tmid.unwrap_or(parent.id))
    }

    async fn finish_and_insert(&self, room: &Room, mut m: Message) -> Result<Message> {
        m.extra.entry("mentions").or_insert_with(|| json!([]));
        m.extra.entry("channels").or_insert_with(|| json!([]));
        let parse_urls = m
            .extra
            .get("parseUrls")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if parse_urls && m.msg.contains("://") {
            m.extra
                .insert("urls".into(), Value::Array(extract_urls(&m.msg)));
        }
        if m.msg.contains('@') {
            m.extra.insert(
                "mentions".into(),
                Value::Array(self.mentions(&m.msg).await?),
            );
        }
        // Outgoing integrations the message fires are queued in the same commit as the message itself.
        let jobs = self.outgoing.message_jobs(room, &m);
        let n_jobs = jobs.len();
        let mut ops = Vec::with_capacity(1 + n_jobs);
        ops.push(crate::store::batch::WriteOp::Message(Box::new(
            crate::store::MessageRow::of(&m),
        )));
        ops.extend(
            jobs.into_iter()
                .map(|j| crate::store::batch::WriteOp::Job(Box::new(j))),
        );
        self.writer.write(ops).await.map_err(|e| match e {
            crate::store::DbError::Unique(_) => Error::meteor(
                "error-duplicate-message-id",
                "A message with this _id already exists",
            ),
            e => e.into(),
        })?;
        self.jobs_written(n_jobs);
        self.publish_message(room, &m);
        Ok(m)
    }

    async fn mentions(&self, text: &str) -> Result<Vec<Value>> {
        let mut out: Vec<Value> = Vec::new();
        for word in text.split(|c: char| c.is_whitespace() || ",;:!?()".contains(c)) {
            let Some(name) = word.strip_prefix('@') else {
                continue;
            };
            let name = name.trim_end_matches('.');
            if name.is_empty() || out.iter().any(|m| m["username"] == name) {
                continue;
            }
            if name == "all" || name == "here" {
                out.push(json!({ "_id": name, "username": name }));
            } else if let Some(u) = self.store.user_by_username(name).await? {
                out.push(
                    json!({ "_id": u.id, "username": u.username, "name": u.name, "type": "user" }),
                );
            }
        }
        Ok(out)
    }

    /// `chat.sendMessage` / DDP `sendMessage`: one room by id, no auto-join, client-chosen `_id` kept.
    pub async fn send_message(&self, user: &User, message: &Map<String, Value>) -> Result<Message> {
        let rid = match message.get("rid") {
            Some(Value::String(r)) if !r.is_empty() => r.clone(),
            _ => return Err(Error::invalid_params("must have required property 'rid'")),
        };
        if message.get("t").is_some_and(|t| !t.is_null()) {
            return Err(Error::failure(
                "Cannot send system messages using 'chat.sendMessage'",
            ));
        }
        if message.get("tshow").is_some() && message.get("tmid").is_none() {
            return Err(Error::invalid_params("tshow requires tmid"));
        }
        let id = match message.get("_id") {
            Some(Value::String(id)) => {
                let ok = !id.is_empty()
                    && id.len() <= 64
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !ok {
                    return Err(Error::invalid_params(
                        "_id must be 1-64 characters of [A-Za-z0-9_-]",
                    ));
                }
                if self.store.message_by_id(id).await?.is_some() {
                    return Err(Error::meteor(
                        "error-duplicate-message-id",
                        "A message with this _id already exists",
                    ));
                }
                id.clone()
            }
            None | Some(Value::Null) => new_id(),
            Some(_) => return Err(Error::invalid_params("_id must be string")),
        };
        let room = self
            .store
            .room_by_id(&rid)
            .await?
            .ok_or_else(|| Error::failure("error-invalid-room"))?;
        let mut body = message.clone();
        // sendMessage does not get the webhook defaults for these.
        let groupable = body.remove("groupable");
        let parse_urls = body.remove("parseUrls");
        let mut content = build_content(&body, &MessageDefaults::default())?;
        content.extra.remove("groupable");
        content.extra.remove("parseUrls");
        if let Some(g) = groupable.filter(Value::is_boolean) {
            content.extra.insert("groupable".into(), g);
        }
        if let Some(p) = parse_urls.filter(Value::is_boolean) {
            content.extra.insert("parseUrls".into(), p);
        }
        if content.extra.get("alias").and_then(Value::as_str) == Some("") {
            content.extra.remove("alias");
        }
        if content
            .extra
            .get("attachments")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
            && message.get("attachments").is_none()
        {
            content.extra.remove("attachments");
        }
        if let Some(tshow) = message.get("tshow").and_then(Value::as_bool) {
            content.extra.insert("tshow".into(), json!(tshow));
        }
        self.check_can_post(user, &room, content.msg.chars().count())
            .await?;
        let now = now_ms();
        let ts = match message.get("ts") {
            Some(v) => {
                let client = match v {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => crate::util::parse_date(s),
                    Value::Object(o) => o.get("$date").and_then(Value::as_i64),
                    _ => None,
                }
                .ok_or_else(|| Error::invalid_params("ts must be a date"))?;
                let drift = (client - now).abs();
                if drift > 60_000 {
                    return Err(Error::meteor(
                        "error-message-ts-out-of-sync",
                        "Message timestamp is out of sync",
                    ));
                }
                if drift > 10_000 {
                    now
                } else {
                    client
                }
            }
            None => now,
        };
        let mut m = new_message(id, user, &room, content.msg.clone(), content.extra, ts, now);
        if let Some(tmid) = &content.tmid {
            m.tmid = Some(self.thread_root(&room, tmid).await?);
        }
        match self.finish_and_insert(&room, m).await {
            Err(Error::Internal(e)) if e.contains("unique") => Err(Error::meteor(
                "error-duplicate-message-id",
                "A message with this _id already exists",
            )),
            other => other,
        }
    }

    /// Loads a message and checks it belongs to `room_id`, with `chat.update`/`chat.delete` errors.
    pub async fn message_in_room(&self, room_id: &str, msg_id: &str) -> Result<Message> {
        let m = self.store.message_by_id(msg_id).await?.ok_or_else(|| {
            Error::failure(format!("No message found with the id of \"{msg_id}\"."))
        })?;
        if m.rid != room_id {
            return Err(Error::failure(
                "The room id provided does not match where the message is from.",
            ));
        }
        Ok(m)
    }

    pub async fn update_message(&self, user: &User, mut m: Message, text: &str) -> Result<Message> {
        let room = self
            .store
            .room_by_id(&m.rid)
            .await?
            .ok_or(Error::NotFound)?;
        let sub = self.store.subscription(&room.id, &user.id).await?;
        let own = m.u.id == user.id;
        if !(self.perms.has_in_room(user, "edit-message", sub.as_ref())
            || (own && self.settings.allow_editing))
        {
            return Err(Error::meteor(
                "error-action-not-allowed",
                "Message editing not allowed",
            ));
        }
        if !self.can_access(user, &room).await? {
            return Err(Error::not_allowed());
        }
        if text.chars().count() > self.settings.max_message_size {
            return Err(Error::failure("error-message-size-exceeded"));
        }
        let now = now_ms();
        m.msg = text.trim().to_string();
        m.edited_at = Some(now);
        m.edited_by = Some(UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
            name: None,
        });
        m.updated_at = now;
        if m.extra
            .get("parseUrls")
            .and_then(Value::as_bool)
            .unwrap_or(true)
        {
            m.extra
                .insert("urls".into(), Value::Array(extract_urls(&m.msg)));
        }
        let jobs = self.outgoing.message_jobs(&room, &m);
        self.store.update_message_with_jobs(&m, &jobs).await?;
        self.jobs_written(jobs.len());
        self.publish_message(&room, &m);
        Ok(m)
    }

    pub async fn delete_message(&self, user: &User, m: &Message, as_user: bool) -> Result<()> {
        let room = self
            .store
            .room_by_id(&m.rid)
            .await?
            .ok_or(Error::NotFound)?;
        let sub = self.store.subscription(&room.id, &user.id).await?;
        let own = m.u.id == user.id;
        if as_user
            && !own
            && !self
                .perms
                .has_in_room(user, "force-delete-message", sub.as_ref())
        {
            return Err(Error::failure(
                "Unauthorized. You must have the permission \"force-delete-message\" to delete other's message as them.",
            ));
        }
        let allowed = self.perms.has_in_room(user, "delete-message", sub.as_ref())
            || (own
                && self.settings.allow_deleting
                && self
                    .perms
                    .has_in_room(user, "delete-own-message", sub.as_ref()));
        if !allowed {
            return Err(Error::meteor("error-action-not-allowed", "Not allowed"));
        }
        self.store.delete_message(m).await?;
        self.hub.publish(crate::realtime::hub::Event::NotifyRoom {
            rid: room.id.clone(),
            event: "deleteMessage".into(),
            args: std::sync::Arc::new(json!([{ "_id": m.id }])),
            origin: None,
        });
        Ok(())
    }

    /// Reads a room's history for a user who may read it, else 403 `unauthorized`.
    pub async fn history(
        &self,
        user: &User,
        room: &Room,
        f: MessageFilter,
        page: Page,
    ) -> Result<(Vec<Message>, i64)> {
        if !self.can_access(user, room).await? {
            return Err(Error::unauthorized());
        }
        Ok(self.store.messages(&f, page).await?)
    }

    /// `chat.getMessage` access: the message's room must be readable.
    pub async fn get_message(&self, user: &User, id: &str) -> Result<Message> {
        let m = self
            .store
            .message_by_id(id)
            .await?
            .ok_or_else(|| Error::Custom {
                status: 400,
                body: json!({ "success": false }),
            })?;
        let room = self
            .store
            .room_by_id(&m.rid)
            .await?
            .ok_or(Error::NotFound)?;
        if !self.can_access(user, &room).await? {
            return Err(Error::not_allowed());
        }
        Ok(m)
    }

    /// The kind of a named room, for error wording.
    pub fn kind_of(room: &Room) -> RoomKind {
        if room.t == "p" {
            RoomKind::Group
        } else {
            RoomKind::Channel
        }
    }
}

/// A resolved destination: the room and the poster's membership in it.
#[derive(Clone, Debug)]
pub struct Destination {
    pub room: std::sync::Arc<Room>,
    /// Shared, as cached destinations are handed to every hook call.
    pub sub: Option<std::sync::Arc<Subscription>>,
}

/// The outcome of posting to one target.
#[derive(Debug)]
pub struct TargetResult {
    pub target: String,
    pub result: Result<Message>,
}

impl Chat {
    /// Posts a Slack/Rocket.Chat payload to each target (Rocket.Chat's `processWebhookMessage`). Without
    /// `separate`, every target is resolved and checked first and the first failure aborts with nothing sent;
    /// with `separate`, failures are reported per target and the rest are still sent.
    pub async fn post_payload(
        &self,
        user: &User,
        targets: &[String],
        body: &Map<String, Value>,
        defaults: &MessageDefaults,
        separate: bool,
    ) -> Result<Vec<TargetResult>> {
        let mut unique: Vec<String> = Vec::new();
        for t in targets {
            let t = t.trim().to_string();
            if !t.is_empty() && !unique.contains(&t) {
                unique.push(t);
            }
        }
        let content = build_content(body, defaults)?;
        let len = content.msg.chars().count();
        let mut resolved = Vec::new();
        for t in &unique {
            let dest = match self.destination(user, t).await {
                Ok(d) => self
                    .check_rules(user, &d.room, d.sub.as_deref(), len)
                    .map(|_| d),
                Err(e) => Err(e),
            };
            match dest {
                Ok(d) => resolved.push((t.clone(), Ok(d))),
                Err(e) if separate => resolved.push((t.clone(), Err(e))),
                Err(e) => return Err(e),
            }
        }
        let mut out = Vec::new();
        // Earlier targets post copies of the content; the last one takes it.
        let contents = std::iter::repeat_n(content, resolved.len());
        for ((target, dest), c) in resolved.into_iter().zip(contents) {
            let result = match dest {
                Ok(d) => self.post_checked(user, &d, c).await,
                Err(e) => Err(e),
            };
            if !separate {
                if let Err(e) = result {
                    return Err(e);
                }
            }
            out.push(TargetResult { target, result });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validated(a: Value) -> std::result::Result<Value, String> {
        let Value::Object(mut o) = a else {
            panic!("not an object")
        };
        validate_attachment(&mut o, 0)
            .map(|_| Value::Object(o))
            .map_err(|e| e.to_string())
    }

    /// The one-pass check only lets through what the ordered checks accept unchanged, and a bad attachment
    /// still gets the error of the first bad field in the ordered checks, whatever its fields' order.
    #[test]
    fn the_quick_attachment_check_agrees_with_the_full_one() {
        let clean = [
            json!({}),
            json!({ "color": "danger", "title": "t", "text": null, "unknown": [1, 2] }),
            json!({ "title_link": "https://example.com/x", "image_url": null, "collapsed": false }),
            json!({ "ts": 5, "image_size": 1.5, "image_dimensions": { "w": 1 }, "fields": null }),
        ];
        for a in clean {
            assert!(attachment_is_clean(a.as_object().unwrap()), "{a}");
            assert_eq!(validated(a.clone()), Ok(a));
        }
        let rewritten_or_checked_in_full = [
            json!({ "msg": " hi " }),
            json!({ "fields": [{ "title": "t", "value": "v" }] }),
            json!({ "actions": [] }),
        ];
        for a in rewritten_or_checked_in_full {
            assert!(!attachment_is_clean(a.as_object().unwrap()), "{a}");
        }
        assert_eq!(
            validated(json!({ "msg": " hi " })),
            Ok(json!({ "text": "hi" }))
        );
        let bad = [
            (
                json!({ "collapsed": "yes", "color": 5 }),
                "Match error: Expected string in field attachments[0].color",
            ),
            (
                json!({ "image_url": "not a url", "video_size": "big" }),
                "Match error: Expected number in field attachments[0].video_size",
            ),
            (
                json!({ "author_icon": 7 }),
                "Match error: Expected string in field attachments[0].author_icon",
            ),
            (
                json!({ "title_link": "javascript:alert(1)" }),
                "Invalid href value provided",
            ),
            (
                json!({ "ts": true }),
                "Match error: Expected string or number in field attachments[0].ts",
            ),
            (
                json!({ "fields": [{ "title": "t" }] }),
                "Invalid attachment field, title and value is required",
            ),
        ];
        for (a, error) in bad {
            assert!(!attachment_is_clean(a.as_object().unwrap()), "{a}");
            assert_eq!(validated(a), Err(error.to_string()));
        }
    }

    /// Reading the payload's fields in one pass finds the same values as looking each up.
    #[test]
    fn payload_fields_are_read_in_one_pass() {
        let body = json!({ "text": "hi", "username": "", "alias": "A", "icon_emoji": ":x:", "bot": { "i": "1" },
                           "attachments": [{ "title": "t" }], "parseUrls": true, "other": 1 });
        let content =
            build_content(body.as_object().unwrap(), &MessageDefaults::default()).unwrap();
        assert_eq!(content.msg, "hi");
        assert_eq!(content.extra["alias"], json!("A"));
        assert_eq!(content.extra["emoji"], json!(":x:"));
        assert_eq!(content.extra["bot"], json!({ "i": "1" }));
        assert_eq!(content.extra["attachments"], json!([{ "title": "t" }]));
        assert_eq!(content.extra["parseUrls"], json!(true));
        assert!(content.extra.get("other").is_none());
    }
}
