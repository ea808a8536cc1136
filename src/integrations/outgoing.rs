//! Outgoing webhooks: their management (Rocket.Chat's fields, validation errors and permission rules for
//! `webhook-outgoing`), the in-memory trigger [`Registry`] that decides cheaply which integrations an event
//! fires, and the payloads of §6.4 of the compatibility spec. Matching produces [`DeliveryJob`]s that the
//! chat core writes in the same transaction as the event; calling the URLs is the job of [`super::delivery`],
//! never of the request that caused the event.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::{json, Map, Value};

use super::{optional_string, required_bool, required_string, Integrations, Scope, OUTGOING};
use crate::error::{Error, Result};
use crate::model::{Actor, DeliveryJob, Integration, Message, Room, User};
use crate::util::{iso, new_id, now_ms, random_id, DateStyle};

/// An outgoing event and which options apply to it (§6.1).
pub struct EventKind {
    pub name: &'static str,
    pub uses_channel: bool,
    pub uses_trigger_words: bool,
    pub needs_target_room: bool,
}

/// The events an outgoing integration can listen to. `fileUploaded` is accepted for compatibility but never
/// fires: Switchboard has no file uploads yet.
pub const EVENTS: &[EventKind] = &[
    EventKind {
        name: "sendMessage",
        uses_channel: true,
        uses_trigger_words: true,
        needs_target_room: false,
    },
    EventKind {
        name: "fileUploaded",
        uses_channel: true,
        uses_trigger_words: false,
        needs_target_room: false,
    },
    EventKind {
        name: "roomArchived",
        uses_channel: false,
        uses_trigger_words: false,
        needs_target_room: false,
    },
    EventKind {
        name: "roomCreated",
        uses_channel: false,
        uses_trigger_words: false,
        needs_target_room: false,
    },
    EventKind {
        name: "roomJoined",
        uses_channel: true,
        uses_trigger_words: false,
        needs_target_room: false,
    },
    EventKind {
        name: "roomLeft",
        uses_channel: true,
        uses_trigger_words: false,
        needs_target_room: false,
    },
    EventKind {
        name: "userCreated",
        uses_channel: false,
        uses_trigger_words: false,
        needs_target_room: true,
    },
];

pub fn event_kind(name: &str) -> Option<&'static EventKind> {
    EVENTS.iter().find(|e| e.name == name)
}

/// The channel scope keywords of outgoing integrations.
pub const SCOPE_KEYWORDS: &[&str] = &[
    "all_public_channels",
    "all_private_groups",
    "all_direct_messages",
];

/// Registry key for integrations whose event ignores channels.
const ANY: &str = "__any";

/// A new Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64.
pub fn new_webhook_secret() -> String {
    let mut key = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

fn string_list(v: Option<&Value>, code: &str, reason: &str) -> Result<Vec<String>> {
    let items: Vec<String> = match v {
        None | Some(Value::Null) => vec![],
        // Lenient: a comma- or newline-separated string, as Rocket.Chat's UI field holds it.
        Some(Value::String(s)) => s.split([',', '\n']).map(str::to_string).collect(),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for x in a {
                match x {
                    Value::String(s) => out.push(s.clone()),
                    _ => return Err(Error::meteor(code, reason)),
                }
            }
            out
        }
        Some(_) => return Err(Error::meteor(code, reason)),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

fn optional_bool(p: &Map<String, Value>, key: &str) -> Result<bool> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Error::invalid_params(format!("/{key} must be boolean"))),
    }
}

