//! The DDP WebSocket endpoint: the transports (raw DDP on `/websocket`, `/websocket/`, `/sockjs/websocket`;
//! SockJS framing on `/sockjs/<3 digits>/<8 chars>/websocket`, plus `GET /sockjs/info`), the connection
//! lifecycle (the `{"server_id":"0"}` greeting, `connect` negotiation, connection-level errors, `ping`/`pong`,
//! the server heartbeat, closing on shutdown) and the plumbing between a socket and its [`Session`].
//!
//! Each connection is three tasks:
//! * the **reader** (this module's [`connection`]) owns the receiving half of the socket. It answers what
//!   needs no state — parse errors, `connect`, `ping` — at once and out of order, and queues every other
//!   DDP message, in arrival order, for the session;
//! * the **session** ([`super::session`]) processes queued messages strictly one after another (so a `sub`
//!   sent right after `login` sees the logged-in user) and filters hub events against its subscriptions;
//! * the **writer** owns the sending half, applies the SockJS framing and sends the close frame.
//!
//! Frames flow to the writer through one bounded queue; a client that stops reading eventually blocks its
//! session, which then falls behind the hub and is closed, instead of buffering without limit.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::session::Session;
use crate::error::Error;
use crate::http::AppState;

/// The greeting, byte for byte: ddp.js (SDK 0.2.x / hubot) ignores exactly this string and logs anything else.
const SERVER_ID: &str = r#"{"server_id":"0"}"#;

/// DDP versions we speak, most preferred first (Meteor's list).
const VERSIONS: [&str; 3] = ["1", "pre2", "pre1"];

/// Frames waiting for the writer. Generous enough for a burst of events, small enough that a stuck client
/// is noticed.
const OUT_QUEUE: usize = 1024;

/// DDP messages waiting for the session. When full the reader stops reading, which pushes back on the client.
const WORK_QUEUE: usize = 256;

/// How long a closing connection may spend finishing queued methods and flushing frames.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// SockJS keeps proxies from timing out an idle socket with an `h` frame every 25 s (its default).
const SOCKJS_HEARTBEAT: Duration = Duration::from_secs(25);

/// How a transport frames DDP messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One DDP message per text frame.
    Raw,
    /// SockJS: `o` on open, `a["<json>",…]` arrays of JSON-encoded strings, `h` heartbeats, `c[code,reason]`.
    SockJs,
}

/// What the session and reader hand to the writer.
#[derive(Debug)]
pub enum Out {
    /// One DDP message, already serialised.
    Msg(String),
    /// Close the connection with this WebSocket close code and reason.
    Close(u16, &'static str),
}

/// The negotiated DDP version; only `pre1` behaves differently (no server pings, `ping` is a bad request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1,
    Pre2,
    Pre1,
}

impl Version {
    fn parse(s: &str) -> Option<Version> {
        match s {
            "1" => Some(Version::V1),
            "pre2" => Some(Version::Pre2),
            "pre1" => Some(Version::Pre1),
            _ => None,
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/websocket", get(raw))
        .route("/websocket/", get(raw))
        .route("/sockjs/websocket", get(raw))
        .route("/sockjs/info", get(sockjs_info))
        .route("/sockjs/{server}/{session}/websocket", get(sockjs))
}

async fn raw(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    upgrade(state, ws, Framing::Raw)
}

async fn sockjs(
    State(state): State<AppState>,
    Path((server, session)): Path<(String, String)>,
    ws: WebSocketUpgrade,
) -> Response {
    // The client picks both parts (Meteor: 3 digits and 8 random characters); anything else is not ours.
    let server_ok = server.len() == 3 && server.bytes().all(|b| b.is_ascii_digit());
    let session_ok = session.chars().count() == 8 && !session.contains('.');
    if !server_ok || !session_ok {
        return Error::NotFound.into_response();
    }
    upgrade(state, ws, Framing::SockJs)
}

/// `GET /sockjs/info`: what SockJS clients fetch before choosing a transport.
async fn sockjs_info() -> Response {
    let entropy: u32 = rand::thread_rng().gen();
    (
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (
                header::CACHE_CONTROL,
                "no-store, no-cache, no-transform, must-revalidate, max-age=0",
            ),
        ],
        Json(json!({
            "websocket": true,
            "origins": ["*:*"],
            "cookie_needed": false,
            "entropy": entropy,
        })),
    )
        .into_response()
}

fn upgrade(state: AppState, ws: WebSocketUpgrade, framing: Framing) -> Response {
    // Incoming messages get the same ceiling as REST bodies: a DDP method is a request like any other.
    let limit = state.config.body_limit;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| connection(socket, state, framing))
}

