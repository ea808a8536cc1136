//! The `/hooks/...` endpoints: incoming webhook calls (`/hooks/:id/:token`, and the legacy
//! `/hooks/:id/:userId/:token`), GET and POST, plus `/hooks/info/...`. Authentication is by the URL, CORS
//! is open, as in Rocket.Chat. Also the Zapier-style helpers `/hooks/add/...` and `/hooks/remove/...`,
//! which manage outgoing integrations and authenticate with an incoming integration's id and token.

use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::{read_body, AppState};
use crate::error::Error;
use crate::integrations::incoming::{AnswerBody, HookAnswer, HookCall};

/// The answer to nearly every hook call, as sent.
const SUCCESS: &str = r#"{"success":true}"#;

async fn call(
    state: &AppState,
    id: String,
    user_id: Option<String>,
    token: String,
    mut req: Request,
) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    // Handed over, not copied: reading the body needs none of them (its length limit is the body's own).
    let headers = std::mem::take(req.headers_mut());
    let body = match read_body(req, state).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let answer = state
        .integrations
        .execute(HookCall {
            integration_id: id,
            token,
            user_id,
            method,
            path,
            query,
            headers,
            body,
        })
        .await;
    respond(answer)
}

fn respond(a: HookAnswer) -> Response {
    if a.status == 429 {
        let limit = a.body.field("rateLimit")["limit"].as_u64().unwrap_or(0);
        let reset = a.body.field("rateLimit")["reset"].as_i64().unwrap_or(0);
        let wait = ((reset - crate::util::now_ms()).max(1000) / 1000) as u64;
        let mut r = Error::TooManyRequests {
            wait_secs: wait,
            limit,
            reset_ms: reset,
        }
        .into_response();
        cors(&mut r);
        return r;
    }
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = match a.body {
        AnswerBody::Success => (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            SUCCESS,
        )
            .into_response(),
        AnswerBody::Json(v) => (status, Json(v)).into_response(),
    };
    cors(&mut r);
    r
}

fn cors(r: &mut Response) {
    r.headers_mut()
        .insert("access-control-allow-origin", HeaderValue::from_static("*"));
}

/// GET|POST /hooks/{integrationId}/{token}
async fn hook(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    req: Request,
) -> Response {
    call(&state, id, None, token, req).await
}

/// GET|POST /hooks/{integrationId}/{userId}/{token} (legacy form; the user id is not used)
async fn hook_legacy(
    State(state): State<AppState>,
    Path((id, uid, token)): Path<(String, String, String)>,
    req: Request,
) -> Response {
    call(&state, id, Some(uid), token, req).await
}

/// GET /hooks/info/{integrationId}/{token}: `{"success":true}` when the id and token are right.
async fn info(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
) -> Response {
    match state.integrations.hook_target(&id).await {
        Ok(Some((i, _))) if i.is_incoming() && crate::util::secure_eq(&i.token, &token) => {
            respond(HookAnswer::ok())
        }
        _ => respond(HookAnswer::fail(
            401,
            "Invalid integration id or token provided.",
        )),
    }
}

async fn info_legacy(
    state: State<AppState>,
    Path((id, _uid, token)): Path<(String, String, String)>,
) -> Response {
    info(state, Path((id, token))).await
}

/// Preflight for browsers posting to hooks.
async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("Content-Type"),
    );
    r
}

/// The body of a helper call as a JSON object (an empty or non-object body is an empty object).
async fn helper_body(
    state: &AppState,
    req: Request,
) -> Result<serde_json::Map<String, serde_json::Value>, Response> {
    let body = read_body(req, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default())
}

fn helper_error(e: crate::integrations::outgoing::HelperError) -> Response {
    match e {
        crate::integrations::outgoing::HelperError::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "success": false, "error": "Invalid integration id or token provided." })),
        )
            .into_response(),
        crate::integrations::outgoing::HelperError::Failed(e) => e.into_response(),
    }
}

/// POST /hooks/add/:id/:token — `{event, name, target_url, data?}` creates an outgoing integration.
async fn helper_add(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    req: Request,
) -> Response {
    let body = match helper_body(&state, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match state.integrations.hooks_add(&id, &token, &body).await {
        Ok(i) => {
            let mut v = i.render(crate::util::DateStyle::Iso);
            v["success"] = json!(true);
            Json(v).into_response()
        }
        Err(e) => helper_error(e),
    }
}

/// POST /hooks/remove/:id/:token — `{target_url}` deletes the outgoing integration calling that URL.
async fn helper_remove(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    req: Request,
) -> Response {
    let body = match helper_body(&state, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match state.integrations.hooks_remove(&id, &token, &body).await {
        Ok(()) => Json(json!({ "success": true })).into_response(),
        Err(e) => helper_error(e),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/add/{id}/{token}", axum::routing::post(helper_add))
        .route(
            "/hooks/remove/{id}/{token}",
            axum::routing::post(helper_remove),
        )
        .route(
            "/hooks/{id}/{token}",
            get(hook).post(hook).options(preflight),
        )
        .route(
            "/hooks/{id}/{uid}/{token}",
            get(hook_legacy).post(hook_legacy).options(preflight),
        )
        .route("/hooks/info/{id}/{token}", get(info))
        .route("/hooks/info/{id}/{uid}/{token}", get(info_legacy))
}