impl Integrations {
    /// Validates an outgoing integration's fields (§4.2, §4.3) into `i.extra` and the common fields; used
    /// by create and by update, which re-validates the whole record as Rocket.Chat does.
    async fn validate_outgoing(
        &self,
        actor: &User,
        p: &Map<String, Value>,
        i: &mut Integration,
    ) -> Result<()> {
        let event_name = match p.get("event") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(Error::invalid_params("must have required property 'event'")),
        };
        let Some(event) = event_kind(&event_name) else {
            return Err(Error::meteor(
                "error-invalid-event-type",
                "Invalid event type",
            ));
        };
        i.name = required_string(p, "name")?;
        i.enabled = required_bool(p, "enabled")?;
        i.script_enabled = required_bool(p, "scriptEnabled")?;
        let poster = self.poster(p.get("username"), "error-invalid-user").await?;
        i.username = poster.username.clone();
        i.user_id = poster.id.clone();
        i.channel = if event.uses_channel {
            self.validate_channels(actor, OUTGOING, p.get("channel"))
                .await?
        } else {
            // Events that fire everywhere are for those who may manage every outgoing integration.
            if self.scope(actor, OUTGOING) != Scope::All {
                return Err(Error::meteor(
                    "error-invalid-permissions",
                    "Invalid permission for required Integration creation.",
                ));
            }
            vec![]
        };
        let urls = string_list(p.get("urls"), "error-invalid-urls", "Invalid URLs")?;
        if urls.is_empty()
            || urls.iter().any(|u| {
                url::Url::parse(u)
                    .map(|u| u.scheme() != "http" && u.scheme() != "https")
                    .unwrap_or(true)
            })
        {
            return Err(Error::meteor("error-invalid-urls", "Invalid URLs"));
        }
        let trigger_words = string_list(
            p.get("triggerWords"),
            "error-invalid-triggerWords",
            "Invalid triggerWords",
        )?;
        let target_room = optional_string(p, "targetRoom")?.filter(|s| !s.trim().is_empty());
        if event.needs_target_room && target_room.is_none() {
            return Err(Error::meteor(
                "error-invalid-targetRoom",
                "Invalid Target Room",
            ));
        }
        i.alias = optional_string(p, "alias")?;
        i.avatar = optional_string(p, "avatar")?;
        i.emoji = optional_string(p, "emoji")?;
        i.script = optional_string(p, "script")?.unwrap_or_default();
        let retry = optional_bool(p, "retryFailedCalls")?;
        let mut retry_count = match p.get("retryCount") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64().map(|f| f as i64),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => return Err(Error::invalid_params("/retryCount must be number")),
        };
        let mut retry_delay = optional_string(p, "retryDelay")?;
        if retry {
            if retry_count.is_none_or(|c| c <= 0) {
                retry_count = Some(4);
            }
            retry_delay = Some(
                retry_delay
                    .filter(|d| !d.trim().is_empty())
                    .map(|d| d.trim().to_lowercase())
                    .unwrap_or_else(|| "powers-of-ten".into()),
            );
        }
        let e = &mut i.extra;
        e.insert("event".into(), json!(event.name));
        e.insert("urls".into(), json!(urls));
        if event.uses_trigger_words {
            e.insert("triggerWords".into(), json!(trigger_words));
        } else {
            e.remove("triggerWords");
        }
        e.insert(
            "triggerWordAnywhere".into(),
            json!(optional_bool(p, "triggerWordAnywhere")?),
        );
        e.insert(
            "runOnEdits".into(),
            json!(p.get("runOnEdits") == Some(&json!(true))),
        );
        e.insert(
            "impersonateUser".into(),
            json!(optional_bool(p, "impersonateUser")?),
        );
        match target_room {
            Some(t) => e.insert("targetRoom".into(), json!(t)),
            None => e.remove("targetRoom"),
        };
        e.insert("retryFailedCalls".into(), json!(retry));
        match retry_count {
            Some(c) => e.insert("retryCount".into(), json!(c)),
            None => e.remove("retryCount"),
        };
        match retry_delay {
            Some(d) => e.insert("retryDelay".into(), json!(d)),
            None => e.remove("retryDelay"),
        };
        if !e.contains_key("webhookSecret") {
            e.insert("webhookSecret".into(), json!(new_webhook_secret()));
        }
        Ok(())
    }

    /// `integrations.create` for `webhook-outgoing`.
    pub(super) async fn create_outgoing(
        &self,
        actor: &User,
        p: &Map<String, Value>,
    ) -> Result<Integration> {
        if self.scope(actor, OUTGOING) == Scope::None {
            return Err(Error::meteor_code("not_authorized"));
        }
        let now = now_ms();
        let mut i = Integration {
            id: new_id(),
            kind: OUTGOING.into(),
            name: String::new(),
            enabled: false,
            username: String::new(),
            user_id: String::new(),
            channel: vec![],
            token: String::new(),
            alias: None,
            avatar: None,
            emoji: None,
            script_enabled: false,
            script: String::new(),
            script_compiled: None,
            script_error: None,
            script_engine: "isolated-vm".into(),
            created_at: now,
            created_by: Some(Actor {
                id: actor.id.clone(),
                username: actor.username.clone(),
            }),
            updated_at: now,
            updated_by: None,
            extra: Map::new(),
        };
        self.validate_outgoing(actor, p, &mut i).await?;
        // DECISIONS 6: a token is generated when omitted, so every call can be checked by the receiver.
        i.token = optional_string(p, "token")?
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| random_id(24));
        super::compile_into(&mut i).await;
        self.chat.store.insert_integration(&i).await?;
        self.refresh_outgoing().await?;
        Ok(i)
    }

    /// `integrations.update` for `webhook-outgoing`: the whole record is validated again and replaced.
    pub(super) async fn update_outgoing(
        &self,
        actor: &User,
        mut i: Integration,
        p: &Map<String, Value>,
    ) -> Result<Integration> {
        if !self.may_manage(actor, &i) {
            return Err(Error::meteor_code("not_authorized"));
        }
        let token = match p.get("token") {
            Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
            _ => return Err(Error::meteor("error-invalid-token", "Invalid token")),
        };
        self.validate_outgoing(actor, p, &mut i).await?;
        i.token = token;
        i.updated_at = now_ms().max(i.updated_at + 1);
        i.updated_by = Some(Actor {
            id: actor.id.clone(),
            username: actor.username.clone(),
        });
        super::compile_into(&mut i).await;
        self.chat.store.update_integration(&i).await?;
        self.forget(&i.id);
        self.refresh_outgoing().await?;
        Ok(i)
    }

    /// Reloads the trigger registry from the database (after a change here, and periodically so changes
    /// made by another node sharing the database arrive too).
    pub async fn refresh_outgoing(&self) -> Result<()> {
        let all = self.chat.store.outgoing_integrations().await?;
        self.chat.outgoing.replace(all);
        Ok(())
    }
}

