//! Maps [`Error`] to Rocket.Chat's HTTP error bodies and status codes — the one place this happens.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::error::Error;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            Error::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                json!({ "success": false, "status": "error", "message": self.to_string(), "error": self.to_string() }),
            ),
            Error::LoginFailed => (
                StatusCode::UNAUTHORIZED,
                json!({ "status": "error", "error": "Unauthorized", "message": "Unauthorized", "success": false }),
            ),
            Error::RouteForbidden => (
                StatusCode::FORBIDDEN,
                json!({ "success": false, "error": self.to_string(), "errorType": "error-unauthorized" }),
            ),
            Error::Forbidden(text) => (
                StatusCode::FORBIDDEN,
                json!({ "success": false, "error": text }),
            ),
            Error::Meteor { code, details, .. } => {
                let mut body =
                    json!({ "success": false, "error": self.to_string(), "errorType": code });
                if let Some(d) = details {
                    body["details"] = d.clone();
                }
                (StatusCode::BAD_REQUEST, body)
            }
            Error::Failure(text) => (
                StatusCode::BAD_REQUEST,
                json!({ "success": false, "error": text }),
            ),
            Error::InvalidParams(_) => (
                StatusCode::BAD_REQUEST,
                json!({ "success": false, "error": self.to_string(), "errorType": "invalid-params" }),
            ),
            Error::NotFound => (
                StatusCode::NOT_FOUND,
                json!({ "success": false, "error": "Resource not found" }),
            ),
            Error::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "success": false, "error": "Request body is too large", "errorType": "error-payload-too-large" }),
            ),
            Error::TooManyRequests {
                limit, reset_ms, ..
            } => {
                let mut r = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({ "success": false, "error": self.to_string() })),
                )
                    .into_response();
                let h = r.headers_mut();
                h.insert("X-RateLimit-Limit", HeaderValue::from(*limit));
                h.insert("X-RateLimit-Remaining", HeaderValue::from(0));
                h.insert("X-RateLimit-Reset", HeaderValue::from(*reset_ms));
                return r;
            }
            Error::Unavailable(text) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "success": false, "error": text }),
            ),
            Error::Custom { status, body } => (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
                body.clone(),
            ),
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "success": false, "error": "Internal server error" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

/// A success body: the endpoint's keys at the top level plus `"success": true`.
pub fn ok(mut body: Value) -> Json<Value> {
    if let Some(o) = body.as_object_mut() {
        o.insert("success".into(), Value::Bool(true));
    }
    Json(body)
}
