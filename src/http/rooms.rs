//! `channels.*` and `groups.*` (one set of handlers, parameterised by [`RoomKind`]), `im.*`/`dm.*`, and
//! `rooms.get` / `subscriptions.get`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{error::ok, AppState, Auth, Params};
use crate::chat::rooms::{NewRoom, RoomKind};
use crate::error::{Error, Result};
use crate::model::{Room, User};
use crate::store::{MessageFilter, RoomFilter, RoomSort};
use crate::util::{now_ms, parse_date, DateStyle};

fn room_key(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Channel => "channel",
        RoomKind::Group => "group",
    }
}

fn list_key(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Channel => "channels",
        RoomKind::Group => "groups",
    }
}

fn room_sort(p: &Params) -> Result<RoomSort> {
    Ok(match p.sort()? {
        Some(s) => match (
            s.keys().next().map(String::as_str),
            s.values().next().and_then(Value::as_i64),
        ) {
            (Some("name" | "fname"), Some(d)) if d < 0 => RoomSort::NameDesc,
            (Some("_updatedAt" | "lm"), _) => RoomSort::UpdatedDesc,
            (Some("ts"), _) => RoomSort::CreatedAsc,
            (Some("msgs"), _) => RoomSort::MsgsDesc,
            _ => RoomSort::NameAsc,
        },
        None => RoomSort::NameAsc,
    })
}

async fn find(state: &AppState, kind: RoomKind, user: &User, p: &Params) -> Result<Room> {
    state
        .chat
        .find_named_room(kind, user, p.str("roomId"), p.str("roomName"))
        .await
}

fn room_json(room: &Room) -> Value {
    room.render(DateStyle::Iso)
}

/// POST channels.create / groups.create
async fn create(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let prefix = match kind {
        RoomKind::Channel => "Param",
        RoomKind::Group => "Body param",
    };
    let name = match p.0.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(Error::failure(format!("{prefix} \"name\" is required"))),
    };
    let members = match p.0.get("members") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            return Err(Error::failure(format!(
                "{prefix} \"members\" must be an array if provided"
            )))
        }
    };
    let room = state
        .chat
        .create_named_room(
            kind,
            &auth.user,
            NewRoom {
                name,
                members,
                read_only: p.bool("readOnly")?.unwrap_or(false),
                exclude_self: p.bool("excludeSelf")?.unwrap_or(false),
            },
        )
        .await?;
    Ok(ok(json!({ room_key(kind): room_json(&room) })))
}

/// GET channels.info / groups.info
async fn info(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    Ok(ok(json!({ room_key(kind): room_json(&room) })))
}

/// GET channels.list (all public channels, or only joined ones without `view-c-room`) / groups.list (the
/// caller's groups).
async fn list(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let mut filter = RoomFilter {
        types: vec![kind.t()],
        ..Default::default()
    };
    match kind {
        RoomKind::Channel => {
            auth.require_any(&state, &["view-c-room", "view-joined-room"])?;
            if !state.chat.perms.has(&auth.user, "view-c-room") {
                filter.member = Some(auth.user.id.clone());
            }
        }
        RoomKind::Group => filter.member = Some(auth.user.id.clone()),
    }
    paged_rooms(&state, list_key(kind), &filter, &p).await
}

async fn paged_rooms(
    state: &AppState,
    key: &str,
    filter: &RoomFilter,
    p: &Params,
) -> Result<Json<Value>> {
    let page = p.page();
    let (rooms, total) = state
        .chat
        .store
        .list_rooms(filter, page, room_sort(p)?)
        .await?;
    let items: Vec<Value> = rooms.iter().map(room_json).collect();
    Ok(ok(
        json!({ key: items, "count": items.len(), "offset": page.offset, "total": total }),
    ))
}

/// GET channels.list.joined
async fn list_joined(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let filter = RoomFilter {
        types: vec!["c"],
        member: Some(auth.user.id.clone()),
        ..Default::default()
    };
    paged_rooms(&state, "channels", &filter, &p).await
}