/// The in-memory index of outgoing integrations: which ones an event in a room fires. Readers take a
/// snapshot (`Arc`) and never wait for a reload.
pub struct Registry {
    snapshot: RwLock<Arc<Snapshot>>,
    site_url: String,
    /// Woken after delivery jobs were committed on this node, so a worker claims them at once rather than
    /// at its next poll.
    pub wake: tokio::sync::Notify,
}

#[derive(Default)]
struct Snapshot {
    /// Every outgoing integration, enabled or not (workers look them up by id).
    by_id: HashMap<String, Arc<Integration>>,
    /// event → channel key → enabled integrations registered under it (§6.2).
    triggers: HashMap<String, HashMap<String, Vec<Arc<Integration>>>>,
}

impl Registry {
    pub fn new(site_url: String) -> Registry {
        Registry {
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            site_url,
            wake: tokio::sync::Notify::new(),
        }
    }

    fn snap(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("registry poisoned").clone()
    }

    /// Replaces the index with `all` outgoing integrations.
    pub fn replace(&self, all: Vec<Integration>) {
        let mut s = Snapshot::default();
        for i in all {
            let i = Arc::new(i);
            s.by_id.insert(i.id.clone(), i.clone());
            if !i.enabled {
                continue;
            }
            let Some(kind) = event_kind(i.event()) else {
                continue;
            };
            let keys: Vec<String> = if !kind.uses_channel {
                vec![ANY.into()]
            } else if i.channel.is_empty() {
                vec!["all_public_channels".into()]
            } else {
                i.channel.clone()
            };
            let by_key = s.triggers.entry(kind.name.to_string()).or_default();
            for k in keys {
                by_key.entry(k).or_default().push(i.clone());
            }
        }
        *self.snapshot.write().expect("registry poisoned") = Arc::new(s);
    }

    /// The first outgoing integration calling `url` (DECISIONS 7: `/hooks/remove` matches by `urls`).
    pub fn by_url(&self, url: &str) -> Option<String> {
        let snap = self.snap();
        let mut found: Vec<&Arc<Integration>> = snap
            .by_id
            .values()
            .filter(|i| i.urls().iter().any(|u| u == url))
            .collect();
        found.sort_by_key(|i| (i.created_at, i.id.clone()));
        found.first().map(|i| i.id.clone())
    }

    /// An outgoing integration by id, enabled or not.
    pub fn get(&self, id: &str) -> Option<Arc<Integration>> {
        self.snap().by_id.get(id).cloned()
    }

