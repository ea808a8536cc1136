//! Integrations: managing incoming and outgoing webhooks with Rocket.Chat's validation rules and
//! permission model ("manage all" versus "manage own"), running incoming hooks ([`incoming`]), matching
//! events to outgoing integrations ([`outgoing`]) and delivering them through a durable queue
//! ([`delivery`]).

pub mod delivery;
pub mod incoming;
pub mod outgoing;
pub mod ratelimit;
pub mod requests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::chat::Chat;
use crate::error::{Error, Result};
use crate::model::{Actor, Integration, User};
use crate::script::{ScriptError, ScriptHost};
use crate::store::Page;
use crate::util::{new_id, now_ms, random_id};

pub const INCOMING: &str = "webhook-incoming";
pub const OUTGOING: &str = "webhook-outgoing";

/// Settings of the integrations service.
#[derive(Clone, Debug)]
pub struct IntegrationSettings {
    pub site_url: String,
    /// Skip scripts at run time (Rocket.Chat's `DISABLE_INTEGRATION_SCRIPTS`).
    pub scripts_disabled: bool,
    pub history_size: i64,
    /// (calls per minute, burst) per hook, when rate limiting is on.
    pub rate_limit: Option<(u64, u64)>,
}

/// How long a hook's integration and poster stay cached. Local changes invalidate at once; the bound
/// matters only for changes made by another node sharing the database.
const CACHE_TTL: Duration = Duration::from_secs(2);

/// A cached hook target: when it was loaded, the integration, and its poster.
type CachedHook = (Instant, Arc<Integration>, Arc<User>);

/// The integrations service.
pub struct Integrations {
    pub chat: Arc<Chat>,
    pub scripts: ScriptHost,
    pub settings: IntegrationSettings,
    /// Hot-path cache: integration id → (loaded at, integration, poster).
    cache: Mutex<HashMap<String, CachedHook>>,
    limiter: ratelimit::RateLimiter,
    /// Incoming hooks' recorded requests, written in the background.
    pub requests: Arc<requests::RequestLog>,
}

/// Which integrations of one type a user may manage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    None,
    Own,
    All,
}

fn kind_word(kind: &str) -> &'static str {
    if kind == OUTGOING {
        "outgoing"
    } else {
        "incoming"
    }
}

impl Integrations {
    pub fn new(
        chat: Arc<Chat>,
        scripts: ScriptHost,
        settings: IntegrationSettings,
    ) -> Integrations {
        let limiter = ratelimit::RateLimiter::new(settings.rate_limit);
        let requests = Arc::new(requests::RequestLog::new(
            settings.history_size as usize,
            chat.writer.clone(),
        ));
        Integrations {
            requests,
            chat,
            scripts,
            settings,
            cache: Mutex::new(HashMap::new()),
            limiter,
        }
    }

    /// The scope `user` has over integrations of `kind`.
    pub fn scope(&self, user: &User, kind: &str) -> Scope {
        let w = kind_word(kind);
        if self
            .chat
            .perms
            .has(user, &format!("manage-{w}-integrations"))
        {
            Scope::All
        } else if self
            .chat
            .perms
            .has(user, &format!("manage-own-{w}-integrations"))
        {
            Scope::Own
        } else {
            Scope::None
        }
    }

    /// Whether `user` may see and change `integration`.
    pub fn may_manage(&self, user: &User, integration: &Integration) -> bool {
        match self.scope(user, &integration.kind) {
            Scope::All => true,
            Scope::Own => integration
                .created_by
                .as_ref()
                .is_some_and(|c| c.id == user.id),
            Scope::None => false,
        }
    }

    /// Whether `user` holds any of the four integration permissions (the route-level gate).
    pub fn may_manage_any(&self, user: &User) -> bool {
        self.scope(user, INCOMING) != Scope::None || self.scope(user, OUTGOING) != Scope::None
    }

    pub fn hook_url(&self, i: &Integration) -> String {
        format!("{}/hooks/{}/{}", self.settings.site_url, i.id, i.token)
    }

    fn forget(&self, id: &str) {
        self.cache.lock().expect("cache poisoned").remove(id);
        self.scripts.evict(id);
    }