/// GET groups.listAll — every private group, for room administrators.
async fn groups_list_all(
    State(state): State<AppState>,
    auth: Auth,
    p: Params,
) -> Result<Json<Value>> {
    auth.require_any(&state, &["view-room-administration"])?;
    let filter = RoomFilter {
        types: vec!["p"],
        ..Default::default()
    };
    paged_rooms(&state, "groups", &filter, &p).await
}

/// POST channels.join
async fn join(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, RoomKind::Channel, &auth.user, &p).await?;
    let room = state.chat.join_room(&auth.user, &room, true).await?;
    Ok(ok(json!({ "channel": room_json(&room) })))
}

/// POST channels.leave / groups.leave
async fn leave(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    let room = state.chat.leave_room(kind, &auth.user, &room).await?;
    Ok(match kind {
        RoomKind::Channel => ok(json!({ "channel": room_json(&room) })),
        RoomKind::Group => ok(json!({})),
    })
}

/// POST channels.invite / groups.invite — `userId`, `username`, `userIds[]` or `usernames[]`.
async fn invite(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = match kind {
        RoomKind::Channel => find(&state, kind, &auth.user, &p).await?,
        // groups.invite looks the room up without the membership check; the permission check follows.
        RoomKind::Group => {
            let r = match (p.str("roomId"), p.str("roomName")) {
                (Some(id), _) => state.chat.store.room_by_id(id).await?,
                (None, Some(n)) => state.chat.store.room_by_name(n).await?,
                _ => {
                    return Err(Error::meteor(
                        "error-room-param-not-provided",
                        "The parameter \"roomId\" or \"roomName\" is required",
                    ))
                }
            };
            r.filter(|r| r.t == "p")
                .ok_or_else(|| crate::chat::rooms::room_not_found(kind))?
        }
    };
    let mut ids: Vec<String> = p.list("userIds")?.unwrap_or_default();
    let mut names: Vec<String> = p.list("usernames")?.unwrap_or_default();
    if let Some(id) = p.str("userId") {
        ids.push(id.to_string());
    }
    if let Some(n) = p.str("username") {
        names.push(n.to_string());
    }
    if ids.is_empty() && names.is_empty() {
        return Err(Error::meteor(
            "error-users-params-not-provided",
            "Please provide \"userId\" or \"username\" or \"userIds\" or \"usernames\" as param",
        ));
    }
    let mut users = Vec::new();
    for id in &ids {
        if let Some(u) = state.chat.store.user_by_id(id).await? {
            users.push(u);
        }
    }
    for n in &names {
        if let Some(u) = state.chat.store.user_by_username(n).await? {
            users.push(u);
        }
    }
    if users.is_empty() {
        return Err(match kind {
            RoomKind::Channel => Error::Custom {
                status: 400,
                body: json!({ "success": false, "error": "invalid-user-invite-list", "errorType": "Cannot invite if no users are provided" }),
            },
            RoomKind::Group => Error::meteor(
                "error-empty-invite-list",
                "Cannot invite if no valid users are provided",
            ),
        });
    }
    state.chat.invite(kind, &auth.user, &room, &users).await?;
    let room = state.chat.store.room_by_id(&room.id).await?.unwrap_or(room);
    Ok(ok(json!({ room_key(kind): room_json(&room) })))
}

/// POST channels.kick / groups.kick
async fn kick(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    let target = state
        .chat
        .find_user(p.str("userId"), p.str("username"))
        .await?;
    state.chat.kick(kind, &auth.user, &room, &target).await?;
    let room = state.chat.store.room_by_id(&room.id).await?.unwrap_or(room);
    Ok(match kind {
        RoomKind::Channel => ok(json!({ "channel": room_json(&room) })),
        RoomKind::Group => ok(json!({})),
    })
}

/// Reads a message listing's sort (default newest first).
fn ascending(p: &Params) -> Result<bool> {
    Ok(p.sort()?
        .and_then(|s| s.get("ts").and_then(Value::as_i64))
        .is_some_and(|d| d > 0))
}

