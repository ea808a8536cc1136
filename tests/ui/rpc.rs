//! The JSON-over-WebSocket plumbing both browser clients share. The Chrome DevTools Protocol and WebDriver
//! BiDi alike number each command with an `id`, answer with the same `id`, and push events without one:
//! answers go to whoever waits on that id, events to the client's own filter, which turns the ones that
//! mean "the page did not run cleanly" into problem lines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A browser process and the scratch directory it was given; dropped, the process is killed and the
/// directory removed.
pub struct Process {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Process {
    pub fn new(child: std::process::Child, dir: std::path::PathBuf) -> Process {
        Process { child, dir }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A browser's helper processes outlive it by a moment and may still write to its profile, so the
        // directory is removed until it stays gone.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let _ = std::fs::remove_dir_all(&self.dir);
            std::thread::sleep(std::time::Duration::from_millis(100));
            if !self.dir.exists() || std::time::Instant::now() > deadline {
                break;
            }
        }
    }
}

pub struct Rpc {
    out: mpsc::UnboundedSender<String>,
    pending: Pending,
    next: Mutex<u64>,
    /// What `on_event` reported, in order.
    problems: Arc<Mutex<Vec<String>>>,
    /// Names the protocol in panic messages.
    what: &'static str,
}

impl Rpc {
    /// The problem lines `on_event` reported so far, in order.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().clone()
    }

    /// Connects to `url`; `on_event` sees every event and returns a problem line for those that are one.
    pub async fn connect(
        url: &str,
        what: &'static str,
        on_event: impl Fn(&Value) -> Option<String> + Send + 'static,
    ) -> Rpc {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect to the {what} endpoint {url}: {e}"));
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let problems: Arc<Mutex<Vec<String>>> = Arc::default();
        let (p2, pr2) = (pending.clone(), problems.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = v["id"].as_u64() {
                    if let Some(tx) = p2.lock().unwrap().remove(&id) {
                        let _ = tx.send(v);
                    }
                    continue;
                }
                if let Some(problem) = on_event(&v) {
                    pr2.lock().unwrap().push(problem);
                }
            }
        });
        Rpc {
            out,
            pending,
            next: Mutex::new(0),
            problems,
            what,
        }
    }

    /// Sends `{id, method, params}` plus `extra`'s fields and returns the whole answer (30 s at most).
    pub async fn send(&self, method: &str, params: Value, extra: Option<(&str, Value)>) -> Value {
        let id = {
            let mut n = self.next.lock().unwrap();
            *n += 1;
            *n
        };
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some((k, v)) = extra {
            msg[k] = v;
        }
        let what = self.what;
        self.out
            .send(msg.to_string())
            .unwrap_or_else(|_| panic!("{what} connection closed"));
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| panic!("{what} command {method} timed out"))
            .unwrap_or_else(|_| panic!("{what} answer to {method}"))
    }
}
