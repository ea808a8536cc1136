//! DDP error objects: the serialised `Meteor.Error` carried by a method `result` or a `nosub`, and the one
//! mapping from the crate's [`Error`] to it (the DDP counterpart of `http::error`). Internal errors are
//! logged here and reach the client only as 500 "Internal server error".

use serde_json::{json, Map, Value};

use crate::error::Error;

/// The `error` field: a string for Rocket.Chat errors (`error-invalid-room`), a number for Meteor core ones
/// (`404`, `400`, `403`, `500`). Clients accept both, but the type matters to those that compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    Text(String),
    Number(u16),
}

/// A `Meteor.Error` as DDP sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct DdpError {
    pub code: Code,
    pub reason: Option<String>,
    /// Boxed: errors travel in `Result`s everywhere and should stay small.
    pub details: Option<Box<Value>>,
}

impl DdpError {
    pub fn new(code: &str, reason: impl Into<String>) -> DdpError {
        DdpError {
            code: Code::Text(code.to_string()),
            reason: Some(reason.into()),
            details: None,
        }
    }

    /// A Meteor core error with a numeric code.
    pub fn numeric(code: u16, reason: impl Into<String>) -> DdpError {
        DdpError {
            code: Code::Number(code),
            reason: Some(reason.into()),
            details: None,
        }
    }

    /// A code without a reason (`[not-allowed]`), as Rocket.Chat's streamer sends for refused subscriptions.
    pub fn bare(code: &str) -> DdpError {
        DdpError {
            code: Code::Text(code.to_string()),
            reason: None,
            details: None,
        }
    }

    /// Meteor's `check()` failure.
    pub fn match_failed() -> DdpError {
        DdpError::numeric(400, "Match failed")
    }

    pub fn invalid_user() -> DdpError {
        DdpError::new("error-invalid-user", "Invalid user")
    }

    pub fn not_allowed() -> DdpError {
        DdpError::new("error-not-allowed", "Not allowed")
    }

    pub fn with_details(mut self, details: Value) -> DdpError {
        self.details = Some(Box::new(details));
        self
    }

    /// The wire object, keys in Meteor's order: `isClientSafe, error, reason, details, message, errorType`.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("isClientSafe".into(), Value::Bool(true));
        let code = match &self.code {
            Code::Text(s) => {
                o.insert("error".into(), json!(s));
                s.clone()
            }
            Code::Number(n) => {
                o.insert("error".into(), json!(n));
                n.to_string()
            }
        };
        if let Some(r) = &self.reason {
            o.insert("reason".into(), json!(r));
        }
        if let Some(d) = &self.details {
            o.insert("details".into(), (**d).clone());
        }
        let message = match &self.reason {
            Some(r) => format!("{r} [{code}]"),
            None => format!("[{code}]"),
        };
        o.insert("message".into(), json!(message));
        o.insert("errorType".into(), json!("Meteor.Error"));
        Value::Object(o)
    }
}

/// Human texts for the bare codes domain code returns as REST `failure("error-…")`, so DDP clients get a
/// `reason` as Rocket.Chat's methods would give them.
fn reason_for_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "error-not-allowed" => "Not allowed",
        "error-invalid-room" => "Invalid room",
        "error-invalid-user" => "Invalid user",
        "error-room-archived" => "Room is archived",
        "error-message-size-exceeded" => "Message size exceeds the allowed maximum",
        "invalid-channel" => "Invalid channel",
        _ => return None,
    })
}

fn looks_like_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl From<Error> for DdpError {
    fn from(e: Error) -> DdpError {
        match e {
            Error::Meteor {
                code,
                reason,
                details,
            } => DdpError {
                code: Code::Text(code),
                reason,
                details: details.map(Box::new),
            },
            Error::Unauthenticated => DdpError::invalid_user(),
            Error::LoginFailed => DdpError::numeric(403, "Incorrect password"),
            Error::RouteForbidden | Error::Forbidden(_) => DdpError::not_allowed(),
            Error::Failure(text) if looks_like_code(&text) => match reason_for_code(&text) {
                Some(r) => DdpError::new(&text, r),
                None => DdpError::bare(&text),
            },
            // A sentence (e.g. "You can't send messages because the room is readonly."): Meteor core's 400
            // keeps the text readable.
            Error::Failure(text) => DdpError::numeric(400, text),
            Error::InvalidParams(text) => DdpError::new("invalid-params", text),
            Error::NotFound => DdpError::numeric(404, "Not found"),
            Error::PayloadTooLarge => DdpError::numeric(413, "Payload too large"),
            Error::TooManyRequests {
                wait_secs,
                reset_ms,
                ..
            } => DdpError::new(
                "too-many-requests",
                format!(
                    "Error, too many requests. Please slow down. You must wait {wait_secs} seconds before trying again."
                ),
            )
            .with_details(json!({ "timeToReset": (reset_ms - crate::util::now_ms()).max(0) })),
            Error::Unavailable(text) => DdpError::numeric(503, text),
            Error::Custom { .. } => DdpError::numeric(400, "Bad request"),
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error in a DDP method");
                DdpError::numeric(500, "Internal server error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let e: DdpError = Error::meteor("error-invalid-room", "Invalid room").into();
        assert_eq!(
            serde_json::to_string(&e.to_json()).unwrap(),
            r#"{"isClientSafe":true,"error":"error-invalid-room","reason":"Invalid room","message":"Invalid room [error-invalid-room]","errorType":"Meteor.Error"}"#
        );
        let e: DdpError = Error::Internal("db password is hunter2".into()).into();
        let text = e.to_json().to_string();
        assert!(!text.contains("hunter2"));
        assert_eq!(e.to_json()["error"], json!(500));
        assert_eq!(
            DdpError::bare("not-allowed").to_json()["message"],
            json!("[not-allowed]")
        );
        let e: DdpError = Error::failure("error-not-allowed").into();
        assert_eq!(e.to_json()["reason"], json!("Not allowed"));
    }
}