/// Why the reader stopped.
enum Exit {
    /// The client closed or the socket failed: nothing more to send.
    Gone,
    /// We close, with this code and reason.
    Close(u16, &'static str),
    /// The writer or the session already ended the connection.
    Ended,
}

/// The reader side of one connection; returns when the connection is over.
async fn connection(socket: WebSocket, state: AppState, framing: Framing) {
    let conn_id = state.chat.hub.next_connection_id();
    // Subscribe to the hub before anything else so that no event published after the client's first
    // message can be missed.
    let events = state.chat.hub.subscribe();
    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel(OUT_QUEUE);
    let mut writer = tokio::spawn(writer(sink, out_rx, framing));
    let (work_tx, work_rx) = mpsc::channel::<Value>(WORK_QUEUE);
    let session = Session::new(state.clone(), conn_id, out_tx.clone());
    let mut session = tokio::spawn(session.run(work_rx, events));
    tracing::debug!(conn_id, ?framing, "ddp connection opened");

    let mut reader = Reader {
        out: out_tx,
        work: work_tx,
        version: None,
    };
    reader.send(SERVER_ID.to_string()).await;

    let ping_after = Duration::from_secs(state.config.realtime.ping_after_secs);
    let close_after = Duration::from_secs(state.config.realtime.close_after_secs);
    // `ping_after_secs = 0` turns the server heartbeat off (clients' own pings are still answered).
    let heartbeat = !ping_after.is_zero();
    let mut shutdown = state.shutdown.clone();
    let mut last_seen = Instant::now();
    // When we pinged an idle client; cleared by anything it sends.
    let mut pinged: Option<Instant> = None;
    let (mut writer_done, mut session_done) = (false, false);

    let exit = loop {
        if *shutdown.borrow() {
            break Exit::Close(1001, "server shutting down");
        }
        // Meteor's heartbeat: after `ping_after` of silence send a ping, after `close_after` more give up.
        // Before `connect` there is no one to ping, so the whole allowance must pass; `pre1` has no heartbeat.
        // (Checked: absurdly large configured intervals mean "never" rather than an overflow panic.)
        let deadline = match (reader.version, pinged) {
            (Some(Version::Pre1), _) => None,
            (_, Some(at)) => at.checked_add(close_after),
            (Some(_), None) => last_seen.checked_add(ping_after),
            (None, None) => last_seen
                .checked_add(ping_after)
                .and_then(|t| t.checked_add(close_after)),
        }
        .filter(|_| heartbeat);
        tokio::select! {
            frame = stream.next() => {
                let Some(Ok(frame)) = frame else { break Exit::Gone };
                last_seen = Instant::now();
                pinged = None;
                match frame {
                    Message::Text(text) => {
                        if let Some(exit) = reader.frame(framing, text.as_str()).await {
                            break exit;
                        }
                    }
                    // DDP is text; Rocket.Chat's own DDP server closes with 1007 on binary frames too.
                    Message::Binary(_) => break Exit::Close(1007, "text frames only"),
                    Message::Close(_) => break Exit::Gone,
                    // Control frames: tungstenite answers pings itself; they still count as signs of life.
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            _ = sleep_until(deadline) => {
                if pinged.is_some() || reader.version.is_none() {
                    break Exit::Close(1000, "heartbeat timeout");
                }
                reader.send(r#"{"msg":"ping"}"#.to_string()).await;
                pinged = Some(Instant::now());
            }
            changed = shutdown.changed() => {
                // A dropped sender means the server is gone: close as on shutdown.
                if changed.is_err() || *shutdown.borrow() {
                    break Exit::Close(1001, "server shutting down");
                }
            }
            _ = &mut writer, if !writer_done => {
                writer_done = true;
                break Exit::Ended;
            }
            _ = &mut session, if !session_done => {
                session_done = true;
                break Exit::Ended;
            }
        }
    };

    // Let the session finish what the client already sent (a `sendMessage` followed by a disconnect must
    // still be saved), then flush and close.
    let Reader { out, work, .. } = reader;
    drop(work);
    if !session_done
        && tokio::time::timeout(DRAIN_TIMEOUT, &mut session)
            .await
            .is_err()
    {
        session.abort();
    }
    match exit {
        Exit::Close(code, reason) => {
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, out.send(Out::Close(code, reason))).await;
        }
        Exit::Gone | Exit::Ended => {}
    }
    drop(out);
    if !writer_done
        && tokio::time::timeout(DRAIN_TIMEOUT, &mut writer)
            .await
            .is_err()
    {
        writer.abort();
    }
    if matches!(exit, Exit::Close(..)) {
        // Give the client a moment to answer our close frame so the closing handshake completes cleanly.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    }
    tracing::debug!(conn_id, "ddp connection closed");
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The reader's state: what it answers itself, and where the rest goes.
struct Reader {
    out: mpsc::Sender<Out>,
    work: mpsc::Sender<Value>,
    version: Option<Version>,
}

impl Reader {
    async fn send(&self, frame: String) {
        // A closed writer means the connection is ending; the main loop notices.
        let _ = self.out.send(Out::Msg(frame)).await;
    }

    async fn error(&self, reason: &str, offending: Option<Value>) {
        let mut m = Map::new();
        m.insert("msg".into(), json!("error"));
        m.insert("reason".into(), json!(reason));
        if let Some(o) = offending {
            m.insert("offendingMessage".into(), o);
        }
        self.send(Value::Object(m).to_string()).await;
    }

    /// Handles one WebSocket text frame (one DDP message, or for SockJS one or more).
    async fn frame(&mut self, framing: Framing, text: &str) -> Option<Exit> {
        match framing {
            Framing::Raw => self.message(text).await,
            Framing::SockJs => {
                if text.trim().is_empty() {
                    return None;
                }
                // Clients send `["<json>",…]` or a bare `"<json>"`; each string is one DDP message.
                match serde_json::from_str::<Value>(text) {
                    Ok(Value::Array(items)) => {
                        for item in items {
                            let exit = match item {
                                Value::String(s) => self.message(&s).await,
                                _ => {
                                    self.error("Parse error", None).await;
                                    None
                                }
                            };
                            if exit.is_some() {
                                return exit;
                            }
                        }
                        None
                    }
                    Ok(Value::String(s)) => self.message(&s).await,
                    _ => {
                        self.error("Parse error", None).await;
                        None
                    }
                }
            }
        }
    }

    /// Handles one DDP message as Meteor's `livedata_server` does before its session queue.
    async fn message(&mut self, text: &str) -> Option<Exit> {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => {
                self.error("Parse error", None).await;
                return None;
            }
        };
        let kind = v
            .get("msg")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let Some(kind) = kind else {
            let offending = v.is_object().then(|| v.clone());
            self.error("Bad request", offending).await;
            return None;
        };
        if kind == "connect" {
            if self.version.is_some() {
                self.error("Already connected", Some(v)).await;
                return None;
            }
            return self.connect(&v).await;
        }
        let Some(version) = self.version else {
            self.error("Must connect first", Some(v)).await;
            return None;
        };
        match kind.as_str() {
            "ping" if version != Version::Pre1 => {
                // Answered at once, ahead of queued methods; the id is echoed only if there was one.
                let mut pong = Map::new();
                pong.insert("msg".into(), json!("pong"));
                if let Some(id) = v.get("id").filter(|id| !id.is_null()) {
                    pong.insert("id".into(), id.clone());
                }
                self.send(Value::Object(pong).to_string()).await;
            }
            // Meteor neither pings nor answers pings under `pre1`.
            "ping" => self.error("Bad request", Some(v)).await,
            // Any frame already reset the heartbeat; a pong needs nothing else (and no matching id).
            "pong" => {}
            _ => {
                if self.work.send(v).await.is_err() {
                    return Some(Exit::Ended);
                }
            }
        }
        None
    }

    /// `connect`: Meteor's negotiation rule over our versions.
    async fn connect(&mut self, v: &Value) -> Option<Exit> {
        let proposed = v.get("version").and_then(Value::as_str);
        let support: Option<Vec<&str>> = v
            .get("support")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_str).collect());
        let (Some(proposed), Some(support)) = (proposed, support) else {
            return self.fail("1").await;
        };
        if !support.contains(&proposed) {
            return self.fail("1").await;
        }
        let picked = support
            .iter()
            .copied()
            .find(|s| VERSIONS.contains(s))
            .unwrap_or("1");
        if picked != proposed {
            return self.fail(picked).await;
        }
        self.version = Version::parse(picked);
        let session = crate::util::random_id(17);
        self.send(json!({ "msg": "connected", "session": session }).to_string())
            .await;
        None
    }

    async fn fail(&self, version: &str) -> Option<Exit> {
        self.send(json!({ "msg": "failed", "version": version }).to_string())
            .await;
        Some(Exit::Close(1000, "unsupported DDP version"))
    }
}

/// The writer side: frames from the queue to the socket until a close is asked for or everyone is gone.
async fn writer(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Out>,
    framing: Framing,
) {
    let sockjs = framing == Framing::SockJs;
    if sockjs && sink.send(Message::Text("o".into())).await.is_err() {
        return;
    }
    let mut heartbeat =
        tokio::time::interval_at(Instant::now() + SOCKJS_HEARTBEAT, SOCKJS_HEARTBEAT);
    loop {
        let out = tokio::select! {
            out = rx.recv() => out,
            _ = heartbeat.tick(), if sockjs => {
                if sink.send(Message::Text("h".into())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        match out {
            Some(Out::Msg(text)) => {
                let frame = match framing {
                    Framing::Raw => text,
                    // `a[...]` of the message serialised once more as a JSON string.
                    Framing::SockJs => format!("a[{}]", Value::String(text)),
                };
                if sink.send(Message::Text(frame.into())).await.is_err() {
                    return;
                }
            }
            Some(Out::Close(code, reason)) => {
                if sockjs {
                    let _ = sink
                        .send(Message::Text(r#"c[3000,"Go away!"]"#.into()))
                        .await;
                }
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    })))
                    .await;
                return;
            }
            None => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
        }
    }
}