/// GET channels.messages / groups.messages / im.messages
async fn messages_of(
    state: &AppState,
    user: &User,
    room: &Room,
    p: &Params,
) -> Result<Json<Value>> {
    if !state.chat.can_access(user, room).await? {
        return Err(Error::unauthorized());
    }
    let page = p.page();
    let filter = MessageFilter {
        rid: room.id.clone(),
        threads: true,
        ascending: ascending(p)?,
        ..Default::default()
    };
    let (msgs, total) = state.chat.store.messages(&filter, page).await?;
    let items: Vec<Value> = msgs.iter().map(|m| m.render(DateStyle::Iso)).collect();
    Ok(ok(
        json!({ "messages": items, "count": items.len(), "offset": page.offset, "total": total }),
    ))
}

async fn messages(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    if kind == RoomKind::Channel {
        auth.require_any(&state, &["view-c-room", "view-joined-room"])?;
        p.required("roomId")?;
    }
    let room = find(&state, kind, &auth.user, &p).await?;
    messages_of(&state, &auth.user, &room, &p).await
}

/// GET channels.history / groups.history / im.history
async fn history_of(
    state: &AppState,
    user: &User,
    room: &Room,
    p: &Params,
    default_count: i64,
    threads_default: bool,
) -> Result<Json<Value>> {
    let date = |k: &str| -> Result<Option<i64>> {
        match p.str(k) {
            Some(s) => parse_date(s).map(Some).ok_or_else(|| {
                Error::meteor(
                    &format!("error-{k}-param-invalid"),
                    format!("The \"{k}\" query parameter must be a valid date."),
                )
            }),
            None => Ok(None),
        }
    };
    let latest = date("latest")?.unwrap_or_else(|| now_ms() + 1);
    let oldest = date("oldest")?;
    let threads = match p.0.get("showThreadMessages").and_then(Value::as_str) {
        Some(v) => v == "true",
        None => threads_default,
    };
    let page = p.page_with_default(default_count);
    let filter = MessageFilter {
        rid: room.id.clone(),
        latest: Some(latest),
        oldest,
        inclusive: p.flag("inclusive"),
        threads,
        ascending: false,
    };
    let (msgs, _) = state.chat.history(user, room, filter, page).await?;
    let items: Vec<Value> = msgs.iter().map(|m| m.render(DateStyle::Iso)).collect();
    let mut body = json!({ "messages": items });
    if p.flag("unreads") {
        body["unreadNotLoaded"] = json!(0);
    }
    Ok(ok(body))
}

async fn history(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    let (count, threads) = match kind {
        RoomKind::Channel => (50, false),
        RoomKind::Group => (20, true),
    };
    history_of(&state, &auth.user, &room, &p, count, threads).await
}

/// GET channels.members / groups.members / im.members
async fn members_of(state: &AppState, room: &Room, p: &Params) -> Result<Json<Value>> {
    let page = p.page();
    let (users, total) = state
        .chat
        .store
        .members(&room.id, page, p.str("filter"))
        .await?;
    let items: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({ "_id": u.id, "username": u.username, "name": u.name, "status": u.status, "_updatedAt": DateStyle::Iso.date(u.updated_at) })
        })
        .collect();
    Ok(ok(
        json!({ "members": items, "count": items.len(), "offset": page.offset, "total": total }),
    ))
}

async fn members(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    if !state.chat.can_access(&auth.user, &room).await? {
        return Err(Error::unauthorized());
    }
    members_of(&state, &room, &p).await
}

/// POST channels.setTopic / groups.setTopic — the `topic` key must exist; "" clears.
async fn set_topic(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let topic = match p.0.get("topic") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => {
            return Err(Error::failure("The bodyParam \"topic\" is required"))
        }
        Some(_) => return Err(Error::invalid_params("/topic must be string")),
    };
    let room = find(&state, kind, &auth.user, &p).await?;
    let topic = state
        .chat
        .set_topic(kind, &auth.user, &room, &topic)
        .await?;
    Ok(ok(json!({ "topic": topic })))
}

