//! Running an incoming hook: authentication by id and token, Rocket.Chat's body parsing, the script, the
//! destination rules, posting, the exact status codes and error strings — and, beyond Rocket.Chat, a record
//! of every request (what arrived, what the script logged and returned, what was posted) and a dry run that
//! shows what a draft script would post without posting.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::Integrations;
use crate::chat::messages::{build_content, MessageDefaults};
use crate::error::{Error, Result};
use crate::model::{HookRequest, Integration, PostedMessage, User};
use crate::script::{HookRequestParts, LogLine, ScriptArgs, ScriptKey};
use crate::util::{new_id, now_ms, secure_eq, DateStyle};

/// How much of a request body is kept in its record.
const RECORDED_BODY_LIMIT: usize = 64 * 1024;

/// One call of a hook URL, as the HTTP layer hands it over.
#[derive(Clone, Debug, Default)]
pub struct HookCall {
    pub integration_id: String,
    /// The token as it appeared in the path (still percent-encoded).
    pub token: String,
    /// The legacy middle segment of `/hooks/:id/:userId/:token`, ignored apart from `url_params`.
    pub user_id: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The request's headers as received (handed over, not copied).
    pub headers: http::HeaderMap,
    /// The body as received (shared with the HTTP layer, not copied).
    pub body: bytes::Bytes,
}

/// The answer to a hook call.
#[derive(Clone, Debug)]
pub struct HookAnswer {
    pub status: u16,
    pub body: AnswerBody,
}

/// What a hook call is answered with.
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerBody {
    /// `{"success":true}`: the answer to nearly every call, written out only where it is sent or recorded.
    Success,
    Json(Value),
}

impl AnswerBody {
    pub fn to_value(&self) -> Value {
        match self {
            AnswerBody::Success => json!({ "success": true }),
            AnswerBody::Json(v) => v.clone(),
        }
    }

    /// A field of the answer (`Null` when it has none).
    pub fn field(&self, name: &str) -> &Value {
        match self {
            AnswerBody::Json(v) => &v[name],
            AnswerBody::Success if name == "success" => &Value::Bool(true),
            AnswerBody::Success => &Value::Null,
        }
    }
}

impl HookCall {
    /// The `Content-Type` header's value, if the call had one.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// Sets a header from text (a recorded request's, or one a dry run supplies), replacing any of that
    /// name; a name or value no HTTP request could carry is left out.
    pub fn set_header(&mut self, name: &str, value: &str) {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            self.headers.insert(n, v);
        }
    }

    /// [`Self::set_header`] from a JSON value: a string as it is, anything else as its JSON text.
    pub fn set_header_json(&mut self, name: &str, value: &Value) {
        match value.as_str() {
            Some(text) => self.set_header(name, text),
            None => self.set_header(name, &value.to_string()),
        }
    }
}

impl HookAnswer {
    pub fn ok() -> HookAnswer {
        HookAnswer {
            status: 200,
            body: AnswerBody::Success,
        }
    }
    pub fn fail(status: u16, error: &str) -> HookAnswer {
        HookAnswer::json(status, json!({ "success": false, "error": error }))
    }
    pub fn json(status: u16, body: Value) -> HookAnswer {
        HookAnswer {
            status,
            body: AnswerBody::Json(body),
        }
    }
}

fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    // Tokens hardly ever hold an escape: those need no copy.
    if !s.contains('%') {
        return s.into();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned().into()
}

/// Whether a header carries a secret that must not be recorded.
fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n == "cookie"
        || n == "set-cookie"
        || ["token", "secret", "password", "api-key", "apikey", "x-auth"]
            .iter()
            .any(|s| n.contains(s))
}

/// What the body was parsed into, with Rocket.Chat's rules (§1.3 of the compatibility spec).
pub enum Parsed {
    /// An object to post.
    Object(Map<String, Value>),
    /// A JSON body that is not an object (e.g. an array): accepted, nothing posted.
    Discarded,
    /// A 400 with this error.
    Invalid(String),
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A `Content-Type`'s media type, lower-cased and without parameters (copied only when it was not already
/// lower case, which it nearly always is).
fn media_type(content_type: Option<&str>) -> std::borrow::Cow<'_, str> {
    let t = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    match t.bytes().any(|b| b.is_ascii_uppercase()) {
        true => t.to_ascii_lowercase().into(),
        false => t.into(),
    }
}

