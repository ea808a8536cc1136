//! The incoming hook endpoint as senders use it: body formats, the status codes and error strings of
//! Rocket.Chat's pipeline, destinations, scripts, the sandbox's limits, request recording, dry runs and
//! rate limiting.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::harness::{Backend, TestServer};

/// The script from Rocket.Chat's own end-to-end test: it relies on sloppy mode (`msg` is never declared).
const RC_E2E_SCRIPT: &str = r#"
const buildMessage = (obj) => {
  const template = `[#${obj.issue_number}](${obj.url}) ${obj.title}`;
  return { text: template };
};
class Script {
  process_incoming_request({ request }) {
    msg = buildMessage(request.content);
    return { content: { text: msg.text } };
  }
}
"#;

backend_tests! {
    async fn plain_posts_and_status_codes(s: TestServer) {
        let h = s.hook("#general", None, json!({ "alias": "Deploy bot", "emoji": ":rocket:" })).await;
        let (st, v) = s.post(None, &h.url, json!({ "text": "deployed v1.2" })).await;
        assert_eq!((st, v), (StatusCode::OK, json!({ "success": true })));
        let m = &s.latest("GENERAL", 1).await[0];
        assert_eq!(m["msg"], "deployed v1.2");
        assert_eq!(m["u"]["username"], "rocket.cat");
        assert_eq!(m["alias"], "Deploy bot");
        assert_eq!(m["emoji"], ":rocket:");
        assert_eq!(m["bot"], json!({ "i": h.id }));
        assert_eq!(m["groupable"], false);
        // A sender cannot make the message claim another integration.
        s.post(None, &h.url, json!({ "text": "spoof", "bot": { "i": "spoofed" } })).await;
        assert_eq!(s.latest("GENERAL", 1).await[0]["bot"], json!({ "i": h.id }));

        // Slack-style fields override the integration's defaults; icon_url wins over icon_emoji.
        s.post(None, &h.url, json!({ "text": "x", "username": "Grafana", "icon_url": "https://g.test/a.png", "icon_emoji": ":x:" })).await;
        let m = &s.latest("GENERAL", 1).await[0];
        assert_eq!((m["alias"].clone(), m["avatar"].clone()), (json!("Grafana"), json!("https://g.test/a.png")));
        assert!(m.get("emoji").is_none());

        // The legacy URL form with a user id segment.
        let legacy = format!("/hooks/{}/{}/{}", h.id, "anything", h.token);
        let (st, _) = s.post(None, &legacy, json!({ "text": "legacy" })).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "legacy");

        // Wrong token or id: 401 (Rocket.Chat answers 500 by accident).
        let bad = json!({ "success": false, "error": "Invalid integration id or token provided." });
        for url in [format!("/hooks/{}/wrong", h.id), format!("/hooks/nope/{}", h.token), format!("/hooks/{}/{}x", h.id, h.token)] {
            let (st, v) = s.post(None, &url, json!({ "text": "x" })).await;
            assert_eq!((st, v), (StatusCode::UNAUTHORIZED, bad.clone()), "{url}");
        }
        // GET: accepted, nothing posted.
        let before = s.latest("GENERAL", 1).await[0]["_id"].clone();
        let (st, v) = s.get(None, &h.url, &[("text", "from query")]).await;
        assert_eq!((st, v), (StatusCode::OK, json!({ "success": true })));
        // A JSON array is discarded: 200, nothing posted.
        let (st, _) = s.post_raw(None, &h.url, "application/json", "[1,2]").await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["_id"], before);
        // Broken JSON: 400 with a reason.
        let (st, v) = s.post_raw(None, &h.url, "application/json", "{\"text\": ").await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().contains("JSON"), "{v}");
        let (_, info) = s.get(None, &format!("/hooks/info/{}/{}", h.id, h.token), &[]).await;
        assert_eq!(info, json!({ "success": true }));

        // Disabled: 503.
        s.post(Some(&s.admin), "/api/v1/integrations.update", json!({ "type": "webhook-incoming", "integrationId": h.id, "enabled": false })).await;
        let (st, v) = s.post(None, &h.url, json!({ "text": "x" })).await;
        assert_eq!((st, v), (StatusCode::SERVICE_UNAVAILABLE, json!({ "success": false, "error": "Service Unavailable" })));
        s.stop().await;
    }

    async fn body_formats(s: TestServer) {
        let h = s.hook("#general", None, json!({})).await;
        let form = "application/x-www-form-urlencoded";
        // Slack's payload= form.
        let (st, _) = s.post_raw(None, &h.url, form, "payload=%7B%22text%22%3A%22slack%20style%22%7D").await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "slack style");
        // curl -d '{"text":"…"}' without a content type sends JSON as a one-key form.
        let (st, _) = s.post_raw(None, &h.url, form, r#"{"text":"curl default"}"#).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "curl default");
        // A plain form field.
        let (st, _) = s.post_raw(None, &h.url, form, "text=plain%20form").await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "plain form");
        // JSON sent as text/plain still works.
        let (st, _) = s.post_raw(None, &h.url, "text/plain", r#"{"text":"wrong content type"}"#).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "wrong content type");
        let (st, v) = s.post_raw(None, &h.url, form, "payload=%5B1%2C2%5D").await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("Integration payload must be a JSON object, not an array or primitive")));
        // Attachments: all fields kept, validation errors are 400s.
        let (st, _) = s
            .post(None, &h.url, json!({ "attachments": [{ "title": "Build", "title_link": "https://ci.test/1", "color": "#00ff00",
                "fields": [{ "title": "a", "value": 1, "short": true }], "fallback": "kept", "pretext": "kept too" }] }))
            .await;
        assert_eq!(st, StatusCode::OK);
        let m = &s.latest("GENERAL", 1).await[0];
        assert_eq!(m["attachments"][0]["fallback"], "kept");
        assert_eq!(m["parseUrls"], false);
        let (st, v) = s.post(None, &h.url, json!({ "attachments": [{ "title_link": "javascript:alert(1)" }] })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("Invalid href value provided")));
        let (st, v) = s.post(None, &h.url, json!({ "text": "x".repeat(5001) })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("error-message-size-exceeded")));
        let big = format!("{{\"text\":\"{}\"}}", "y".repeat(1_100_000));
        let (st, v) = s.post_raw(None, &h.url, "application/json", big).await;
        assert_eq!((st, v["success"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!(false)));
        s.stop().await;
    }

    async fn destinations_and_override(s: TestServer) {
        let bob = s.user("bob").await;
        let h = s.hook("#general", None, json!({})).await;
        let e = "overriding destination channel is disabled for this integration";
        for body in [json!({ "text": "x", "channel": "@bob" }), json!({ "text": "x", "roomId": "GENERAL" })] {
            let (st, v) = s.post(None, &h.url, body).await;
            assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": e })));
        }
        let o = s.hook("#general", None, json!({ "overrideDestinationChannelEnabled": true })).await;
        let (st, _) = s.post(None, &o.url, json!({ "text": "to bob", "channel": "@bob" })).await;
        assert_eq!(st, StatusCode::OK);
        let (_, v) = s.get(Some(&bob), "/api/v1/im.list", &[]).await;
        assert_eq!(v["ims"][0]["lastMessage"]["msg"], "to bob");

        // A private group the poster is not in: refused, and the poster is not added.
        let gid = s.room(&s.admin, "groups", "private-ops", &[]).await;
        let (st, v) = s.post(None, &o.url, json!({ "text": "sneak", "channel": "#private-ops" })).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "error-not-allowed" })));
        let (_, m) = s.get(Some(&s.admin), "/api/v1/groups.members", &[("roomId", &gid)]).await;
        assert_eq!(m["total"], 1);
        // A public channel the poster is not in: joined automatically.
        let cid = s.room(&s.admin, "channels", "announcements", &[]).await;
        let (st, _) = s.post(None, &o.url, json!({ "text": "hello", "channel": "#announcements" })).await;
        assert_eq!(st, StatusCode::OK);
        let (_, m) = s.get(Some(&s.admin), "/api/v1/channels.members", &[("roomId", &cid)]).await;
        assert_eq!(m["total"], 2);
        let (st, v) = s.post(None, &o.url, json!({ "text": "x", "channel": "#nowhere" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("invalid-channel")));

        // separateResponse: per-target results, the good targets still get the message.
        let (st, v) = s.post(None, &o.url, json!({ "text": "multi", "channel": ["#general", "#nowhere"], "separateResponse": true })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let r = v["responses"].as_array().unwrap();
        assert_eq!(r[0]["channel"], "#general");
        assert_eq!(r[0]["message"]["msg"], "multi");
        assert_eq!(r[1], json!({ "channel": "#nowhere", "error": "invalid-channel" }));
        let (st, v) = s.post(None, &o.url, json!({ "text": "none", "channel": ["#nowhere"], "separateResponse": true })).await;
        assert_eq!((st, v["success"].clone()), (StatusCode::BAD_REQUEST, json!(false)));
        s.stop().await;
    }

    async fn scripts_transform_requests(s: TestServer) {
        let h = s.hook("#general", Some(RC_E2E_SCRIPT), json!({})).await;
        let (st, v) = s.post(None, &h.url, json!({ "issue_number": 42, "url": "https://git.test/42", "title": "Crash on start" })).await;
        assert_eq!((st, v), (StatusCode::OK, json!({ "success": true })));
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "[#42](https://git.test/42) Crash on start");

        // The request object, instance state, helpers, and the result contract.
        let script = r#"
class Script {
  constructor() { this.calls = 0; }
  process_incoming_request({ request }) {
    this.calls += 1;
    const c = request.content;
    if (c.mode === 'drop') return undefined;
    if (c.mode === 'error') return { error: 'bad payload: ' + c.why };
    if (c.mode === 'throw') throw new Error('boom');
    if (c.mode === 'nocontent') return { foo: 1 };
    if (c.mode === 'response') return { content: { text: 'with response' }, response: { id: 7 } };
    if (c.mode === 'async') return Promise.resolve({ content: { text: 'async ok' } });
    if (c.mode === 'spoof') return { content: { text: 'spoof', bot: { i: 'spoofed' }, separateResponse: true } };
    console.log('call', this.calls, request.headers['x-custom']);
    return { content: {
      text: [this.calls, request.url.query.a, request.url_params.integrationId === request.url.pathname.split('/')[2],
             request.user.username, request.content_raw.length > 0, s.capitalize('shout'), _.pluck([{x:1},{x:2}], 'x').join('+')].join('|'),
    } };
  }
}"#;
        let h = s.hook("#general", Some(script), json!({})).await;
        let url = format!("{}?a=1", h.url);
        let send = |body: Value| {
            let s = &s;
            let url = url.clone();
            async move {
                let r = s.client.post(s.url(&url)).header("x-custom", "hdr").json(&body).send().await.unwrap();
                let st = r.status();
                (st, r.json::<Value>().await.unwrap())
            }
        };
        let (st, _) = send(json!({ "mode": "normal" })).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "1|1|true|rocket.cat|true|Shout|1+2");
        let (st, _) = send(json!({ "mode": "normal" })).await;
        assert_eq!(st, StatusCode::OK);
        assert!(s.latest("GENERAL", 1).await[0]["msg"].as_str().unwrap().starts_with("2|"), "the instance persists between calls");
        let before = s.latest("GENERAL", 1).await[0]["_id"].clone();
        assert_eq!(send(json!({ "mode": "drop" })).await, (StatusCode::OK, json!({ "success": true })));
        assert_eq!(s.latest("GENERAL", 1).await[0]["_id"], before, "undefined drops the request");
        assert_eq!(send(json!({ "mode": "error", "why": "no title" })).await, (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "bad payload: no title" })));
        assert_eq!(send(json!({ "mode": "throw" })).await, (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "error-running-script" })));
        assert_eq!(send(json!({ "mode": "nocontent" })).await, (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "error-running-script" })));
        assert_eq!(send(json!({ "mode": "response" })).await, (StatusCode::OK, json!({ "id": 7, "success": true })));
        assert_eq!(send(json!({ "mode": "async" })).await.0, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "async ok");
        // The script's content decides `separateResponse`; the message is marked as this hook's whatever
        // the script says.
        let (st, v) = send(json!({ "mode": "spoof" })).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["responses"][0]["message"]["msg"], "spoof", "{v}");
        assert_eq!(v["responses"][0]["message"]["bot"], json!({ "i": h.id }));
        assert_eq!(s.latest("GENERAL", 1).await[0]["bot"], json!({ "i": h.id }));

        // HEAD (a sender checking the URL, as Trello does before it registers a webhook) is answered like a
        // GET but runs and posts nothing, even with a script; a wrong token is still refused.
        let before = s.latest("GENERAL", 1).await[0]["_id"].clone();
        let head = s.client.head(s.url(&h.url)).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        let wrong = s.client.head(s.url(&format!("/hooks/{}/wrong", h.id))).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(s.latest("GENERAL", 1).await[0]["_id"], before, "HEAD posted a message");

        // The record of a call: logs, result, redacted secrets, no token.
        let rec = s.hook_history(&h).await;
        let normal = rec.iter().rev().find(|r| r["content"]["mode"] == "normal").unwrap();
        assert_eq!(normal["logs"][0]["message"], "call 1 hdr");
        assert_eq!(normal["status"], 200);
        assert!(!normal["url"].as_str().unwrap().contains(&h.token));
        let spoof = rec.iter().find(|r| r["content"]["mode"] == "spoof").unwrap();
        assert_eq!(spoof["scriptResult"]["content"]["bot"], json!({ "i": "spoofed" }), "the record keeps what the script returned");
        let thrown = rec.iter().find(|r| r["content"]["mode"] == "throw").unwrap();
        assert_eq!(thrown["status"], 400);
        assert!(thrown["error"].as_str().unwrap().contains("boom"), "{thrown}");
        s.stop().await;
    }

    // The idioms of published Rocket.Chat scripts for GitLab, Alertmanager and the like, in one script of our
    // own: a top-level helper and a `String.prototype` extension, a class field, dispatch on a sender's
    // header or on the query, a module-level `Map` and an undeclared global that outlive the call,
    // `Object.entries`, `normalize`, template literals, `Date#toUTCString`, Slack-style `username` and
    // `icon_emoji`, attachments with fields, and `{ error }` answers.
    async fn published_script_idioms(s: TestServer) {
        let script = r#"
String.prototype.capitalizeFirst = function () { return this.charAt(0).toUpperCase() + this.slice(1); };
const seen = new Map();
const COLORS = { firing: '#e01e5a', resolved: '#2eb67d' };
function ascii(text) { return text.normalize('NFD').replace(/[\u0300-\u036f]/g, ''); }

class Script {
  log = function (what) { console.log('[hook] ' + what); };

  process_incoming_request({ request }) {
    const event = request.headers['x-gitlab-event'] || request.url.query.event || 'unknown';
    this.log(event);
    if (event === 'Push Hook') {
      const c = request.content;
      if (seen.has(c.checkout_sha)) return;
      seen.set(c.checkout_sha, true);
      lastPusher = c.user_name;
      const lines = c.commits.map(k => `[${k.id.slice(0, 8)}](${k.url}) ${k.message.trim()}`);
      const fields = Object.entries({ Branch: c.ref.replace('refs/heads/', ''), Repo: c.project.path_with_namespace })
        .map(([title, value]) => ({ title, value, short: true }));
      return { content: {
        username: ascii(c.user_name),
        icon_emoji: ':fox_face:',
        text: `${c.user_name} pushed ${c.total_commits_count} commit(s) to ${c.project.name.capitalizeFirst()}`,
        attachments: [{ text: lines.join('\n'), fields }],
      } };
    }
    if (event === 'alert') {
      const alerts = request.content.alerts;
      return { content: {
        text: alerts.map(a => `${a.status.toUpperCase()}: ${a.labels.alertname} since ${new Date(a.startsAt).toUTCString()}`).join('\n'),
        attachments: alerts.map(a => ({ color: COLORS[a.status], title: a.annotations.summary })),
      } };
    }
    return { error: `unsupported event ${event} (last push by ${typeof lastPusher === 'undefined' ? 'nobody' : lastPusher})` };
  }
}"#;
        let h = s.hook("#general", Some(script), json!({})).await;
        let push = json!({
            "object_kind": "push", "ref": "refs/heads/main", "checkout_sha": "12345678deadbeef", "user_name": "José",
            "total_commits_count": 2, "project": { "name": "switchboard", "path_with_namespace": "team/switchboard" },
            "commits": [
                { "id": "12345678deadbeef", "url": "https://git.test/c/1", "message": "first\n" },
                { "id": "abcdef0123456789", "url": "https://git.test/c/2", "message": "  second" }
            ]
        });
        let send_push = || async {
            let r = s.client.post(s.url(&h.url)).header("X-Gitlab-Event", "Push Hook").json(&push).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        };
        assert_eq!(send_push().await, (StatusCode::OK, json!({ "success": true })));
        let m = &s.latest("GENERAL", 1).await[0];
        assert_eq!(m["msg"], "José pushed 2 commit(s) to Switchboard");
        assert_eq!((m["alias"].clone(), m["emoji"].clone()), (json!("Jose"), json!(":fox_face:")));
        assert_eq!(m["attachments"][0]["text"], "[12345678](https://git.test/c/1) first\n[abcdef01](https://git.test/c/2) second");
        assert_eq!(
            m["attachments"][0]["fields"],
            json!([{ "title": "Branch", "value": "main", "short": true }, { "title": "Repo", "value": "team/switchboard", "short": true }])
        );
        // The same push again: the script's module-level Map remembers it, and nothing is posted.
        let first = m["_id"].clone();
        assert_eq!(send_push().await, (StatusCode::OK, json!({ "success": true })));
        assert_eq!(s.latest("GENERAL", 1).await[0]["_id"], first);

        let alert = json!({ "version": "4", "status": "firing", "alerts": [
            { "status": "firing", "labels": { "alertname": "DiskFull" }, "annotations": { "summary": "/var at 98%" }, "startsAt": "2026-11-03T10:00:00Z" },
            { "status": "resolved", "labels": { "alertname": "HighLoad" }, "annotations": { "summary": "load back to 1" }, "startsAt": "2026-11-02T23:05:09.120Z" }
        ] });
        let (st, _) = s.post(None, &format!("{}?event=alert", h.url), alert).await;
        assert_eq!(st, StatusCode::OK);
        let m = &s.latest("GENERAL", 1).await[0];
        assert_eq!(m["msg"], "FIRING: DiskFull since Tue, 03 Nov 2026 10:00:00 GMT\nRESOLVED: HighLoad since Mon, 02 Nov 2026 23:05:09 GMT");
        assert_eq!(
            m["attachments"],
            json!([{ "color": "#e01e5a", "title": "/var at 98%" }, { "color": "#2eb67d", "title": "load back to 1" }])
        );

        // An event the script does not know: its `{ error }` is the answer; the undeclared global set by an
        // earlier call is still there.
        let (st, v) = s.post(None, &h.url, json!({ "anything": 1 })).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "unsupported event unknown (last push by José)" })));
        let rec = s.hook_history(&h).await;
        let logs: Vec<&str> = rec.iter().rev().map(|r| r["logs"][0]["message"].as_str().unwrap()).collect();
        assert_eq!(logs, ["[hook] Push Hook", "[hook] Push Hook", "[hook] alert", "[hook] unknown"]);
        s.stop().await;
    }

    async fn request_history_redacts_and_keeps_the_newest(s: TestServer) {
        let h = s.hook("#general", None, json!({})).await;
        let r = s
            .client
            .post(s.url(&h.url))
            .header("Authorization", "Bearer hunter2")
            .header("X-Gitlab-Token", "secret-token")
            .json(&json!({ "text": "recorded" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        assert_eq!(r.text().await.unwrap(), r#"{"success":true}"#);
        let posted = s.latest("GENERAL", 1).await[0].clone();
        let rec = s.hook_history(&h).await;
        let r = &rec[0];
        assert_eq!(r["method"], "POST");
        assert_eq!(r["type"], "incoming-webhook");
        assert_eq!(r["integrationId"], h.id.as_str());
        assert_eq!(r["_id"].as_str().map(str::len), Some(17), "{r}");
        assert_eq!(r["status"], 200);
        assert_eq!(r["response"], json!({ "success": true }));
        assert_eq!(r["headers"]["authorization"], "[redacted]");
        assert_eq!(r["headers"]["x-gitlab-token"], "[redacted]");
        assert_eq!(r["body"], r#"{"text":"recorded"}"#);
        assert_eq!(r["messages"], json!([{ "channel": "#general", "messageId": posted["_id"], "rid": "GENERAL" }]));
        assert!(!r.to_string().contains("hunter2") && !r.to_string().contains(&h.token));
        s.stop().await;
    }

    async fn dry_run_posts_nothing(s: TestServer) {
        let h = s.hook("#general", Some("class Script { process_incoming_request({ request }) { return { content: { text: 'saved: ' + request.content.v } }; } }"), json!({})).await;
        s.post(None, &h.url, json!({ "v": "live" })).await;
        let before = s.latest("GENERAL", 1).await[0]["_id"].clone();
        let draft = "class Script { process_incoming_request({ request }) { console.log('draft sees', request.content.v); return { content: { text: 'draft: ' + request.content.v, attachments: [{ title: 'T', color: 'red' }] } }; } }";
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.dryRun", json!({ "integrationId": h.id, "script": draft, "request": { "body": { "v": "sample" } } })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], 200);
        assert_eq!(v["messages"][0]["channel"], "#general");
        assert_eq!(v["messages"][0]["message"]["msg"], "draft: sample");
        assert_eq!(v["messages"][0]["message"]["attachments"][0]["title"], "T");
        assert_eq!(v["logs"][0]["message"], "draft sees sample");
        // Supplied headers reach the draft (names lower-cased, a JSON body typed as such); a name no request
        // could carry is left out.
        let peek = "class Script { process_incoming_request({ request }) { return { content: { text: [request.headers['x-event'], request.headers['content-type'], Object.keys(request.headers).length].join(' ') } }; } }";
        let (_, v) = s.post(Some(&s.admin), "/api/v1/integrations.dryRun", json!({ "integrationId": h.id, "script": peek, "request": { "body": { "v": 1 }, "headers": { "X-Event": "push", "bad name": "x" } } })).await;
        assert_eq!(v["messages"][0]["message"]["msg"], "push application/json 2", "{v}");
        // Re-run a recorded request through the saved script, and through a draft that reads its headers.
        assert_eq!(s.latest("GENERAL", 1).await[0]["_id"], before, "a dry run posted");
        s.client.post(s.url(&h.url)).header("X-Event", "tag").json(&json!({ "v": "tagged" })).send().await.unwrap();
        let before_draft = s.latest("GENERAL", 1).await[0]["_id"].clone();
        let rec = s.hook_history(&h).await;
        let (_, v) = s.post(Some(&s.admin), "/api/v1/integrations.dryRun", json!({ "integrationId": h.id, "historyId": rec[1]["_id"] })).await;
        assert_eq!(v["messages"][0]["message"]["msg"], "saved: live");
        let (_, v) = s.post(Some(&s.admin), "/api/v1/integrations.dryRun", json!({ "integrationId": h.id, "script": peek, "historyId": rec[0]["_id"] })).await;
        assert!(v["messages"][0]["message"]["msg"].as_str().unwrap().starts_with("tag application/json "), "{v}");
        // A draft with a syntax error reports it.
        let (_, v) = s.post(Some(&s.admin), "/api/v1/integrations.dryRun", json!({ "integrationId": h.id, "script": "class {", "request": { "body": {} } })).await;
        assert_eq!(v["scriptError"]["name"], "SyntaxError");
        assert_eq!(s.latest("GENERAL", 1).await[0]["_id"], before_draft, "nothing was posted");
        s.stop().await;
    }

    async fn sandbox_limits_do_not_hurt_other_hooks(s: TestServer) {
        let looping = s.hook("#general", Some("class Script { process_incoming_request() { while (true) {} } }"), json!({})).await;
        let bomb = s.hook("#general", Some("class Script { process_incoming_request() { const a = []; while (true) a.push('x'.repeat(1e5)); } }"), json!({})).await;
        let escape = s.hook("#general", Some(r#"class Script { process_incoming_request() {
            const seen = [typeof require, typeof process, typeof std, typeof os].join(',');
            return { content: { text: seen } }; } }"#), json!({})).await;
        let fine = s.hook("#general", Some("class Script { process_incoming_request({ request }) { return { content: { text: 'fine ' + request.content.n } }; } }"), json!({})).await;
        let spinning = {
            let client = s.client.clone();
            let url = s.url(&looping.url);
            tokio::spawn(async move { client.post(url).json(&json!({ "go": 1 })).send().await.unwrap().status() })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t = Instant::now();
        let (st, _) = s.post(None, &fine.url, json!({ "n": 1 })).await;
        assert_eq!(st, StatusCode::OK);
        assert!(t.elapsed() < Duration::from_secs(2), "another hook was held up by a looping script: {:?}", t.elapsed());
        assert_eq!(spinning.await.unwrap(), StatusCode::BAD_REQUEST);
        let (st, v) = s.post(None, &bomb.url, json!({ "go": 1 })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("error-running-script")));
        let (st, _) = s.post(None, &escape.url, json!({ "go": 1 })).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "undefined,undefined,undefined,undefined");
        // The looping script's runtime was replaced; the hook still answers.
        let (st, _) = s.post(None, &fine.url, json!({ "n": 2 })).await;
        assert_eq!(st, StatusCode::OK);
        s.stop().await;
    }

    async fn script_fetch_cannot_reach_the_host(s: TestServer) {
        // The server itself listens on loopback: a script must not be able to call it.
        let script = format!(r#"class Script {{ async process_incoming_request() {{
            try {{ const r = await fetch('{}/api/info'); return {{ content: {{ text: 'reached ' + r.status }} }}; }}
            catch (e) {{ return {{ content: {{ text: 'blocked: ' + e.message }} }}; }} }} }}"#, s.base);
        let h = s.hook("#general", Some(&script), json!({})).await;
        let (st, _) = s.post(None, &h.url, json!({ "go": 1 })).await;
        assert_eq!(st, StatusCode::OK);
        let text = s.latest("GENERAL", 1).await[0]["msg"].as_str().unwrap().to_string();
        assert!(text.starts_with("blocked: ") && text.contains("loopback"), "{text}");
        s.stop().await;
    }
}

