//! `permissions.listAll`, `permissions.update`, `roles.list`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{error::ok, AppState, Auth, Params};
use crate::error::{Error, Result};
use crate::model::Permission;
use crate::util::{now_ms, parse_date, DateStyle};

/// GET /api/v1/permissions.listAll — every permission, or those changed after `updatedSince`.
async fn list_all(State(state): State<AppState>, _auth: Auth, p: Params) -> Result<Json<Value>> {
    let since = match p.str("updatedSince") {
        Some(s) => Some(parse_date(s).ok_or_else(|| {
            Error::meteor(
                "error-roomId-param-invalid",
                "The \"updatedSince\" query parameter must be a valid date.",
            )
        })?),
        None => None,
    };
    let perms = state.chat.store.permissions().await?;
    let update: Vec<Value> = perms
        .iter()
        .filter(|x| since.is_none_or(|s| x.updated_at > s))
        .map(|x| x.render(DateStyle::Iso))
        .collect();
    Ok(ok(json!({ "update": update, "remove": [] })))
}

/// POST /api/v1/permissions.update — replaces the roles of each listed permission.
async fn update(State(state): State<AppState>, auth: Auth, p: Params) -> Result<Json<Value>> {
    auth.require_any(&state, &["access-permissions"])?;
    let invalid_body = || Error::meteor("error-invalid-body-params", "Invalid body params");
    let list =
        p.0.get("permissions")
            .and_then(Value::as_array)
            .ok_or_else(invalid_body)?;
    let existing = state.chat.store.permissions().await?;
    let roles = state.chat.store.roles().await?;
    let now = now_ms();
    let mut changes = Vec::new();
    for item in list {
        let o = item.as_object().ok_or_else(invalid_body)?;
        if o.keys().any(|k| k != "_id" && k != "roles") {
            return Err(invalid_body());
        }
        let id = o
            .get("_id")
            .and_then(Value::as_str)
            .ok_or_else(invalid_body)?;
        let new_roles: Vec<String> =
            serde_json::from_value(o.get("roles").cloned().unwrap_or(Value::Null))
                .map_err(|_| invalid_body())?;
        if !existing.iter().any(|e| e.id == id) {
            return Err(Error::Custom {
                status: 400,
                body: json!({ "success": false, "error": "Invalid permission", "errorType": "error-invalid-permission" }),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for r in &new_roles {
            if !roles.iter().any(|x| &x.id == r) || !seen.insert(r) {
                return Err(Error::Custom {
                    status: 400,
                    body: json!({ "success": false, "error": "Invalid role", "errorType": "error-invalid-role" }),
                });
            }
        }
        changes.push(Permission {
            id: id.to_string(),
            roles: new_roles,
            updated_at: now,
        });
    }
    state.chat.store.set_permissions(&changes).await?;
    let all = state.chat.store.permissions().await?;
    state.chat.perms.replace(&all);
    state.chat.targets.invalidate();
    Ok(ok(
        json!({ "permissions": all.iter().map(|x| x.render(DateStyle::Iso)).collect::<Vec<_>>() }),
    ))
}

/// GET /api/v1/roles.list
async fn roles_list(State(state): State<AppState>, _auth: Auth) -> Result<Json<Value>> {
    let roles = state.chat.store.roles().await?;
    Ok(ok(json!({ "roles": roles })))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/permissions.listAll", get(list_all))
        .route("/api/v1/permissions.update", post(update))
        .route("/api/v1/roles.list", get(roles_list))
}
