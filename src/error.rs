//! The one error type. Domain code returns these; `http::error` maps each variant once to Rocket.Chat's
//! error body and status, and `realtime` maps them to DDP method errors. Internal errors are logged where
//! they are turned into a response and never shown to clients.

use serde_json::Value;

use crate::store::DbError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Missing or invalid `X-User-Id`/`X-Auth-Token`: 401 "You must be logged in to do this."
    #[error("You must be logged in to do this.")]
    Unauthenticated,
    /// Bad credentials on `login`: 401 with `status`/`message` "Unauthorized".
    #[error("Unauthorized")]
    LoginFailed,
    /// A route-level permission is missing: 403 `[error-unauthorized]`.
    #[error("User does not have the permissions required for this action [error-unauthorized]")]
    RouteForbidden,
    /// A handler-level denial: 403 `{"error": text}` (Rocket.Chat's `forbidden()` says "unauthorized").
    #[error("{0}")]
    Forbidden(String),
    /// A `Meteor.Error(code, reason, details)`: 400 with `error: "<reason> [<code>]"` and `errorType: code`.
    #[error("{}", meteor_text(.code, .reason.as_deref()))]
    Meteor {
        code: String,
        reason: Option<String>,
        details: Option<Value>,
    },
    /// `API.v1.failure(text)`: 400 `{"error": text}` with no `errorType`.
    #[error("{0}")]
    Failure(String),
    /// Schema validation: 400 `"<text> [invalid-params]"`, `errorType: invalid-params`.
    #[error("{0} [invalid-params]")]
    InvalidParams(String),
    /// 404 "Resource not found".
    #[error("Resource not found")]
    NotFound,
    /// 413: the body is over the configured limit.
    #[error("Request body is too large")]
    PayloadTooLarge,
    /// 429 with `X-RateLimit-*` headers.
    #[error("Error, too many requests. Please slow down. You must wait {wait_secs} seconds before trying this endpoint again.")]
    TooManyRequests {
        wait_secs: u64,
        limit: u64,
        reset_ms: i64,
    },
    /// 503 (a disabled integration).
    #[error("{0}")]
    Unavailable(String),
    /// A response whose body does not fit the shapes above (e.g. `separateResponse`).
    #[error("custom response")]
    Custom { status: u16, body: Value },
    /// Anything unexpected: 500 "Internal server error"; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

fn meteor_text(code: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{r} [{code}]"),
        None => format!("[{code}]"),
    }
}

impl Error {
    pub fn meteor(code: &str, reason: impl Into<String>) -> Error {
        Error::Meteor {
            code: code.into(),
            reason: Some(reason.into()),
            details: None,
        }
    }

    pub fn meteor_code(code: &str) -> Error {
        Error::Meteor {
            code: code.into(),
            reason: None,
            details: None,
        }
    }

    pub fn meteor_details(code: &str, reason: impl Into<String>, details: Value) -> Error {
        Error::Meteor {
            code: code.into(),
            reason: Some(reason.into()),
            details: Some(details),
        }
    }

    pub fn failure(text: impl Into<String>) -> Error {
        Error::Failure(text.into())
    }

    pub fn invalid_params(text: impl Into<String>) -> Error {
        Error::InvalidParams(text.into())
    }

    pub fn unauthorized() -> Error {
        Error::Forbidden("unauthorized".into())
    }

    pub fn not_allowed() -> Error {
        Error::meteor("error-not-allowed", "Not allowed")
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        Error::Internal(e.to_string())
    }
}