    /// Validates the destination list (`"#general, @bob"`) with Rocket.Chat's errors and rights rule: unless
    /// the user may manage all and own integrations of this type, they must be a member of each room.
    async fn validate_channels(
        &self,
        actor: &User,
        kind: &str,
        channel: Option<&Value>,
    ) -> Result<Vec<String>> {
        let raw = match channel {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            _ => return Err(Error::meteor("error-invalid-channel", "Invalid Channel")),
        };
        let channels: Vec<String> = raw
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if channels.is_empty() {
            return Err(Error::meteor("error-invalid-channel", "Invalid Channel"));
        }
        let w = kind_word(kind);
        let privileged = self
            .chat
            .perms
            .has(actor, &format!("manage-{w}-integrations"))
            && self
                .chat
                .perms
                .has(actor, &format!("manage-own-{w}-integrations"));
        let mut channels = channels;
        for c in channels.iter_mut() {
            if kind == OUTGOING {
                if let Some(k) = outgoing::SCOPE_KEYWORDS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(c))
                {
                    // All public channels is free; private groups and DMs need the "manage all" right.
                    if *k != "all_public_channels"
                        && !self.chat.perms.has(actor, "manage-outgoing-integrations")
                    {
                        return Err(Error::meteor("error-invalid-channel", "Invalid Channel"));
                    }
                    *c = (*k).to_string();
                    continue;
                }
            }
            if let Some(name) = c.strip_prefix('#') {
                let room = self
                    .chat
                    .store
                    .room_by_id_or_name(name)
                    .await?
                    .ok_or_else(|| Error::meteor("error-invalid-room", "Invalid room"))?;
                if !privileged
                    && self
                        .chat
                        .store
                        .subscription(&room.id, &actor.id)
                        .await?
                        .is_none()
                {
                    return Err(Error::meteor("error-invalid-channel", "Invalid Channel"));
                }
            } else if let Some(name) = c.strip_prefix('@') {
                // A DM target needs only the user to exist: direct messages are created on demand, and
                // anyone may open one (Rocket.Chat's refusal here, RC#13103, is a known bug).
                if self
                    .chat
                    .store
                    .user_by_id_or_username(name)
                    .await?
                    .is_none()
                {
                    return Err(Error::meteor("error-invalid-room", "Invalid room"));
                }
            } else {
                return Err(Error::meteor(
                    "error-invalid-channel-start-with-chars",
                    "Invalid Channel. Start with @ or #",
                ));
            }
        }
        Ok(channels)
    }

    /// The "post as" user; creating or updating an incoming integration gives them the `bot` role.
    async fn poster(&self, username: Option<&Value>, missing_code: &str) -> Result<User> {
        let name = match username {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            _ => return Err(Error::meteor("error-invalid-username", "Invalid username")),
        };
        self.chat
            .store
            .user_by_username(&name)
            .await?
            .ok_or_else(|| Error::meteor(missing_code, "Invalid user"))
    }

    async fn grant_bot_role(&self, user: &User) -> Result<()> {
        if !user.has_role("bot") {
            let mut u = user.clone();
            u.roles.push("bot".into());
            u.updated_at = now_ms();
            self.chat.store.update_user(&u).await?;
        }
        Ok(())
    }

    /// `integrations.create` for incoming hooks.
    pub async fn create(&self, actor: &User, p: &Map<String, Value>) -> Result<Integration> {
        let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == OUTGOING {
            return self.create_outgoing(actor, p).await;
        }
        if kind != INCOMING {
            return Err(Error::failure("Invalid integration type."));
        }
        if self.scope(actor, kind) == Scope::None {
            return Err(Error::meteor_code("not_authorized"));
        }
        let name = required_string(p, "name")?;
        let enabled = required_bool(p, "enabled")?;
        let script_enabled = required_bool(p, "scriptEnabled")?;
        let channels = self
            .validate_channels(actor, kind, p.get("channel"))
            .await?;
        let poster = self.poster(p.get("username"), "error-invalid-user").await?;
        let now = now_ms();
        let mut i = Integration {
            id: new_id(),
            kind: kind.into(),
            name,
            enabled,
            username: poster.username.clone(),
            user_id: poster.id.clone(),
            channel: channels,
            token: random_id(48),
            alias: optional_string(p, "alias")?,
            avatar: optional_string(p, "avatar")?,
            emoji: optional_string(p, "emoji")?,
            script_enabled,
            script: optional_string(p, "script")?.unwrap_or_default(),
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
        let override_dest = match p.get("overrideDestinationChannelEnabled") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::invalid_params(
                    "/overrideDestinationChannelEnabled must be boolean",
                ))
            }
        };
        i.extra.insert(
            "overrideDestinationChannelEnabled".into(),
            json!(override_dest),
        );
        compile_into(&mut i).await;
        self.chat.store.insert_integration(&i).await?;
        self.grant_bot_role(&poster).await?;
        Ok(i)
    }

    /// `integrations.update` for incoming hooks: only the fields given change.
    pub async fn update(&self, actor: &User, p: &Map<String, Value>) -> Result<Integration> {
        let id = required_string(p, "integrationId")?;
        let kind = p.get("type").and_then(Value::as_str).unwrap_or(INCOMING);
        let mut i = self
            .chat
            .store
            .integration_by_id(&id)
            .await?
            .filter(|i| i.kind == kind)
            .ok_or_else(|| Error::failure("No integration found."))?;
        if i.is_outgoing() {
            return self.update_outgoing(actor, i, p).await;
        }
        if !self.may_manage(actor, &i) {
            return Err(Error::meteor_code("not_authorized"));
        }
        if p.contains_key("channel") {
            i.channel = self
                .validate_channels(actor, &i.kind, p.get("channel"))
                .await?;
        }
        if p.contains_key("username") {
            let poster = self
                .poster(p.get("username"), "error-invalid-post-as-user")
                .await?;
            i.username = poster.username.clone();
            i.user_id = poster.id.clone();
            self.grant_bot_role(&poster).await?;
        }
        if p.contains_key("name") {
            i.name = required_string(p, "name")?;
        }
        if p.contains_key("enabled") {
            i.enabled = required_bool(p, "enabled")?;
        }
        for (key, slot) in [
            ("alias", &mut i.alias),
            ("avatar", &mut i.avatar),
            ("emoji", &mut i.emoji),
        ] {
            if p.contains_key(key) {
                *slot = optional_string(p, key)?;
            }
        }
        if p.contains_key("scriptEnabled") {
            i.script_enabled = required_bool(p, "scriptEnabled")?;
        }
        if p.contains_key("script") {
            i.script = optional_string(p, "script")?.unwrap_or_default();
        }
        match p.get("overrideDestinationChannelEnabled") {
            None => {}
            Some(Value::Bool(b)) => {
                i.extra
                    .insert("overrideDestinationChannelEnabled".into(), json!(b));
            }
            Some(_) => {
                return Err(Error::invalid_params(
                    "/overrideDestinationChannelEnabled must be boolean",
                ))
            }
        }
        i.updated_at = now_ms().max(i.updated_at + 1);
        i.updated_by = Some(Actor {
            id: actor.id.clone(),
            username: actor.username.clone(),
        });
        compile_into(&mut i).await;
        self.chat.store.update_integration(&i).await?;
        self.forget(&i.id);
        Ok(i)
    }

    /// `integrations.remove`: deletes the integration and its recorded requests.
    pub async fn remove(&self, actor: &User, p: &Map<String, Value>) -> Result<Integration> {
        let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != INCOMING && kind != OUTGOING {
            return Err(Error::invalid_params(
                "/type must be equal to one of the allowed values",
            ));
        }
        let id = match p.get("integrationId").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ if kind == OUTGOING => match p.get("target_url").and_then(Value::as_str) {
                Some(url) if !url.is_empty() => self
                    .chat
                    .outgoing
                    .by_url(url)
                    .ok_or_else(|| Error::failure("No integration found."))?,
                _ => {
                    return Err(Error::failure(
                        "An integrationId or target_url needs to be provided.",
                    ))
                }
            },
            _ => {
                return Err(Error::invalid_params(
                    "must have required property 'integrationId'",
                ))
            }
        };
        let i = self
            .chat
            .store
            .integration_by_id(&id)
            .await?
            .filter(|i| i.kind == kind)
            .ok_or_else(|| Error::failure("No integration found."))?;
        if !self.may_manage(actor, &i) {
            return Err(Error::meteor_code("not_authorized"));
        }
        self.chat.store.delete_integration(&i.id).await?;
        self.forget(&i.id);
        if i.is_outgoing() {
            self.refresh_outgoing().await?;
        }
        Ok(i)
    }

    /// `integrations.get`
    pub async fn get(
        &self,
        actor: &User,
        id: &str,
        created_by: Option<&str>,
    ) -> Result<Integration> {
        let i = self
            .chat
            .store
            .integration_by_id(id)
            .await?
            .filter(|i| created_by.is_none_or(|c| i.created_by.as_ref().is_some_and(|a| a.id == c)))
            .ok_or_else(|| Error::failure("The integration does not exists."))?;
        if !self.may_manage(actor, &i) {
            return Err(Error::failure("not-authorized"));
        }
        Ok(i)
    }

    /// `integrations.list`: what the caller may see, optionally one type and a name filter.
    pub async fn list(
        &self,
        actor: &User,
        kind: Option<&str>,
        name: Option<&str>,
        page: Page,
    ) -> Result<(Vec<Integration>, i64)> {
        let kinds: Vec<&str> = match kind {
            Some(k) => vec![k],
            None => vec![INCOMING, OUTGOING],
        };
        let scoped: Vec<(&str, Scope)> = kinds
            .iter()
            .map(|k| (*k, self.scope(actor, k)))
            .filter(|(_, s)| *s != Scope::None)
            .collect();
        let store = &self.chat.store;
        let mine = Some(actor.id.as_str());
        match scoped.as_slice() {
            [] => Ok((vec![], 0)),
            [(k, s)] => Ok(store
                .list_integrations(
                    &[k],
                    (*s == Scope::Own).then_some(actor.id.as_str()),
                    name,
                    page,
                )
                .await?),
            [(a, sa), (b, sb)] if sa == sb => Ok(store
                .list_integrations(
                    &[a, b],
                    (*sa == Scope::Own).then_some(actor.id.as_str()),
                    name,
                    page,
                )
                .await?),
            _ => {
                let all = Page {
                    offset: 0,
                    count: 10_000,
                };
                let mut items = Vec::new();
                for (k, s) in &scoped {
                    items.extend(
                        store
                            .list_integrations(
                                &[k],
                                if *s == Scope::Own { mine } else { None },
                                name,
                                all,
                            )
                            .await?
                            .0,
                    );
                }
                items.sort_by_key(|i| i.created_at);
                let total = items.len() as i64;
                let page_items = items
                    .into_iter()
                    .skip(page.offset as usize)
                    .take(page.count as usize)
                    .collect();
                Ok((page_items, total))
            }
        }
    }

    /// The cached integration and poster of a hook, loaded when missing or stale.
    pub async fn hook_target(
        &self,
        id: &str,
    ) -> Result<Option<(Arc<Integration>, Option<Arc<User>>)>> {
        if let Some((at, i, u)) = self.cache.lock().expect("cache poisoned").get(id) {
            if at.elapsed() < CACHE_TTL {
                return Ok(Some((i.clone(), Some(u.clone()))));
            }
        }
        let Some(i) = self.chat.store.integration_by_id(id).await? else {
            return Ok(None);
        };
        let i = Arc::new(i);
        let user = self.chat.store.user_by_id(&i.user_id).await?.map(Arc::new);
        if let Some(u) = &user {
            self.cache
                .lock()
                .expect("cache poisoned")
                .insert(id.to_string(), (Instant::now(), i.clone(), u.clone()));
        }
        Ok(Some((i, user)))
    }
}

