//! A small WebDriver BiDi client for Firefox (Debian's `firefox-esr`), the counterpart of `cdp.rs`: it
//! starts headless Firefox with a fresh profile and `--remote-debugging-port=0`, reads the BiDi endpoint
//! Firefox prints, opens a session on `ws://…/session`, and offers the same primitives — navigate, evaluate
//! JavaScript, set the viewport, take a screenshot, read cookies — plus the page's JavaScript errors and
//! console errors (`log.entryAdded`). No geckodriver is needed: Firefox speaks BiDi itself.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::rpc::{Process, Rpc};
use base64::Engine;
use serde_json::{json, Value};

/// The Firefox binary to use: `SB_FIREFOX`, else the first of the usual names on `PATH`.
pub fn find_firefox() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("SB_FIREFOX") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["firefox-esr", "firefox"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Preferences of the throw-away profile. Firefox's remote agent already applies its recommended
/// automation preferences; these add what keeps a test browser quiet and self-contained: no first-run
/// pages, no update, telemetry, experiment or remote-settings traffic (this machine has no outside network,
/// and a test must not depend on it), and no prompts.
const USER_JS: &str = r#"
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("app.update.disabledForTesting", true);
user_pref("app.normandy.enabled", false);
user_pref("messaging-system.rsexperimentloader.enabled", false);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.newtabpage.enabled", false);
user_pref("dom.push.connection.enabled", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.http.speculative-parallel-limit", 0);
"#;

pub struct Bidi {
    /// Kept for its drop: the browser goes when its client does.
    _process: Process,
    rpc: Rpc,
    context: String,
}

impl Bidi {
    /// The page's uncaught errors and console errors so far, in order.
    pub fn problems(&self) -> Vec<String> {
        self.rpc.problems()
    }

    /// Starts Firefox headless at 1280×900 and opens a BiDi session on its first tab.
    pub async fn launch(binary: &std::path::Path) -> Bidi {
        let dir = std::env::temp_dir().join(format!(
            "sb-firefox-{}-{}",
            std::process::id(),
            switchboard::util::random_id(8)
        ));
        let profile = dir.join("profile");
        std::fs::create_dir_all(&profile).unwrap();
        std::fs::write(profile.join("user.js"), USER_JS).unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-remote",
                "--width=1280",
                "--height=900",
                "--remote-debugging-port=0",
                "--profile",
            ])
            .arg(&profile)
            .arg("about:blank")
            // Firefox keeps caches and its crash reporter state under HOME: a private one per browser.
            .env("HOME", &dir)
            .env("MOZ_CRASHREPORTER_DISABLE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        // Firefox prints "WebDriver BiDi listening on ws://127.0.0.1:PORT" on stderr once it listens.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && line.contains("WebDriver BiDi listening on") {
                    if let Some(i) = line.find("ws://") {
                        let _ = tx.send(line[i..].trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let endpoint = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("Firefox did not print its WebDriver BiDi endpoint within 60 s");
        let url = format!("{}/session", endpoint.trim_end_matches('/'));
        let rpc = Rpc::connect(&url, "BiDi", |v| {
            if v["method"] != "log.entryAdded" || v["params"]["level"] != "error" {
                return None;
            }
            let p = &v["params"];
            let text = p["text"].as_str().unwrap_or("");
            // As in cdp.rs: loads of deliberately bogus test URLs, and the realtime socket being absent (the
            // page falls back to polling), are not page errors.
            (!text.contains("Failed to load resource")
                && !text.contains("can't establish a connection to the server at ws"))
            .then(|| format!("{}: {text}", p["type"].as_str().unwrap_or("log")))
        })
        .await;
        let mut b = Bidi {
            _process: Process::new(child, dir),
            rpc,
            context: String::new(),
        };
        b.call("session.new", json!({ "capabilities": {} })).await;
        let tree = b.call("browsingContext.getTree", json!({})).await;
        b.context = tree["contexts"][0]["context"]
            .as_str()
            .expect("a browsing context")
            .to_string();
        b.call("session.subscribe", json!({ "events": ["log.entryAdded"] }))
            .await;
        b.viewport(1280, 900, false).await;
        b
    }

    /// One BiDi command; its `result`, or the error it answered.
    async fn try_call(&self, method: &str, params: Value) -> Result<Value, String> {
        let v = self.rpc.send(method, params, None).await;
        if v["type"] == "error" {
            return Err(format!("{}: {}", v["error"], v["message"]));
        }
        Ok(v["result"].clone())
    }

    /// One BiDi command; an error answer fails the test.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        match self.try_call(method, params).await {
            Ok(v) => v,
            Err(e) => panic!("BiDi {method} failed: {e}"),
        }
    }

    /// Evaluates `js` in the page (awaiting a promise): its JSON value, or why it failed. BiDi answers
    /// with its own typed serialisation; the page turns the value into JSON text itself instead, so both
    /// clients return the same JSON as CDP's `returnByValue` (a DOM node becomes `{}`, `undefined` null).
    /// A failure can also mean the document went away mid-navigation, which a waiting caller retries.
    pub async fn eval_raw(&self, js: &str) -> Result<Value, String> {
        let wrapped = format!(
            "(async () => {{ const v = await ({js}\n); return v === undefined ? 'null' : JSON.stringify(v); }})()"
        );
        let r = self
            .try_call(
                "script.evaluate",
                json!({
                    "expression": wrapped, "target": { "context": self.context },
                    "awaitPromise": true, "resultOwnership": "none",
                }),
            )
            .await?;
        if r["type"] == "exception" {
            return Err(r["exceptionDetails"].to_string());
        }
        let text = r["result"]["value"].as_str().unwrap_or("null");
        Ok(serde_json::from_str(text).unwrap_or(Value::Null))
    }

    /// Starts loading `url` (the caller waits for the new document).
    pub async fn navigate(&self, url: &str) {
        self.call(
            "browsingContext.navigate",
            json!({ "context": self.context, "url": url, "wait": "none" }),
        )
        .await;
    }

    /// Sets the viewport. Firefox has no mobile emulation over BiDi; a narrow viewport is what the
    /// page's layout reacts to.
    pub async fn viewport(&self, width: u32, height: u32, _mobile: bool) {
        self.call(
            "browsingContext.setViewport",
            json!({ "context": self.context, "viewport": { "width": width, "height": height } }),
        )
        .await;
    }

    /// A PNG of the whole document.
    pub async fn screenshot_png(&self) -> Vec<u8> {
        let shot = self
            .call(
                "browsingContext.captureScreenshot",
                json!({ "context": self.context, "origin": "document" }),
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }

    /// The cookies of the page's storage partition, as (name, value). BiDi selects cookies by partition
    /// (the browsing context), not by URL; the tests only ever visit the one server.
    pub async fn cookies(&self, _url: &str) -> Vec<(String, String)> {
        let r = self
            .call(
                "storage.getCookies",
                json!({ "partition": { "type": "context", "context": self.context } }),
            )
            .await;
        r["cookies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or("").to_string(),
                    c["value"]["value"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}
