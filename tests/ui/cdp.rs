//! A small Chrome DevTools Protocol client: starts headless Chromium with a fresh profile, attaches to one
//! page over the browser WebSocket (flattened sessions), and offers the primitives the UI tests' browser
//! abstraction (`browser.rs`) builds on — navigate, evaluate JavaScript, set the viewport, take a
//! screenshot, read cookies — plus the page's uncaught exceptions and console errors, so a test can assert
//! the page ran cleanly (a CSP violation or a script error is a failure, not noise).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::rpc::{Process, Rpc};
use base64::Engine;
use serde_json::{json, Value};

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

pub struct Cdp {
    /// Kept for its drop: the browser goes when its client does.
    _process: Process,
    rpc: Rpc,
    session: String,
}

impl Cdp {
    /// The page's uncaught errors and console errors so far, in order.
    pub fn problems(&self) -> Vec<String> {
        self.rpc.problems()
    }

    /// Starts Chromium headless and opens one page at 1280×900.
    pub async fn launch(binary: &Path) -> Cdp {
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
            // With `--disable-dev-shm-usage` its shared memory goes to a temporary directory: keep that inside
            // the profile, which is removed with the browser, instead of leaving one in /tmp per run.
            .env("TMPDIR", &profile)
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
        let rpc = Rpc::connect(&ws_url, "DevTools", |v| match v["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                Some(format!("exception: {}", v["params"]["exceptionDetails"]))
            }
            Some("Log.entryAdded") if v["params"]["entry"]["level"] == "error" => {
                let e = &v["params"]["entry"];
                let text = e["text"].as_str().unwrap_or("");
                // Failed loads of deliberately bogus test URLs are not page errors, nor is the
                // realtime socket being absent (the page falls back to polling).
                (!text.contains("Failed to load resource")
                    && !text.starts_with("WebSocket connection to"))
                .then(|| format!("console: {text} ({})", e["url"]))
            }
            Some("Runtime.consoleAPICalled") if v["params"]["type"] == "error" => {
                Some(format!("console.error: {}", v["params"]["args"]))
            }
            _ => None,
        })
        .await;
        let mut b = Cdp {
            _process: Process::new(child, profile),
            rpc,
            session: String::new(),
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
        self.try_send(session, method, params)
            .await
            .unwrap_or_else(|e| panic!("DevTools {method} failed: {e}"))
    }

    /// A command whose protocol error is returned rather than fatal: an evaluation can race a navigation
    /// ("Inspected target navigated or closed"), which the waiting helpers treat as "not yet".
    async fn try_send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let v = self
            .rpc
            .send(method, params, session.map(|s| ("sessionId", json!(s))))
            .await;
        match v.get("error") {
            Some(e) => Err(e.to_string()),
            None => Ok(v["result"].clone()),
        }
    }

    async fn browser_call(&self, method: &str, params: Value) -> Value {
        self.send(None, method, params).await
    }

    /// A command on the page's session.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        self.send(Some(&self.session), method, params).await
    }

    /// Evaluates `js` in the page (awaiting a promise): its JSON value, or the exception it threw (or the
    /// protocol error, when the page went away under the evaluation).
    pub async fn eval_raw(&self, js: &str) -> Result<Value, String> {
        let r = self
            .try_send(
                Some(&self.session),
                "Runtime.evaluate",
                json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
            )
            .await?;
        match r.get("exceptionDetails") {
            Some(ex) => Err(ex.to_string()),
            None => Ok(r["result"]["value"].clone()),
        }
    }

    /// Starts loading `url` in the page (the caller waits for the new document).
    pub async fn navigate(&self, url: &str) {
        self.call("Page.navigate", json!({ "url": url })).await;
    }

    /// Emulates a viewport (phone or laptop width).
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        )
        .await;
    }

    /// A PNG of the whole page (up to 6000 px tall).
    pub async fn screenshot_png(&self) -> Vec<u8> {
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
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }

    /// The cookies the browser would send to `url`, as (name, value).
    pub async fn cookies(&self, url: &str) -> Vec<(String, String)> {
        let c = self
            .call("Network.getCookies", json!({ "urls": [url] }))
            .await;
        c["cookies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or("").to_string(),
                    c["value"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}