    /// The enabled integrations `event` fires in `room` (or anywhere, for events without a room), each
    /// once, in registration order.
    fn candidates(
        &self,
        event: &str,
        room: Option<&Room>,
        actor: Option<&str>,
    ) -> Vec<Arc<Integration>> {
        let snap = self.snap();
        let Some(by_key) = snap.triggers.get(event) else {
            return vec![];
        };
        let mut keys: Vec<String> = vec![ANY.into()];
        if let Some(room) = room {
            match room.t.as_str() {
                "d" => {
                    keys.push("all_direct_messages".into());
                    keys.extend(room.uids.iter().map(|u| format!("@{u}")));
                    keys.extend(
                        room.usernames
                            .iter()
                            .filter(|u| Some(u.as_str()) != actor)
                            .map(|u| format!("@{u}")),
                    );
                }
                t => {
                    keys.push(if t == "c" {
                        "all_public_channels".into()
                    } else {
                        "all_private_groups".into()
                    });
                    keys.push(format!("#{}", room.id));
                    if let Some(n) = &room.name {
                        keys.push(format!("#{n}"));
                    }
                }
            }
        }
        let mut out: Vec<Arc<Integration>> = Vec::new();
        for k in keys {
            for i in by_key.get(&k).into_iter().flatten() {
                if !out.iter().any(|o| o.id == i.id) {
                    out.push(i.clone());
                }
            }
        }
        out.sort_by_key(|i| (i.created_at, i.id.clone()));
        out
    }

    fn jobs(
        &self,
        i: &Integration,
        event: &str,
        data: Value,
        trigger_word: Option<String>,
        room_id: Option<String>,
    ) -> Vec<DeliveryJob> {
        let now = now_ms();
        i.urls()
            .into_iter()
            .map(|url| DeliveryJob {
                id: new_id(),
                integration_id: i.id.clone(),
                event: event.to_string(),
                url,
                data: data.clone(),
                trigger_word: trigger_word.clone(),
                room_id: room_id.clone(),
                created_at: now,
                due_at: now,
                attempts: 0,
            })
            .collect()
    }

    /// Jobs for a new or edited message (`sendMessage`): channel filter, trigger words, `runOnEdits`.
    /// System messages fire nothing, and neither do replies posted by outgoing integrations — otherwise two
    /// bots answering each other's trigger words would loop forever (Rocket.Chat only flags them `bot`).
    pub fn message_jobs(&self, room: &Room, m: &Message) -> Vec<DeliveryJob> {
        if m.t.is_some() {
            return vec![];
        }
        if let Some(bot_id) = m
            .extra
            .get("bot")
            .and_then(|b| b.get("i"))
            .and_then(Value::as_str)
        {
            if self.get(bot_id).is_some() {
                return vec![];
            }
        }
        let mut out = Vec::new();
        for i in self.candidates("sendMessage", Some(room), Some(&m.u.username)) {
            if m.edited_at.is_some() && !i.run_on_edits() {
                continue;
            }
            let words = i.trigger_words();
            let trigger_word = if words.is_empty() {
                None
            } else {
                let anywhere = i.trigger_word_anywhere();
                match words.into_iter().find(|w| {
                    if anywhere {
                        m.msg.contains(w.as_str())
                    } else {
                        m.msg.starts_with(w.as_str())
                    }
                }) {
                    Some(w) => Some(w),
                    None => continue,
                }
            };
            let data = message_payload(&i, room, m, trigger_word.as_deref(), &self.site_url);
            out.extend(self.jobs(&i, "sendMessage", data, trigger_word, Some(room.id.clone())));
        }
        out
    }

    /// Jobs for `roomCreated` (by `owner`).
    pub fn room_created_jobs(&self, room: &Room, owner: &User) -> Vec<DeliveryJob> {
        let mut out = Vec::new();
        for i in self.candidates("roomCreated", None, None) {
            let mut d = base(&i, owner);
            d.insert("channel_id".into(), json!(room.id));
            d.insert("channel_name".into(), json!(room.name));
            d.insert("timestamp".into(), json!(iso(room.ts)));
            d.insert("user_id".into(), json!(owner.id));
            d.insert("user_name".into(), json!(owner.username));
            d.insert("owner".into(), user_doc(owner));
            d.insert("room".into(), room.render(DateStyle::Iso));
            out.extend(self.jobs(
                &i,
                "roomCreated",
                Value::Object(d),
                None,
                Some(room.id.clone()),
            ));
        }
        out
    }

