//! Administration > Integrations: the list, the create/edit forms for incoming and outgoing webhooks (every
//! field, with help, errors next to the field, delete with confirmation, the webhook URL and `curl`
//! examples after saving), the history of an integration, and the Test panel.
//!
//! The pages are rendered here; the page script (`static/integrations.js`) reads and writes integrations
//! through the REST API (`integrations.list/get/create/update/remove/history`, `replayOutgoing`) with the
//! user's own session, so the UI applies exactly the API's validation and permissions and shows its error
//! ids next to the fields they are about.
//!
//! The Test panel runs the draft script from the editor (not the saved one) in a throw-away runtime of the
//! server's script host ([`ScriptHost::dry_run`](crate::script::ScriptHost::dry_run)), with the same
//! `request` object and body parsing as a real hook call, and renders the message it would post with the
//! chat view's renderer. Nothing is saved or posted, and the live script instance is not touched.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{render, Base, Session, UiError, UiResult};
use crate::chat::messages::{build_content, MessageDefaults};
use crate::error::Error;
use crate::http::AppState;
use crate::integrations::incoming::{parse_body, script_request, HookCall, Parsed};
use crate::integrations::{Scope, INCOMING, OUTGOING};
use crate::model::{Message, User};
use crate::script::ScriptArgs;
use crate::util::{now_ms, sha256_hex};

/// Whether the user may open the integrations pages at all (any of the four manage permissions, as the
/// `integrations.list` route requires).
pub fn can_manage_any(state: &AppState, user: &User) -> bool {
    state.integrations.may_manage_any(user)
}

fn require(state: &AppState, s: &Session) -> Result<(), UiError> {
    if can_manage_any(state, &s.user) {
        Ok(())
    } else {
        Err(Error::RouteForbidden.into())
    }
}

fn page(state: &AppState, s: &Session, template: &str, title: &str, extra: Value) -> UiResult {
    require(state, s)?;
    let base = Base::new(state, &s.ui, s, title, "integrations");
    let scope = |kind| state.integrations.scope(&s.user, kind) != Scope::None;
    let mut ctx = json!({
        "base": base, "can_admin": true, "secret": s.secret,
        "site_url": state.integrations.settings.site_url,
        "can_incoming": scope(INCOMING),
        "can_outgoing": scope(OUTGOING),
    });
    if let (Some(o), Value::Object(e)) = (ctx.as_object_mut(), extra) {
        o.extend(e);
    }
    Ok(s.ui.render(template, ctx)?.into_response())
}

/// GET /admin/integrations
async fn list(State(state): State<AppState>, s: Session) -> UiResult {
    page(
        &state,
        &s,
        "integrations.html",
        "Integrations",
        json!({ "view": "list" }),
    )
}

/// GET /admin/integrations/new/{kind} — `incoming` or `outgoing`.
async fn new_form(State(state): State<AppState>, s: Session, Path(kind): Path<String>) -> UiResult {
    let (kind, title) = match kind.as_str() {
        "incoming" => ("incoming", "New incoming webhook"),
        "outgoing" => ("outgoing", "New outgoing webhook"),
        _ => return Err(Error::NotFound.into()),
    };
    page(
        &state,
        &s,
        "integration_form.html",
        title,
        json!({ "kind": kind, "id": "", "default_username": s.user.username }),
    )
}

/// GET /admin/integrations/{kind}/{id} — the edit form (the script loads the integration).
async fn edit_form(
    State(state): State<AppState>,
    s: Session,
    Path((kind, id)): Path<(String, String)>,
) -> UiResult {
    if kind != "incoming" && kind != "outgoing" {
        return Err(Error::NotFound.into());
    }
    page(
        &state,
        &s,
        "integration_form.html",
        "Edit integration",
        json!({ "kind": kind, "id": id, "default_username": "" }),
    )
}