/// Parses a hook body: JSON objects as such; a form body with the single key `payload` (Slack style) or any
/// other single key holding JSON as that JSON; other forms as flat objects; bodies of other types as JSON
/// when they parse (senders that forget the content type), else as nothing.
pub fn parse_body(content_type: Option<&str>, raw: &[u8]) -> Parsed {
    let ct = media_type(content_type);
    let text = crate::util::lossy(raw);
    if text.trim().is_empty() {
        return Parsed::Object(Map::new());
    }
    if ct == FORM {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&text).unwrap_or_default();
        if pairs.len() == 1 {
            let json_text = if pairs[0].0 == "payload" {
                pairs[0].1.clone()
            } else {
                text.to_string()
            };
            return match serde_json::from_str::<Value>(&json_text) {
                Ok(Value::Object(o)) => Parsed::Object(o),
                Ok(_) if pairs[0].0 == "payload" => Parsed::Invalid(
                    "Integration payload must be a JSON object, not an array or primitive".into(),
                ),
                // Not JSON after all (`text=hello`): keep the form as it is.
                _ => Parsed::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect(),
                ),
            };
        }
        return Parsed::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(o)) => Parsed::Object(o),
        Ok(_) => Parsed::Discarded,
        Err(e) if ct == "application/json" || ct.ends_with("+json") => {
            Parsed::Invalid(format!("Invalid JSON: {e}"))
        }
        Err(_) => Parsed::Object(Map::new()),
    }
}

/// The argument of `process_incoming_request` (the `request` object of §1.5), in the parts the script
/// runtime assembles it from.
pub fn script_request(
    call: &HookCall,
    content: &Map<String, Value>,
    raw: &str,
    poster: &User,
    token: &str,
) -> HookRequestParts {
    let mut headers = String::new();
    for (k, v) in &call.headers {
        if !headers.is_empty() {
            headers.push('\n');
        }
        // Header names come lower-cased; values cannot hold a line break.
        headers.push_str(k.as_str());
        headers.push('\n');
        headers.push_str(&crate::util::lossy(v.as_bytes()));
    }
    HookRequestParts {
        pathname: call.path.clone(),
        search: call
            .query
            .as_deref()
            .filter(|q| !q.is_empty())
            .map(|q| format!("?{q}"))
            .unwrap_or_default(),
        query: match call.query.as_deref() {
            Some(q) if !q.is_empty() => Value::Object(query_map(call)).to_string(),
            _ => String::new(),
        },
        integration_id: call.integration_id.clone(),
        token: token.to_string(),
        user_id: call.user_id.clone(),
        content: content_text(call, content),
        content_raw: raw.to_string(),
        headers,
        user: [
            poster.id.clone(),
            poster.name.clone(),
            poster.username.clone(),
        ],
    }
}

/// `content` as JSON text for the script, or `None` when the raw body is that text. A non-empty object
/// parsed from anything but a form can only have come from the body being that JSON object, so the
/// engine parses the body itself to the same object: the server need not print again what it just parsed,
/// nor copy the body twice (tens of kilobytes for some senders' payloads).
fn content_text(call: &HookCall, content: &Map<String, Value>) -> Option<String> {
    if !content.is_empty() && media_type(call.content_type()) != FORM {
        return None;
    }
    Some(serde_json::to_string(content).unwrap_or_else(|_| "{}".into()))
}

fn query_map(call: &HookCall) -> Map<String, Value> {
    match call.query.as_deref() {
        Some(q) if !q.is_empty() => serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
        _ => Map::new(),
    }
}

/// A request record before the hook runs. Its id and what comes from the request itself (integration,
/// method, URL, headers, body, parsed content) are filled in by [`complete_record`] when the record is
/// written: most records of a busy hook are dropped before that, so the request path does not copy them.
fn new_record() -> HookRequest {
    HookRequest {
        id: String::new(),
        integration_id: String::new(),
        kind: String::new(),
        created_at: now_ms(),
        method: String::new(),
        url: String::new(),
        headers: Map::new(),
        body: String::new(),
        body_truncated: false,
        content: Value::Null,
        content_parsed: false,
        script_ran: false,
        logs: vec![],
        script_result: None,
        error: None,
        messages: vec![],
        status: 0,
        response: Value::Null,
        script_ms: 0.0,
        total_ms: 0.0,
    }
}

