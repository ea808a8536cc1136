//! A small Chrome DevTools Protocol client: starts headless Chromium with a fresh profile, attaches to one
//! page over the browser WebSocket (flattened sessions), and offers what the UI tests need — navigate,
//! evaluate JavaScript, wait for a condition, set the viewport, take screenshots — plus the page's
//! uncaught exceptions and console errors, so a test can assert the page ran cleanly (a CSP violation
//! or a script error is a failure, not noise).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// The Chromium binary to use: `SB_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("SB_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

pub struct Browser {
    child: Child,
    profile: PathBuf,
    out: mpsc::UnboundedSender<String>,
    pending: Pending,
    next: Mutex<u64>,
    session: String,
    /// Uncaught exceptions and console errors of the page, in order.
    pub problems: Arc<Mutex<Vec<String>>>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    /// Starts Chromium headless and opens one page at 1280×900.
    pub async fn launch(binary: &Path) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "sb-chromium-{}-{}",
            std::process::id(),
            switchboard::util::random_id(8)
        ));
        std::fs::create_dir_all(&profile).unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--mute-audio",
                "--window-size=1280,900",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        // Chromium prints the browser endpoint on stderr once it listens.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(i) = line.find("ws://") {
                        let _ = tx.send(line[i..].trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let ws_url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium did not print its DevTools endpoint within 30 s");
        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("connect to Chromium DevTools");
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
                match v["method"].as_str() {
                    Some("Runtime.exceptionThrown") => pr2
                        .lock()
                        .unwrap()
                        .push(format!("exception: {}", v["params"]["exceptionDetails"])),
                    Some("Log.entryAdded") if v["params"]["entry"]["level"] == "error" => {
                        let e = &v["params"]["entry"];
                        let text = e["text"].as_str().unwrap_or("").to_string();
                        // Failed image loads from deliberately bogus test URLs are not page errors.
                        // Failed loads of deliberately bogus test URLs are not page errors, nor is the
                        // realtime socket being absent (the page falls back to polling).
                        if !text.contains("Failed to load resource")
                            && !text.starts_with("WebSocket connection to")
                        {
                            pr2.lock()
                                .unwrap()
                                .push(format!("console: {text} ({})", e["url"]));
                        }
                    }
                    Some("Runtime.consoleAPICalled") if v["params"]["type"] == "error" => pr2
                        .lock()
                        .unwrap()
                        .push(format!("console.error: {}", v["params"]["args"])),
                    _ => {}
                }
            }
        });
        let mut b = Browser {
            child,
            profile,
            out,
            pending,
            next: Mutex::new(0),
            session: String::new(),
            problems,
        };
        let target = b
            .browser_call("Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let attached = b
            .browser_call(
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            b.call(domain, json!({})).await;
        }
        b
    }

    async fn send(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = {
            let mut n = self.next.lock().unwrap();
            *n += 1;
            *n
        };
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.out.send(msg.to_string()).expect("DevTools connection");
        let v = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| panic!("DevTools call {method} timed out"))
            .expect("DevTools answer");
        if let Some(e) = v.get("error") {
            panic!("DevTools {method} failed: {e}");
        }
        v["result"].clone()
    }

    async fn browser_call(&self, method: &str, params: Value) -> Value {
        self.send(None, method, params).await
    }

    /// A command on the page's session.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.send(Some(&s), method, params).await
    }

    /// Evaluates `js` in the page (awaiting a promise) and returns its JSON value; a thrown exception
    /// fails the test with the script and the error.
    pub async fn eval(&self, js: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("script failed: {js}\n{ex}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `js` until it is truthy, or fails after `secs` seconds with `what`.
    pub async fn wait_for(&self, js: &str, secs: u64, what: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let r = self
                .call(
                    "Runtime.evaluate",
                    json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
                )
                .await;
            let v = r["result"]["value"].clone();
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy && r.get("exceptionDetails").is_none() {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let url = self.eval("location.href").await;
                let body = self
                    .eval("document.body ? document.body.innerText.slice(0, 2000) : ''")
                    .await;
                panic!("timed out waiting for {what} ({js}) at {url}\npage text:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens `url` and waits until the page and its deferred scripts have run.
    pub async fn goto(&self, url: &str) {
        self.mark().await;
        self.call("Page.navigate", json!({ "url": url })).await;
        self.wait_new_page(url).await;
    }

    /// Marks the current document, so that a new one can be told apart from it.
    async fn mark(&self) {
        self.eval("window.__sbOld = true").await;
    }

    /// Waits until a new document (not the marked one) has finished loading.
    async fn wait_new_page(&self, what: &str) {
        self.wait_for(
            "!window.__sbOld && document.readyState === 'complete'",
            20,
            &format!("the page after {what}"),
        )
        .await;
    }

    /// Clicks the element matching `selector`, then waits for the page that follows (form posts, links).
    pub async fn click_and_wait(&self, selector: &str) {
        self.mark().await;
        self.click(selector).await;
        self.wait_new_page(&format!("clicking {selector}")).await;
    }

    pub async fn click(&self, selector: &str) {
        let js = format!(
            "(() => {{ const e = document.querySelector({s}); if (!e) throw new Error('no element ' + {s}); e.click(); return true; }})()",
            s = json!(selector)
        );
        self.eval(&js).await;
    }

    /// Sets a form control's value as typing would (input and change events fire).
    pub async fn fill(&self, selector: &str, value: &str) {
        let js = format!(
            "(() => {{ const e = document.querySelector({s}); if (!e) throw new Error('no element ' + {s}); e.focus(); e.value = {v}; e.dispatchEvent(new Event('input', {{bubbles: true}})); e.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
            s = json!(selector),
            v = json!(value)
        );
        self.eval(&js).await;
    }

    /// The text of the first element matching `selector` (empty if none).
    pub async fn text(&self, selector: &str) -> String {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.innerText : ''; }})()",
            json!(selector)
        );
        self.eval(&js).await.as_str().unwrap_or("").to_string()
    }

    /// Emulates a viewport (phone or laptop width).
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        )
        .await;
    }

    /// Saves a PNG of the whole page to `tests/artifacts/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let metrics = self.call("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let vw = metrics["cssLayoutViewport"]["clientWidth"]
            .as_f64()
            .unwrap_or(1280.0);
        let vh = metrics["cssLayoutViewport"]["clientHeight"]
            .as_f64()
            .unwrap_or(900.0);
        let w = size["width"].as_f64().unwrap_or(vw).max(vw);
        let h = size["height"].as_f64().unwrap_or(vh).clamp(vh, 6000.0);
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({
                    "format": "png", "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": w, "height": h, "scale": 1 },
                }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Fails if the page logged errors or threw (CSP violations show up here too).
    pub fn assert_clean(&self, context: &str) {
        let p = self.problems.lock().unwrap();
        assert!(
            p.is_empty(),
            "{context}: the page reported problems:\n{}",
            p.join("\n")
        );
    }
}