#[tokio::test]
async fn rate_limit_answers_429_with_headers() {
    let s = TestServer::start_with(
        Backend::Sqlite,
        &[
            ("hooks.rate_limit_per_minute", "60"),
            ("hooks.rate_limit_burst", "2"),
        ],
    )
    .await;
    let h = s.hook("#general", None, json!({})).await;
    for _ in 0..2 {
        let (st, _) = s.post(None, &h.url, json!({ "text": "ok" })).await;
        assert_eq!(st, StatusCode::OK);
    }
    let r = s
        .client
        .post(s.url(&h.url))
        .json(&json!({ "text": "too many" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["x-ratelimit-limit"], "60");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    let v: Value = r.json().await.unwrap();
    let e = v["error"].as_str().unwrap();
    assert!(
        e.starts_with("Error, too many requests. Please slow down. You must wait ")
            && e.ends_with(" seconds before trying this endpoint again."),
        "{e}"
    );
    s.stop().await;
}

#[tokio::test]
async fn history_keeps_only_the_newest_requests() {
    let s = TestServer::start_with(Backend::Sqlite, &[("hooks.history_size", "3")]).await;
    let h = s.hook("#general", None, json!({})).await;
    for i in 0..6 {
        s.post(None, &h.url, json!({ "text": format!("n{i}") }))
            .await;
    }
    // Let the last recording land.
    let mut rec = vec![];
    for _ in 0..50 {
        rec = s.hook_history(&h).await;
        if rec.first().is_some_and(|r| r["content"]["text"] == "n5") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let texts: Vec<&str> = rec
        .iter()
        .map(|r| r["content"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["n5", "n4", "n3"]);
    s.stop().await;
}