/// Fills in a record's request parts from the call it was made for: the URL with the token replaced by
/// `***`, the headers with secrets redacted, the body (cut at the recording limit) and, when the hook got
/// as far as parsing it, the parsed content; and the plain `{"success":true}` answer, left out until now.
pub fn complete_record(r: &mut HookRequest, call: HookCall) {
    r.id = new_id();
    r.kind = "incoming-webhook".into();
    r.method = call.method.clone();
    r.integration_id = call.integration_id.clone();
    if r.response.is_null() {
        r.response = AnswerBody::Success.to_value();
    }
    let redacted_path = call.path.replace(&call.token, "***");
    r.url = match &call.query {
        Some(q) if !q.is_empty() => format!("{redacted_path}?{q}"),
        _ => redacted_path,
    };
    if r.content_parsed {
        r.content = match call.method.eq_ignore_ascii_case("GET") {
            true => Value::Object(Map::new()),
            false => match parse_body(call.content_type(), &call.body) {
                Parsed::Object(o) => Value::Object(o),
                _ => Value::Null,
            },
        };
    }
    r.headers = call
        .headers
        .iter()
        .map(|(k, v)| {
            let v = if is_secret_header(k.as_str()) {
                "[redacted]".to_string()
            } else {
                crate::util::lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_string(), Value::String(v))
        })
        .collect();
    r.body_truncated = call.body.len() > RECORDED_BODY_LIMIT;
    r.body =
        crate::util::lossy(&call.body[..call.body.len().min(RECORDED_BODY_LIMIT)]).into_owned();
}

/// What a script run decided. What it posts is read in place from its result, which the request's record
/// keeps.
enum ScriptDecision<'a> {
    /// Post this body (with an optional extra response and a different poster). `separate` is the body's
    /// `separateResponse`, or the request's when the body has none.
    Post {
        body: &'a Map<String, Value>,
        separate: bool,
        response: Option<&'a Value>,
        user: Option<&'a Value>,
    },
    /// Answer without posting.
    Answer(HookAnswer),
}

fn interpret_script_result(result: Option<&Value>, separate: bool) -> ScriptDecision<'_> {
    let Some(r) = result.filter(|v| !matches!(v, Value::Null | Value::Bool(false))) else {
        return ScriptDecision::Answer(HookAnswer::ok());
    };
    if let Some(err) = r.get("error").filter(|e| truthy(e)) {
        let text = err
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| err.to_string());
        return ScriptDecision::Answer(HookAnswer::fail(400, &text));
    }
    let Some(Value::Object(content)) = r.get("content") else {
        return ScriptDecision::Answer(HookAnswer::fail(400, "error-running-script"));
    };
    ScriptDecision::Post {
        body: content,
        separate: match content.get("separateResponse") {
            Some(v) => *v == Value::Bool(true),
            None => separate,
        },
        response: r.get("response").filter(|v| v.is_object()),
        user: r.get("user").filter(|v| v.is_object()),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        _ => true,
    }
}

