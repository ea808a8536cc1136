//! The HTTP surface: Rocket.Chat's REST API under `/api/v1` (one file per area, each ending in `router()`),
//! and the extractors they share — [`Params`] (query string or JSON/form body, read the way Rocket.Chat
//! reads them) and [`Auth`] (`X-User-Id` + `X-Auth-Token`). Handlers are thin: they read parameters, call
//! the chat domain and shape the answer.

pub mod auth;
pub mod chat;
pub mod error;
pub mod hooks;
pub mod info;
pub mod integrations;
pub mod permissions;
pub mod rooms;
pub mod users;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::Router;
use serde_json::{Map, Value};

use crate::chat::Chat;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{LoginToken, User};
use crate::store::Page;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<Chat>,
    pub config: Arc<Config>,
    pub integrations: Arc<crate::integrations::Integrations>,
    /// Turns `true` when the server is shutting down; long-lived connections (WebSockets) watch it and
    /// close so that graceful shutdown can finish.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let limit = state.config.body_limit;
    Router::new()
        .merge(info::router())
        .merge(auth::router())
        .merge(users::router())
        .merge(permissions::router())
        .merge(rooms::router())
        .merge(chat::router())
        .merge(integrations::router())
        .merge(hooks::router())
        .merge(crate::realtime::router())
        .merge(crate::ui::router())
        .fallback(|| async { Error::NotFound })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Request parameters as one JSON object: the query string for GET, the body (JSON, or form-encoded with
/// every value a string) for other methods. Malformed input is a 400 with Rocket.Chat's error body; a body
/// over the limit is a 413.
#[derive(Debug, Default)]
pub struct Params(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.method() == Method::GET || req.method() == Method::DELETE {
            return Ok(Params(parse_query(req.uri().query().unwrap_or(""))));
        }
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params::default());
        }
        if form {
            return Ok(Params(parse_query(&String::from_utf8_lossy(&bytes))));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(Params(m)),
            Ok(_) => Err(Error::invalid_params("must be object")),
            Err(e) => Err(Error::invalid_params(format!("Invalid JSON body: {e}"))),
        }
    }
}

/// Reads a request body within the configured limit.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes> {
    Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge
        } else {
            Error::failure(rej.body_text())
        }
    })
}

/// Parses `a=1&b[]=x&b[]=y` into an object of strings and arrays of strings.
pub fn parse_query(q: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default() {
        if let Some(base) = k.strip_suffix("[]") {
            match out
                .entry(base.to_string())
                .or_insert_with(|| Value::Array(vec![]))
            {
                Value::Array(a) => a.push(Value::String(v)),
                other => *other = Value::Array(vec![Value::String(v)]),
            }
        } else {
            out.insert(k, Value::String(v));
        }
    }
    out
}

impl Params {
    /// A non-empty string parameter; numbers are accepted as their text.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A required string, else Rocket.Chat's schema error.
    pub fn required(&self, key: &str) -> Result<&str> {
        match self.0.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::String(_)) | None | Some(Value::Null) => Err(Error::invalid_params(
                format!("must have required property '{key}'"),
            )),
            Some(_) => Err(Error::invalid_params(format!("/{key} must be string"))),
        }
    }

    /// A string that must be a string when present.
    pub fn opt_string(&self, key: &str) -> Result<Option<&str>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::invalid_params(format!("/{key} must be string"))),
        }
    }

    /// A boolean: JSON `true`/`false`, or the strings `"true"`/`"false"` (query strings and forms).
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" || s.is_empty() => Ok(Some(false)),
            Some(_) => Err(Error::invalid_params(format!("/{key} must be boolean"))),
        }
    }

    /// A query-string flag that counts as true only when equal to `"true"`.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.0.get(key), Some(Value::Bool(true)))
            || self.0.get(key).and_then(Value::as_str) == Some("true")
    }

    /// An integer parsed as JavaScript's `parseInt` would.
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.0.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => {
                let s = s.trim();
                let end = s
                    .char_indices()
                    .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
                    .map(|(i, _)| i)
                    .unwrap_or(s.len());
                s[..end].parse().ok()
            }
            _ => None,
        }
    }

    /// `count` (default 50, at most 100; 0 means the default) and `offset`.
    pub fn page(&self) -> Page {
        self.page_with_default(50)
    }

    pub fn page_with_default(&self, default: i64) -> Page {
        let count = match self.int("count") {
            Some(c) if c > 0 => c.min(100),
            _ => default,
        };
        Page {
            offset: self.int("offset").unwrap_or(0).max(0),
            count,
        }
    }

    /// The `sort` parameter, a JSON object string such as `{"name":1}`.
    pub fn sort(&self) -> Result<Option<Map<String, Value>>> {
        match self.0.get("sort") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o.clone())),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(o)) => Ok(Some(o)),
                _ => Err(Error::invalid_params("sort must be a JSON object")),
            },
            Some(_) => Err(Error::invalid_params("sort must be a JSON object")),
        }
    }

    /// A string or array-of-strings parameter as a list.
    pub fn list(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        Error::invalid_params(format!("/{key} must be array of strings"))
                    })
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(Error::invalid_params(format!("/{key} must be array"))),
        }
    }
}

/// An authenticated caller: `X-User-Id` and `X-Auth-Token` matching a live login or personal access token.
pub struct Auth {
    pub user: User,
    pub token: LoginToken,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|s| !s.is_empty())
        };
        let (Some(uid), Some(token)) = (header("x-user-id"), header("x-auth-token")) else {
            return Err(Error::Unauthenticated);
        };
        let (user, token) = state.chat.authenticate(Some(uid), token).await?;
        Ok(Auth { user, token })
    }
}

/// Like [`Auth`], but a missing login is not an error.
pub struct MaybeAuth(pub Option<Auth>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeAuth(Auth::from_request_parts(parts, state).await.ok()))
    }
}

impl Auth {
    /// Fails with the route-level 403 unless the caller holds one of `perms`.
    pub fn require_any(&self, state: &AppState, perms: &[&str]) -> Result<()> {
        if state.chat.perms.has_any(&self.user, perms) {
            Ok(())
        } else {
            Err(Error::RouteForbidden)
        }
    }
}
