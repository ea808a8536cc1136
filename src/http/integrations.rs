//! `integrations.*`: create, list, get, update, remove, history, clearHistory, replayOutgoing — plus
//! `integrations.dryRun`, our own endpoint that runs a saved or draft script against a recorded or supplied
//! request without posting.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{error::ok, AppState, Auth, Params};
use crate::error::{Error, Result};
use crate::integrations::{INCOMING, OUTGOING};
use crate::model::Integration;
use crate::util::DateStyle;

fn render(i: &Integration) -> Value {
    i.render(DateStyle::Iso)
}

/// POST /api/v1/integrations.create
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params,
) -> Result<Json<Value>> {
    let i = state.integrations.create(&auth.user, &p).await?;
    Ok(ok(json!({ "integration": render(&i) })))
}

/// GET /api/v1/integrations.list — `type`, `name`, paging.
async fn list(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    if !state.integrations.may_manage_any(&auth.user) {
        return Err(Error::RouteForbidden);
    }
    let kind = match p.str("type") {
        None => None,
        Some(k) if k == INCOMING || k == OUTGOING => Some(k),
        Some(_) => {
            return Err(Error::invalid_params(
                "/type must be equal to one of the allowed values",
            ))
        }
    };
    let page = p.page();
    let (items, total) = state
        .integrations
        .list(&auth.user, kind, p.str("name"), page)
        .await?;
    let items: Vec<Value> = items.iter().map(render).collect();
    Ok(ok(
        json!({ "integrations": items, "offset": page.offset, "items": items.len(), "count": items.len(), "total": total }),
    ))
}

/// GET /api/v1/integrations.get?integrationId=
async fn get_one(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    let id = p.required("integrationId")?;
    let i = state
        .integrations
        .get(&auth.user, id, p.str("createdBy"))
        .await?;
    Ok(ok(json!({ "integration": render(&i) })))
}

/// PUT /api/v1/integrations.update
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params,
) -> Result<Json<Value>> {
    let i = state.integrations.update(&auth.user, &p).await?;
    Ok(ok(json!({ "integration": render(&i) })))
}

/// POST /api/v1/integrations.remove
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params,
) -> Result<Json<Value>> {
    if !state.integrations.may_manage_any(&auth.user) {
        return Err(Error::RouteForbidden);
    }
    let i = state.integrations.remove(&auth.user, &p).await?;
    Ok(ok(json!({ "integration": render(&i) })))
}

/// GET /api/v1/integrations.history?id= — for outgoing integrations one record per attempt (Rocket.Chat's
/// fields and step names), most recently updated first; for incoming hooks the recorded requests.
async fn history(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    if !state.integrations.may_manage_any(&auth.user) {
        return Err(Error::RouteForbidden);
    }
    let id = match p
        .0
        .get("id")
        .or_else(|| p.0.get("integrationId"))
        .and_then(Value::as_str)
    {
        Some(id) if !id.trim().is_empty() => id,
        _ => return Err(Error::failure("Invalid integration id.")),
    };
    let i = state.integrations.get(&auth.user, id, None).await?;
    let page = p.page();
    let (items, total): (Vec<Value>, i64) = if i.is_outgoing() {
        let (records, total) = state.chat.store.outgoing_history(&i.id, page).await?;
        (
            records
                .iter()
                .map(|r| r.render(&i, DateStyle::Iso))
                .collect(),
            total,
        )
    } else {
        // Recordings are written in the background; write what is pending so the page includes the newest.
        state.integrations.requests.flush().await?;
        let (records, total) = state.chat.store.hook_requests(&i.id, page).await?;
        (
            records.iter().map(|r| r.render(DateStyle::Iso)).collect(),
            total,
        )
    };
    Ok(ok(
        json!({ "history": items, "offset": page.offset, "items": items.len(), "count": items.len(), "total": total }),
    ))
}

/// POST /api/v1/integrations.clearHistory — `{integrationId}`.
async fn clear_history(
    State(state): State<AppState>,
    auth: Auth,
    p: Params,
) -> Result<Json<Value>> {
    let id = p.required("integrationId")?;
    state.integrations.clear_history(&auth.user, id).await?;
    Ok(ok(json!({})))
}

/// POST /api/v1/integrations.replayOutgoing — `{integrationId, historyId}`: queues that call again.
async fn replay_outgoing(
    State(state): State<AppState>,
    auth: Auth,
    p: Params,
) -> Result<Json<Value>> {
    let id = p.required("integrationId")?;
    let history_id = p.required("historyId")?;
    state
        .integrations
        .replay_outgoing(&auth.user, id, history_id)
        .await?;
    Ok(ok(json!({})))
}

/// POST /api/v1/integrations.dryRun — `{integrationId, script?, historyId? | request?}`.
async fn dry_run(
    State(state): State<AppState>,
    auth: Auth,
    Params(p): Params,
) -> Result<Json<Value>> {
    let result = state.integrations.dry_run(&auth.user, &p).await?;
    Ok(ok(result))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations.create", post(create))
        .route("/api/v1/integrations.list", get(list))
        .route("/api/v1/integrations.get", get(get_one))
        .route(
            "/api/v1/integrations.update",
            axum::routing::put(update).post(update),
        )
        .route("/api/v1/integrations.remove", post(remove))
        .route("/api/v1/integrations.history", get(history))
        .route("/api/v1/integrations.clearHistory", post(clear_history))
        .route("/api/v1/integrations.replayOutgoing", post(replay_outgoing))
        .route("/api/v1/integrations.dryRun", post(dry_run))
}
