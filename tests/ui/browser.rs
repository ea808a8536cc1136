//! The browser the UI tests drive, whichever it is: headless Chromium over the DevTools protocol
//! (`cdp.rs`) or headless Firefox over WebDriver BiDi (`bidi.rs`). Each protocol client offers the same few
//! primitives (evaluate, navigate, viewport, screenshot, cookies, problems); everything a test calls —
//! waiting for a condition, clicking, filling a field, following a form post — is built once here on top of
//! them, so the same test body runs unchanged in both browsers.
//!
//! [`Browser::start`] finds the browser or decides what its absence means: outside CI the test is skipped
//! with a message; with `CI` set it fails, so CI can never silently skip a browser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use super::bidi::{find_firefox, Bidi};
use super::cdp::{find_chromium, Cdp};

/// Which browser a test runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Chromium,
    Firefox,
}

enum Driver {
    Cdp(Cdp),
    Bidi(Bidi),
}

pub struct Browser {
    driver: Driver,
    pub kind: Kind,
}

impl Browser {
    /// The browser, or `None` (after saying why) when the test must be skipped.
    pub async fn start(kind: Kind) -> Option<Browser> {
        let (found, hint) = match kind {
            Kind::Chromium => (
                find_chromium(),
                "install Debian's `chromium`, or set SB_CHROMIUM",
            ),
            Kind::Firefox => (
                find_firefox(),
                "install Debian's `firefox-esr`, or set SB_FIREFOX",
            ),
        };
        let Some(bin) = found else {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but no {kind:?} was found ({hint})");
            }
            eprintln!("SKIPPED: no {kind:?} found ({hint}); UI test not run in it");
            return None;
        };
        let driver = match kind {
            Kind::Chromium => Driver::Cdp(Cdp::launch(&bin).await),
            Kind::Firefox => Driver::Bidi(Bidi::launch(&bin).await),
        };
        Some(Browser { driver, kind })
    }

    /// Evaluates `js` in the page (awaiting a promise): its JSON value, or why it failed.
    pub async fn eval_raw(&self, js: &str) -> Result<Value, String> {
        match &self.driver {
            Driver::Cdp(d) => d.eval_raw(js).await,
            Driver::Bidi(d) => d.eval_raw(js).await,
        }
    }

    /// Evaluates `js` in the page and returns its JSON value; a thrown exception fails the test with the
    /// script and the error.
    pub async fn eval(&self, js: &str) -> Value {
        match self.eval_raw(js).await {
            Ok(v) => v,
            Err(e) => panic!("script failed in {:?}: {js}\n{e}", self.kind),
        }
    }

    /// Polls `js` until it is truthy, or fails after `secs` seconds with `what`. An evaluation that fails
    /// (the element is not there yet, the document is being replaced) counts as "not yet".
    pub async fn wait_for(&self, js: &str, secs: u64, what: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(v) = self.eval_raw(js).await {
                let truthy = match &v {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::String(s) => !s.is_empty(),
                    Value::Number(n) => n.as_f64() != Some(0.0),
                    _ => true,
                };
                if truthy {
                    return v;
                }
            }
            if tokio::time::Instant::now() > deadline {
                let url = self.eval_raw("location.href").await;
                let body = self
                    .eval_raw("document.body ? document.body.innerText.slice(0, 2000) : ''")
                    .await;
                panic!(
                    "{:?}: timed out waiting for {what} ({js}) at {url:?}\npage text:\n{}",
                    self.kind,
                    body.ok()
                        .and_then(|b| b.as_str().map(str::to_string))
                        .unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens `url` and waits until the page and its deferred scripts have run.
    pub async fn goto(&self, url: &str) {
        self.mark().await;
        match &self.driver {
            Driver::Cdp(d) => d.navigate(url).await,
            Driver::Bidi(d) => d.navigate(url).await,
        }
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

    /// Sets the viewport (phone or laptop width).
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        match &self.driver {
            Driver::Cdp(d) => d.viewport(width, height, mobile).await,
            Driver::Bidi(d) => d.viewport(width, height, mobile).await,
        }
    }

    /// The cookies of `url`'s site, as (name, value).
    pub async fn cookies(&self, url: &str) -> Vec<(String, String)> {
        match &self.driver {
            Driver::Cdp(d) => d.cookies(url).await,
            Driver::Bidi(d) => d.cookies(url).await,
        }
    }

    /// Saves a PNG of the whole page to `tests/artifacts/<name>.png` (Chromium) or
    /// `tests/artifacts/firefox/<name>.png` (Firefox).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = match &self.driver {
            Driver::Cdp(d) => d.screenshot_png().await,
            Driver::Bidi(d) => d.screenshot_png().await,
        };
        let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        if self.kind == Kind::Firefox {
            dir = dir.join("firefox");
        }
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// The page's uncaught exceptions and console errors so far.
    pub fn problems(&self) -> Vec<String> {
        match &self.driver {
            Driver::Cdp(d) => d.problems(),
            Driver::Bidi(d) => d.problems(),
        }
    }

    /// Fails if the page logged errors or threw (CSP violations show up here too).
    pub fn assert_clean(&self, context: &str) {
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "{context} ({:?}): the page reported problems:\n{}",
            self.kind,
            problems.join("\n")
        );
    }
}