impl Integrations {
    /// Runs one hook call end to end and records it.
    pub async fn execute(&self, call: HookCall) -> HookAnswer {
        let started = Instant::now();
        let once = percent_decode(&call.token);
        let token = percent_decode(&once);
        let found = match self.hook_target(&call.integration_id).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "loading a hook's integration");
                return HookAnswer::fail(500, "Internal server error");
            }
        };
        let Some((integration, poster)) =
            found.filter(|(i, _)| i.is_incoming() && secure_eq(&i.token, &token))
        else {
            return HookAnswer::fail(401, "Invalid integration id or token provided.");
        };
        let mut record = new_record();
        let answer = self
            .run_hook(&integration, poster, &call, &token, &mut record)
            .await;
        record.status = answer.status;
        record.response = match &answer.body {
            // Spelled out when the record is written (`complete_record`).
            AnswerBody::Success => Value::Null,
            AnswerBody::Json(v) => v.clone(),
        };
        record.total_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.requests.record(record, call);
        answer
    }

    async fn run_hook(
        &self,
        i: &Arc<Integration>,
        poster: Option<Arc<User>>,
        call: &HookCall,
        token: &str,
        record: &mut HookRequest,
    ) -> HookAnswer {
        if let Err(denied) = self.limiter.check(&i.id) {
            let e = Error::TooManyRequests {
                wait_secs: denied.wait_secs,
                limit: denied.limit,
                reset_ms: now_ms() + denied.wait_secs as i64 * 1000,
            };
            record.error = Some(e.to_string());
            return HookAnswer::json(
                429,
                json!({ "success": false, "error": e.to_string(), "rateLimit": { "limit": denied.limit, "reset": now_ms() + denied.wait_secs as i64 * 1000 } }),
            );
        }
        if !i.enabled {
            record.error = Some("integration disabled".into());
            return HookAnswer::fail(503, "Service Unavailable");
        }
        let Some(poster) = poster else {
            return HookAnswer::json(
                401,
                json!({ "success": false, "error": "You must be logged in to do this.", "status": "error", "message": "You must be logged in to do this." }),
            );
        };
        if call.method.eq_ignore_ascii_case("HEAD") {
            // A probe, not a delivery: Trello, for one, checks a callback URL with HEAD before it registers
            // the webhook. Answered as a GET would be, but nothing runs and nothing is posted (HEAD must not
            // change anything, and a blank message per probe is what users of other servers complain of).
            return HookAnswer::ok();
        }
        let is_get = call.method.eq_ignore_ascii_case("GET");
        let content_type = call.content_type();
        let parsed = if is_get {
            Parsed::Object(Map::new())
        } else {
            parse_body(content_type, &call.body)
        };
        let body = match parsed {
            Parsed::Object(o) => o,
            Parsed::Discarded => {
                record.error = Some("the JSON body is not an object; nothing was posted".into());
                return HookAnswer::ok();
            }
            Parsed::Invalid(e) => {
                record.error = Some(e.clone());
                return HookAnswer::fail(400, &e);
            }
        };
        record.content_parsed = true;
        let separate = body.get("separateResponse") == Some(&Value::Bool(true));
        let has_body = !is_get && !call.body.is_empty();
        let compiled = i
            .script_compiled
            .as_deref()
            .filter(|c| !c.trim().is_empty());
        if let (true, false, Some(compiled), true) = (
            i.script_enabled,
            self.settings.scripts_disabled,
            compiled,
            has_body,
        ) {
            let raw = crate::util::lossy(&call.body);
            let args = script_request(call, &body, &raw, &poster, token);
            let key = ScriptKey {
                integration_id: i.id.clone(),
                version: i.updated_at.to_string(),
            };
            let outcome = self
                .scripts
                .call(
                    key,
                    compiled,
                    "process_incoming_request",
                    ScriptArgs::HookRequest(Box::new(args)),
                )
                .await;
            record.script_ran = true;
            record.script_ms = outcome.elapsed.as_secs_f64() * 1000.0;
            log_script_output(i, &outcome.logs);
            record.logs = outcome.logs;
            match outcome.result {
                Err(f) => {
                    tracing::warn!(integration = %i.id, name = %i.name, error = %f, "incoming script failed");
                    record.error = Some(f.to_string());
                    return HookAnswer::fail(400, "error-running-script");
                }
                Ok(result) => {
                    let answer = match interpret_script_result(result.as_ref(), separate) {
                        ScriptDecision::Answer(a) => {
                            if a.status != 200 {
                                record.error = a.body.field("error").as_str().map(str::to_string);
                            }
                            a
                        }
                        ScriptDecision::Post {
                            body,
                            separate,
                            response,
                            user,
                        } => {
                            let poster = match user {
                                None => Some(poster),
                                Some(u) => self.script_user(u).await.map(Arc::new),
                            };
                            match poster {
                                Some(poster) => {
                                    self.post(i, &poster, body, separate, response, record)
                                        .await
                                }
                                None => {
                                    record.error =
                                        Some("the script's `user` does not exist".into());
                                    HookAnswer::fail(400, "error-invalid-user")
                                }
                            }
                        }
                    };
                    record.script_result = result;
                    return answer;
                }
            }
        }
        if body.is_empty() && !i.script_enabled {
            return HookAnswer::ok();
        }
        self.post(i, &poster, &body, separate, None, record).await
    }

    /// Posts a hook's (or its script's) message to its destinations and says how to answer the sender.
    async fn post(
        &self,
        i: &Arc<Integration>,
        poster: &User,
        body: &Map<String, Value>,
        separate: bool,
        script_response: Option<&Value>,
        record: &mut HookRequest,
    ) -> HookAnswer {
        let overriding = [body.get("channel"), body.get("roomId")]
            .into_iter()
            .flatten()
            .any(truthy);
        if overriding && !i.override_destination() {
            let e = "overriding destination channel is disabled for this integration";
            record.error = Some(e.into());
            return HookAnswer::fail(400, e);
        }
        let targets: Vec<String> = match body
            .get("channel")
            .filter(|v| truthy(v))
            .or_else(|| body.get("roomId").filter(|v| truthy(v)))
        {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => i.channel.clone(),
        };
        let defaults = MessageDefaults {
            alias: i.alias.clone().unwrap_or_default(),
            avatar: i.avatar.clone().unwrap_or_default(),
            emoji: i.emoji.clone().unwrap_or_default(),
            bot: Some(json!({ "i": i.id })),
        };
        let results = match self
            .chat
            .post_payload(poster, &targets, body, &defaults, separate)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let text = error_text(&e);
                record.error = Some(text.clone());
                if matches!(e, Error::Internal(_)) {
                    tracing::error!(error = %e, "posting a hook message");
                    return HookAnswer::fail(500, "Internal server error");
                }
                return HookAnswer::fail(400, &text);
            }
        };
        if results.is_empty() {
            return HookAnswer::fail(400, "unknown-error");
        }
        let mut responses = Vec::new();
        for r in results {
            match r.result {
                Ok(m) => {
                    // Rendering costs; only separateResponse shows the messages.
                    if separate {
                        responses.push(
                            json!({ "channel": r.target, "message": m.render(DateStyle::Iso) }),
                        );
                    }
                    record.messages.push(PostedMessage {
                        channel: r.target,
                        message_id: m.id,
                        rid: m.rid,
                    });
                }
                Err(e) => responses.push(json!({ "channel": r.target, "error": error_text(&e) })),
            }
        }
        if let Some(Value::Object(extra)) = script_response {
            let mut extra = extra.clone();
            extra.insert("success".into(), json!(true));
            return HookAnswer::json(200, Value::Object(extra));
        }
        if separate {
            let all_failed = responses.iter().all(|r| r.get("error").is_some());
            return HookAnswer::json(
                if all_failed { 400 } else { 200 },
                json!({ "success": !all_failed, "responses": responses }),
            );
        }
        HookAnswer::ok()
    }

    /// A script may post as another user (`result.user`); unlike Rocket.Chat we check that user exists.
    async fn script_user(&self, u: &Value) -> Option<User> {
        let store = &self.chat.store;
        if let Some(id) = u.get("_id").and_then(Value::as_str) {
            if let Ok(Some(user)) = store.user_by_id(id).await {
                return Some(user);
            }
        }
        match u.get("username").and_then(Value::as_str) {
            Some(name) => store.user_by_username(name).await.ok().flatten(),
            None => None,
        }
    }

    /// Runs the saved script, or a draft, against a recorded or supplied request, and returns what would be
    /// posted and the logs — without posting or touching the live script instance.
    pub async fn dry_run(&self, actor: &User, p: &Map<String, Value>) -> Result<Value> {
        let id = p
            .get("integrationId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_params("must have required property 'integrationId'"))?;
        let i = self.get(actor, id, None).await?;
        if !i.is_incoming() {
            return Err(Error::failure("Dry runs are for incoming integrations."));
        }
        let poster = self
            .chat
            .store
            .user_by_id(&i.user_id)
            .await?
            .ok_or_else(|| Error::meteor("error-invalid-user", "Invalid user"))?;
        // The request: a recorded one, or one given here (body as object or raw text, headers, query).
        let mut call = HookCall {
            integration_id: i.id.clone(),
            token: "***".into(),
            method: "POST".into(),
            path: format!("/hooks/{}/***", i.id),
            ..Default::default()
        };
        if let Some(hid) = p.get("historyId").and_then(Value::as_str) {
            self.requests.flush().await?;
            let rec = self
                .chat
                .store
                .hook_request(&i.id, hid)
                .await?
                .ok_or_else(|| Error::failure("No recorded request with that id."))?;
            call.method = rec.method.clone();
            for (k, v) in &rec.headers {
                call.set_header(k, v.as_str().unwrap_or(""));
            }
            call.body = rec.body.clone().into();
            if let Some((_, q)) = rec.url.split_once('?') {
                call.query = Some(q.to_string());
            }
        } else if let Some(req) = p.get("request") {
            match req.get("body").or_else(|| req.get("content")) {
                Some(Value::String(s)) => call.body = s.clone().into(),
                Some(v) if !v.is_null() => {
                    call.body = v.to_string().into();
                    call.set_header("content-type", "application/json");
                }
                _ => {}
            }
            if let Some(Value::Object(h)) = req.get("headers") {
                for (k, v) in h {
                    call.set_header_json(k, v);
                }
            }
            if let Some(Value::String(q)) = req.get("query") {
                call.query = Some(q.trim_start_matches('?').to_string());
            }
        } else {
            return Err(Error::invalid_params(
                "must have required property 'historyId' or 'request'",
            ));
        }
        let body = match parse_body(call.content_type(), &call.body) {
            Parsed::Object(o) => o,
            Parsed::Discarded => Map::new(),
            Parsed::Invalid(e) => {
                return Ok(json!({ "status": 400, "error": e, "logs": [], "messages": [] }))
            }
        };
        let script_text = match p.get("script") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let (compiled, compile_error) = match &script_text {
            Some(src) => {
                let src = src.clone();
                match tokio::task::spawn_blocking(move || crate::script::compile(&src)).await {
                    Ok(Ok(c)) => (Some(c.into_string()), None),
                    Ok(Err(e)) => (None, Some(e)),
                    Err(e) => return Err(Error::Internal(e.to_string())),
                }
            }
            None => (
                i.script_compiled.clone().filter(|_| i.script_enabled),
                i.script_error.clone(),
            ),
        };
        if let Some(e) = compile_error {
            return Ok(
                json!({ "status": 400, "error": "error-evaluating-script", "scriptError": e, "logs": [], "messages": [] }),
            );
        }
        let mut post_body = body.clone();
        let mut logs: Vec<LogLine> = vec![];
        let mut script_result = Value::Null;
        if let Some(compiled) = compiled {
            let raw = crate::util::lossy(&call.body).into_owned();
            let args = script_request(&call, &body, &raw, &poster, "***");
            let outcome = self
                .scripts
                .dry_run(
                    &compiled,
                    "process_incoming_request",
                    ScriptArgs::HookRequest(Box::new(args)),
                )
                .await;
            logs = outcome.logs;
            match outcome.result {
                Err(f) => {
                    return Ok(
                        json!({ "status": 400, "error": "error-running-script", "detail": f.to_string(), "logs": logs, "messages": [] }),
                    )
                }
                Ok(result) => {
                    script_result = result.clone().unwrap_or(Value::Null);
                    match interpret_script_result(result.as_ref(), false) {
                        ScriptDecision::Answer(a) => {
                            return Ok(
                                json!({ "status": a.status, "response": a.body.to_value(), "result": script_result, "logs": logs, "messages": [] }),
                            )
                        }
                        ScriptDecision::Post { body, .. } => post_body = body.clone(),
                    }
                }
            }
        }
        let overriding = [post_body.get("channel"), post_body.get("roomId")]
            .into_iter()
            .flatten()
            .any(truthy);
        if overriding && !i.override_destination() {
            return Ok(
                json!({ "status": 400, "error": "overriding destination channel is disabled for this integration", "result": script_result, "logs": logs, "messages": [] }),
            );
        }
        let targets: Vec<Value> = match post_body.get("channel").or_else(|| post_body.get("roomId"))
        {
            Some(Value::String(s)) => vec![json!(s)],
            Some(Value::Array(a)) => a.clone(),
            _ => i.channel.iter().map(|c| json!(c)).collect(),
        };
        let defaults = MessageDefaults {
            alias: i.alias.clone().unwrap_or_default(),
            avatar: i.avatar.clone().unwrap_or_default(),
            emoji: i.emoji.clone().unwrap_or_default(),
            bot: None,
        };
        match build_content(&post_body, &defaults) {
            Ok(content) => {
                let mut message = Value::Object(content.extra);
                message["msg"] = json!(content.msg);
                message["u"] =
                    json!({ "_id": poster.id, "username": poster.username, "name": poster.name });
                message["bot"] = json!({ "i": i.id });
                message["ts"] = json!(crate::util::iso(now_ms()));
                let messages: Vec<Value> = targets
                    .iter()
                    .map(|t| json!({ "channel": t, "message": message }))
                    .collect();
                Ok(
                    json!({ "status": 200, "result": script_result, "logs": logs, "messages": messages }),
                )
            }
            Err(e) => Ok(
                json!({ "status": 400, "error": error_text(&e), "result": script_result, "logs": logs, "messages": [] }),
            ),
        }
    }
}

