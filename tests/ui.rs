//! End-to-end tests of the web UI in headless browsers: every test body runs twice, in Chromium (Debian's
//! `chromium`, over the Chrome DevTools Protocol, `ui/cdp.rs`) and in Firefox (Debian's `firefox-esr`, over
//! WebDriver BiDi, `ui/bidi.rs`), through one browser abstraction (`ui/browser.rs`). Each test starts the
//! real server (SQLite: the UI does not depend on the backend, which the API suite already covers twice)
//! and a fresh browser profile, walks through pages as a person would, and saves screenshots of every main
//! page to `tests/artifacts/` (Firefox's to `tests/artifacts/firefox/`).
//!
//! Without a browser its tests are skipped with a message — but only outside CI: with `CI` set a missing
//! browser is a failure, so CI can never silently skip them.

// The API suite's harness, shared rather than copied; its plain reqwest client talks to our own test
// server, not to the outside world the egress guard protects.
#[allow(dead_code, clippy::disallowed_methods)]
#[path = "it/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "it/receiver.rs"]
mod receiver;
mod ui {
    pub mod bidi;
    pub mod browser;
    pub mod cdp;
    pub mod rpc;
}

use harness::{Backend, TestServer, ADMIN_PASSWORD};
use serde_json::json;
use ui::browser::{Browser, Kind};

/// Declares that the test body `$name(b: Browser)` runs in each browser, as the tests
/// `$name::chromium` and `$name::firefox`.
macro_rules! in_each_browser {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn chromium() {
                if let Some(b) = super::Browser::start(super::Kind::Chromium).await {
                    super::$name(b).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn firefox() {
                if let Some(b) = super::Browser::start(super::Kind::Firefox).await {
                    super::$name(b).await;
                }
            }
        }
    )*};
}

in_each_browser!(
    login_chat_live_updates_and_logout,
    integrations_form_test_panel_and_webhook,
    admin_users_and_rooms,
    non_admin_sees_no_admin_pages,
    hostile_webhook_content_is_inert,
    outgoing_form_history_replay_and_delete,
    chat_loads_older_messages,
    page_errors_are_noticed,
);

/// The tests' `assert_clean` can fail: a page's uncaught exception and console error reach the test in
/// each browser, and so does a script blocked by the Content-Security-Policy.
async fn page_errors_are_noticed(b: Browser) {
    let s = TestServer::start(Backend::Sqlite).await;
    b.goto(&s.url("/login")).await;
    assert!(b.problems().is_empty(), "{:?}", b.problems());
    b.eval("(() => { console.error('sb-console-error'); setTimeout(() => { throw new Error('sb-uncaught'); }, 0); const x = document.createElement('script'); x.textContent = 'window.__inline = 1'; document.body.append(x); return true; })()")
        .await;
    // Chromium says "Content Security Policy", Firefox "Content-Security-Policy".
    let problems = || {
        b.problems()
            .join("\n")
            .replace("Content-Security-Policy", "Content Security Policy")
    };
    for (needle, what) in [
        ("sb-console-error", "the console error"),
        ("sb-uncaught", "the uncaught exception"),
        ("Content Security Policy", "the CSP violation"),
    ] {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !problems().contains(needle) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what} was not reported: {}",
                problems()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert_eq!(
        b.eval("window.__inline === undefined").await,
        true,
        "the CSP blocks inline script"
    );
    drop(b);
    s.stop().await;
}

async fn login(b: &Browser, s: &TestServer, user: &str, password: &str) {
    b.goto(&s.url("/login")).await;
    b.fill("#username", user).await;
    b.fill("#password", password).await;
    b.click_and_wait("form[action='/login'] button[type=submit]")
        .await;
}

/// The message an integration would post: alias, emoji, Markdown, and a full attachment.
fn integration_payload(channel: &str) -> serde_json::Value {
    json!({
        "channel": channel,
        "alias": "CI Bot",
        "emoji": ":rocket:",
        "text": "Deploy *finished* on `main` — see https://ci.example.org/run/7",
        "attachments": [{
            "color": "#ff0000",
            "author_name": "Pipeline 7",
            "author_link": "https://ci.example.org/p/7",
            "author_icon": "https://ci.example.org/icon.png",
            "title": "Release 1.2.3",
            "title_link": "https://ci.example.org/r/123",
            "text": "All _green_",
            "fields": [
                {"title": "Branch", "value": "main", "short": true},
                {"title": "Duration", "value": "3m", "short": true},
                {"title": "Changelog", "value": "Many fixes", "short": false}
            ],
            "image_url": "https://ci.example.org/graph.png"
        }, {
            "title": "Full log", "text": "hidden until opened", "collapsed": true
        }]
    })
}

