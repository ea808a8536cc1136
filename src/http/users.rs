//! `users.*`: create, info, list, update, delete, and personal access tokens.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::{error::ok, AppState, Auth, Params};
use crate::chat::users::NewUser;
use crate::error::{Error, Result};
use crate::util::{iso, DateStyle};

/// POST /api/v1/users.create
async fn create(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    if !state.chat.perms.has(&auth.user, "create-user") {
        return Err(Error::meteor(
            "error-action-not-allowed",
            "Adding user is not allowed",
        ));
    }
    let roles = match p.0.get("roles") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<Vec<String>>(v.clone())
                .map_err(|_| Error::invalid_params("/roles must be array"))?,
        ),
    };
    let mut extra = Map::new();
    for k in [
        "bio",
        "nickname",
        "statusText",
        "customFields",
        "requirePasswordChange",
    ] {
        if let Some(v) = p.0.get(k) {
            extra.insert(k.into(), v.clone());
        }
    }
    let field = |k: &str| -> Result<String> {
        match p.0.get(k) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::invalid_params(format!("/{k} must be string"))),
        }
    };
    let user = state
        .chat
        .create_user(NewUser {
            username: field("username")?,
            name: field("name")?,
            email: field("email")?,
            password: field("password")?,
            roles,
            active: p.bool("active")?.unwrap_or(true),
            kind: "user".into(),
            verified: p.bool("verified")?.unwrap_or(false),
            join_default_channels: p.bool("joinDefaultChannels")?.unwrap_or(true),
            extra,
        })
        .await?;
    Ok(ok(json!({ "user": user.render(DateStyle::Iso) })))
}

/// GET /api/v1/users.info — by `userId` or `username`.
async fn info(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let user = match (p.str("userId"), p.str("username")) {
        (Some(id), _) => state.chat.store.user_by_id(id).await?,
        (None, Some(name)) => state.chat.store.user_by_username(name).await?,
        _ => return Err(Error::failure("Invalid search query.")),
    }
    .ok_or_else(|| Error::failure("User not found."))?;
    let full = user.id == auth.user.id
        || state
            .chat
            .perms
            .has(&auth.user, "view-full-other-user-info");
    let mut v = if full {
        user.render(DateStyle::Iso)
    } else {
        user.render_public(DateStyle::Iso, false)
    };
    v["canViewAllInfo"] = json!(full);
    let wants_rooms = p.str("fields").is_some_and(|f| f.contains("userRooms"));
    if wants_rooms
        && (user.id == auth.user.id || state.chat.perms.has(&auth.user, "view-other-user-channels"))
    {
        let subs = state
            .chat
            .store
            .subscriptions_of_user(&user.id, None)
            .await?;
        v["rooms"] = subs
            .iter()
            .map(|s| json!({ "_id": s.id, "rid": s.rid, "name": s.name, "t": s.t, "roles": s.roles, "unread": s.unread }))
            .collect();
    }
    Ok(ok(json!({ "user": v })))
}

/// GET /api/v1/users.list
async fn list(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    if !state.chat.perms.has(&auth.user, "view-d-room") {
        return Err(Error::unauthorized());
    }
    let page = p.page();
    let desc = p
        .sort()?
        .and_then(|s| s.get("username").and_then(Value::as_i64))
        .is_some_and(|d| d < 0);
    let privileged = state
        .chat
        .perms
        .has(&auth.user, "view-full-other-user-info");
    let (users, total) = state.chat.store.list_users(page, None, desc).await?;
    let items: Vec<Value> = users
        .iter()
        .map(|u| u.render_public(DateStyle::Iso, privileged))
        .collect();
    Ok(ok(
        json!({ "users": items, "count": items.len(), "offset": page.offset, "total": total }),
    ))
}

/// POST /api/v1/users.update — `{userId, data:{…}}`.
async fn update(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let uid = p.required("userId")?;
    let data = match p.0.get("data") {
        Some(Value::Object(d)) => d.clone(),
        _ => return Err(Error::invalid_params("must have required property 'data'")),
    };
    let user = state.chat.update_user(&auth.user, uid, &data).await?;
    Ok(ok(json!({ "user": user.render(DateStyle::Iso) })))
}

/// POST /api/v1/users.delete — `{userId}` or `{username}`.
async fn delete(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    if !state.chat.perms.has(&auth.user, "delete-user") {
        return Err(Error::unauthorized());
    }
    let target = state
        .chat
        .find_user(p.str("userId"), p.str("username"))
        .await?;
    state.chat.delete_user(&auth.user, &target).await?;
    Ok(ok(json!({})))
}

/// POST /api/v1/users.generatePersonalAccessToken — returns the plain token once.
async fn generate_pat(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let name = p.opt_string("tokenName")?.unwrap_or("");
    let bypass = p.bool("bypassTwoFactor")?.unwrap_or(false);
    let token = state.chat.generate_pat(&auth.user, name, bypass).await?;
    Ok(ok(json!({ "token": token })))
}

/// POST /api/v1/users.regeneratePersonalAccessToken
async fn regenerate_pat(
    State(state): State<AppState>,
    auth: Auth,
    p: Params,
) -> Result<Json<Value>> {
    let name = p.required("tokenName")?;
    let existing = state.chat.store.personal_tokens(&auth.user.id).await?;
    let Some(old) = existing.iter().find(|t| t.name.as_deref() == Some(name)) else {
        return Err(Error::meteor("not-authorized", "Not Authorized"));
    };
    state
        .chat
        .store
        .delete_personal_token(&auth.user.id, name)
        .await?;
    let token = state
        .chat
        .generate_pat(&auth.user, name, old.bypass_2fa)
        .await?;
    Ok(ok(json!({ "token": token })))
}

/// GET /api/v1/users.getPersonalAccessTokens
async fn list_pats(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>> {
    let tokens = state.chat.store.personal_tokens(&auth.user.id).await?;
    let list: Vec<Value> = tokens
        .iter()
        .map(|t| json!({ "name": t.name, "createdAt": iso(t.created_at), "lastTokenPart": t.last_part, "bypassTwoFactor": t.bypass_2fa }))
        .collect();
    Ok(ok(json!({ "tokens": list })))
}

/// POST /api/v1/users.removePersonalAccessToken
async fn remove_pat(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let name = p.required("tokenName")?;
    if !state
        .chat
        .store
        .delete_personal_token(&auth.user.id, name)
        .await?
    {
        return Err(Error::meteor("not-authorized", "Not Authorized"));
    }
    Ok(ok(json!({})))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users.create", post(create))
        .route("/api/v1/users.info", get(info))
        .route("/api/v1/users.list", get(list))
        .route("/api/v1/users.update", post(update))
        .route("/api/v1/users.delete", post(delete))
        .route(
            "/api/v1/users.generatePersonalAccessToken",
            post(generate_pat),
        )
        .route(
            "/api/v1/users.regeneratePersonalAccessToken",
            post(regenerate_pat),
        )
        .route("/api/v1/users.getPersonalAccessTokens", get(list_pats))
        .route("/api/v1/users.removePersonalAccessToken", post(remove_pat))
}