    /// Jobs for `roomArchived`, `roomJoined` and `roomLeft` (`user` archived, joined or left).
    pub fn room_user_jobs(&self, event: &str, room: &Room, user: &User) -> Vec<DeliveryJob> {
        let mut out = Vec::new();
        for i in self.candidates(event, Some(room), Some(&user.username)) {
            let mut d = base(&i, user);
            d.insert("timestamp".into(), json!(iso(now_ms())));
            d.insert("channel_id".into(), json!(room.id));
            if let Some(n) = &room.name {
                d.insert("channel_name".into(), json!(n));
            }
            d.insert("user_id".into(), json!(user.id));
            d.insert("user_name".into(), json!(user.username));
            d.insert("user".into(), user_doc(user));
            d.insert("room".into(), room.render(DateStyle::Iso));
            out.extend(self.jobs(&i, event, Value::Object(d), None, Some(room.id.clone())));
        }
        out
    }

    /// Jobs for `userCreated`.
    pub fn user_created_jobs(&self, user: &User) -> Vec<DeliveryJob> {
        let mut out = Vec::new();
        for i in self.candidates("userCreated", None, None) {
            let mut d = base(&i, user);
            d.insert("timestamp".into(), json!(iso(user.created_at)));
            d.insert("user_id".into(), json!(user.id));
            d.insert("user_name".into(), json!(user.username));
            d.insert("user".into(), user_doc(user));
            out.extend(self.jobs(&i, "userCreated", Value::Object(d), None, None));
        }
        out
    }
}

/// `{token, bot}`, with `bot: true` when the acting user is a bot.
fn base(i: &Integration, user: &User) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("token".into(), json!(i.token));
    d.insert("bot".into(), json!(user.kind == "bot"));
    d
}

/// A user document for payloads, without `services` (secrets never live in the document, but Rocket.Chat
/// strips the key and receivers may rely on its absence).
fn user_doc(u: &User) -> Value {
    let mut v = u.render(DateStyle::Iso);
    if let Some(o) = v.as_object_mut() {
        o.remove("services");
    }
    v
}

/// The `sendMessage` payload of §6.4.
pub fn message_payload(
    i: &Integration,
    room: &Room,
    m: &Message,
    trigger_word: Option<&str>,
    site_url: &str,
) -> Value {
    let mut d = Map::new();
    d.insert("token".into(), json!(i.token));
    d.insert("bot".into(), json!(m.is_from_bot()));
    if let Some(w) = trigger_word {
        d.insert("trigger_word".into(), json!(w));
    }
    d.insert("channel_id".into(), json!(room.id));
    if !room.is_dm() {
        if let Some(n) = &room.name {
            d.insert("channel_name".into(), json!(n));
        }
    }
    d.insert("message_id".into(), json!(m.id));
    d.insert("timestamp".into(), json!(iso(m.ts)));
    d.insert("user_id".into(), json!(m.u.id));
    d.insert("user_name".into(), json!(m.u.username));
    d.insert("text".into(), json!(m.msg));
    d.insert("siteUrl".into(), json!(site_url));
    if let Some(a) = m
        .extra
        .get("alias")
        .filter(|a| a.as_str().is_some_and(|s| !s.is_empty()))
    {
        d.insert("alias".into(), a.clone());
    }
    if m.edited_at.is_some() {
        d.insert("isEdited".into(), json!(true));
    }
    if let Some(t) = &m.tmid {
        d.insert("tmid".into(), json!(t));
    }
    Value::Object(d)
}

/// Why a `/hooks/add` or `/hooks/remove` call was refused.
pub enum HelperError {
    /// Unknown incoming integration or wrong token (DECISIONS 1: 401).
    Unauthenticated,
    Failed(Error),
}

impl From<Error> for HelperError {
    fn from(e: Error) -> Self {
        HelperError::Failed(e)
    }
}

impl From<crate::store::DbError> for HelperError {
    fn from(e: crate::store::DbError) -> Self {
        HelperError::Failed(e.into())
    }
}