async fn archive(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    state
        .chat
        .set_archived(kind, &auth.user, &room, true)
        .await?;
    Ok(ok(json!({})))
}

async fn unarchive(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    state
        .chat
        .set_archived(kind, &auth.user, &room, false)
        .await?;
    Ok(ok(json!({})))
}

async fn delete(kind: RoomKind, state: AppState, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find(&state, kind, &auth.user, &p).await?;
    state.chat.delete_room(kind, &auth.user, &room).await?;
    Ok(ok(json!({})))
}

// ---- direct messages ---------------------------------------------------------------------------------------

fn dm_not_found() -> Error {
    Error::meteor(
        "error-room-not-found",
        "The required \"roomId\" param provided does not match any direct message",
    )
}

/// A DM by `roomId` (the caller must be in it) or by `username` (created if needed).
async fn find_dm(state: &AppState, user: &User, p: &Params) -> Result<Room> {
    if let Some(rid) = p.str("roomId") {
        let room = state
            .chat
            .store
            .room_by_id(rid)
            .await?
            .filter(|r| r.is_dm())
            .ok_or_else(dm_not_found)?;
        if state
            .chat
            .store
            .subscription(&room.id, &user.id)
            .await?
            .is_none()
        {
            return Err(dm_not_found());
        }
        return Ok(room);
    }
    if let Some(name) = p.str("username") {
        let other = state
            .chat
            .store
            .user_by_username(name)
            .await?
            .ok_or_else(|| Error::meteor("error-invalid-user", "Invalid user"))?;
        return state.chat.direct_room(user, &other).await;
    }
    Err(Error::meteor(
        "error-room-param-not-provided",
        "Query param \"roomId\" is required",
    ))
}

fn dm_json(room: &Room) -> Value {
    let mut v = room_json(room);
    v["rid"] = json!(room.id);
    v
}

/// POST im.create — `{username}`, or `{usernames: "a,b"}`, idempotent.
async fn im_create(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let name = match (p.str("username"), p.str("usernames")) {
        (Some(u), _) => u.to_string(),
        (None, Some(list)) => {
            let names: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            match names.as_slice() {
                [one] => one.to_string(),
                // Group DMs are not supported yet: say so rather than create something else.
                _ => {
                    return Err(Error::meteor(
                        "error-not-allowed",
                        "Group direct messages are not supported",
                    ))
                }
            }
        }
        _ => {
            return Err(Error::invalid_params(
                "must have required property 'username'",
            ))
        }
    };
    let other = state
        .chat
        .store
        .user_by_username(&name)
        .await?
        .ok_or_else(|| Error::meteor("error-invalid-user", "Invalid user"))?;
    let room = state.chat.direct_room(&auth.user, &other).await?;
    Ok(ok(json!({ "room": dm_json(&room) })))
}

/// GET im.list
async fn im_list(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let filter = RoomFilter {
        types: vec!["d"],
        member: Some(auth.user.id.clone()),
        ..Default::default()
    };
    paged_rooms(&state, "ims", &filter, &p).await
}

async fn im_messages(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find_dm(&state, &auth.user, &p).await?;
    messages_of(&state, &auth.user, &room, &p).await
}

async fn im_history(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    if p.str("roomId").is_none() {
        return Err(Error::meteor(
            "error-room-param-not-provided",
            "Query param \"roomId\" is required",
        ));
    }
    let room = find_dm(&state, &auth.user, &p).await?;
    history_of(&state, &auth.user, &room, &p, 20, true).await
}

async fn im_members(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let room = find_dm(&state, &auth.user, &p).await?;
    members_of(&state, &room, &p).await
}

// ---- rooms.get / subscriptions.get ----------------------------------------------------------------------------

