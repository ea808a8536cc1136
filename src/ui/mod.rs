//! The web UI: server-rendered HTML pages served by the binary itself. Templates (`templates/`) and the
//! static CSS/JS (`src/ui/static/`) are compiled in, so there is no build step and nothing to deploy next to
//! the binary. Pages call the same domain functions as the REST API; the small page scripts add live
//! updates (the DDP WebSocket) and conveniences, and everything essential also works as plain forms.
//!
//! One module per page area, each ending in `router()`: [`login`], [`chat`], [`admin`] (users and rooms),
//! [`integrations`]. [`session`] holds the cookie session and CSRF checks, [`render`] the message renderer.
//!
//! Every UI response carries a strict Content-Security-Policy (scripts and styles only from this origin, no
//! inline code), so even a rendering mistake could not run injected script.

pub mod admin;
pub mod chat;
pub mod integrations;
pub mod login;
pub mod render;
pub mod session;

use std::sync::Arc;

use axum::extract::{Path, Query, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use minijinja::Environment;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::http::AppState;
pub use session::Session;

/// The templates, each compiled into the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("chat.html", include_str!("../../templates/chat.html")),
    (
        "admin_users.html",
        include_str!("../../templates/admin_users.html"),
    ),
    (
        "admin_user.html",
        include_str!("../../templates/admin_user.html"),
    ),
    (
        "admin_rooms.html",
        include_str!("../../templates/admin_rooms.html"),
    ),
    (
        "admin_room.html",
        include_str!("../../templates/admin_room.html"),
    ),
    (
        "integrations.html",
        include_str!("../../templates/integrations.html"),
    ),
    (
        "integration_form.html",
        include_str!("../../templates/integration_form.html"),
    ),
    ("macros.html", include_str!("../../templates/macros.html")),
];

/// Static assets: (name, content type, bytes).
const STATIC: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("static/app.js"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_str!("static/chat.js"),
    ),
    (
        "integrations.js",
        "text/javascript; charset=utf-8",
        include_str!("static/integrations.js"),
    ),
];

/// The compiled templates and the version stamp of the static assets. Built once in [`router`] and shared
/// with handlers as an extension, so there is no global.
pub struct Ui {
    env: Environment<'static>,
    /// A hash of all static assets, appended to their URLs: browsers may cache them forever, and a new
    /// binary with changed assets gets new URLs.
    pub asset_version: String,
}

impl Ui {
    pub fn new() -> Ui {
        let mut env = Environment::new();
        // Auto-escaping for every template (they are all HTML), whatever its name.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("template {name} does not compile: {e:#}"));
        }
        let all: String = STATIC.iter().map(|(_, _, body)| *body).collect();
        let asset_version = crate::util::sha256_hex(&all)[..12].to_string();
        Ui { env, asset_version }
    }

    /// Renders a page template with `ctx`.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<Html<String>, UiError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| UiError::Domain(Error::Internal(format!("template {name}: {e:#}"))))?;
        tmpl.render(ctx)
            .map(Html)
            .map_err(|e| UiError::Domain(Error::Internal(format!("template {name}: {e:#}"))))
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui::new()
    }
}

/// Pre-rendered, already escaped HTML handed to a template (messages from [`render`]).
pub fn safe_html(html: String) -> minijinja::Value {
    minijinja::Value::from_safe_string(html)
}

/// What a UI handler fails with: a redirect (to the login page), or an error page.
#[derive(Debug)]
pub enum UiError {
    Redirect(String),
    Page(StatusCode, String),
    Domain(Error),
}

impl From<Error> for UiError {
    fn from(e: Error) -> Self {
        UiError::Domain(e)
    }
}