async fn login_chat_live_updates_and_logout(b: Browser) {
    let s = TestServer::start(Backend::Sqlite).await;

    // Not logged in: every page sends the browser to the login form.
    b.goto(&s.url("/room/GENERAL")).await;
    b.wait_for("location.pathname === '/login'", 10, "the login redirect")
        .await;
    b.screenshot("01-login").await;

    // A wrong password is refused with a visible message.
    b.fill("#username", "admin").await;
    b.fill("#password", "wrong").await;
    b.click_and_wait("form[action='/login'] button[type=submit]")
        .await;
    assert!(b
        .text("#login-error")
        .await
        .contains("Wrong username or password"));

    login(&b, &s, "admin", ADMIN_PASSWORD).await;
    b.wait_for("location.pathname === '/room/GENERAL'", 10, "the chat view")
        .await;
    b.wait_for(
        "document.getElementById('live-state').textContent === 'live'",
        15,
        "the realtime WebSocket subscription (not the polling fallback)",
    )
    .await;

    // The composer posts; the message shows up without a reload.
    b.fill("#composer-text", "hello from the *browser*").await;
    b.click("#composer button[type=submit]").await;
    b.wait_for(
        "[...document.querySelectorAll('#messages .msg .text')].some(e => e.innerHTML.includes('<strong>browser</strong>'))",
        15,
        "the composed message",
    )
    .await;

    // An integration-style post through the REST API arrives live, rendered as Rocket.Chat renders it.
    let (st, v) = s
        .post(
            Some(&s.admin),
            "/api/v1/chat.postMessage",
            integration_payload("#general"),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let mid = v["message"]["_id"].as_str().unwrap().to_string();
    let sel = format!("document.getElementById('m-{mid}')");
    b.wait_for(&sel, 15, "the integration message").await;
    let checks = b
        .eval(&format!(
            "(() => {{ const m = {sel}; const att = m.querySelector('.attachment');
               return {{
                 alias: m.querySelector('.author').textContent,
                 emoji: m.querySelector('.emoji-avatar').textContent,
                 bold: m.querySelector('.text strong') && m.querySelector('.text strong').textContent,
                 link: m.querySelector('.text a').getAttribute('href'),
                 bar: getComputedStyle(att).borderLeftColor,
                 author: m.querySelector('.att-author a').getAttribute('href'),
                 title: m.querySelector('.att-title a').textContent,
                 shortFields: m.querySelectorAll('.field.short').length,
                 sideBySide: (() => {{ const f = m.querySelectorAll('.field.short'); return f[0].getBoundingClientRect().top === f[1].getBoundingClientRect().top; }})(),
                 image: m.querySelector('.att-image').getAttribute('src'),
                 collapsedOpen: m.querySelectorAll('details.att-details')[1].open,
                 firstOpen: m.querySelectorAll('details.att-details')[0].open,
               }}; }})()"
        ))
        .await;
    assert_eq!(checks["alias"], "CI Bot");
    assert_eq!(checks["emoji"], "🚀");
    assert_eq!(checks["bold"], "finished");
    assert_eq!(checks["link"], "https://ci.example.org/run/7");
    assert_eq!(checks["bar"], "rgb(255, 0, 0)");
    assert_eq!(checks["author"], "https://ci.example.org/p/7");
    assert_eq!(checks["title"], "Release 1.2.3");
    assert_eq!(checks["shortFields"], 2);
    assert_eq!(checks["sideBySide"], true, "short fields side by side");
    assert_eq!(checks["image"], "https://ci.example.org/graph.png");
    assert_eq!(checks["collapsedOpen"], false);
    assert_eq!(checks["firstOpen"], true);
    b.screenshot("02-chat").await;

    // Phone width: the same page stays usable.
    b.viewport(390, 844, true).await;
    b.goto(&s.url("/room/GENERAL")).await;
    b.screenshot("03-chat-phone").await;
    b.viewport(1280, 900, false).await;
    b.assert_clean("chat view");

    // Logout ends the session for the API too: it was a real session.
    let value = b
        .cookies(&s.base)
        .await
        .into_iter()
        .find(|(name, _)| name == "sb_session")
        .map(|(_, value)| value)
        .expect("session cookie");
    let (uid, token) = value.split_once(':').unwrap();
    let me = s
        .client
        .get(s.url("/api/v1/me"))
        .header("X-User-Id", uid)
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "the UI session works on the REST API");
    b.goto(&s.url("/room/GENERAL")).await;
    b.click_and_wait("form[action='/logout'] button").await;
    b.wait_for(
        "location.pathname === '/login'",
        10,
        "the login page after logout",
    )
    .await;
    let me = s
        .client
        .get(s.url("/api/v1/me"))
        .header("X-User-Id", uid)
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "logout deleted the session");
    drop(b);
    s.stop().await;
}

