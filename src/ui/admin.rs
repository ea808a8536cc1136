//! Administration > Users and Rooms: list, create, deactivate and re-activate users, set their roles; list
//! rooms of every type and their members. Each page needs the permission its REST counterpart needs
//! (`view-user-administration`, `view-room-administration`; `create-user`, `edit-other-user-active-status`
//! and `assign-roles` for the changes), so a user without them sees no admin page at all.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{Base, Session, UiError, UiResult};
use crate::chat::users::NewUser;
use crate::error::Error;
use crate::http::AppState;
use crate::model::{Room, User};
use crate::store::Page;
use crate::util::iso;

const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    notice: String,
}

fn user_row(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "name": u.name, "email": u.email(),
        "roles": u.roles, "active": u.active, "kind": u.kind,
        "created": iso(u.created_at).get(..10).unwrap_or(""),
        "last_login": u.last_login.map(|l| iso(l).get(..16).unwrap_or("").replace('T', " ")),
    })
}

fn room_row(r: &Room) -> Value {
    let kind = match r.t.as_str() {
        "c" => "Channel",
        "p" => "Private group",
        "d" => "Direct message",
        _ => "Other",
    };
    let label = if r.t == "d" {
        r.usernames.join(" & ")
    } else {
        r.fname
            .clone()
            .or_else(|| r.name.clone())
            .unwrap_or_default()
    };
    json!({
        "id": r.id, "label": label, "kind": kind, "t": r.t, "users": r.users_count, "msgs": r.msgs,
        "archived": r.archived, "ro": r.ro, "default": r.default,
        "owner": r.u.as_ref().map(|u| u.username.clone()),
        "created": iso(r.ts).get(..10).unwrap_or(""),
        "topic": r.topic,
    })
}

fn pager(offset: i64, total: i64) -> Value {
    json!({
        "offset": offset, "total": total,
        "prev": if offset > 0 { Some((offset - PAGE).max(0)) } else { None },
        "next": if offset + PAGE < total { Some(offset + PAGE) } else { None },
        "from": if total == 0 { 0 } else { offset + 1 }, "to": (offset + PAGE).min(total),
    })
}

/// GET /admin — the first administration page this user may open.
async fn index(State(state): State<AppState>, s: Session) -> UiResult {
    let base = Base::new(&state, &s.ui, &s, "Administration", "admin");
    let to = if base.can_integrations {
        "/admin/integrations"
    } else if base.can_users {
        "/admin/users"
    } else if base.can_rooms {
        "/admin/rooms"
    } else {
        return Err(Error::RouteForbidden.into());
    };
    Ok(Redirect::to(to).into_response())
}