/// Compiles the integration's script when scripting is on: `scriptCompiled` on success, `scriptError` on a
/// syntax error (the save still succeeds, as in Rocket.Chat).
async fn compile_into(i: &mut Integration) {
    i.script_compiled = None;
    i.script_error = None;
    if !i.script_enabled || i.script.trim().is_empty() {
        return;
    }
    let source = i.script.clone();
    let compiled = tokio::task::spawn_blocking(move || crate::script::compile(&source)).await;
    match compiled {
        Ok(Ok(c)) => i.script_compiled = Some(c.into_string()),
        Ok(Err(e)) => i.script_error = Some(e),
        Err(e) => {
            i.script_error = Some(ScriptError {
                name: "InternalError".into(),
                message: e.to_string(),
                stack: String::new(),
            })
        }
    }
}

fn required_string(p: &Map<String, Value>, key: &str) -> Result<String> {
    match p.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(Error::invalid_params(format!(
            "must have required property '{key}'"
        ))),
        Some(_) => Err(Error::invalid_params(format!("/{key} must be string"))),
    }
}

fn required_bool(p: &Map<String, Value>, key: &str) -> Result<bool> {
    match p.get(key) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        None | Some(Value::Null) => Err(Error::invalid_params(format!(
            "must have required property '{key}'"
        ))),
        Some(_) => Err(Error::invalid_params(format!("/{key} must be boolean"))),
    }
}

fn optional_string(p: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::invalid_params(format!("/{key} must be string"))),
    }
}
