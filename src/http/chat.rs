//! `chat.*`: postMessage (the Slack-style endpoint Alertmanager, apprise and others use), sendMessage,
//! update, delete, getMessage.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{error::ok, AppState, Auth, Params};
use crate::chat::messages::MessageDefaults;
use crate::error::{Error, Result};
use crate::util::{now_ms, DateStyle};

/// POST /api/v1/chat.postMessage — `roomId` or `channel` (string or array) plus the message fields.
async fn post_message(
    State(state): State<AppState>,
    auth: Auth,
    Params(body): Params,
) -> Result<Json<Value>> {
    let targets: Vec<String> = match body.get("roomId").or_else(|| body.get("channel")) {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    Error::invalid_params("channel must be string or array of strings")
                })
            })
            .collect::<Result<_>>()?,
        _ => {
            return Err(Error::invalid_params(
                "must have required property 'channel'",
            ))
        }
    };
    let mut body = body;
    // The client cannot claim to be an integration.
    body.remove("bot");
    let results = state
        .chat
        .post_payload(
            &auth.user,
            &targets,
            &body,
            &MessageDefaults::default(),
            false,
        )
        .await?;
    let first = results
        .into_iter()
        .next()
        .ok_or_else(|| Error::failure("unknown-error"))?;
    let message = first.result?;
    Ok(ok(
        json!({ "ts": now_ms(), "channel": first.target, "message": message.render(DateStyle::Iso) }),
    ))
}

/// POST /api/v1/chat.sendMessage — `{message:{rid, msg, _id?, …}}`.
async fn send_message(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let Some(Value::Object(mut message)) = p.0.get("message").cloned() else {
        return Err(Error::invalid_params(
            "must have required property 'message'",
        ));
    };
    message.remove("bot");
    let m = state.chat.send_message(&auth.user, &message).await?;
    Ok(ok(json!({ "message": m.render(DateStyle::Iso) })))
}

/// POST /api/v1/chat.update — `{roomId, msgId, text}`.
async fn update(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room_id = p.required("roomId")?;
    let msg_id = p.required("msgId")?;
    let text = p
        .opt_string("text")?
        .ok_or_else(|| Error::invalid_params("must have required property 'text'"))?;
    let m = state.chat.message_in_room(room_id, msg_id).await?;
    let m = state.chat.update_message(&auth.user, m, text).await?;
    Ok(ok(json!({ "message": m.render(DateStyle::Iso) })))
}

/// POST /api/v1/chat.delete — `{roomId, msgId, asUser?}`.
async fn delete(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room_id = p.required("roomId")?;
    let msg_id = p.required("msgId")?;
    let m = state.chat.message_in_room(room_id, msg_id).await?;
    state
        .chat
        .delete_message(&auth.user, &m, p.bool("asUser")?.unwrap_or(false))
        .await?;
    Ok(ok(json!({
        "_id": m.id,
        "ts": now_ms().to_string(),
        "message": { "_id": m.id, "rid": m.rid, "u": m.u },
    })))
}

/// GET /api/v1/chat.getMessage?msgId=
async fn get_message(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let id = p
        .str("msgId")
        .ok_or_else(|| Error::failure("The \"msgId\" query parameter must be provided."))?;
    let m = state.chat.get_message(&auth.user, id).await?;
    Ok(ok(json!({ "message": m.render(DateStyle::Iso) })))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/chat.postMessage", post(post_message))
        .route("/api/v1/chat.sendMessage", post(send_message))
        .route("/api/v1/chat.update", post(update))
        .route("/api/v1/chat.delete", post(delete))
        .route("/api/v1/chat.getMessage", get(get_message))
}
