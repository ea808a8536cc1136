//! End-to-end tests of the web UI in headless Chromium (Debian's `chromium` package), driven over the
//! Chrome DevTools Protocol (`ui/cdp.rs`). Each test starts the real server (SQLite: the UI does not
//! depend on the backend, which the API suite already covers twice) and a fresh browser profile, walks
//! through pages as a person would, and saves screenshots of every main page to `tests/artifacts/`.
//!
//! Without Chromium the tests are skipped with a message — but only outside CI: with `CI` set a missing
//! browser is a failure, so CI can never silently skip them.

// The API suite's harness, shared rather than copied; its plain reqwest client talks to our own test
// server, not to the outside world the egress guard protects.
#[allow(dead_code, clippy::disallowed_methods)]
#[path = "it/harness.rs"]
mod harness;
mod ui {
    pub mod cdp;
}

use harness::{Backend, TestServer, ADMIN_PASSWORD};
use serde_json::json;
use ui::cdp::{find_chromium, Browser};

/// The browser, or `None` (after saying why) when the test must be skipped.
async fn browser() -> Option<Browser> {
    match find_chromium() {
        Some(bin) => Some(Browser::launch(&bin).await),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI is set but no Chromium was found (install Debian's `chromium`, or set SB_CHROMIUM)")
        }
        None => {
            eprintln!("SKIPPED: no Chromium found (install Debian's `chromium` or set SB_CHROMIUM); UI tests not run");
            None
        }
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_chat_live_updates_and_logout() {
    let Some(b) = browser().await else { return };
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
    let cookie = b
        .call("Network.getCookies", json!({ "urls": [s.base] }))
        .await;
    let value = cookie["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sb_session")
        .and_then(|c| c["value"].as_str())
        .expect("session cookie")
        .to_string();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_form_test_panel_and_webhook() {
    let Some(b) = browser().await else { return };
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_and_rooms() {
    let Some(b) = browser().await else { return };
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_admin_sees_no_admin_pages() {
    let Some(b) = browser().await else { return };
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
    let c = b
        .call("Network.getCookies", json!({ "urls": [s.base] }))
        .await;
    c["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                c["name"].as_str().unwrap(),
                c["value"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_webhook_content_is_inert() {
    let Some(b) = browser().await else { return };
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
