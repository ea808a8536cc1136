//! Realtime: the event hub and the DDP WebSocket endpoint (`/websocket`) that Rocket.Chat bots and SDKs
//! speak.

pub mod hub;

use axum::Router;

use crate::http::AppState;

/// Routes of the realtime endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
}