pub type UiResult<T = Response> = Result<T, UiError>;

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            UiError::Redirect(to) => return Redirect::to(&to).into_response(),
            UiError::Page(status, text) => (status, text),
            UiError::Domain(e) => {
                let status = match &e {
                    Error::Unauthenticated | Error::LoginFailed => StatusCode::UNAUTHORIZED,
                    Error::RouteForbidden | Error::Forbidden(_) => StatusCode::FORBIDDEN,
                    Error::NotFound => StatusCode::NOT_FOUND,
                    Error::Internal(cause) => {
                        tracing::error!(%cause, "internal error in the web UI");
                        StatusCode::INTERNAL_SERVER_ERROR
                    }
                    _ => StatusCode::BAD_REQUEST,
                };
                let text = match &e {
                    Error::Internal(_) => "Internal server error".to_string(),
                    Error::RouteForbidden | Error::Forbidden(_) => {
                        "You do not have permission to see this page.".to_string()
                    }
                    Error::NotFound => "This page does not exist, or you may not see it.".into(),
                    e => e.to_string(),
                };
                (status, text)
            }
        };
        // A fixed page: an error must render even when templates cannot.
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} · Switchboard</title><link rel=\"stylesheet\" href=\"/ui/static/app.css\"></head><body class=\"error-page\"><main class=\"card narrow\"><h1>{}</h1><p>{}</p><p><a href=\"/\">Back to the chat</a></p></main></body></html>",
            status.as_u16(),
            render::escape(status.canonical_reason().unwrap_or("Error")),
            render::escape(&text)
        );
        (status, Html(body)).into_response()
    }
}

/// Data every page's layout needs: who is logged in, what they may open, the CSRF token, asset version.
#[derive(Serialize)]
pub struct Base {
    pub title: String,
    pub nav: &'static str,
    pub username: String,
    pub name: String,
    pub user_id: String,
    pub csrf: String,
    pub v: String,
    pub can_users: bool,
    pub can_rooms: bool,
    pub can_integrations: bool,
}

impl Base {
    pub fn new(state: &AppState, ui: &Ui, s: &Session, title: &str, nav: &'static str) -> Base {
        let perms = &state.chat.perms;
        Base {
            title: title.to_string(),
            nav,
            username: s.user.username.clone(),
            name: s.user.name.clone(),
            user_id: s.user.id.clone(),
            csrf: s.csrf.clone(),
            v: ui.asset_version.clone(),
            can_users: perms.has(&s.user, "view-user-administration"),
            can_rooms: perms.has(&s.user, "view-room-administration"),
            can_integrations: integrations::can_manage_any(state, &s.user),
        }
    }

    pub fn can_admin(&self) -> bool {
        self.can_users || self.can_rooms || self.can_integrations
    }
}

/// GET /ui/static/{name} — embedded assets; versioned URLs are cached for a year.
async fn asset(Path(name): Path<String>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let Some((_, ctype, body)) = STATIC.iter().find(|(n, _, _)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = if q.iter().any(|(k, _)| k == "v") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        [
            (header::CONTENT_TYPE, *ctype),
            (header::CACHE_CONTROL, cache),
        ],
        *body,
    )
        .into_response()
}

/// Adds the security headers to every UI response: a CSP allowing scripts, styles and sockets only from
/// this origin (images and media may come from anywhere over http(s), as integration posts link them),
/// and no framing, sniffing or referrer leaks.
async fn security_headers(headers: HeaderMap, req: Request, next: Next) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("")
        .to_string();
    let mut resp = next.run(req).await;
    let sockets = if host.is_empty() {
        String::new()
    } else {
        format!(" ws://{host} wss://{host}")
    };
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; \
         media-src 'self' https: http:; connect-src 'self'{sockets}; font-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show private data: never keep them in shared caches or the back-forward history of
        // another user of the same browser after logout.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A JSON answer for the page scripts.
pub fn json(v: Value) -> Response {
    axum::Json(v).into_response()
}

/// Every UI route.
pub fn router() -> Router<AppState> {
    let ui = Arc::new(Ui::new());
    Router::new()
        .merge(login::router())
        .merge(chat::router())
        .merge(admin::router())
        .merge(integrations::router())
        .route("/ui/static/{name}", get(asset))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(Extension(ui))
}
