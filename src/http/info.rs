//! `GET /api/info`: the server version clients gate features on.

use axum::routing::get;
use axum::{extract::State, Json, Router};
use serde_json::{json, Value};

use super::{error::ok, AppState, MaybeAuth};

/// The Rocket.Chat version we answer as; clients compare against it to enable features.
pub const RC_VERSION: &str = "7.0.0";

/// GET /api/info — `major.minor` for everyone; the full version and build info for `view-statistics`.
async fn info(State(state): State<AppState>, MaybeAuth(auth): MaybeAuth) -> Json<Value> {
    let privileged = auth
        .as_ref()
        .is_some_and(|a| state.chat.perms.has(&a.user, "view-statistics"));
    if privileged {
        ok(json!({
            "version": RC_VERSION,
            "info": {
                "version": RC_VERSION,
                "switchboard": env!("CARGO_PKG_VERSION"),
                "build": { "arch": std::env::consts::ARCH, "platform": std::env::consts::OS },
            },
        }))
    } else {
        ok(json!({ "version": RC_VERSION.rsplit_once('.').map(|(v, _)| v).unwrap_or(RC_VERSION) }))
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/info", get(info))
}
