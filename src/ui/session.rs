//! The browser session: an HttpOnly, SameSite=Lax cookie holding the user id and a login token issued by
//! the same [`Chat::issue_session`](crate::chat::Chat) path as `POST /api/v1/login`, so a UI session is a
//! real session (it shows up, expires and is revoked like any other) and logout deletes it.
//!
//! Form posts are protected twice: SameSite=Lax keeps the cookie off cross-site POSTs, and every form
//! carries a token derived from the session secret (checked with [`Session::check_csrf`]); requests with a
//! foreign `Origin` are refused outright.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Extension;

use super::{Ui, UiError};
use crate::http::AppState;
use crate::model::{LoginToken, User};
use crate::util::{secure_eq, sha256_hex};

pub const COOKIE: &str = "sb_session";

/// A logged-in browser.
pub struct Session {
    pub user: User,
    pub token: LoginToken,
    /// The raw login token: the page scripts need it for the DDP `resume` login and REST calls.
    pub secret: String,
    /// The anti-CSRF token for this session's forms.
    pub csrf: String,
    pub ui: Arc<Ui>,
}

/// The CSRF token of a session: a hash of its secret, so nothing extra is stored and it dies with the
/// session.
pub fn csrf_for(secret: &str) -> String {
    sha256_hex(&format!("switchboard-csrf:{secret}"))[..32].to_string()
}

/// The `Set-Cookie` value that stores a session. `Secure` when the site is served over https.
pub fn set_cookie(uid: &str, token: &str, secure: bool, max_age_secs: i64) -> String {
    format!(
        "{COOKIE}={uid}:{token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The session cookie's (user id, token), if present.
pub fn read_cookie(headers: &HeaderMap) -> Option<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .and_then(|(_, v)| v.split_once(':'))
        .filter(|(u, t)| !u.is_empty() && !t.is_empty())
        .map(|(u, t)| (u.to_string(), t.to_string()))
}

/// Whether a state-changing request comes from our own pages: an `Origin` (or, failing that, `Referer`)
/// header naming another host is refused. Browsers always send one of them on cross-site posts.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|h| h.to_str().ok());
    match source {
        None => true,
        Some("null") => false,
        Some(s) => url::Url::parse(s).is_ok_and(|u| {
            let authority = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => return false,
            };
            authority.eq_ignore_ascii_case(host)
        }),
    }
}

impl Session {
    /// Refuses a form post without this session's CSRF token or from another origin.
    pub fn check_csrf(&self, headers: &HeaderMap, form_token: Option<&str>) -> Result<(), UiError> {
        let token =
            form_token.or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()));
        if same_origin(headers) && token.is_some_and(|t| secure_eq(t, &self.csrf)) {
            Ok(())
        } else {
            Err(UiError::Page(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this site. Reload the page and try again."
                    .into(),
            ))
        }
    }
}

/// Where to send a browser that is not logged in: the login page, coming back here afterwards.
fn login_redirect(parts: &Parts) -> UiError {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if path == "/" {
        return UiError::Redirect("/login".into());
    }
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    UiError::Redirect(format!("/login?next={next}"))
}

impl FromRequestParts<AppState> for Session {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        let Extension(ui) = Extension::<Arc<Ui>>::from_request_parts(parts, state)
            .await
            .map_err(|e| UiError::Page(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let Some((uid, secret)) = read_cookie(&parts.headers) else {
            return Err(login_redirect(parts));
        };
        match state.chat.authenticate(Some(&uid), &secret).await {
            Ok((user, token)) => Ok(Session {
                user,
                token,
                csrf: csrf_for(&secret),
                secret,
                ui,
            }),
            Err(_) => Err(login_redirect(parts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_round_trip() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; sb_session=U1:tok-en_x; c=d"),
        );
        assert_eq!(read_cookie(&h), Some(("U1".into(), "tok-en_x".into())));
        assert!(
            set_cookie("U1", "t", true, 10).contains("HttpOnly; SameSite=Lax; Max-Age=10; Secure")
        );
    }

    #[test]
    fn origin_check() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("chat.example.org:3000"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://chat.example.org:3000"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }
}