/// GET rooms.get — the caller's rooms, or those changed since `updatedSince` plus the removed ones.
async fn rooms_get(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let since = match p.str("updatedSince") {
        Some(s) => Some(parse_date(s).ok_or_else(|| {
            Error::meteor(
                "error-updatedSince-param-invalid",
                "The \"updatedSince\" query parameter must be a valid date.",
            )
        })?),
        None => None,
    };
    let (update, remove) = state
        .chat
        .rooms_changed(&auth.user, since, DateStyle::Iso)
        .await?;
    Ok(ok(json!({ "update": update, "remove": remove })))
}

/// GET subscriptions.get
async fn subscriptions_get(
    State(state): State<AppState>,
    auth: Auth,
    p: Params,
) -> Result<Json<Value>> {
    let since = match p.str("updatedSince") {
        Some(s) => Some(parse_date(s).ok_or_else(|| {
            Error::meteor(
                "error-roomId-param-invalid",
                "The \"lastUpdate\" query parameter must be a valid date.",
            )
        })?),
        None => None,
    };
    let (update, remove) = state
        .chat
        .subscriptions_changed(&auth.user, since, DateStyle::Iso)
        .await?;
    Ok(ok(json!({ "update": update, "remove": remove })))
}

/// GET subscriptions.getOne
async fn subscriptions_get_one(
    State(state): State<AppState>,
    auth: Auth,
    p: Params,
) -> Result<Json<Value>> {
    let rid = p.required("roomId")?;
    let sub = state.chat.store.subscription(rid, &auth.user.id).await?;
    Ok(ok(
        json!({ "subscription": sub.map(|s| s.render(DateStyle::Iso)) }),
    ))
}

macro_rules! kinded {
    ($method:ident, $kind:expr, $handler:ident) => {
        $method(move |State(s): State<AppState>, a: Auth, p: Params| $handler($kind, s, a, p))
    };
}

fn kind_routes(kind: RoomKind) -> Router<AppState> {
    let base = format!("/api/v1/{}", list_key(kind));
    Router::new()
        .route(&format!("{base}.create"), kinded!(post, kind, create))
        .route(&format!("{base}.info"), kinded!(get, kind, info))
        .route(&format!("{base}.list"), kinded!(get, kind, list))
        .route(&format!("{base}.leave"), kinded!(post, kind, leave))
        .route(&format!("{base}.invite"), kinded!(post, kind, invite))
        .route(&format!("{base}.kick"), kinded!(post, kind, kick))
        .route(&format!("{base}.messages"), kinded!(get, kind, messages))
        .route(&format!("{base}.history"), kinded!(get, kind, history))
        .route(&format!("{base}.members"), kinded!(get, kind, members))
        .route(&format!("{base}.setTopic"), kinded!(post, kind, set_topic))
        .route(&format!("{base}.archive"), kinded!(post, kind, archive))
        .route(&format!("{base}.unarchive"), kinded!(post, kind, unarchive))
        .route(&format!("{base}.delete"), kinded!(post, kind, delete))
}

pub fn router() -> Router<AppState> {
    let mut r = Router::new()
        .merge(kind_routes(RoomKind::Channel))
        .merge(kind_routes(RoomKind::Group))
        .route("/api/v1/channels.list.joined", get(list_joined))
        .route("/api/v1/channels.join", post(join))
        .route("/api/v1/groups.listAll", get(groups_list_all))
        .route("/api/v1/rooms.get", get(rooms_get))
        .route("/api/v1/subscriptions.get", get(subscriptions_get))
        .route("/api/v1/subscriptions.getOne", get(subscriptions_get_one));
    // `dm.*` is the current name of `im.*`; both are served.
    for prefix in ["im", "dm"] {
        r = r
            .route(&format!("/api/v1/{prefix}.create"), post(im_create))
            .route(&format!("/api/v1/{prefix}.list"), get(im_list))
            .route(&format!("/api/v1/{prefix}.messages"), get(im_messages))
            .route(&format!("/api/v1/{prefix}.history"), get(im_history))
            .route(&format!("/api/v1/{prefix}.members"), get(im_members));
    }
    r
}
