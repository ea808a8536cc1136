//! `login`, `logout` and `me`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{error::ok, AppState, Auth, Params};
use crate::chat::users::LoginName;
use crate::error::{Error, Result};
use crate::model::User;
use crate::util::{sha256_hex, DateStyle};

/// The `me` object: the user's own document with the derived keys clients read.
pub fn me_object(state: &AppState, user: &User) -> Value {
    let mut v = user.render(DateStyle::Iso);
    let o = v.as_object_mut().expect("object");
    if let Some(e) = user.emails.iter().find(|e| e.verified) {
        o.insert("email".into(), json!(e.address));
    }
    o.insert(
        "avatarUrl".into(),
        json!(format!(
            "{}/avatar/{}",
            state.chat.settings.site_url, user.username
        )),
    );
    o.insert(
        "settings".into(),
        json!({ "profile": {}, "preferences": {} }),
    );
    o.insert("isOAuthUser".into(), json!(false));
    o.insert("services".into(), json!({ "password": { "exists": true } }));
    o.entry("utcOffset").or_insert(json!(0));
    v
}

/// Reads a login body in any of Rocket.Chat's accepted shapes into (who, password digest).
pub fn login_credentials(p: &serde_json::Map<String, Value>) -> Result<(LoginName, String)> {
    let digest = match p.get("password") {
        Some(Value::String(s)) if !s.is_empty() => sha256_hex(s),
        Some(Value::Object(o)) => match (
            o.get("digest").and_then(Value::as_str),
            o.get("algorithm").and_then(Value::as_str),
        ) {
            (Some(d), Some("sha-256")) => d.to_ascii_lowercase(),
            _ => return Err(Error::LoginFailed),
        },
        _ => return Err(Error::LoginFailed),
    };
    let text = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let who = match p.get("user") {
        Some(Value::String(u)) if u.contains('@') => LoginName::Email(u.clone()),
        Some(Value::String(u)) if !u.is_empty() => LoginName::Username(u.clone()),
        Some(Value::Object(o)) => {
            let f = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
            if let Some(u) = f("username") {
                LoginName::Username(u)
            } else if let Some(e) = f("email") {
                LoginName::Email(e)
            } else if let Some(i) = f("id") {
                LoginName::Id(i)
            } else {
                return Err(Error::LoginFailed);
            }
        }
        _ => match (text("username"), text("email")) {
            (Some(u), _) => LoginName::Username(u),
            (None, Some(e)) => LoginName::Email(e),
            _ => return Err(Error::LoginFailed),
        },
    };
    Ok((who, digest))
}

/// POST /api/v1/login — password (JSON, form, or Meteor's digest form) or `resume` token.
async fn login(State(state): State<AppState>, Params(p): Params) -> Result<Json<Value>> {
    let (user, token) = if let Some(resume) = p.get("resume").and_then(Value::as_str) {
        let (user, _) = state
            .chat
            .authenticate(None, resume)
            .await
            .map_err(|_| Error::LoginFailed)?;
        (user, resume.to_string())
    } else {
        let (who, digest) = login_credentials(&p)?;
        state
            .chat
            .login_with_digest(&who, &digest)
            .await
            .map_err(|e| match e {
                Error::Meteor { .. } => Error::LoginFailed,
                e => e,
            })?
    };
    Ok(ok(json!({
        "status": "success",
        "data": { "userId": user.id, "authToken": token, "me": me_object(&state, &user) },
    })))
}

/// POST|GET /api/v1/logout — removes the token used for this call.
async fn logout(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>> {
    state.chat.logout(&auth.token).await?;
    Ok(ok(
        json!({ "status": "success", "data": { "message": "You've been logged out!" } }),
    ))
}

/// GET /api/v1/me
async fn me(State(state): State<AppState>, auth: Auth) -> Json<Value> {
    ok(me_object(&state, &auth.user))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout).get(logout))
        .route("/api/v1/me", get(me))
}
