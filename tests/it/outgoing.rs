//! Outgoing webhooks end to end: management and validation, trigger words, payloads and signature headers,
//! replies posted back, scripts, the retry classification (failing, timing out, 429, 410), history, replay,
//! the `/hooks/add|remove` helpers, and a SIGKILL while jobs are pending. A [`TestReceiver`] stands in for
//! the bot. Retry delays run at 1% of Rocket.Chat's formulas (`outgoing.retry_delay_percent`), so a
//! powers-of-ten schedule retries after 1 ms, 10 ms, 100 ms…

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests_with;
use crate::harness::TestServer;
use crate::receiver::{Answer, TestReceiver};

const FAST: [(&str, &str); 4] = [
    ("egress.allow_private_networks", "true"),
    ("outgoing.poll_ms", "20"),
    ("outgoing.retry_delay_percent", "1"),
    ("egress.timeout_ms", "1500"),
];

fn outgoing(url: &str, extra: Value) -> Value {
    let mut b = json!({
        "type": "webhook-outgoing", "name": "bot", "enabled": true, "username": "rocket.cat",
        "channel": "#general", "event": "sendMessage", "scriptEnabled": false, "urls": [url],
    });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

impl TestServer {
    async fn outgoing(&self, url: &str, extra: Value) -> Value {
        let (st, v) = self
            .post(
                Some(&self.admin),
                "/api/v1/integrations.create",
                outgoing(url, extra),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "integrations.create: {v}");
        v["integration"].clone()
    }

    /// The integration's history, waiting until at least `n` records are finished (retries pending count
    /// as unfinished only through the queue, so this waits on the number of records).
    async fn out_history(&self, id: &str, n: usize) -> Vec<Value> {
        for _ in 0..250 {
            let (st, v) = self
                .get(
                    Some(&self.admin),
                    "/api/v1/integrations.history",
                    &[("id", id)],
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let h = v["history"].as_array().unwrap().clone();
            if h.len() >= n {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} history records for {id}");
    }

    async fn integration(&self, id: &str) -> Value {
        let (st, v) = self
            .get(
                Some(&self.admin),
                "/api/v1/integrations.get",
                &[("integrationId", id)],
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v["integration"].clone()
    }
}

/// Checks a Standard Webhooks signature the way a receiver would.
fn verify(secret: &str, r: &crate::receiver::Received) {
    let id = r.header("webhook-id");
    let ts: i64 = r.header("webhook-timestamp").parse().expect("timestamp");
    assert!((ts - chrono_now_secs()).abs() < 300, "timestamp is current");
    let expected = switchboard::integrations::delivery::sign(secret, id, ts, r.raw.as_bytes());
    assert_eq!(r.header("webhook-signature"), expected);
}

fn chrono_now_secs() -> i64 {
    switchboard::util::now_ms() / 1000
}

backend_tests_with! {
    FAST;

    async fn management_fields_defaults_and_validation(s: TestServer) {
        let i = s
            .outgoing("https://example.org/bot", json!({
                "channel": "#general, ALL_PRIVATE_GROUPS", "triggerWords": ["!a", " ", "!b"],
                "retryFailedCalls": true, "retryCount": 0, "retryDelay": "", "runOnEdits": "yes",
                "alias": "Bot", "emoji": ":robot:", "impersonateUser": true, "triggerWordAnywhere": true,
            }))
            .await;
        assert_eq!(i["type"], "webhook-outgoing");
        assert_eq!(i["event"], "sendMessage");
        assert_eq!(i["channel"], json!(["#general", "all_private_groups"]));
        assert_eq!(i["urls"], json!(["https://example.org/bot"]));
        assert_eq!(i["triggerWords"], json!(["!a", "!b"]));
        assert_eq!(i["retryCount"], 4, "retryCount ≤ 0 becomes 4");
        assert_eq!(i["retryDelay"], "powers-of-ten");
        assert_eq!(i["runOnEdits"], false, "only a strict true counts");
        assert_eq!(i["impersonateUser"], true);
        assert_eq!(i["triggerWordAnywhere"], true);
        assert_eq!(i["alias"], "Bot");
        let token = i["token"].as_str().unwrap();
        assert_eq!(token.len(), 24, "a token is generated when omitted");
        assert!(i["webhookSecret"].as_str().unwrap().starts_with("whsec_"));
        let given = s.outgoing("https://example.org/x", json!({ "token": "my-token", "retryDelay": "Powers-Of-Two" })).await;
        assert_eq!(given["token"], "my-token");
        assert_eq!(given["retryDelay"], "Powers-Of-Two", "kept as given without retryFailedCalls");

        let cases: Vec<(Value, &str)> = vec![
            (json!({ "event": "somethingElse" }), "error-invalid-event-type"),
            (json!({ "urls": [] }), "error-invalid-urls"),
            (json!({ "urls": ["  "] }), "error-invalid-urls"),
            (json!({ "urls": ["ftp://x"] }), "error-invalid-urls"),
            (json!({ "channel": "" }), "error-invalid-channel"),
            (json!({ "channel": "general" }), "error-invalid-channel-start-with-chars"),
            (json!({ "channel": "#nowhere" }), "error-invalid-room"),
            (json!({ "username": "ghost" }), "error-invalid-user"),
            (json!({ "triggerWords": [1] }), "error-invalid-triggerWords"),
            (json!({ "event": "userCreated" }), "error-invalid-targetRoom"),
        ];
        for (extra, code) in cases {
            let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.create", outgoing("https://example.org/", extra.clone())).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{extra}: {v}");
            assert_eq!(v["errorType"], code, "{extra}: {v}");
        }

        // Update re-validates the whole record and needs the token.
        let id = i["_id"].as_str().unwrap();
        let mut upd = outgoing("https://example.org/new", json!({ "integrationId": id, "channel": "all_public_channels" }));
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.update", upd.clone()).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-token")), "{v}");
        upd["token"] = json!(token);
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.update", upd).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["integration"]["urls"], json!(["https://example.org/new"]));
        assert_eq!(v["integration"]["channel"], json!(["all_public_channels"]));
        assert_eq!(v["integration"]["triggerWords"], json!([]), "missing optional fields are reset");
        assert_eq!(v["integration"]["webhookSecret"], i["webhookSecret"], "the secret survives updates");

        // A user with only manage-own-outgoing may use all_public_channels, not the other scopes, and
        // not events that ignore channels.
        let (st, _) = s.post(Some(&s.admin), "/api/v1/permissions.update", json!({ "permissions": [{ "_id": "manage-own-outgoing-integrations", "roles": ["admin", "user"] }] })).await;
        assert_eq!(st, StatusCode::OK);
        let bob = s.user("bob").await;
        let (st, v) = s.post(Some(&bob), "/api/v1/integrations.create", outgoing("https://example.org/", json!({ "channel": "all_public_channels" }))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (_, v) = s.post(Some(&bob), "/api/v1/integrations.create", outgoing("https://example.org/", json!({ "channel": "all_direct_messages" }))).await;
        assert_eq!(v["errorType"], "error-invalid-channel", "{v}");
        let (_, v) = s.post(Some(&bob), "/api/v1/integrations.create", outgoing("https://example.org/", json!({ "event": "roomCreated" }))).await;
        assert_eq!(v["errorType"], "error-invalid-permissions", "{v}");

        // Removal by target_url.
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.remove", json!({ "type": "webhook-outgoing", "target_url": "https://example.org/x" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["integration"]["_id"], given["_id"]);
        s.stop().await;
    }

    async fn trigger_words_payload_and_signature(s: TestServer) {
        let rx = TestReceiver::start().await;
        let i = s.outgoing(&rx.url, json!({ "triggerWords": ["!bot", "ping"] })).await;
        let secret = i["webhookSecret"].as_str().unwrap();
        s.say(&s.admin, "#general", "hello !bot").await; // not at the start: no call
        let m = s.say(&s.admin, "#general", "!bot do things").await;
        let got = rx.wait_for(1, 10).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(rx.received().len(), 1, "only the message starting with a trigger word is sent");
        let r = &got[0];
        let b = &r.body;
        assert_eq!(b["token"], i["token"]);
        assert_eq!(b["bot"], false);
        assert_eq!(b["trigger_word"], "!bot");
        assert_eq!(b["channel_id"], m["rid"]);
        assert_eq!(b["channel_name"], "general");
        assert_eq!(b["message_id"], m["_id"]);
        assert_eq!(b["user_name"], "admin");
        assert_eq!(b["user_id"], json!(s.admin.uid));
        assert_eq!(b["text"], "!bot do things");
        assert!(b["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(b["siteUrl"].is_string());
        assert!(b.get("isEdited").is_none());
        assert_eq!(r.header("content-type"), "application/json");
        assert!(r.header("user-agent").starts_with("Mozilla/5.0"));
        assert!(!r.header("webhook-id").is_empty());
        verify(secret, r);

        // Anywhere matching, and edits only with runOnEdits.
        let id = i["_id"].as_str().unwrap();
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.update", outgoing(&rx.url, json!({ "integrationId": id, "token": i["token"], "triggerWords": ["!bot"], "triggerWordAnywhere": true, "runOnEdits": true }))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let m2 = s.say(&s.admin, "#general", "say !bot here").await;
        rx.wait_for(2, 10).await;
        let (st, v) = s.post(Some(&s.admin), "/api/v1/chat.update", json!({ "roomId": m2["rid"], "msgId": m2["_id"], "text": "edited !bot" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let got = rx.wait_for(3, 10).await;
        assert_eq!(got[2].body["isEdited"], true);
        assert_eq!(got[2].body["text"], "edited !bot");
        assert_ne!(got[1].header("webhook-id"), got[2].header("webhook-id"));
        s.stop().await;
    }

    async fn replies_are_posted_back_without_loops(s: TestServer) {
        let rx = TestReceiver::start().await;
        rx.answer(Answer::json(200, json!({ "text": "!pong from the bot", "attachments": [null, { "text": "att" }] })));
        let i = s.outgoing(&rx.url, json!({ "triggerWords": ["!"], "alias": "Pongbot", "emoji": ":robot:" })).await;
        let m = s.say(&s.admin, "#general", "!ping").await;
        rx.wait_for(1, 10).await;
        let rid = m["rid"].as_str().unwrap();
        let mut reply = None;
        for _ in 0..200 {
            let msgs = s.latest(rid, 5).await;
            if let Some(r) = msgs.iter().find(|x| x["msg"] == "!pong from the bot") {
                reply = Some(r.clone());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reply = reply.expect("the reply was posted");
        assert_eq!(reply["u"]["username"], "rocket.cat");
        assert_eq!(reply["alias"], "Pongbot");
        assert_eq!(reply["emoji"], ":robot:");
        assert_eq!(reply["bot"]["i"], i["_id"]);
        // The reply starts with the trigger word, but replies of outgoing integrations fire nothing.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(rx.received().len(), 1);
        let h = s.out_history(i["_id"].as_str().unwrap(), 1).await;
        assert_eq!(h[0]["step"], "url-response-sent-message", "{}", h[0]);
        assert_eq!(h[0]["resultMessage"][0]["message"]["msg"], "!pong from the bot");
        s.stop().await;
    }

    async fn rocketchat_documentation_scripts(s: TestServer) {
        let rx = TestReceiver::start().await;
        rx.answer(Answer::json(200, json!({ "text": "the answer is 42", "extra": "x" })));
        // Adapted from Rocket.Chat's documented outgoing example: rewrite the request, then turn the
        // response into a message.
        let script = format!(r#"
class Script {{
  prepare_outgoing_request({{ request }}) {{
    let match = request.data.text.match(/^!ask\s(.*)$/);
    if (!match) {{
      return {{ message: {{ text: 'usage: !ask <question>' }} }};
    }}
    return {{
      url: '{url}?q=' + encodeURIComponent(match[1]),
      headers: {{ 'X-Asked-By': request.data.user_name }},
      method: 'POST',
      data: {{ question: match[1], token: request.data.token }}
    }};
  }}
  process_outgoing_response({{ request, response }}) {{
    return {{ content: {{ text: 'Bot: ' + response.content.text + ' (' + response.status_code + ')' }} }};
  }}
}}"#, url = rx.url);
        let i = s.outgoing(&rx.url, json!({ "triggerWords": ["!ask"], "scriptEnabled": true, "script": script })).await;
        assert!(i["scriptError"].is_null(), "{}", i["scriptError"]);
        let m = s.say(&s.admin, "#general", "!ask meaning of life").await;
        let got = rx.wait_for(1, 10).await;
        assert_eq!(got[0].path, "/hook");
        assert_eq!(got[0].header("x-asked-by"), "admin");
        assert_eq!(got[0].body, json!({ "question": "meaning of life", "token": i["token"] }));
        let rid = m["rid"].as_str().unwrap();
        let mut found = false;
        for _ in 0..200 {
            if s.latest(rid, 5).await.iter().any(|x| x["msg"] == "Bot: the answer is 42 (200)") {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(found, "process_outgoing_response's content was posted");
        let h = s.out_history(i["_id"].as_str().unwrap(), 1).await;
        assert_eq!(h[0]["step"], "after-process-send-message", "{}", h[0]);
        assert_eq!(h[0]["ranPrepareScript"], true);
        // The payload the prepare script sent, beside the one the event made.
        assert_eq!(h[0]["httpCallData"], json!({ "question": "meaning of life", "token": i["token"] }));
        assert_eq!(h[0]["data"]["text"], "!ask meaning of life");
        assert_eq!(h[0]["integration"]["_id"], i["_id"]);
        // The prepare script's `{message}` short-circuit: posted, no call.
        s.say(&s.admin, "#general", "!ask").await;
        let h = s.out_history(i["_id"].as_str().unwrap(), 2).await;
        assert_eq!(h[0]["step"], "after-prepare-no-url_or_method", "{}", h[0]);
        assert_eq!(h[0]["prepareSentMessage"][0]["message"]["msg"], "usage: !ask <question>");
        assert_eq!(rx.received().len(), 1);
        s.stop().await;
    }

    async fn failures_are_retried_and_classified(s: TestServer) {
        let rx = TestReceiver::start().await;
        // 500, then a timeout, then 429 with Retry-After, then success: four attempts, one webhook-id.
        rx.queue(Answer::text(500, "boom"));
        rx.queue(Answer::status(200).delayed(Duration::from_secs(3)));
        rx.queue(Answer::status(429).retry_after("1"));
        let i = s.outgoing(&rx.url, json!({ "retryFailedCalls": true, "retryCount": 5, "retryDelay": "powers-of-ten" })).await;
        let id = i["_id"].as_str().unwrap();
        s.say(&s.admin, "#general", "please deliver").await;
        let got = rx.wait_for(4, 20).await;
        let ids: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
        assert!(ids.iter().all(|x| *x == ids[0]), "the same webhook-id on every attempt: {ids:?}");
        let h = s.out_history(id, 4).await;
        let mut steps: Vec<String> = h.iter().map(|r| r["step"].as_str().unwrap().to_string()).collect();
        steps.reverse();
        assert_eq!(steps[..3], ["going-to-retry-1", "going-to-retry-2", "going-to-retry-3"], "{h:?}");
        let oldest = &h[h.len() - 1];
        assert_eq!(oldest["statusCode"], 500);
        assert_eq!(oldest["error"], true);
        assert!(h[h.len() - 2]["httpError"].as_str().unwrap().contains("timed out"), "{}", h[h.len() - 2]);
        assert_eq!(h[h.len() - 3]["statusCode"], 429);
        assert_eq!(h[0]["statusCode"], 200);
        assert_eq!(h[0]["finished"], true);
        assert_eq!(h[0]["attempt"], 4);
        for r in &h {
            assert_eq!(r["type"], "outgoing-webhook");
            assert_eq!(r["integration"]["_id"], i["_id"]);
            assert_eq!(r["event"], "sendMessage");
            assert_eq!(r["url"], json!(rx.url));
            assert!(r["_createdAt"].is_string() && r["_updatedAt"].is_string());
        }

        // Other 4xx are final; too many retries end the job.
        rx.queue(Answer::status(404));
        s.say(&s.admin, "#general", "gone wrong").await;
        let h = s.out_history(id, 5).await;
        assert_eq!(h[0]["step"], "after-process-http-status-404", "{}", h[0]);
        assert_eq!(h[0]["finished"], true);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(rx.received().len(), 5, "a 404 is not retried");
        s.stop().await;
    }

    async fn exhausted_retries_and_410_disables(s: TestServer) {
        let rx = TestReceiver::start().await;
        rx.answer(Answer::status(503));
        let i = s.outgoing(&rx.url, json!({ "retryFailedCalls": true, "retryCount": 2, "retryDelay": "increments-of-two" })).await;
        let id = i["_id"].as_str().unwrap();
        s.say(&s.admin, "#general", "x").await;
        let h = s.out_history(id, 3).await;
        assert_eq!(h[0]["step"], "too-many-retries", "{h:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(rx.received().len(), 3, "first attempt and retryCount retries");

        // Without retryFailedCalls a failure is final at once.
        let rx2 = TestReceiver::start().await;
        rx2.answer(Answer::status(502));
        let j = s.outgoing(&rx2.url, json!({})).await;
        s.say(&s.admin, "#general", "y").await;
        let h = s.out_history(j["_id"].as_str().unwrap(), 1).await;
        assert_eq!(h[0]["step"], "failed-and-not-configured-to-retry");

        // 410 Gone disables the integration.
        let rx3 = TestReceiver::start().await;
        rx3.answer(Answer::text(410, "gone"));
        let k = s.outgoing(&rx3.url, json!({ "retryFailedCalls": true })).await;
        let kid = k["_id"].as_str().unwrap();
        s.say(&s.admin, "#general", "z").await;
        let h = s.out_history(kid, 1).await;
        assert_eq!(h[0]["step"], "after-process-http-status-410");
        assert_eq!(s.integration(kid).await["enabled"], false);
        s.say(&s.admin, "#general", "after").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(rx3.received().len(), 1, "a disabled integration is not called");

        // The owner hears of both from rocket.cat in a direct message (once per integration); a failure
        // with no retries configured is not worth a message.
        let mut notices: Vec<String> = Vec::new();
        for _ in 0..100 {
            let (_, v) = s.get(Some(&s.admin), "/api/v1/im.list", &[]).await;
            let dm = v["ims"].as_array().unwrap().iter().find(|r| {
                r["usernames"].as_array().is_some_and(|u| u.iter().any(|n| n == "rocket.cat"))
            });
            if let Some(dm) = dm {
                let (_, h) = s.get(Some(&s.admin), "/api/v1/im.history", &[("roomId", dm["_id"].as_str().unwrap())]).await;
                notices = h["messages"].as_array().unwrap().iter().map(|m| m["msg"].as_str().unwrap().to_string()).collect();
                if notices.len() >= 2 {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        notices.reverse();
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(notices[0].contains(&format!("*{}*", i["name"].as_str().unwrap())), "{notices:?}");
        assert!(notices[0].contains("gave up") && notices[0].contains("3 attempts") && notices[0].contains("HTTP 503"), "{notices:?}");
        assert!(notices[0].contains(&format!("/admin/integrations/outgoing/{id}/history")), "{notices:?}");
        assert!(notices[1].contains("disabled") && notices[1].contains("410"), "{notices:?}");
        s.stop().await;
    }

    async fn garbage_and_oversized_answers_cannot_hurt(s: TestServer) {
        let rx = TestReceiver::start().await;
        rx.queue(Answer::json(200, json!({ "attachments": null, "text": null })));
        rx.queue(Answer { content_type: "application/json", ..Answer::text(200, "{not json") });
        rx.queue(Answer::text(200, &"x".repeat(2 * 1024 * 1024)));
        let i = s.outgoing(&rx.url, json!({})).await;
        for n in 0..3 {
            s.say(&s.admin, "#general", &format!("m{n}")).await;
        }
        let h = s.out_history(i["_id"].as_str().unwrap(), 3).await;
        assert!(h.iter().any(|r| r["httpError"].as_str().is_some_and(|e| e.contains("exceeds"))), "{h:?}");
        // Still alive and delivering.
        s.say(&s.admin, "#general", "still fine").await;
        rx.wait_for(4, 10).await;
        s.stop().await;
    }

    async fn room_and_user_events(s: TestServer) {
        let rx = TestReceiver::start().await;
        let mk = |event: &str, extra: Value| {
            let mut b = json!({ "event": event, "channel": "" });
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        s.outgoing(&rx.url, mk("roomCreated", json!({}))).await;
        s.outgoing(&rx.url, mk("userCreated", json!({ "targetRoom": "#general" }))).await;
        s.outgoing(&rx.url, mk("roomArchived", json!({}))).await;
        s.outgoing(&rx.url, mk("roomJoined", json!({ "channel": "all_public_channels" }))).await;
        s.outgoing(&rx.url, mk("roomLeft", json!({ "channel": "all_public_channels" }))).await;
        s.outgoing(&rx.url, mk("fileUploaded", json!({ "channel": "#general" }))).await;
        let bob = s.user("bob").await; // userCreated (+ roomJoined for the default channel)
        let rid = s.room(&s.admin, "channels", "ops", &[]).await; // roomCreated
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.join", json!({ "roomId": rid })).await; // roomJoined
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.leave", json!({ "roomId": rid })).await; // roomLeft
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v) = s.post(Some(&s.admin), "/api/v1/channels.archive", json!({ "roomId": rid })).await; // roomArchived
        assert_eq!(st, StatusCode::OK, "{v}");
        // Created, joined, left and archived for `ops`, and userCreated for bob, in any order.
        let mut got = rx.wait_for(5, 10).await;
        for _ in 0..250 {
            let ops = got.iter().filter(|r| r.body["channel_id"] == json!(rid)).count();
            if ops >= 4 && got.iter().any(|r| r.body["room"]["archived"] == true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            got = rx.received();
        }
        let find = |pred: &dyn Fn(&Value) -> bool| got.iter().map(|r| r.body.clone()).find(|b| pred(b));
        let user = find(&|b| b["user"]["username"] == "bob" && b.get("room").is_none()).expect("userCreated");
        assert_eq!(user["user_name"], "bob");
        assert_eq!(user["user_id"], json!(bob.uid));
        assert_eq!(user["bot"], false);
        assert!(user["user"].get("services").is_none());
        let created = find(&|b| b.get("owner").is_some()).expect("roomCreated");
        assert_eq!(created["channel_id"], json!(rid));
        assert_eq!(created["channel_name"], "ops");
        assert_eq!(created["user_name"], "admin");
        assert_eq!(created["room"]["_id"], json!(rid));
        let joined = find(&|b| b["channel_id"] == json!(rid) && b["user_name"] == "bob").expect("roomJoined/roomLeft");
        assert_eq!(joined["room"]["name"], "ops");
        assert!(joined["timestamp"].is_string());
        let archived = find(&|b| b["room"]["archived"] == true).expect("roomArchived");
        assert_eq!(archived["user_name"], "admin");
        let ops_calls = got.iter().filter(|r| r.body["channel_id"] == json!(rid)).count();
        assert!(ops_calls >= 4, "created, joined, left, archived: {ops_calls}");
        s.stop().await;
    }

    async fn history_replay_and_clear(s: TestServer) {
        let rx = TestReceiver::start().await;
        rx.queue(Answer::status(400));
        let i = s.outgoing(&rx.url, json!({})).await;
        let id = i["_id"].as_str().unwrap();
        s.say(&s.admin, "#general", "replay me").await;
        let h = s.out_history(id, 1).await;
        assert_eq!(h[0]["step"], "after-process-http-status-400");
        let hid = h[0]["_id"].as_str().unwrap();
        assert_eq!(h[0]["data"]["text"], "replay me");
        // Rocket.Chat's record fields: the integration, and the payload as sent (here: unchanged).
        assert_eq!(h[0]["integration"]["_id"], i["_id"], "{}", h[0]);
        assert_eq!(h[0]["integration"]["name"], i["name"]);
        assert_eq!(h[0]["httpCallData"], h[0]["data"], "{}", h[0]);
        assert!(h[0].as_object().unwrap().keys().all(|k| !k.starts_with("_http")), "{}", h[0]);
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.replayOutgoing", json!({ "integrationId": id, "historyId": hid })).await;
        assert_eq!((st, v.clone()), (StatusCode::OK, json!({ "success": true })), "{v}");
        let got = rx.wait_for(2, 10).await;
        assert_eq!(got[1].body["text"], "replay me");
        assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"), "a replay is the same webhook");
        let h = s.out_history(id, 2).await;
        assert_eq!(h[0]["finished"], true);
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.replayOutgoing", json!({ "integrationId": id, "historyId": "nope" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-integration-history")));
        let (st, _) = s.post(Some(&s.admin), "/api/v1/integrations.replayOutgoing", json!({ "integrationId": id })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, _) = s.post(None, "/api/v1/integrations.replayOutgoing", json!({ "integrationId": id, "historyId": hid })).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.clearHistory", json!({ "integrationId": id })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (_, v) = s.get(Some(&s.admin), "/api/v1/integrations.history", &[("id", id)]).await;
        assert_eq!(v["total"], 0);
        // Removing the integration removes its history.
        let (st, _) = s.post(Some(&s.admin), "/api/v1/integrations.remove", json!({ "type": "webhook-outgoing", "integrationId": id })).await;
        assert_eq!(st, StatusCode::OK);
        s.stop().await;
    }

    async fn scopes_dms_groups_impersonation_and_target_room(s: TestServer) {
        let rx = TestReceiver::start().await;
        let bob = s.user("bob").await;
        let dm = s.outgoing(&rx.url, json!({ "channel": "all_direct_messages", "impersonateUser": true })).await;
        let gid = s.room(&s.admin, "groups", "secret", &["bob"]).await;
        s.outgoing(&rx.url, json!({ "channel": "#secret" })).await;
        // Replies: as the triggering user (impersonateUser), back into the event's room.
        rx.answer(Answer::json(200, json!({ "text": "auto-reply" })));
        let m = s.say(&bob, "@admin", "hi admin").await;
        let got = rx.wait_for(1, 10).await;
        assert_eq!(got[0].body["channel_id"], m["rid"]);
        assert!(got[0].body.get("channel_name").is_none(), "DMs have no channel_name");
        assert_eq!(got[0].body["token"], dm["token"]);
        let rid = m["rid"].as_str().unwrap();
        let mut reply = None;
        for _ in 0..200 {
            let (_, v) = s.get(Some(&bob), "/api/v1/im.messages", &[("roomId", rid)]).await;
            if let Some(r) = v["messages"].as_array().and_then(|a| a.iter().find(|x| x["msg"] == "auto-reply").cloned()) {
                reply = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reply = reply.expect("reply in the DM");
        assert_eq!(reply["u"]["username"], "bob", "impersonateUser posts as the triggering user");
        s.say(&s.admin, &gid, "in the group").await;
        let got = rx.wait_for(2, 10).await;
        assert_eq!(got[1].body["channel_name"], "secret");

        // userCreated replies go to targetRoom.
        let rx2 = TestReceiver::start().await;
        rx2.answer(Answer::json(200, json!({ "text": "welcome!" })));
        let uc = s.outgoing(&rx2.url, json!({ "event": "userCreated", "channel": "", "targetRoom": "#general" })).await;
        s.user("carol").await;
        let got = rx2.wait_for(1, 10).await;
        assert_eq!(got[0].body["user_name"], "carol");
        let mut found = false;
        for _ in 0..200 {
            if s.latest("GENERAL", 5).await.iter().any(|x| x["msg"] == "welcome!" && x["u"]["username"] == "rocket.cat") {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let h = s.out_history(uc["_id"].as_str().unwrap(), 1).await;
        assert!(found, "the userCreated reply was posted to targetRoom: {}", h[0]);
        s.stop().await;
    }

    async fn hooks_add_and_remove_helpers(s: TestServer) {
        let rx = TestReceiver::start().await;
        let hook = s.hook("#general", None, json!({})).await;
        let add = |id: &str, token: &str| s.url(&format!("/hooks/add/{id}/{token}"));
        let r = s.client.post(add(&hook.id, "wrong")).json(&json!({ "event": "newMessageOnChannel", "name": "z", "target_url": rx.url })).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = s.client.post(add(&hook.id, &hook.token)).json(&json!({ "event": "newMessageToUser", "name": "z", "target_url": rx.url })).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "username-required");
        let r = s.client.post(add(&hook.id, &hook.token)).json(&json!({ "event": "newMessageOnChannel", "name": "zap", "target_url": rx.url, "data": { "channel_name": "general", "trigger_words": ["zap"] } })).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["success"], true);
        assert_eq!(v["channel"], json!(["#general"]));
        assert_eq!(v["username"], "rocket.cat");
        assert_eq!(v["token"].as_str().unwrap().len(), 24);
        assert_eq!(v["enabled"], true);
        s.say(&s.admin, "#general", "zap it").await;
        rx.wait_for(1, 10).await;
        let remove = s.url(&format!("/hooks/remove/{}/{}", hook.id, hook.token));
        let r = s.client.post(&remove).json(&json!({ "target_url": rx.url })).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = s.client.post(&remove).json(&json!({ "target_url": rx.url })).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "integration-not-found");
        s.say(&s.admin, "#general", "zap again").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(rx.received().len(), 1);
        s.stop().await;
    }
}

/// The real binary, killed with SIGKILL while delivery jobs are pending and started again on the same
/// database: every job is delivered, and a job that was in flight at the kill is sent again with the same
/// `webhook-id` (at least once, never lost).
mod crash {
    use std::collections::{HashMap, HashSet};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    use crate::harness::{pg_admin_url, Backend};
    use crate::receiver::{Answer, TestReceiver};

    const MESSAGES: usize = 40;

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn spawn(port: u16, database_url: &str, dir: &std::path::Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir)
            .env("SWITCHBOARD_DATABASE_URL", database_url)
            .env("SWITCHBOARD_ADMIN_PASSWORD", "admin-pass")
            .env("SWITCHBOARD_EGRESS__ALLOW_PRIVATE_NETWORKS", "true")
            .env("SWITCHBOARD_OUTGOING__LEASE_SECS", "2")
            .env("SWITCHBOARD_OUTGOING__POLL_MS", "50")
            .env("SWITCHBOARD_OUTGOING__CONCURRENCY", "4")
            .env("SWITCHBOARD_LOG", "warn")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the binary")
    }

    async fn login(client: &reqwest::Client, base: &str) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client
                .post(format!("{base}/api/v1/login"))
                .json(&json!({ "user": "admin", "password": "admin-pass" }))
                .send()
                .await
            {
                if r.status().is_success() {
                    let v: Value = r.json().await.unwrap();
                    return (
                        v["data"]["userId"].as_str().unwrap().to_string(),
                        v["data"]["authToken"].as_str().unwrap().to_string(),
                    );
                }
            }
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn run(backend: Backend) {
        let dir =
            std::env::temp_dir().join(format!("sb-crash-{}", switchboard::util::random_id(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let (database_url, pg_db) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.join("sb.db").display()), None),
            Backend::Postgres => {
                let db = format!(
                    "sb_crash_{}",
                    switchboard::util::random_id(10).to_lowercase()
                );
                let pool = sqlx::PgPool::connect(&pg_admin_url()).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                let admin = pg_admin_url();
                let base = &admin[..admin.rfind('/').unwrap()];
                (format!("{base}/{db}"), Some(db))
            }
        };
        let rx = TestReceiver::start().await;
        // Slow enough that most jobs are still queued, and some in flight, when the kill comes.
        rx.answer(Answer::status(200).delayed(Duration::from_millis(150)));
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let mut child = spawn(port, &database_url, &dir);
        let (uid, token) = login(&client, &base).await;
        let auth =
            |r: reqwest::RequestBuilder| r.header("X-User-Id", &uid).header("X-Auth-Token", &token);
        let r = auth(client.post(format!("{base}/api/v1/integrations.create")))
            .json(&json!({ "type": "webhook-outgoing", "name": "crash", "enabled": true, "username": "rocket.cat",
                "channel": "#general", "event": "sendMessage", "scriptEnabled": false, "urls": [rx.url] }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{:?}", r.text().await);
        for n in 0..MESSAGES {
            let r = auth(client.post(format!("{base}/api/v1/chat.postMessage")))
                .json(&json!({ "channel": "#general", "text": format!("job {n}") }))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
        rx.wait_for(5, 20).await;
        child.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
        child.wait().unwrap();
        let before = rx.received().len();
        assert!(
            before < MESSAGES,
            "the kill came while jobs were pending ({before} delivered)"
        );

        let mut child = spawn(port, &database_url, &dir);
        let deadline = Instant::now() + Duration::from_secs(60);
        let texts = loop {
            let got = rx.received();
            let texts: HashSet<String> = got
                .iter()
                .map(|r| r.body["text"].as_str().unwrap_or("").to_string())
                .collect();
            if texts.len() >= MESSAGES {
                break got;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {MESSAGES} delivered after restart",
                texts.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Each webhook-id belongs to one message; duplicates only for calls in flight at the kill.
        let mut by_id: HashMap<String, HashSet<String>> = HashMap::new();
        let mut count: HashMap<String, usize> = HashMap::new();
        for r in &texts {
            let id = r.header("webhook-id").to_string();
            by_id
                .entry(id.clone())
                .or_default()
                .insert(r.body["text"].as_str().unwrap().to_string());
            *count.entry(id).or_default() += 1;
        }
        assert_eq!(by_id.len(), MESSAGES, "one webhook-id per message");
        assert!(by_id.values().all(|t| t.len() == 1));
        let dupes: usize = count.values().map(|c| c - 1).sum();
        assert!(
            dupes <= 4,
            "only calls in flight at the kill are repeated ({dupes})"
        );
        let _ = child.kill();
        let _ = child.wait();
        if let Some(db) = pg_db {
            if let Ok(pool) = sqlx::PgPool::connect(&pg_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_with_pending_jobs_loses_nothing_sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_with_pending_jobs_loses_nothing_postgres() {
        run(Backend::Postgres).await;
    }
}