async fn integrations_form_test_panel_and_webhook(b: Browser) {
    let s = TestServer::start(Backend::Sqlite).await;
    login(&b, &s, "admin", ADMIN_PASSWORD).await;

    b.goto(&s.url("/admin/integrations")).await;
    b.wait_for(
        "!document.querySelector('#integrations-body').textContent.includes('Loading')",
        10,
        "the integrations list",
    )
    .await;
    // Whether this server already has the integrations REST API (it is built on another branch).
    let api = s
        .get(Some(&s.admin), "/api/v1/integrations.list", &[])
        .await
        .0
        == 200;
    b.screenshot("04-integrations-list").await;

    b.goto(&s.url("/admin/integrations/new/incoming")).await;
    for label in [
        "Enabled",
        "Name",
        "Post to Channel",
        "Post as",
        "Alias",
        "Avatar URL",
        "Emoji",
        "Script Enabled",
        "Script",
    ] {
        let js = format!(
            "[...document.querySelectorAll('#integration-form label')].some(l => l.textContent.trim().replace(/\\s*\\*$/, '') === {})",
            json!(label)
        );
        assert_eq!(b.eval(&js).await, true, "field {label} is on the form");
    }

    // Client-side validation puts the error next to the field.
    b.fill("#f-name", "").await;
    b.click("#save").await;
    b.wait_for(
        "!document.getElementById('err-name').hidden",
        5,
        "the name error",
    )
    .await;
    assert_eq!(
        b.eval("document.getElementById('f-name').getAttribute('aria-invalid')")
            .await,
        "true"
    );
    b.fill("#f-channel", "general").await;
    b.click("#save").await;
    b.wait_for(
        "!document.getElementById('err-channel').hidden",
        5,
        "the channel error",
    )
    .await;
    b.screenshot("05-incoming-validation").await;

    // A script with a syntax error: the Test panel reports it and marks its line.
    b.fill("#f-name", "CI").await;
    b.fill("#f-channel", "#general").await;
    b.fill("#f-alias", "CI Bot").await;
    b.fill("#f-emoji", ":rocket:").await;
    b.eval("document.getElementById('f-scriptEnabled').checked = true")
        .await;
    b.fill("#f-script", "class Script {\n  process_incoming_request({ request }) {\n    return { content: { text: 'x' };\n  }\n}")
        .await;
    b.click("#run-test").await;
    b.wait_for(
        "!document.getElementById('test-result').hidden",
        15,
        "the test result",
    )
    .await;
    let status = b.text("#test-status").await;
    assert!(status.contains("does not compile"), "{status}");
    b.wait_for(
        "document.querySelector('#gutter .err-line')",
        5,
        "the error line marker",
    )
    .await;

    // A working script: the preview shows the message as the chat view would, with console output.
    let script = "class Script {\n  process_incoming_request({ request }) {\n    console.log('got', request.content.status);\n    return { content: {\n      text: 'Alert *' + request.content.status + '*',\n      attachments: [{ color: 'danger', title: request.content.commonLabels.alertname, fields: [{title: 'Severity', value: request.content.commonLabels.severity, short: true}] }]\n    } };\n  }\n}";
    b.fill("#f-script", script).await;
    b.fill("#test-sample", "alertmanager").await;
    b.click("#run-test").await;
    b.wait_for(
        "document.querySelector('#test-preview .msg .attachment')",
        15,
        "the rendered preview",
    )
    .await;
    let preview = b
        .eval("(() => { const m = document.querySelector('#test-preview .msg'); return { text: m.querySelector('.text').innerHTML, title: m.querySelector('.att-title').textContent, bot: !!m.querySelector('.badge.bot'), alias: m.querySelector('.author').textContent, bar: getComputedStyle(m.querySelector('.attachment')).borderLeftColor }; })()")
        .await;
    assert_eq!(preview["text"], "Alert <strong>firing</strong>");
    assert_eq!(preview["title"], "HighLatency");
    assert_eq!(preview["bot"], true);
    assert_eq!(preview["alias"], "CI Bot");
    assert_eq!(preview["bar"], "rgb(163, 2, 0)");
    assert!(b.text("#test-logs").await.contains("got firing"));
    b.screenshot("06-incoming-test-panel").await;
    // The test posted nothing.
    let (_, hist) = s
        .get(
            Some(&s.admin),
            "/api/v1/channels.messages",
            &[("roomId", "GENERAL")],
        )
        .await;
    assert!(
        !hist.to_string().contains("HighLatency"),
        "a test run must not post"
    );

    if !api {
        eprintln!("NOTE: integrations REST API not present on this server; the save/webhook part of this test was not run");
        b.assert_clean("integration form");
        drop(b);
        s.stop().await;
        return;
    }
    // Save: the webhook URL and curl examples appear.
    b.click("#save").await;
    b.wait_for(
        "!document.getElementById('webhook-info').hidden",
        15,
        "the webhook URL",
    )
    .await;
    let url = b.eval("document.getElementById('webhook-url').value").await;
    let url = url.as_str().unwrap().to_string();
    assert!(url.contains("/hooks/"), "{url}");
    assert!(b
        .eval("document.getElementById('curl-channel').value")
        .await
        .as_str()
        .unwrap()
        .contains("\"channel\":\"#general\""));
    b.screenshot("07-incoming-saved").await;

    // Post to the hook while the chat view is open: the message appears live.
    b.goto(&s.url("/room/GENERAL")).await;
    let r = s
        .client
        .post(&url)
        .json(&json!({"status": "firing", "commonLabels": {"alertname": "DiskFull", "severity": "page"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    b.wait_for(
        "[...document.querySelectorAll('#messages .att-title')].some(e => e.textContent === 'DiskFull')",
        15,
        "the webhook message in the chat view",
    )
    .await;
    b.screenshot("08-chat-webhook-message").await;

    // History lists the request.
    b.goto(&s.url("/admin/integrations")).await;
    b.wait_for(
        "document.querySelector('#integrations-body a')",
        10,
        "the new integration in the list",
    )
    .await;
    b.click_and_wait("#integrations-body a[href$='/history']")
        .await;
    b.wait_for(
        "!document.querySelector('#history-body').textContent.includes('Loading')",
        10,
        "the history",
    )
    .await;
    assert!(b.text("#history-body").await.contains("200"));
    b.click("#history-body details summary").await;
    assert!(
        b.text("#logs").await.contains("got firing"),
        "script logs in View Logs"
    );
    b.screenshot("09-integration-history").await;

    // Re-run the recorded request through the draft script in the Test panel.
    b.click_and_wait("#history-body details button").await;
    b.wait_for(
        "document.getElementById('test-payload').value.includes('DiskFull')",
        10,
        "the recorded request in the Test panel",
    )
    .await;
    b.wait_for(
        "document.getElementById('f-script').value.includes('process_incoming_request')",
        10,
        "the saved script",
    )
    .await;
    b.click("#run-test").await;
    b.wait_for(
        "[...document.querySelectorAll('#test-preview .att-title')].some(e => e.textContent === 'DiskFull')",
        15,
        "the re-run preview",
    )
    .await;

    // Delete asks first, then the integration is gone.
    b.click("#delete").await;
    b.wait_for(
        "document.getElementById('sb-confirm-yes')",
        5,
        "the delete confirmation",
    )
    .await;
    b.screenshot("10-integration-delete-confirm").await;
    b.click_and_wait("#sb-confirm-yes").await;
    b.wait_for(
        "document.querySelector('#integrations-body').textContent.includes('No integrations yet')",
        10,
        "the empty list",
    )
    .await;

    // A stored compile error is shown inline, at its line.
    let (st, v) = s
        .post(
            Some(&s.admin),
            "/api/v1/integrations.create",
            json!({
                "type": "webhook-incoming", "name": "broken", "enabled": true, "username": "admin",
                "channel": "#general", "scriptEnabled": true,
                "script": "class Script {\n  process_incoming_request() {\n    return {;\n  }\n}",
            }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let id = v["integration"]["_id"].as_str().unwrap();
    b.goto(&s.url(&format!("/admin/integrations/incoming/{id}")))
        .await;
    b.wait_for(
        "!document.getElementById('err-script').hidden",
        10,
        "the stored script error",
    )
    .await;
    assert!(b.text("#err-script").await.contains("line 3"));
    assert_eq!(b.text("#gutter .err-line").await, "3");
    b.eval("document.getElementById('editor').scrollIntoView()")
        .await;
    b.screenshot("10b-incoming-script-error").await;
    b.assert_clean("integration pages");
    drop(b);
    s.stop().await;
}

async fn admin_users_and_rooms(b: Browser) {
    let s = TestServer::start(Backend::Sqlite).await;
    login(&b, &s, "admin", ADMIN_PASSWORD).await;

    b.goto(&s.url("/admin/users")).await;
    // A failed create shows the error next to the field and keeps what was typed.
    b.fill("#nu-username", "dora").await;
    b.fill("#nu-name", "Dora").await;
    b.fill("#nu-email", "").await;
    b.fill("#nu-password", "pw-123456").await;
    b.click_and_wait("#create-user button[type=submit]").await;
    assert!(
        b.text("#err-email").await.contains("Email is required"),
        "{}",
        b.text("body").await
    );
    assert_eq!(
        b.eval("document.getElementById('nu-username').value").await,
        "dora"
    );
    b.fill("#nu-email", "dora@example.org").await;
    b.fill("#nu-password", "pw-123456").await;
    b.click_and_wait("#create-user button[type=submit]").await;
    assert!(b.text(".alert.ok").await.contains("Created user dora"));
    b.screenshot("11-admin-users").await;

    // Roles and deactivation on the user's page.
    let (_, info) = s
        .get(
            Some(&s.admin),
            "/api/v1/users.info",
            &[("username", "dora")],
        )
        .await;
    let dora = info["user"]["_id"].as_str().unwrap().to_string();
    b.goto(&s.url(&format!("/admin/users/{dora}"))).await;
    b.eval("document.querySelector('input[name=roles][value=bot]').checked = true")
        .await;
    b.click_and_wait("#save-roles").await;
    assert!(b.text(".alert.ok").await.contains("Roles saved"));
    let (_, info) = s
        .get(Some(&s.admin), "/api/v1/users.info", &[("userId", &dora)])
        .await;
    assert!(info["user"]["roles"].to_string().contains("bot"));
    // Deactivation asks first.
    b.click("#toggle-active").await;
    b.wait_for(
        "document.getElementById('sb-confirm-yes')",
        5,
        "the confirmation dialog",
    )
    .await;
    b.screenshot("12-admin-user-confirm").await;
    b.click_and_wait("#sb-confirm-yes").await;
    assert!(b.text(".alert.ok").await.contains("Deactivated"));
    assert!(s.try_login("dora", "pw-123456").await.is_none());
    b.screenshot("13-admin-user").await;

    // Rooms and members.
    s.room(&s.admin, "groups", "ops", &[]).await;
    b.goto(&s.url("/admin/rooms")).await;
    assert!(b.text("table.list").await.contains("ops"));
    b.screenshot("14-admin-rooms").await;
    b.click_and_wait("table.list a").await;
    assert!(b.text(".admin-main h2").await.starts_with("Members"));
    b.screenshot("15-admin-room").await;
    b.assert_clean("admin pages");
    drop(b);
    s.stop().await;
}

async fn non_admin_sees_no_admin_pages(b: Browser) {
    let s = TestServer::start(Backend::Sqlite).await;
    s.user("erin").await;
    login(&b, &s, "erin", "pw-123456").await;
    b.wait_for(
        "location.pathname.startsWith('/room/')",
        10,
        "the chat view",
    )
    .await;
    assert_eq!(
        b.eval("!!document.querySelector('a[href=\"/admin\"]')")
            .await,
        false,
        "no Administration link for a plain user"
    );
    b.screenshot("16-chat-non-admin").await;
    for path in [
        "/admin",
        "/admin/integrations",
        "/admin/integrations/new/incoming",
        "/admin/users",
        "/admin/rooms",
    ] {
        let r = s
            .client
            .get(s.url(path))
            .header("cookie", cookie_of(&b, &s).await)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    b.goto(&s.url("/admin/integrations")).await;
    assert!(b.text("body").await.contains("permission"));
    b.screenshot("17-non-admin-forbidden").await;
    drop(b);
    s.stop().await;
}

async fn cookie_of(b: &Browser, s: &TestServer) -> String {
    b.cookies(&s.base)
        .await
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn hostile_webhook_content_is_inert(b: Browser) {
    let s = TestServer::start(Backend::Sqlite).await;
    login(&b, &s, "admin", ADMIN_PASSWORD).await;
    b.goto(&s.url("/room/GENERAL")).await;
    let evil = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"> [click](javascript:window.__pwned=3) <javascript:window.__pwned=4|y> *<b>bold</b>*";
    let (st, v) = s
        .post(
            Some(&s.admin),
            "/api/v1/chat.postMessage",
            json!({
                "channel": "#general",
                "alias": "<img src=x onerror=window.__pwned=5>",
                "avatar": "https://example.org/a.png\" onerror=\"window.__pwned=6",
                "text": evil,
                "attachments": [{
                    "color": "#f00\" onmouseover=\"window.__pwned=7",
                    "title": "<svg onload=window.__pwned=8>",
                    "title_link": "https://example.org/\"><script>window.__pwned=9</script>",
                    "author_name": "</div><script>window.__pwned=10</script>",
                    "text": "<iframe src=javascript:window.__pwned=11></iframe>",
                    "fields": [{"title": "<b>f</b>", "value": "<style>body{display:none}</style>", "short": true}],
                    "image_url": "https://example.org/i.png?a=\"><script>window.__pwned=12</script>"
                }]
            }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let mid = v["message"]["_id"].as_str().unwrap().to_string();
    b.wait_for(
        &format!("document.getElementById('m-{mid}')"),
        15,
        "the hostile message",
    )
    .await;
    // Also on a fresh load (server-rendered rather than inserted live).
    b.goto(&s.url("/room/GENERAL")).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let r = b
        .eval(&format!(
            "(() => {{ const m = document.getElementById('m-{mid}');
               return {{
                 pwned: window.__pwned || 0,
                 scripts: m.querySelectorAll('script, iframe, svg, style, b').length,
                 handlers: [...m.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                 jsLinks: [...m.querySelectorAll('a')].filter(a => !/^(https?:|mailto:)/.test(a.getAttribute('href'))).length,
                 text: m.innerText,
               }}; }})()"
        ))
        .await;
    assert_eq!(r["pwned"], 0, "{r}");
    assert_eq!(r["scripts"], 0, "{r}");
    assert_eq!(r["handlers"], 0, "{r}");
    assert_eq!(r["jsLinks"], 0, "{r}");
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("<script>window.__pwned=1</script>"),
        "shown as text: {r}"
    );
    b.screenshot("18-hostile-content").await;
    drop(b);
    s.stop().await;
}

/// The §4.2 fields of an outgoing integration, as the form labels them.
const OUTGOING_FIELDS: &[&str] = &[
    "Enabled",
    "Event trigger",
    "Name",
    "Channel",
    "Trigger words",
    "Target room",
    "URLs",
    "Impersonate user",
    "Post as",
    "Alias",
    "Avatar URL",
    "Emoji",
    "Token",
    "Trigger words anywhere",
    "Run on edits",
    "Retry failed calls",
    "Retry count",
    "Retry delay",
    "Script Enabled",
    "Script",
];

async fn outgoing_form_history_replay_and_delete(b: Browser) {
    // The receiver listens on 127.0.0.1, which the egress guard refuses unless private networks are
    // allowed; a short poll interval keeps the worker prompt.
    let receiver = receiver::TestReceiver::start().await;
    receiver.answer(receiver::Answer::json(200, json!({ "received": true })));
    let s = TestServer::start_with(
        Backend::Sqlite,
        &[
            ("egress.allow_private_networks", "true"),
            ("outgoing.poll_ms", "50"),
        ],
    )
    .await;
    login(&b, &s, "admin", ADMIN_PASSWORD).await;

    b.goto(&s.url("/admin/integrations/new/outgoing")).await;
    for label in OUTGOING_FIELDS {
        let js = format!(
            "[...document.querySelectorAll('#integration-form label')].some(l => l.textContent.trim().replace(/\\s*\\*$/, '') === {})",
            json!(label)
        );
        assert_eq!(b.eval(&js).await, true, "field {label} is on the form");
    }
    // Every field has its help text.
    assert_eq!(
        b.eval("[...document.querySelectorAll('#integration-form .field-row[data-field]')].every(r => r.querySelector('.help') && r.querySelector('.help').textContent.trim().length > 10)")
            .await,
        true,
        "every field has help"
    );
    // The channel's scope keywords are explained where the channel is entered.
    let help = b.text("#help-channel").await;
    for kw in [
        "all_public_channels",
        "all_private_groups",
        "all_direct_messages",
        "#channel",
        "@username",
    ] {
        assert!(help.contains(kw), "channel help names {kw}: {help}");
    }
    // Fields follow the event: User created has no channel or trigger words, and needs a target room.
    b.eval("(() => { const e = document.getElementById('f-event'); e.value = 'userCreated'; e.dispatchEvent(new Event('change')); })()").await;
    assert_eq!(
        b.eval("[document.querySelector('[data-field=channel]').hidden, document.querySelector('[data-field=triggerWords]').hidden, !!document.querySelector('label[for=f-targetRoom] .req')]").await,
        json!([true, true, true])
    );
    b.eval("(() => { const e = document.getElementById('f-event'); e.value = 'sendMessage'; e.dispatchEvent(new Event('change')); })()").await;
    assert_eq!(
        b.eval("document.querySelector('[data-field=triggerWords]').hidden")
            .await,
        false
    );

    // A missing URL is reported next to the URLs field, before anything is sent.
    b.fill("#f-name", "Deploy bot").await;
    b.fill("#f-channel", "#general").await;
    b.fill("#f-urls", "").await;
    b.click("#save").await;
    b.wait_for(
        "!document.getElementById('err-urls').hidden",
        5,
        "the URLs error",
    )
    .await;
    assert_eq!(
        b.eval("document.getElementById('f-urls').getAttribute('aria-invalid')")
            .await,
        "true"
    );
    assert!(b.text("#err-urls").await.contains("at least one URL"));
    assert!(
        b.eval("document.getElementById('err-channel').hidden")
            .await
            .as_bool()
            .unwrap(),
        "only the wrong field is marked"
    );
    b.screenshot("19-outgoing-validation").await;

    // The server's own validation lands next to its field too: a channel that does not exist.
    b.fill("#f-urls", &receiver.url).await;
    b.fill("#f-channel", "#no-such-room").await;
    b.click("#save").await;
    b.wait_for(
        "!document.getElementById('err-channel').hidden",
        10,
        "the server's channel error",
    )
    .await;
    let err = b.text("#err-channel").await;
    assert!(err.contains("error-invalid-room"), "{err}");
    assert!(
        b.eval("document.getElementById('form-error').hidden")
            .await
            .as_bool()
            .unwrap(),
        "the error is at the field, not in the page banner"
    );
    let (_, list) = s
        .get(Some(&s.admin), "/api/v1/integrations.list", &[])
        .await;
    assert_eq!(list["total"], 0, "nothing saved: {list}");

    // A valid integration: trigger word, message defaults, retries.
    b.fill("#f-channel", "#general").await;
    b.fill("#f-triggerWords", "!deploy").await;
    b.fill("#f-alias", "Deploy Bot").await;
    b.fill("#f-emoji", ":rocket:").await;
    b.eval("document.getElementById('f-retryFailedCalls').checked = true")
        .await;
    b.fill("#f-retryCount", "2").await;
    b.fill("#f-retryDelay", "powers-of-two").await;
    // A script that logs, so the history shows script output.
    b.eval("document.getElementById('f-scriptEnabled').checked = true")
        .await;
    b.fill(
        "#f-script",
        "class Script {\n  prepare_outgoing_request({ request }) {\n    console.log('preparing', request.data.text);\n    return request;\n  }\n}",
    )
    .await;
    b.click("#save").await;
    b.wait_for(
        "location.search.includes('saved=1') && document.getElementById('f-triggerWords').value === '!deploy'",
        15,
        "the saved integration's edit page",
    )
    .await;
    assert!(b
        .eval("document.getElementById('webhook-secret').value")
        .await
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    b.screenshot("20-outgoing-saved").await;
    let (_, list) = s
        .get(Some(&s.admin), "/api/v1/integrations.list", &[])
        .await;
    let saved = &list["integrations"][0];
    assert_eq!(saved["type"], "webhook-outgoing", "{list}");
    assert_eq!(saved["event"], "sendMessage");
    assert_eq!(saved["urls"], json!([receiver.url]));
    assert_eq!(saved["triggerWords"], json!(["!deploy"]));
    assert_eq!(saved["channel"], json!(["#general"]));
    assert_eq!(saved["alias"], "Deploy Bot");
    assert_eq!(saved["retryFailedCalls"], true);
    assert_eq!(saved["retryCount"], 2);
    assert_eq!(saved["retryDelay"], "powers-of-two");
    let id = saved["_id"].as_str().unwrap().to_string();

    // Only the message with the trigger word is delivered.
    s.say(&s.admin, "#general", "no trigger here").await;
    s.say(&s.admin, "#general", "!deploy production").await;
    let got = receiver.wait_for(1, 20).await;
    assert_eq!(
        got[0].body["text"], "!deploy production",
        "{:?}",
        got[0].raw
    );
    assert_eq!(got[0].body["trigger_word"], "!deploy");
    let webhook_id = got[0].header("webhook-id").to_string();
    assert!(!webhook_id.is_empty());

    // The delivery is in the history table; its details show what was sent and received.
    b.click_and_wait("a[href$='/history']").await;
    b.wait_for(
        "document.querySelectorAll('#history-body tr.history-record').length === 1",
        15,
        "the delivery in the history",
    )
    .await;
    let row = b
        .eval("(() => { const r = document.querySelector('#history-body tr.history-record'); return { webhookId: r.dataset.webhookId, result: r.querySelector('.badge.result').textContent, text: r.innerText }; })()")
        .await;
    assert_eq!(row["webhookId"], webhook_id.as_str(), "{row}");
    assert_eq!(row["result"], "ok 200", "{row}");
    assert!(
        row["text"].as_str().unwrap().contains(&receiver.url),
        "{row}"
    );
    assert_eq!(
        b.eval("document.querySelector('#history-body details.record').open")
            .await,
        false,
        "entries start collapsed"
    );
    b.click("#history-body details.record summary").await;
    let details = b
        .eval("(() => { const d = document.querySelector('#history-body details.record'); return { open: d.open, titles: [...d.querySelectorAll('h3')].map(h => h.textContent), text: d.innerText }; })()")
        .await;
    assert_eq!(details["open"], true);
    for t in [
        "Overview",
        "Steps",
        "Request",
        "Request headers",
        "Request body",
        "Response headers",
        "Response body",
    ] {
        assert!(
            details["titles"].as_array().unwrap().iter().any(|x| x == t),
            "section {t}: {details}"
        );
    }
    let text = details["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("webhook-id: {webhook_id}")),
        "{text}"
    );
    assert!(text.contains("webhook-signature: v1,"), "{text}");
    assert!(
        text.contains("\"received\": true"),
        "the response body: {text}"
    );
    assert!(text.contains("\"trigger_word\": \"!deploy\""), "{text}");
    assert!(
        text.contains("pre-http-call") && text.contains("after-http-call"),
        "{text}"
    );
    assert!(
        text.contains("Script logs") && text.contains("preparing !deploy production"),
        "{text}"
    );
    assert!(b
        .text("#logs")
        .await
        .contains("preparing !deploy production"));
    b.screenshot("21-outgoing-history").await;

    // Replay: the receiver gets the same call again, with the same webhook-id, and the new attempt
    // appears in the table.
    b.click("#history-body details.record button.replay").await;
    let got = receiver.wait_for(2, 20).await;
    assert_eq!(got[1].header("webhook-id"), webhook_id);
    assert_eq!(got[1].body["text"], "!deploy production");
    b.wait_for(
        "document.querySelectorAll('#history-body tr.history-record').length === 2",
        20,
        "the replayed attempt in the history",
    )
    .await;
    assert_eq!(
        b.eval("[...document.querySelectorAll('#history-body tr.history-record')].map(r => r.dataset.webhookId)")
            .await,
        json!([webhook_id, webhook_id])
    );
    assert!(b.text("#history-status").await.contains("Replayed"));
    b.screenshot("22-outgoing-replayed").await;
    assert_eq!(receiver.received().len(), 2, "exactly one more call");

    // Delete asks first: cancelling keeps the integration, confirming removes it.
    b.goto(&s.url(&format!("/admin/integrations/outgoing/{id}")))
        .await;
    b.wait_for(
        "document.getElementById('f-name').value === 'Deploy bot'",
        10,
        "the edit form",
    )
    .await;
    // Editing: the form holds the saved values, and a change is saved.
    let loaded = b
        .eval("['event', 'urls', 'channel', 'alias', 'emoji', 'retryCount', 'retryDelay'].map(k => document.getElementById('f-' + k).value).concat([document.getElementById('f-retryFailedCalls').checked, document.getElementById('f-token').value.length > 0])")
        .await;
    assert_eq!(
        loaded,
        json!([
            "sendMessage",
            receiver.url,
            "#general",
            "Deploy Bot",
            ":rocket:",
            "2",
            "powers-of-two",
            true,
            true
        ])
    );
    b.fill("#f-alias", "Release Bot").await;
    b.fill("#f-triggerWords", "!deploy, !release").await;
    b.click("#save").await;
    b.wait_for(
        "!document.getElementById('form-ok').hidden",
        10,
        "the saved edit",
    )
    .await;
    let (_, got) = s
        .get(
            Some(&s.admin),
            "/api/v1/integrations.get",
            &[("integrationId", &id)],
        )
        .await;
    assert_eq!(got["integration"]["alias"], "Release Bot", "{got}");
    assert_eq!(
        got["integration"]["triggerWords"],
        json!(["!deploy", "!release"])
    );
    b.click("#delete").await;
    b.wait_for(
        "document.getElementById('sb-confirm-yes')",
        5,
        "the delete confirmation",
    )
    .await;
    b.screenshot("23-outgoing-delete-confirm").await;
    b.click("dialog[open] button:not(.danger)").await;
    b.wait_for(
        "!document.getElementById('sb-confirm-yes')",
        5,
        "the dialog to close",
    )
    .await;
    let (st, _) = s
        .get(
            Some(&s.admin),
            "/api/v1/integrations.get",
            &[("integrationId", &id)],
        )
        .await;
    assert_eq!(st, 200, "cancel keeps the integration");
    b.click("#delete").await;
    b.wait_for(
        "document.getElementById('sb-confirm-yes')",
        5,
        "the delete confirmation",
    )
    .await;
    b.click_and_wait("#sb-confirm-yes").await;
    b.wait_for(
        "document.querySelector('#integrations-body').textContent.includes('No integrations yet')",
        10,
        "the empty list",
    )
    .await;
    let (_, list) = s
        .get(Some(&s.admin), "/api/v1/integrations.list", &[])
        .await;
    assert_eq!(list["total"], 0, "{list}");
    b.assert_clean("outgoing integration pages");
    drop(b);
    s.stop().await;
}

/// The ids and texts of the messages the chat view shows, top to bottom.
async fn shown_messages(b: &Browser) -> Vec<(String, String)> {
    let v = b
        .eval("[...document.querySelectorAll('#messages li.msg')].map(li => [li.id.slice(2), (li.querySelector('.text') || {textContent: ''}).textContent.trim()])")
        .await;
    serde_json::from_value(v).unwrap()
}

async fn chat_loads_older_messages(b: Browser) {
    let s = TestServer::start(Backend::Sqlite).await;
    // More than the 100 the page shows plus two pages of 50, posted 20 at a time so that several share a
    // millisecond (the group commit) — the case where paging on timestamps alone would skip or repeat.
    let total = 180;
    for chunk in (0..total).collect::<Vec<_>>().chunks(20) {
        let texts: Vec<String> = chunk.iter().map(|i| format!("old-{i:03}")).collect();
        let posts = texts.iter().map(|t| s.say(&s.admin, "#general", t));
        futures_util::future::join_all(posts).await;
    }
    login(&b, &s, "admin", ADMIN_PASSWORD).await;
    b.goto(&s.url("/room/GENERAL")).await;
    b.wait_for(
        "document.getElementById('live-state').textContent === 'live'",
        15,
        "the realtime subscription",
    )
    .await;
    let first = shown_messages(&b).await;
    assert_eq!(first.len(), 100, "one page at first");
    assert!(b.eval("!!document.getElementById('load-older')").await == true);

    // A live message arrives while paging.
    s.say(&s.admin, "#general", "live-1").await;
    b.wait_for(
        "[...document.querySelectorAll('#messages .text')].some(e => e.textContent.trim() === 'live-1')",
        15,
        "the live message",
    )
    .await;
    b.click("#load-older").await;
    b.wait_for(
        "document.querySelectorAll('#messages li.msg').length === 151",
        15,
        "the first older page",
    )
    .await;
    // The page of older messages goes above, the reader's place stays.
    let after_one = shown_messages(&b).await;
    assert_eq!(after_one[50..150], first[..], "the older page is above");
    assert_eq!(after_one[150].1, "live-1", "the live message stays last");
    s.say(&s.admin, "#general", "live-2").await;
    b.wait_for(
        "[...document.querySelectorAll('#messages .text')].some(e => e.textContent.trim() === 'live-2')",
        15,
        "the second live message",
    )
    .await;
    b.click("#load-older").await;
    b.wait_for(
        "document.getElementById('history-start')",
        15,
        "the start of the room",
    )
    .await;
    assert!(
        b.eval("!document.getElementById('load-older')").await == true,
        "nothing more to load"
    );
    b.screenshot("24-chat-older-messages").await;

    // Everything is there once, in the server's order (time, then insertion for equal times).
    let shown = shown_messages(&b).await;
    let mut expected: Vec<String> = Vec::new();
    loop {
        let offset = expected.len().to_string();
        let (st, hist) = s
            .get(
                Some(&s.admin),
                "/api/v1/channels.history",
                &[("roomId", "GENERAL"), ("count", "100"), ("offset", &offset)],
            )
            .await;
        assert_eq!(st, 200, "{hist}");
        let page = hist["messages"].as_array().unwrap();
        expected.extend(page.iter().map(|m| m["_id"].as_str().unwrap().to_string()));
        if page.is_empty() {
            break;
        }
    }
    expected.reverse();
    let ids: Vec<String> = shown.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, expected, "order and completeness");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no duplicates");
    let texts: Vec<&str> = shown
        .iter()
        .map(|(_, t)| t.as_str())
        .filter(|t| t.starts_with("old-") || t.starts_with("live-"))
        .collect();
    assert_eq!(texts.len(), total + 2);
    assert_eq!(&texts[total..], &["live-1", "live-2"]);
    b.assert_clean("chat paging");
    drop(b);
    s.stop().await;
}
