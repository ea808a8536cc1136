//! `GET/POST /login` and `POST /logout`: the same credentials check and session tokens as
//! `POST /api/v1/login` and `/api/v1/logout`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use serde_json::json;

use super::session::{clear_cookie, read_cookie, same_origin, set_cookie};
use super::{Session, Ui, UiError, UiResult};
use crate::chat::users::LoginName;
use crate::error::Error;
use crate::http::AppState;
use crate::util::sha256_hex;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only a local path is a valid place to return to after login (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

fn page(ui: &Ui, next: &str, username: &str, error: Option<&str>, status: StatusCode) -> UiResult {
    let html = ui.render(
        "login.html",
        json!({ "next": safe_next(next), "username": username, "error": error, "v": ui.asset_version }),
    )?;
    Ok((status, html).into_response())
}

/// GET /login — the login form; a logged-in browser goes straight on.
async fn login_form(
    State(state): State<AppState>,
    Extension(ui): Extension<Arc<Ui>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> UiResult {
    if let Some((uid, token)) = read_cookie(&headers) {
        if state.chat.authenticate(Some(&uid), &token).await.is_ok() {
            return Ok(Redirect::to(safe_next(&q.next)).into_response());
        }
    }
    page(&ui, &q.next, "", None, StatusCode::OK)
}

/// POST /login — checks the password and sets the session cookie.
async fn login(
    State(state): State<AppState>,
    Extension(ui): Extension<Arc<Ui>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> UiResult {
    // No session exists yet to bind a CSRF token to; the origin check stops cross-site login forcing.
    if !same_origin(&headers) {
        return Err(UiError::Page(
            StatusCode::FORBIDDEN,
            "Cross-site login refused.".into(),
        ));
    }
    let username = f.username.trim();
    if username.is_empty() || f.password.is_empty() {
        return page(
            &ui,
            &f.next,
            username,
            Some("Enter your username or email and your password."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let who = if username.contains('@') {
        LoginName::Email(username.to_string())
    } else {
        LoginName::Username(username.to_string())
    };
    match state
        .chat
        .login_with_digest(&who, &sha256_hex(&f.password))
        .await
    {
        Ok((user, token)) => {
            let secure = state.chat.settings.site_url.starts_with("https:");
            let max_age = state.chat.settings.login_expiration_ms / 1000;
            let cookie = set_cookie(&user.id, &token, secure, max_age);
            Ok((
                [(header::SET_COOKIE, cookie)],
                Redirect::to(safe_next(&f.next)),
            )
                .into_response())
        }
        Err(Error::LoginFailed) => page(
            &ui,
            &f.next,
            username,
            Some("Wrong username or password."),
            StatusCode::UNAUTHORIZED,
        ),
        Err(Error::Meteor { .. }) => page(
            &ui,
            &f.next,
            username,
            Some("This account is deactivated."),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// POST /logout — ends this session (the token is deleted, as with `/api/v1/logout`).
async fn logout(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    s.check_csrf(&headers, Some(&f.csrf))?;
    state.chat.logout(&s.token).await?;
    Ok((
        [(header::SET_COOKIE, clear_cookie())],
        Redirect::to("/login"),
    )
        .into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}
