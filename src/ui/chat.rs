//! The chat view: `/` (the first room), `/room/{rid}` (sidebar of the user's channels, groups and DMs; the
//! room's latest messages; a composer), and the fragments the page script fetches — one message by id when
//! the DDP socket announces it, everything after a timestamp when polling, and the page of older messages
//! behind "Load older messages".

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{render, safe_html, Base, Session, UiResult};
use crate::http::AppState;
use crate::model::{Room, Subscription};

/// How many messages the room page shows at first.
const PAGE_MESSAGES: i64 = 100;

/// How many older messages each "Load older messages" fetches.
const OLDER_PAGE: i64 = 50;

#[derive(Serialize)]
struct SideRoom {
    id: String,
    label: String,
    t: String,
    unread: i64,
    active: bool,
}

fn label(room: &Room, sub: Option<&Subscription>) -> String {
    match (room.t.as_str(), sub) {
        ("d", Some(s)) => s.fname.clone().unwrap_or_else(|| s.name.clone()),
        _ => room
            .fname
            .clone()
            .or_else(|| room.name.clone())
            .unwrap_or_else(|| room.id.clone()),
    }
}

/// GET / — the first room of the user's sidebar (or `#general`).
async fn home(State(state): State<AppState>, s: Session) -> UiResult {
    let rooms = state.chat.subscribed_rooms(&s.user).await?;
    let first = rooms
        .iter()
        .find(|(r, _)| r.default)
        .or_else(|| rooms.first())
        .map(|(r, _)| r.id.clone());
    let target = match first {
        Some(id) => id,
        None => state
            .chat
            .browsable_channels(&s.user, 1)
            .await?
            .first()
            .map(|r| r.id.clone())
            .unwrap_or_else(|| "GENERAL".into()),
    };
    Ok(Redirect::to(&format!("/room/{target}")).into_response())
}

