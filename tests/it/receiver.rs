//! `TestReceiver`: a small HTTP server on 127.0.0.1:0 standing in for a bot or CI system that receives
//! outgoing webhooks. It records every request and answers as told — status, body, content type, delay,
//! `Retry-After` — with a queue of one-shot answers in front of the standing one.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One received request.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub struct Received {
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub raw: String,
    pub body: Value,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// An answer the receiver gives.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
    pub delay: Duration,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            body: String::new(),
            content_type: "text/plain",
            delay: Duration::ZERO,
            retry_after: None,
        }
    }
    pub fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            content_type: "application/json",
            delay: Duration::ZERO,
            retry_after: None,
        }
    }
    pub fn text(status: u16, body: &str) -> Answer {
        Answer {
            body: body.into(),
            ..Answer::status(status)
        }
    }
    pub fn delayed(mut self, d: Duration) -> Answer {
        self.delay = d;
        self
    }
    pub fn retry_after(mut self, v: &str) -> Answer {
        self.retry_after = Some(v.into());
        self
    }
}

struct Inner {
    received: Vec<Received>,
    standing: Answer,
    queued: VecDeque<Answer>,
}

#[derive(Clone)]
pub struct TestReceiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw = String::from_utf8_lossy(&body).into_owned();
    let answer = {
        let mut g = inner.lock().unwrap();
        g.received.push(Received {
            path: uri.path().to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        v.to_str().unwrap_or("").to_string(),
                    )
                })
                .collect(),
            body: serde_json::from_str(&raw).unwrap_or(Value::Null),
            raw,
        });
        g.queued.pop_front().unwrap_or_else(|| g.standing.clone())
    };
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let mut r = (
        StatusCode::from_u16(answer.status).unwrap(),
        [("content-type", answer.content_type)],
        answer.body,
    )
        .into_response();
    if let Some(ra) = answer.retry_after {
        r.headers_mut().insert("retry-after", ra.parse().unwrap());
    }
    r
}

impl TestReceiver {
    /// Starts a receiver answering `200` with an empty body.
    pub async fn start() -> TestReceiver {
        let inner = Arc::new(Mutex::new(Inner {
            received: Vec::new(),
            standing: Answer::status(200),
            queued: VecDeque::new(),
        }));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestReceiver {
            url: format!("http://{addr}/hook"),
            inner,
        }
    }

    /// The answer from now on.
    pub fn answer(&self, a: Answer) {
        self.inner.lock().unwrap().standing = a;
    }

    /// One-shot answers given (in order) before the standing one.
    pub fn queue(&self, a: Answer) {
        self.inner.lock().unwrap().queued.push_back(a);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits until at least `n` requests arrived (panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let r = self.received();
            if r.len() >= n {
                return r;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "expected {n} requests within {secs} s, got {}: {:?}",
                r.len(),
                r.iter().map(|r| &r.raw).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
