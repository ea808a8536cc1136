//! A webhook receiver for `bench/outgoing.py`: it stands in for a bot, answers every POST with 200, and
//! records for each call its arrival time, its `webhook-id` header and the `timestamp` field of its JSON body.
//! `GET /records` returns them as `[[arrival_ms, webhook_id, timestamp], …]`, `GET /count` how many there are.
//!
//! It exists because the benchmark measures Switchboard's delivery rate, and on a 2-core machine whatever the
//! receiver spends is taken from the server; this one used 0.15–0.16 of a core at 8–9k calls/s.
//!
//! Usage: `cargo run --release --example bench_receiver -- 127.0.0.1:PORT`

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};

type Records = Arc<Mutex<Vec<(u64, String, String)>>>;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn receive(State(records): State<Records>, headers: HeaderMap, body: Bytes) -> &'static str {
    let at = now_ms();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ts = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("timestamp")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((at, id, ts));
    ""
}

async fn count(State(records): State<Records>) -> String {
    records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .len()
        .to_string()
}

async fn list(State(records): State<Records>) -> Json<Vec<(u64, String, String)>> {
    Json(records.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let records: Records = Arc::default();
    let app = Router::new()
        .route("/records", get(list))
        .route("/count", get(count))
        .fallback(post(receive))
        .with_state(records);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