impl Integrations {
    /// The incoming integration a `/hooks/add|remove/:id/:token` call authenticates with.
    async fn helper_auth(
        &self,
        id: &str,
        token: &str,
    ) -> std::result::Result<Integration, HelperError> {
        match self.chat.store.integration_by_id(id).await? {
            Some(i) if i.is_incoming() && crate::util::secure_eq(&i.token, token) => Ok(i),
            _ => Err(HelperError::Unauthenticated),
        }
    }

    /// `POST /hooks/add/:id/:token` (§6.9, the Zapier-style helper): creates an outgoing `sendMessage`
    /// integration for `target_url`.
    pub async fn hooks_add(
        &self,
        id: &str,
        token: &str,
        body: &Map<String, Value>,
    ) -> std::result::Result<Integration, HelperError> {
        let incoming = self.helper_auth(id, token).await?;
        let event = body.get("event").and_then(Value::as_str).unwrap_or("");
        let data = body
            .get("data")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let target_url = match body.get("target_url").and_then(Value::as_str) {
            Some(u) if url::Url::parse(u).is_ok() => u.to_string(),
            _ => {
                return Err(
                    Error::invalid_params("must have required property 'target_url'").into(),
                )
            }
        };
        let (channel, enabled, token) = match event {
            "newMessageOnChannel" => {
                let name = data
                    .get("channel_name")
                    .and_then(Value::as_str)
                    .unwrap_or("general");
                let channel = if name.starts_with('#') {
                    name.to_string()
                } else {
                    format!("#{name}")
                };
                (channel, true, random_id(24))
            }
            "newMessageToUser" => match data.get("username").and_then(Value::as_str) {
                Some(u) if !u.is_empty() => (
                    format!("@{}", u.trim_start_matches('@')),
                    false,
                    String::new(),
                ),
                _ => return Err(Error::failure("username-required").into()),
            },
            _ => {
                return Err(Error::invalid_params(
                    "/event must be equal to one of the allowed values",
                )
                .into())
            }
        };
        let poster = match self.chat.store.user_by_username("rocket.cat").await? {
            Some(u) => u,
            None => self
                .chat
                .store
                .user_by_id(&incoming.user_id)
                .await?
                .ok_or_else(|| Error::meteor("error-invalid-user", "Invalid user"))?,
        };
        let trigger_words = string_list(
            data.get("trigger_words"),
            "error-invalid-triggerWords",
            "Invalid triggerWords",
        )?;
        let now = now_ms();
        let mut extra = Map::new();
        extra.insert("event".into(), json!("sendMessage"));
        extra.insert("urls".into(), json!([target_url]));
        extra.insert("triggerWords".into(), json!(trigger_words));
        extra.insert("triggerWordAnywhere".into(), json!(false));
        extra.insert("runOnEdits".into(), json!(false));
        extra.insert("impersonateUser".into(), json!(false));
        extra.insert("retryFailedCalls".into(), json!(false));
        extra.insert("webhookSecret".into(), json!(new_webhook_secret()));
        let i = Integration {
            id: new_id(),
            kind: OUTGOING.into(),
            name: body
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(&target_url)
                .to_string(),
            enabled,
            username: poster.username.clone(),
            user_id: poster.id.clone(),
            channel: vec![channel],
            token,
            alias: None,
            avatar: None,
            emoji: None,
            script_enabled: false,
            script: String::new(),
            script_compiled: None,
            script_error: None,
            script_engine: "isolated-vm".into(),
            created_at: now,
            created_by: incoming.created_by.clone(),
            updated_at: now,
            updated_by: None,
            extra,
        };
        self.chat.store.insert_integration(&i).await?;
        self.refresh_outgoing().await?;
        Ok(i)
    }

    /// `POST /hooks/remove/:id/:token` with `{target_url}`: deletes the outgoing integration calling that
    /// URL (DECISIONS 7: matched by `urls`).
    pub async fn hooks_remove(
        &self,
        id: &str,
        token: &str,
        body: &Map<String, Value>,
    ) -> std::result::Result<(), HelperError> {
        self.helper_auth(id, token).await?;
        let url = body.get("target_url").and_then(Value::as_str).unwrap_or("");
        let Some(found) = self.chat.outgoing.by_url(url) else {
            return Err(Error::failure("integration-not-found").into());
        };
        self.chat.store.delete_integration(&found).await?;
        self.forget(&found);
        self.refresh_outgoing().await?;
        Ok(())
    }
}