/// GET /room/{rid}
async fn room(State(state): State<AppState>, s: Session, Path(rid): Path<String>) -> UiResult {
    let room = state.chat.readable_room(&s.user, &rid).await?;
    let subscribed = state.chat.subscribed_rooms(&s.user).await?;
    let sub = subscribed
        .iter()
        .find(|(r, _)| r.id == room.id)
        .map(|(_, s)| s.clone());
    let side = |t: &str| -> Vec<SideRoom> {
        subscribed
            .iter()
            .filter(|(r, _)| r.t == t)
            .map(|(r, sub)| SideRoom {
                id: r.id.clone(),
                label: label(r, Some(sub)),
                t: r.t.clone(),
                unread: sub.unread,
                active: r.id == room.id,
            })
            .collect()
    };
    let others: Vec<SideRoom> = state
        .chat
        .browsable_channels(&s.user, 50)
        .await?
        .into_iter()
        .filter(|r| !subscribed.iter().any(|(x, _)| x.id == r.id))
        .map(|r| SideRoom {
            label: label(&r, None),
            active: r.id == room.id,
            id: r.id,
            t: r.t,
            unread: 0,
        })
        .collect();
    // One more than shown, to know whether there are older ones to offer.
    let mut messages = state
        .chat
        .recent_messages(&s.user, &room, PAGE_MESSAGES + 1)
        .await?;
    let more = messages.len() as i64 > PAGE_MESSAGES;
    if more {
        messages.remove(0);
    }
    let html: String = messages.iter().map(render::message).collect();
    let title = label(&room, sub.as_ref());
    let base = Base::new(&state, &s.ui, &s, &title, "chat");
    // The message list is pre-rendered, escaped HTML: it joins the context as a safe value (a JSON
    // round trip would turn it back into text to escape).
    let ctx = json!({
            "base": base,
            "can_admin": base.can_admin(),
            "secret": s.secret,
            "room": {
                "id": room.id, "t": room.t, "label": title, "topic": room.topic,
                "archived": room.archived, "ro": room.ro, "users": room.users_count,
            },
            "member": sub.is_some(),
            "channels": side("c"),
            "groups": side("p"),
            "dms": side("d"),
            "others": others,
            "last_ts": messages.last().map(|m| m.ts).unwrap_or(0),
            "more": more,
    });
    let page = s.ui.render(
        "chat.html",
        minijinja::context! { messages => safe_html(html), ..minijinja::Value::from_serialize(&ctx) },
    )?;
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct AfterQuery {
    #[serde(default)]
    after: i64,
}

/// GET /room/{rid}/messages?after=ms — newer messages as HTML list items (the polling fallback).
async fn messages_after(
    State(state): State<AppState>,
    s: Session,
    Path(rid): Path<String>,
    Query(q): Query<AfterQuery>,
) -> UiResult {
    let room = state.chat.readable_room(&s.user, &rid).await?;
    let msgs = state
        .chat
        .messages_after(&s.user, &room, q.after, PAGE_MESSAGES)
        .await?;
    let html: String = msgs.iter().map(render::message).collect();
    Ok(Html(html).into_response())
}

/// GET /room/{rid}/message/{mid} — one message as an HTML list item (after a DDP `changed` frame).
async fn one_message(
    State(state): State<AppState>,
    s: Session,
    Path((rid, mid)): Path<(String, String)>,
) -> UiResult {
    let room = state.chat.readable_room(&s.user, &rid).await?;
    let m = state
        .chat
        .readable_message(&s.user, &room, &mid)
        .await
        .map_err(|_| super::UiError::Page(StatusCode::NOT_FOUND, "No such message".into()))?;
    Ok(Html(render::message(&m)).into_response())
}

#[derive(Deserialize)]
struct OlderQuery {
    before: i64,
    /// Comma-separated ids the page shows at exactly `before`.
    #[serde(default)]
    shown: String,
}

/// GET /room/{rid}/older?before=ms&shown=id,id — the page of messages before the oldest shown one, as
/// `{html, more}` (HTML list items, oldest first).
async fn messages_older(
    State(state): State<AppState>,
    s: Session,
    Path(rid): Path<String>,
    Query(q): Query<OlderQuery>,
) -> UiResult {
    let room = state.chat.readable_room(&s.user, &rid).await?;
    let shown: Vec<String> = q
        .shown
        .split(',')
        .filter(|id| !id.is_empty())
        .take(PAGE_MESSAGES as usize)
        .map(str::to_string)
        .collect();
    let (msgs, more) = state
        .chat
        .messages_before(&s.user, &room, q.before, &shown, OLDER_PAGE)
        .await?;
    let html: String = msgs.iter().map(render::message).collect();
    Ok(super::json(json!({ "html": html, "more": more })))
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    text: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// POST /room/{rid}/send — the composer (`chat.sendMessage`). Scripts get 204 (the message arrives over
/// the live channel); a plain form post is redirected back to the room.
async fn send(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(rid): Path<String>,
    Form(f): Form<SendForm>,
) -> UiResult {
    s.check_csrf(&headers, Some(&f.csrf))?;
    let text = f.text.trim();
    if !text.is_empty() {
        let mut m = Map::new();
        m.insert("rid".into(), Value::String(rid.clone()));
        m.insert("msg".into(), Value::String(text.to_string()));
        if let Err(e) = state.chat.send_message(&s.user, &m).await {
            if headers.contains_key("x-csrf-token") {
                return Ok((StatusCode::BAD_REQUEST, e.to_string()).into_response());
            }
            return Err(e.into());
        }
    }
    if headers.contains_key("x-csrf-token") {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Redirect::to(&format!("/room/{rid}")).into_response())
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// POST /room/{rid}/join — joins a public channel the user is previewing.
async fn join(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(rid): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> UiResult {
    s.check_csrf(&headers, Some(&f.csrf))?;
    let room = state.chat.readable_room(&s.user, &rid).await?;
    state.chat.join_room(&s.user, &room, true).await?;
    Ok(Redirect::to(&format!("/room/{rid}")).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/room/{rid}", get(room))
        .route("/room/{rid}/messages", get(messages_after))
        .route("/room/{rid}/older", get(messages_older))
        .route("/room/{rid}/message/{mid}", get(one_message))
        .route("/room/{rid}/send", post(send))
        .route("/room/{rid}/join", post(join))
}
