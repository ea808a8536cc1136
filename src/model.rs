//! The documents Rocket.Chat clients read — users, rooms, subscriptions, messages — in one internal form
//! (dates as milliseconds), with a single renderer per document that produces either the REST shape (ISO
//! dates) or the DDP shape (EJSON dates). Fields we do not model explicitly (message `customFields`,
//! attachment extras, a user's `bio`) ride along in `extra`, so nothing a client sent is lost.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::util::DateStyle;

/// An embedded user reference (`u`, `editedBy`, a room's owner).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserRef {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Email {
    pub address: String,
    #[serde(default)]
    pub verified: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub emails: Vec<Email>,
    /// `user`, `bot` or `app`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "offline")]
    pub status: String,
    pub active: bool,
    pub roles: Vec<String>,
    #[serde(rename = "createdAt")]
    pub created_at: i64,
    #[serde(rename = "_updatedAt")]
    pub updated_at: i64,
    #[serde(rename = "lastLogin", default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn offline() -> String {
    "offline".into()
}

impl User {
    pub fn user_ref(&self) -> UserRef {
        UserRef {
            id: self.id.clone(),
            username: self.username.clone(),
            name: Some(self.name.clone()),
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    pub fn email(&self) -> Option<&str> {
        self.emails.first().map(|e| e.address.as_str())
    }

    /// The stored document as REST returns it from `users.create`/`users.update` (never any secret: those
    /// live outside the document).
    pub fn render(&self, style: DateStyle) -> Value {
        render(self, &["createdAt", "_updatedAt", "lastLogin"], style)
    }

    /// The short projection of `users.list`, `channels.members` and `users.info` for other users.
    pub fn render_public(&self, style: DateStyle, with_private: bool) -> Value {
        let mut v = serde_json::json!({
            "_id": self.id, "username": self.username, "name": self.name, "status": self.status,
            "active": self.active, "type": self.kind, "roles": self.roles,
            "_updatedAt": style.date(self.updated_at),
        });
        let o = v.as_object_mut().expect("object");
        for k in ["nickname", "bio", "statusText", "utcOffset"] {
            if let Some(x) = self.extra.get(k) {
                o.insert(k.into(), x.clone());
            }
        }
        if let Some(l) = self.last_login {
            o.insert("lastLogin".into(), style.date(l));
        }
        if with_private {
            o.insert(
                "emails".into(),
                serde_json::to_value(&self.emails).unwrap_or_default(),
            );
            o.insert("createdAt".into(), style.date(self.created_at));
        }
        v
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Room {
    #[serde(rename = "_id")]
    pub id: String,
    /// `c` public channel, `p` private group, `d` direct message.
    pub t: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<UserRef>,
    pub ts: i64,
    #[serde(rename = "_updatedAt")]
    pub updated_at: i64,
    #[serde(default)]
    pub msgs: i64,
    #[serde(rename = "usersCount", default)]
    pub users_count: i64,
    #[serde(default)]
    pub ro: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lm: Option<i64>,
    #[serde(
        rename = "lastMessage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_message: Option<Box<Message>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usernames: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Room {
    pub fn render(&self, style: DateStyle) -> Value {
        let mut v = render(self, &["ts", "_updatedAt", "lm"], style);
        if let (Some(m), Some(o)) = (&self.last_message, v.as_object_mut()) {
            o.insert("lastMessage".into(), m.render(style));
        }
        v
    }

    /// The room's display name for error texts (`The channel, NAME, is archived`).
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    pub fn is_dm(&self) -> bool {
        self.t == "d"
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Subscription {
    #[serde(rename = "_id")]
    pub id: String,
    pub rid: String,
    pub u: UserRef,
    pub t: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fname: Option<String>,
    pub open: bool,
    pub alert: bool,
    pub unread: i64,
    #[serde(rename = "userMentions")]
    pub user_mentions: i64,
    #[serde(rename = "groupMentions")]
    pub group_mentions: i64,
    pub ts: i64,
    pub ls: i64,
    #[serde(rename = "_updatedAt")]
    pub updated_at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Subscription {
    pub fn render(&self, style: DateStyle) -> Value {
        render(self, &["ts", "ls", "_updatedAt"], style)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    #[serde(rename = "_id")]
    pub id: String,
    pub rid: String,
    #[serde(default)]
    pub msg: String,
    pub ts: i64,
    #[serde(rename = "_updatedAt")]
    pub updated_at: i64,
    pub u: UserRef,
    /// System message type (`uj`, `ul`, `au`, …); absent for normal messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmid: Option<String>,
    #[serde(rename = "editedAt", default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    #[serde(rename = "editedBy", default, skip_serializing_if = "Option::is_none")]
    pub edited_by: Option<UserRef>,
    /// Everything else: alias, emoji, avatar, attachments, bot, groupable, parseUrls, mentions, channels,
    /// urls, customFields — kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    pub fn render(&self, style: DateStyle) -> Value {
        render(self, &["ts", "_updatedAt", "editedAt"], style)
    }

    /// A system message (`t` set) such as "user joined".
    pub fn system(rid: &str, t: &str, msg: &str, by: &User, now: i64) -> Message {
        Message {
            id: crate::util::new_id(),
            rid: rid.to_string(),
            msg: msg.to_string(),
            ts: now,
            updated_at: now,
            u: by.user_ref(),
            t: Some(t.to_string()),
            tmid: None,
            edited_at: None,
            edited_by: None,
            extra: Map::new(),
        }
    }

    pub fn is_from_bot(&self) -> bool {
        self.extra.get("bot").is_some_and(|b| !b.is_null())
    }
}

/// Serialises a document and rewrites its top-level date fields (stored as milliseconds) in `style`.
fn render<T: Serialize>(doc: &T, date_keys: &[&str], style: DateStyle) -> Value {
    let mut v = serde_json::to_value(doc).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        for k in date_keys {
            if let Some(ms) = o.get(*k).and_then(Value::as_i64) {
                o.insert((*k).to_string(), style.date(ms));
            }
        }
    }
    v
}

/// A permission and the roles that hold it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Permission {
    #[serde(rename = "_id")]
    pub id: String,
    pub roles: Vec<String>,
    #[serde(rename = "_updatedAt")]
    pub updated_at: i64,
}

impl Permission {
    pub fn render(&self, style: DateStyle) -> Value {
        render(self, &["_updatedAt"], style)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub protected: bool,
    pub scope: String,
    #[serde(rename = "mandatory2fa")]
    pub mandatory_2fa: bool,
}

/// A login token as stored: only the hash of the secret.
#[derive(Clone, Debug)]
pub struct LoginToken {
    pub hashed: String,
    pub user_id: String,
    /// `session` or `pat`.
    pub kind: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_part: Option<String>,
    pub bypass_2fa: bool,
}

/// Who created or last changed a document (`_createdBy`, `_updatedBy`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Actor {
    #[serde(rename = "_id")]
    pub id: String,
    pub username: String,
}

/// An integration (`webhook-incoming` or `webhook-outgoing`), in Rocket.Chat's shape. Outgoing-only
/// fields (event, urls, triggerWords, retry settings, …) and `overrideDestinationChannelEnabled` live in
/// `extra`, typed access goes through the accessors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Integration {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub enabled: bool,
    pub username: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub channel: Vec<String>,
    #[serde(default)]
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    #[serde(rename = "scriptEnabled")]
    pub script_enabled: bool,
    #[serde(default)]
    pub script: String,
    #[serde(
        rename = "scriptCompiled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub script_compiled: Option<String>,
    #[serde(
        rename = "scriptError",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub script_error: Option<crate::script::ScriptError>,
    #[serde(rename = "scriptEngine")]
    pub script_engine: String,
    #[serde(rename = "_createdAt")]
    pub created_at: i64,
    #[serde(rename = "_createdBy", default)]
    pub created_by: Option<Actor>,
    #[serde(rename = "_updatedAt")]
    pub updated_at: i64,
    #[serde(
        rename = "_updatedBy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_by: Option<Actor>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Integration {
    pub fn is_incoming(&self) -> bool {
        self.kind == "webhook-incoming"
    }

    pub fn render(&self, style: DateStyle) -> Value {
        render(self, &["_createdAt", "_updatedAt"], style)
    }

    pub fn override_destination(&self) -> bool {
        self.extra
            .get("overrideDestinationChannelEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn is_outgoing(&self) -> bool {
        self.kind == "webhook-outgoing"
    }

    fn extra_str(&self, key: &str) -> Option<&str> {
        self.extra.get(key).and_then(Value::as_str)
    }

    fn extra_bool(&self, key: &str) -> bool {
        self.extra
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn extra_strings(&self, key: &str) -> Vec<String> {
        self.extra
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Outgoing: the event that fires it (`sendMessage`, `roomCreated`, …).
    pub fn event(&self) -> &str {
        self.extra_str("event").unwrap_or("")
    }

    /// Outgoing: the URLs called, in order.
    pub fn urls(&self) -> Vec<String> {
        self.extra_strings("urls")
    }

    /// Outgoing: trigger words (`sendMessage` only); empty matches every message.
    pub fn trigger_words(&self) -> Vec<String> {
        self.extra_strings("triggerWords")
    }

    pub fn trigger_word_anywhere(&self) -> bool {
        self.extra_bool("triggerWordAnywhere")
    }

    pub fn run_on_edits(&self) -> bool {
        self.extra_bool("runOnEdits")
    }

    pub fn impersonate_user(&self) -> bool {
        self.extra_bool("impersonateUser")
    }

    pub fn target_room(&self) -> Option<&str> {
        self.extra_str("targetRoom")
            .filter(|s| !s.trim().is_empty())
    }

    pub fn retry_failed_calls(&self) -> bool {
        self.extra_bool("retryFailedCalls")
    }

    /// Retries after the first attempt (Rocket.Chat's `retryCount`; only meaningful with `retryFailedCalls`).
    pub fn retry_count(&self) -> i64 {
        self.extra
            .get("retryCount")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }

    /// `powers-of-ten`, `powers-of-two` or `increments-of-two` (anything else disables retrying).
    pub fn retry_delay(&self) -> &str {
        self.extra_str("retryDelay").unwrap_or("powers-of-ten")
    }

    /// The Standard Webhooks signing secret (`whsec_…`), shown to admins as `webhookSecret`.
    pub fn webhook_secret(&self) -> Option<&str> {
        self.extra_str("webhookSecret")
    }
}

/// One outgoing call waiting in the durable queue. Its id is the `webhook-id` header, the same on every
/// attempt, so a receiver can drop duplicates (a job re-run after a crash is sent again with the same id).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryJob {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "integrationId")]
    pub integration_id: String,
    pub event: String,
    pub url: String,
    /// The payload (`request.data`), fixed when the event happened.
    pub data: Value,
    #[serde(
        rename = "triggerWord",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub trigger_word: Option<String>,
    /// The event's room, where replies go by default.
    #[serde(rename = "roomId", default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: i64,
    /// When the job may next be claimed (also stored as a column).
    #[serde(rename = "dueAt")]
    pub due_at: i64,
    /// Attempts started so far, counting the current one once claimed (a column, not in the document).
    #[serde(skip)]
    pub attempts: i64,
}

/// One attempt of an outgoing call, in the shape of Rocket.Chat's `rocketchat_integration_history` records
/// (dates kept in milliseconds in `doc` and rendered as ISO strings).
#[derive(Clone, Debug)]
pub struct OutgoingHistory {
    pub id: String,
    pub integration_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub doc: Map<String, Value>,
}

/// Stored in a history record instead of `httpCallData` when the call sent `data` unchanged.
pub const CALL_DATA_IS_DATA: &str = "_httpCallDataIsData";

impl OutgoingHistory {
    /// The record as the API shows it (Rocket.Chat's fields). `integration` is the integration the record
    /// belongs to: records store only its id, and carry the integration as it is now.
    pub fn render(&self, integration: &Integration, style: DateStyle) -> Value {
        let mut o = self.doc.clone();
        if o.remove(CALL_DATA_IS_DATA).is_some() {
            if let Some(d) = o.get("data").cloned() {
                o.insert("httpCallData".into(), d);
            }
        }
        if !o.contains_key("integration") {
            o.insert("integration".into(), integration.render(style));
        }
        o.insert("_createdAt".into(), style.date(self.created_at));
        o.insert("_updatedAt".into(), style.date(self.updated_at));
        Value::Object(o)
    }
}

/// A message a hook call posted, as its record shows it: `{channel, messageId, rid}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostedMessage {
    pub channel: String,
    #[serde(rename = "messageId")]
    pub message_id: String,
    pub rid: String,
}

/// One recorded call of an incoming hook (what arrived, what the script said, what was posted).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HookRequest {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "integrationId")]
    pub integration_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "_createdAt")]
    pub created_at: i64,
    pub method: String,
    /// The path with the token replaced by `***`, plus the query string.
    pub url: String,
    /// Request headers, with secrets redacted.
    pub headers: Map<String, Value>,
    /// The raw body as text (cut at the recording limit).
    pub body: String,
    #[serde(rename = "bodyTruncated")]
    pub body_truncated: bool,
    /// What the body was parsed into.
    pub content: Value,
    #[serde(rename = "scriptRan")]
    pub script_ran: bool,
    pub logs: Vec<crate::script::LogLine>,
    #[serde(
        rename = "scriptResult",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub script_result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The messages posted.
    pub messages: Vec<PostedMessage>,
    pub status: u16,
    pub response: Value,
    #[serde(rename = "scriptMs")]
    pub script_ms: f64,
    #[serde(rename = "totalMs")]
    pub total_ms: f64,
    /// The body parsed, so `content` is to be filled in from it when the record is written (it is not
    /// copied on the request path; see `integrations::requests`).
    #[serde(skip)]
    pub content_parsed: bool,
}

impl HookRequest {
    pub fn render(&self, style: DateStyle) -> Value {
        render(self, &["_createdAt"], style)
    }
}
