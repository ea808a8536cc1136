//! Realtime: the event hub and the DDP WebSocket endpoint (`/websocket`, SockJS under `/sockjs`) that
//! Rocket.Chat bots, SDKs and Meteor clients speak.
//!
//! [`hub`] carries domain events to connections; [`ddp`] owns the transports and the connection lifecycle;
//! `session` one connection's login, subscriptions and methods; `ejson` and `errors` the DDP value and error
//! encodings.

pub mod ddp;
mod ejson;
mod errors;
pub mod hub;
mod session;

use axum::Router;

use crate::http::AppState;

/// Routes of the realtime endpoints.
pub fn router() -> Router<AppState> {
    ddp::routes()
}