/// GET /admin/integrations/{kind}/{id}/history — request or delivery history, and script logs.
async fn history(
    State(state): State<AppState>,
    s: Session,
    Path((kind, id)): Path<(String, String)>,
) -> UiResult {
    if kind != "incoming" && kind != "outgoing" {
        return Err(Error::NotFound.into());
    }
    page(
        &state,
        &s,
        "integrations.html",
        "Integration history",
        json!({ "view": "history", "kind": kind, "id": id }),
    )
}

/// What the Test panel sends.
#[derive(Deserialize)]
struct TestRequest {
    #[serde(default)]
    script: String,
    #[serde(default, rename = "scriptEnabled")]
    script_enabled: bool,
    /// The raw request body, as a sender would post it.
    #[serde(default)]
    payload: String,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    avatar: String,
    #[serde(default)]
    emoji: String,
    /// The "Post as" username, shown as the message's sender.
    #[serde(default)]
    username: String,
    #[serde(default)]
    channel: String,
    /// Request headers of a recorded request, if re-running one.
    #[serde(default)]
    headers: Map<String, Value>,
}

/// Finds the 1-based line a script error points at, from its stack (`<input>:12:5`, `line 12`).
fn error_line(text: &str) -> Option<u32> {
    let lower = text.to_lowercase();
    if let Some(i) = lower.find("line ") {
        let n: String = lower[i + 5..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = n.parse() {
            return Some(n);
        }
    }
    for part in text.split(':').skip(1) {
        let n: String = part.chars().take_while(char::is_ascii_digit).collect();
        if !n.is_empty() && n.len() == part.trim_end_matches(')').len() {
            if let Ok(n) = n.parse() {
                return Some(n);
            }
        }
    }
    None
}

/// POST /admin/integrations/test — runs a draft incoming script on a payload without saving or posting,
/// and answers the message it would post (rendered as in the chat view) and the script's console output.
async fn test(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Json(t): Json<TestRequest>,
) -> UiResult {
    s.check_csrf(&headers, None)?;
    require(&state, &s)?;
    // The body as a hook call would parse it (JSON, Slack's `payload=` form, or a form).
    let mut call = HookCall {
        integration_id: "TEST".into(),
        token: "***".into(),
        method: "POST".into(),
        path: "/hooks/TEST/***".into(),
        body: t.payload.clone().into(),
        ..Default::default()
    };
    for (k, v) in &t.headers {
        call.set_header_json(k, v);
    }
    if call.content_type().is_none() {
        call.set_header("content-type", "application/json");
    }
    let payload =
        match parse_body(call.content_type(), &call.body) {
            Parsed::Object(o) => o,
            Parsed::Discarded => Map::new(),
            Parsed::Invalid(e) => return Ok(Json(json!({
                "ok": false, "stage": "payload", "error": format!("The hook would answer 400: {e}"),
            }))
            .into_response()),
        };
    let mut logs = Vec::new();
    let mut content = Value::Object(payload.clone());
    let mut steps = vec![];
    if t.script_enabled && !t.script.trim().is_empty() {
        let compiled = match crate::script::compile(&t.script) {
            Ok(c) => c,
            Err(e) => {
                let line = error_line(&e.stack).or_else(|| error_line(&e.message));
                return Ok(Json(json!({
                    "ok": false, "stage": "compile",
                    "error": format!("{}: {}", e.name, e.message), "line": line, "stack": e.stack,
                }))
                .into_response());
            }
        };
        steps.push("compiled");
        // The "Post as" user, as the script would see them; the tester while none is chosen yet.
        let poster = match state.chat.find_user(None, Some(t.username.trim())).await {
            Ok(u) if !t.username.trim().is_empty() => u,
            _ => s.user.clone(),
        };
        let args = script_request(&call, &payload, &t.payload, &poster, "***");
        let outcome = state
            .integrations
            .scripts
            .dry_run(
                compiled.as_str(),
                "process_incoming_request",
                ScriptArgs::HookRequest(Box::new(args)),
            )
            .await;
        logs = outcome
            .logs
            .iter()
            .map(|l| json!({ "level": l.level, "message": l.message }))
            .collect();
        steps.push("ran process_incoming_request");
        match outcome.result {
            Err(f) => {
                let (msg, line) = match &f {
                    crate::script::ScriptFailure::Thrown(e)
                    | crate::script::ScriptFailure::Evaluation(e) => (
                        format!("{f}"),
                        error_line(&e.stack).or_else(|| error_line(&e.message)),
                    ),
                    _ => (format!("{f}"), None),
                };
                return Ok(Json(json!({
                    "ok": false, "stage": "run", "error": msg, "errorId": f.error_id(), "line": line,
                    "logs": logs, "steps": steps,
                }))
                .into_response());
            }
            Ok(None) | Ok(Some(Value::Null)) | Ok(Some(Value::Bool(false))) => {
                return Ok(Json(json!({
                    "ok": true, "posted": false, "logs": logs, "steps": steps,
                    "note": "The script returned nothing: the request would be accepted and nothing posted.",
                }))
                .into_response());
            }
            Ok(Some(r)) => {
                if let Some(e) = r
                    .get("error")
                    .filter(|e| !e.is_null() && **e != json!(false) && **e != json!(""))
                {
                    return Ok(Json(json!({
                        "ok": false, "stage": "result", "logs": logs, "steps": steps,
                        "error": format!("The script returned an error: {}", e.as_str().map(str::to_string).unwrap_or_else(|| e.to_string())),
                    }))
                    .into_response());
                }
                match r.get("content") {
                    Some(c @ Value::Object(_)) => content = c.clone(),
                    _ => {
                        return Ok(Json(json!({
                            "ok": false, "stage": "result", "logs": logs, "steps": steps,
                            "error": "The script's result has no `content` object (error-running-script).",
                        }))
                        .into_response())
                    }
                }
            }
        }
    }
    let Value::Object(body) = content else {
        return Ok(Json(json!({
            "ok": false, "stage": "payload", "logs": logs, "steps": steps,
            "error": "The payload is not a JSON object; without a script it cannot become a message.",
        }))
        .into_response());
    };
    let target = body
        .get("channel")
        .or_else(|| body.get("roomId"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| t.channel.clone());
    let defaults = MessageDefaults {
        alias: t.alias.clone(),
        avatar: t.avatar.clone(),
        emoji: t.emoji.clone(),
        bot: Some(json!({ "i": "TEST" })),
    };
    match build_content(&body, &defaults) {
        Ok(c) => {
            let now = now_ms();
            let m = Message {
                id: format!("test-{}", &sha256_hex(&now.to_string())[..8]),
                rid: String::new(),
                msg: c.msg,
                ts: now,
                updated_at: now,
                u: crate::model::UserRef {
                    id: String::new(),
                    username: if t.username.is_empty() {
                        "rocket.cat".into()
                    } else {
                        t.username.clone()
                    },
                    name: None,
                },
                t: None,
                tmid: c.tmid,
                edited_at: None,
                edited_by: None,
                extra: c.extra,
            };
            steps.push("built the message");
            Ok(Json(json!({
                "ok": true, "posted": true, "html": render::message(&m), "target": target,
                "message": m.render(crate::util::DateStyle::Iso), "logs": logs, "steps": steps,
            }))
            .into_response())
        }
        Err(e) => Ok(Json(json!({
            "ok": false, "stage": "message", "logs": logs, "steps": steps,
            "error": format!("The message would be refused: {e}"),
        }))
        .into_response()),
    }
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "Not found")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/integrations", get(list))
        .route("/admin/integrations/new/{kind}", get(new_form))
        .route("/admin/integrations/test", post(test).get(not_found))
        .route("/admin/integrations/{kind}/{id}", get(edit_form))
        .route("/admin/integrations/{kind}/{id}/history", get(history))
}