/// The `error` text Rocket.Chat puts in a hook's 400 answer.
fn error_text(e: &Error) -> String {
    match e {
        Error::Meteor {
            code, reason: None, ..
        } => code.clone(),
        Error::Meteor { code, .. } => code.clone(),
        other => other.to_string(),
    }
}

fn log_script_output(i: &Integration, logs: &[LogLine]) {
    for l in logs {
        tracing::info!(target: "switchboard::scripts", integration = %i.id, name = %i.name, level = ?l.level, "{}", l.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §1.5's `request` object, built field by field as a value tree.
    fn expected_request(
        call: &HookCall,
        content: &Map<String, Value>,
        raw: &str,
        poster: &User,
        token: &str,
    ) -> Value {
        let search = call
            .query
            .as_deref()
            .filter(|q| !q.is_empty())
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let path = format!("{}{search}", call.path);
        let mut url_params = json!({ "integrationId": call.integration_id, "token": token });
        if let Some(uid) = &call.user_id {
            url_params["userId"] = json!(uid);
        }
        let headers: Map<String, Value> = call
            .headers
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8(v.as_bytes().to_vec()).unwrap();
                (k.as_str().to_string(), Value::String(v))
            })
            .collect();
        json!({
            "url": { "hash": "", "search": search, "query": query_map(call), "pathname": call.path, "path": path },
            "url_raw": path,
            "url_params": url_params,
            "content": content,
            "body": content,
            "content_raw": raw,
            "headers": headers,
            "user": { "_id": poster.id, "name": poster.name, "username": poster.username },
        })
    }

    fn script_host() -> crate::script::ScriptHost {
        use crate::egress::{EgressDefaults, EgressPolicy, GuardedClient};
        use crate::script::{ScriptConfig, ScriptHost};
        ScriptHost::new(
            ScriptConfig::default(),
            Arc::new(
                GuardedClient::new(EgressPolicy::default(), EgressDefaults::default()).unwrap(),
            ),
        )
    }

    /// The "post as" user of these tests (a quote in the name, which must survive the trip).
    fn poster() -> User {
        serde_json::from_value(json!({
            "_id": "u1", "username": "rocket.cat", "name": "Rocket \"Cat\"", "type": "bot",
            "active": true, "roles": ["bot"], "createdAt": 1, "_updatedAt": 1
        }))
        .unwrap()
    }

    /// The script runtime assembles the request from its parts into §1.5's document: same keys, same order,
    /// and `content` and `body` one object.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_script_sees_the_request_of_section_1_5() {
        use crate::script::compile;
        let host = script_host();
        let script = compile(
            "class Script { process_incoming_request({ request }) { \
             return { request: request, shared: request.content === request.body }; } }",
        )
        .unwrap();
        let poster = poster();
        for (query, user_id, headers) in [
            (
                Some("a=1&b=%C3%A9"),
                Some("legacy"),
                vec![
                    ("content-type".to_string(), "application/json".to_string()),
                    ("X-Mixed".into(), "v\u{e9}".into()),
                    ("__proto__".into(), "x".into()),
                ],
            ),
            (None, None, vec![]),
            (Some(""), None, vec![("empty".into(), String::new())]),
        ] {
            let mut call = HookCall {
                integration_id: "i1".into(),
                token: "t%2Fk".into(),
                user_id: user_id.map(str::to_string),
                method: "POST".into(),
                path: "/hooks/i1/t%2Fk".into(),
                query: query.map(str::to_string),
                body: bytes::Bytes::from_static(br#"{"text":"hi","n":[1,{"x":null}]}"#),
                ..Default::default()
            };
            for (k, v) in &headers {
                call.set_header(k, v);
            }
            let content = obj(parse_body(Some("application/json"), &call.body));
            let raw = crate::util::lossy(&call.body);
            let parts = script_request(&call, &content, &raw, &poster, "t/k");
            let seen = host
                .dry_run(
                    script.as_str(),
                    "process_incoming_request",
                    ScriptArgs::HookRequest(Box::new(parts)),
                )
                .await
                .result
                .unwrap()
                .unwrap();
            let tree = expected_request(&call, &content, &raw, &poster, "t/k");
            assert_eq!(seen["request"], tree);
            assert_eq!(
                seen["request"].to_string(),
                tree.to_string(),
                "same keys in the same order"
            );
            assert_eq!(seen["shared"], json!(true));
        }
    }

    /// A number as it comes back out of the engine: JavaScript has one number type, so `1.0` is `1`.
    fn js_like(v: &Value) -> Value {
        match v {
            Value::Number(n) => {
                let f = n.as_f64().unwrap();
                if f.fract() == 0.0 && f.abs() < 1e21 && f.abs() < 9.0e15 {
                    json!(f as i64)
                } else {
                    json!(f)
                }
            }
            Value::Array(a) => Value::Array(a.iter().map(js_like).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), js_like(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// A JSON body reaches the script as its own text, parsed by the engine, and forms as the text of what
    /// they were parsed to: either way the script's `content` is the object the server parsed, keys in
    /// the same order, duplicates resolved the same way.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_script_sees_the_content_the_server_parsed() {
        use crate::script::compile;
        let host = script_host();
        let script = compile(
            "class Script { process_incoming_request({ request }) { \
             return { content: request.content, keys: Object.keys(request.content) }; } }",
        )
        .unwrap();
        let poster = poster();
        let cases: [(&str, &[u8]); 10] = [
            ("application/json", br#"{"a":1,"b":"x","a":2}"#),
            (
                "application/json",
                br#"{"n":1.0,"m":-0,"big":12345678901234567890123,"e":1e5,"f":0.1,"neg":-7}"#,
            ),
            (
                "application/json; charset=utf-8",
                br#"{"s":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n","__proto__":{"p":1}}"#,
            ),
            (
                "application/json",
                b"  \n {\"x\" : [ 1 , {\"y\":null} ] }  ",
            ),
            ("application/json", "{\"u\":\"é ü\"}".as_bytes()),
            ("text/plain", br#"{"t":true}"#),
            ("text/plain", b"hello"),
            ("", br#"{"no":"content type"}"#),
            (
                "application/x-www-form-urlencoded",
                b"payload=%7B%22text%22%3A%22hi%22%2C%22n%22%3A2%7D",
            ),
            ("application/x-www-form-urlencoded", b"a=1&b=two"),
        ];
        for (content_type, body) in cases {
            let headers = if content_type.is_empty() {
                vec![]
            } else {
                vec![("content-type".to_string(), content_type.to_string())]
            };
            let mut call = HookCall {
                integration_id: "i1".into(),
                token: "tk".into(),
                user_id: None,
                method: "POST".into(),
                path: "/hooks/i1/tk".into(),
                query: None,
                body: bytes::Bytes::copy_from_slice(body),
                ..Default::default()
            };
            for (k, v) in &headers {
                call.set_header(k, v);
            }
            let content = obj(parse_body(
                Some(content_type).filter(|c| !c.is_empty()),
                body,
            ));
            let raw = crate::util::lossy(body);
            let parts = script_request(&call, &content, &raw, &poster, "tk");
            let seen = host
                .dry_run(
                    script.as_str(),
                    "process_incoming_request",
                    ScriptArgs::HookRequest(Box::new(parts)),
                )
                .await
                .result
                .unwrap()
                .unwrap();
            let expected = js_like(&Value::Object(content.clone()));
            assert_eq!(seen["content"], expected, "{content_type}: {raw}");
            let keys: Vec<&String> = content.keys().collect();
            assert_eq!(seen["keys"], json!(keys), "{content_type}: {raw}");
        }
    }

    fn obj(p: Parsed) -> Map<String, Value> {
        match p {
            Parsed::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn body_parsing_follows_rocketchat() {
        assert_eq!(
            obj(parse_body(Some("application/json"), br#"{"text":"a"}"#))["text"],
            "a"
        );
        assert!(matches!(
            parse_body(Some("application/json"), b"[1]"),
            Parsed::Discarded
        ));
        assert!(matches!(
            parse_body(Some("application/json"), b"{oops"),
            Parsed::Invalid(_)
        ));
        let form = "application/x-www-form-urlencoded";
        assert_eq!(
            obj(parse_body(
                Some(form),
                b"payload=%7B%22text%22%3A%22s%22%7D"
            ))["text"],
            "s"
        );
        // curl -d '{"text":"x"}' sends JSON as a form with one key.
        assert_eq!(obj(parse_body(Some(form), br#"{"text":"x"}"#))["text"], "x");
        assert_eq!(obj(parse_body(Some(form), b"text=hello"))["text"], "hello");
        let two = obj(parse_body(Some(form), b"payload=%7B%7D&token=abc"));
        assert_eq!(two["token"], "abc");
        assert!(matches!(
            parse_body(Some(form), b"payload=%5B1%5D"),
            Parsed::Invalid(_)
        ));
        assert_eq!(
            obj(parse_body(Some("text/plain"), br#"{"text":"t"}"#))["text"],
            "t"
        );
        assert!(obj(parse_body(Some("text/plain"), b"just words")).is_empty());
    }

    #[test]
    fn tokens_decode_twice_and_secrets_are_spotted() {
        assert_eq!(
            percent_decode(&percent_decode("token%2520with%2520spaces")),
            "token with spaces"
        );
        assert!(is_secret_header("Authorization"));
        assert!(is_secret_header("x-gitlab-token"));
        assert!(!is_secret_header("content-type"));
    }

    /// A record keeps the body up to the recording limit; a character cut in half there becomes U+FFFD, and
    /// the record says it was cut.
    #[test]
    fn records_keep_the_body_up_to_the_limit() {
        let call = |body: Vec<u8>| HookCall {
            path: "/hooks/id/tok".into(),
            token: "tok".into(),
            method: "POST".into(),
            body: body.into(),
            ..Default::default()
        };
        let mut small = new_record();
        complete_record(&mut small, call(br#"{"text":"hi"}"#.to_vec()));
        assert_eq!(
            (small.body.as_str(), small.body_truncated),
            (r#"{"text":"hi"}"#, false)
        );
        assert_eq!(small.url, "/hooks/id/***");

        // "é" is two bytes; put its first byte last before the limit.
        let mut big = vec![b'a'; RECORDED_BODY_LIMIT - 1];
        big.extend("é and more".as_bytes());
        let mut r = new_record();
        complete_record(&mut r, call(big));
        assert!(r.body_truncated);
        assert_eq!(r.body.chars().count(), RECORDED_BODY_LIMIT);
        assert!(
            r.body.ends_with("a\u{FFFD}"),
            "{:?}",
            &r.body[r.body.len() - 8..]
        );
    }
}