/// The users page, with the create form's values and errors when re-shown after a failed create.
async fn users_page(
    state: &AppState,
    s: &Session,
    q: &ListQuery,
    form: Value,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> UiResult {
    let filter = q.q.trim();
    let offset = q.offset.max(0);
    let (users, total) = state
        .chat
        .admin_users(
            &s.user,
            Page {
                offset,
                count: PAGE,
            },
            (!filter.is_empty()).then_some(filter),
        )
        .await?;
    let roles = state.chat.role_ids().await?;
    let base = Base::new(state, &s.ui, s, "Users", "users");
    let html = s.ui.render(
        "admin_users.html",
        json!({
            "base": base, "can_admin": true,
            "users": users.iter().map(user_row).collect::<Vec<_>>(),
            "pager": pager(offset, total), "q": filter,
            "can_create": state.chat.perms.has(&s.user, "create-user"),
            "all_roles": roles,
            "form": form, "errors": errors, "notice": q.notice,
        }),
    )?;
    Ok((status, html).into_response())
}

/// GET /admin/users
async fn users(State(state): State<AppState>, s: Session, Query(q): Query<ListQuery>) -> UiResult {
    users_page(
        &state,
        &s,
        &q,
        json!({ "roles": ["user"], "join_default": true }),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

/// Reads repeated form keys (`roles=a&roles=b`) as well as single ones.
fn form_map(pairs: &[(String, String)]) -> (BTreeMap<String, String>, Vec<String>) {
    let mut one = BTreeMap::new();
    let mut roles = Vec::new();
    for (k, v) in pairs {
        if k == "roles" {
            roles.push(v.clone());
        } else {
            one.insert(k.clone(), v.clone());
        }
    }
    (one, roles)
}

/// Which form field a domain error from `create_user` is about.
fn user_error_field(e: &Error) -> &'static str {
    let text = e.to_string().to_lowercase();
    match e {
        Error::Meteor { code, details, .. } => {
            if code == "error-invalid-email" {
                "email"
            } else if code == "error-input-is-not-a-valid-field" {
                "username"
            } else if code == "error-field-unavailable" {
                if details
                    .as_ref()
                    .and_then(|d| d["field"].as_str())
                    .is_some_and(|f| f.contains('@'))
                {
                    "email"
                } else {
                    "username"
                }
            } else if text.contains("role") {
                "roles"
            } else {
                "_form"
            }
        }
        _ => "_form",
    }
}

/// POST /admin/users — creates a user (`users.create`).
async fn create_user(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let (f, roles) = form_map(&pairs);
    s.check_csrf(&headers, f.get("_csrf").map(String::as_str))?;
    if !state.chat.perms.has(&s.user, "create-user") {
        return Err(Error::RouteForbidden.into());
    }
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let form = json!({
        "username": get("username"), "name": get("name"), "email": get("email"), "roles": roles,
        "verified": f.contains_key("verified"), "join_default": f.contains_key("join_default"),
    });
    let mut errors = BTreeMap::new();
    for (k, label) in [
        ("username", "Username"),
        ("name", "Name"),
        ("email", "Email"),
        ("password", "Password"),
    ] {
        if get(k).is_empty() {
            errors.insert(k.to_string(), format!("{label} is required."));
        }
    }
    if roles.is_empty() {
        errors.insert("roles".into(), "Choose at least one role.".into());
    }
    if errors.is_empty() {
        let created = state
            .chat
            .create_user(NewUser {
                username: get("username"),
                name: get("name"),
                email: get("email"),
                password: f.get("password").cloned().unwrap_or_default(),
                roles: Some(roles.clone()),
                active: true,
                kind: "user".into(),
                verified: f.contains_key("verified"),
                join_default_channels: f.contains_key("join_default"),
                extra: Map::new(),
            })
            .await;
        match created {
            Ok(u) => {
                let notice: String = url::form_urlencoded::byte_serialize(
                    format!("Created user {}.", u.username).as_bytes(),
                )
                .collect();
                return Ok(Redirect::to(&format!("/admin/users?notice={notice}")).into_response());
            }
            Err(Error::Internal(c)) => return Err(Error::Internal(c).into()),
            Err(e) => {
                errors.insert(user_error_field(&e).to_string(), e.to_string());
            }
        }
    }
    users_page(
        &state,
        &s,
        &ListQuery::default(),
        form,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn user_page(state: &AppState, s: &Session, id: &str, notice: &str, error: &str) -> UiResult {
    let user = state.chat.admin_user(&s.user, id).await?;
    let roles = state.chat.role_ids().await?;
    let base = Base::new(state, &s.ui, s, &user.username, "users");
    let perms = &state.chat.perms;
    let html = s.ui.render(
        "admin_user.html",
        json!({
            "base": base, "can_admin": true, "user": user_row(&user), "all_roles": roles,
            "can_activate": perms.has(&s.user, "edit-other-user-active-status") && user.id != s.user.id,
            "can_roles": perms.has(&s.user, "assign-roles"),
            "notice": notice, "error": error,
        }),
    )?;
    Ok(html.into_response())
}

/// GET /admin/users/{id}
async fn user(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    user_page(&state, &s, &id, &q.notice, "").await
}

/// POST /admin/users/{id} — `action=activate|deactivate|roles` through `users.update`.
async fn update_user(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let (f, roles) = form_map(&pairs);
    s.check_csrf(&headers, f.get("_csrf").map(String::as_str))?;
    let mut data = Map::new();
    let notice = match f.get("action").map(String::as_str) {
        Some("activate") => {
            data.insert("active".into(), Value::Bool(true));
            "Activated."
        }
        Some("deactivate") => {
            data.insert("active".into(), Value::Bool(false));
            "Deactivated: the user can no longer log in."
        }
        Some("roles") => {
            if roles.is_empty() {
                return user_page(&state, &s, &id, "", "Choose at least one role.").await;
            }
            data.insert("roles".into(), json!(roles));
            "Roles saved."
        }
        _ => {
            return Err(UiError::Page(
                StatusCode::BAD_REQUEST,
                "Unknown action".into(),
            ))
        }
    };
    match state.chat.update_user(&s.user, &id, &data).await {
        Ok(_) => {
            let n: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
            Ok(Redirect::to(&format!("/admin/users/{id}?notice={n}")).into_response())
        }
        Err(Error::Internal(c)) => Err(Error::Internal(c).into()),
        Err(e) => user_page(&state, &s, &id, "", &e.to_string()).await,
    }
}

/// GET /admin/rooms
async fn rooms(State(state): State<AppState>, s: Session, Query(q): Query<ListQuery>) -> UiResult {
    let filter = q.q.trim();
    let offset = q.offset.max(0);
    let (rooms, total) = state
        .chat
        .admin_rooms(
            &s.user,
            Page {
                offset,
                count: PAGE,
            },
            (!filter.is_empty()).then_some(filter),
        )
        .await?;
    let base = Base::new(&state, &s.ui, &s, "Rooms", "rooms");
    let html = s.ui.render(
        "admin_rooms.html",
        json!({
            "base": base, "can_admin": true, "rooms": rooms.iter().map(room_row).collect::<Vec<_>>(),
            "pager": pager(offset, total), "q": filter,
        }),
    )?;
    Ok(html.into_response())
}

/// GET /admin/rooms/{rid} — a room and its members.
async fn room(
    State(state): State<AppState>,
    s: Session,
    Path(rid): Path<String>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let offset = q.offset.max(0);
    let (room, members, total) = state
        .chat
        .admin_room(
            &s.user,
            &rid,
            Page {
                offset,
                count: PAGE,
            },
        )
        .await?;
    let row = room_row(&room);
    let base = Base::new(
        &state,
        &s.ui,
        &s,
        row["label"].as_str().unwrap_or("Room"),
        "rooms",
    );
    let html = s.ui.render(
        "admin_room.html",
        json!({
            "base": base, "can_admin": true, "room": row,
            "members": members.iter().map(user_row).collect::<Vec<_>>(),
            "pager": pager(offset, total),
        }),
    )?;
    Ok(html.into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}", get(user).post(update_user))
        .route("/admin/rooms", get(rooms))
        .route("/admin/rooms/{rid}", get(room))
}
