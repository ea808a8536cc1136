//! `chat.*`: postMessage target resolution and message building, attachments, sendMessage, update,
//! delete, getMessage, and message paging.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::harness::TestServer;

backend_tests! {
    async fn post_message_targets_and_shape(s: TestServer) {
        let bob = s.user("bob").await;
        // The rocketchat_API test: channel "GENERAL" is echoed back as given.
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "channel": "GENERAL", "text": "  hello  " })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["channel"], "GENERAL");
        assert!(v["ts"].is_i64(), "top-level ts is a number: {v}");
        let m = &v["message"];
        assert_eq!(m["msg"], "hello");
        assert_eq!(m["rid"], "GENERAL");
        assert_eq!(m["u"]["username"], "bob");
        assert_eq!(m["alias"], "");
        assert_eq!(m["groupable"], false);
        assert_eq!(m["parseUrls"], true);
        assert_eq!(m["_id"].as_str().unwrap().len(), 17);
        assert!(m["ts"].as_str().unwrap().ends_with('Z'));
        assert!(m.get("bot").is_none());

        // Slack-style fields: username becomes the alias, icon_url wins over icon_emoji.
        let (st, v) = s
            .post(Some(&bob), "/api/v1/chat.postMessage", json!({
                "channel": "#general", "text": "", "username": "CI", "alias": "ignored", "icon_url": "https://x.test/i.png",
                "icon_emoji": ":ghost:", "bot": { "i": "spoofed" },
                "attachments": [{ "color": "#ff0000", "title": "Build 7", "title_link": "https://ci.test/7", "text": "failed",
                                  "fields": [{ "title": "Branch", "value": "main", "short": true }], "footer": "kept" }]
            }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let m = &v["message"];
        assert_eq!(m["msg"], "");
        assert_eq!(m["alias"], "CI");
        assert_eq!(m["avatar"], "https://x.test/i.png");
        assert!(m.get("emoji").is_none());
        assert!(m.get("bot").is_none(), "clients cannot claim to be integrations");
        assert_eq!(m["parseUrls"], false);
        assert_eq!(m["attachments"][0]["color"], "#ff0000");
        assert_eq!(m["attachments"][0]["footer"], "kept", "unknown attachment keys round-trip");
        assert_eq!(m["attachments"][0]["fields"][0]["short"], true);

        // @user creates the DM; an id of a user works as a bare target too.
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "channel": "@admin", "text": "hi admin" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let dm = v["message"]["rid"].as_str().unwrap().to_string();
        let (_, v) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "roomId": s.admin.uid, "text": "again" })).await;
        assert_eq!(v["message"]["rid"], json!(dm));
        // Several targets: each gets it, the first is returned.
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "channel": ["#general", "@admin"], "text": "both" })).await;
        assert_eq!((st, v["channel"].clone()), (StatusCode::OK, json!("#general")));
        let (_, h) = s.get(Some(&s.admin), "/api/v1/im.history", &[("roomId", &dm)]).await;
        assert_eq!(h["messages"][0]["msg"], "both");

        for (target, err) in [("#nowhere", "[invalid-channel]"), ("@ghost", "[invalid-channel]"), ("plain-nothing", "[invalid-channel]")] {
            let (st, v) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "channel": target, "text": "x" })).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{target}");
            assert_eq!(v["error"], err);
            assert_eq!(v["errorType"], "invalid-channel");
        }
        // Nothing is sent anywhere when one target fails.
        let (_, before) = s.get(Some(&bob), "/api/v1/channels.messages", &[("roomId", "GENERAL")]).await;
        let (st, _) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "channel": ["#general", "#nowhere"], "text": "partial" })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (_, after) = s.get(Some(&bob), "/api/v1/channels.messages", &[("roomId", "GENERAL")]).await;
        assert_eq!(before["total"], after["total"]);
        s.stop().await;
    }

    async fn public_channels_are_joined_automatically(s: TestServer) {
        let alice = s.user("alice").await;
        let bob = s.user("bob").await;
        let rid = s.room(&alice, "channels", "news", &[]).await;
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "channel": "#news", "text": "I'm here" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (_, v) = s.get(Some(&alice), "/api/v1/channels.members", &[("roomId", &rid)]).await;
        assert_eq!(v["total"], 2);
        s.stop().await;
    }

    async fn attachment_and_size_validation(s: TestServer) {
        let cases: Vec<(Value, &str)> = vec![
            (json!([{ "title_link": "javascript:alert(1)" }]), "Invalid href value provided"),
            (json!([{ "image_url": "not a url" }]), "Invalid href value provided"),
            (json!([{ "fields": [{ "title": "t" }] }]), "Invalid attachment field, title and value is required"),
            (json!([{ "fields": [{ "title": "", "value": "v" }] }]), "Invalid attachment field, title and value is required"),
            (json!([{ "color": 5 }]), "Match error: Expected string in field attachments[0].color"),
            (json!([{ "collapsed": "yes" }]), "Match error: Expected boolean in field attachments[0].collapsed"),
        ];
        for (attachments, err) in cases {
            let (st, v) = s.post(Some(&s.admin), "/api/v1/chat.postMessage", json!({ "channel": "#general", "attachments": attachments })).await;
            assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!(err)), "{attachments}");
        }
        // A null attachment from a misbehaving sender is dropped, not a crash.
        let (st, v) = s.post(Some(&s.admin), "/api/v1/chat.postMessage", json!({ "channel": "#general", "text": "t", "attachments": [null, { "msg": " moved " }] })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["message"]["attachments"], json!([{ "text": "moved" }]));
        let long = "x".repeat(5001);
        let (st, v) = s.post(Some(&s.admin), "/api/v1/chat.postMessage", json!({ "channel": "#general", "text": long })).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "error-message-size-exceeded" })));
        let (st, _) = s.post(Some(&s.admin), "/api/v1/chat.postMessage", json!({ "channel": "#general", "text": "x".repeat(5000) })).await;
        assert_eq!(st, StatusCode::OK);
        s.stop().await;
    }

    async fn send_update_delete_get(s: TestServer) {
        let bob = s.user("bob").await;
        let eve = s.user("eve").await;
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.sendMessage", json!({ "message": { "rid": "GENERAL" } })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["message"]["msg"], "");
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.sendMessage", json!({ "message": { "rid": "GENERAL", "_id": "a1b2c3d4e5f6", "msg": "mine" } })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["message"]["_id"], "a1b2c3d4e5f6");
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.sendMessage", json!({ "message": { "rid": "GENERAL", "_id": "a1b2c3d4e5f6", "msg": "again" } })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-duplicate-message-id")));
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.sendMessage", json!({ "message": { "msg": "no room" } })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("invalid-params")));
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.sendMessage", json!({ "message": { "rid": "nope", "msg": "x" } })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-room")));
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.sendMessage", json!({ "message": { "rid": "GENERAL", "msg": "x", "t": "uj" } })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("Cannot send system messages using 'chat.sendMessage'")));

        // Update: the author may edit; someone else may not.
        let (st, v) = s.post(Some(&eve), "/api/v1/chat.update", json!({ "roomId": "GENERAL", "msgId": "a1b2c3d4e5f6", "text": "hijack" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-action-not-allowed")));
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.update", json!({ "roomId": "GENERAL", "msgId": "a1b2c3d4e5f6", "text": "edited" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["message"]["msg"], "edited");
        assert_eq!(v["message"]["editedBy"]["username"], "bob");
        assert!(v["message"]["editedAt"].as_str().unwrap().ends_with('Z'));
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.update", json!({ "roomId": "other", "msgId": "a1b2c3d4e5f6", "text": "x" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("The room id provided does not match where the message is from.")));
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.update", json!({ "roomId": "GENERAL", "msgId": "missing", "text": "x" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("No message found with the id of \"missing\".")));

        let (st, v) = s.get(Some(&eve), "/api/v1/chat.getMessage", &[("msgId", "a1b2c3d4e5f6")]).await;
        assert_eq!((st, v["message"]["msg"].clone()), (StatusCode::OK, json!("edited")));
        let (st, v) = s.get(Some(&eve), "/api/v1/chat.getMessage", &[("msgId", "missing")]).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false })));

        // Delete: not someone else's, yes one's own; the answer carries the id and ts as a string.
        let (st, _) = s.post(Some(&eve), "/api/v1/chat.delete", json!({ "roomId": "GENERAL", "msgId": "a1b2c3d4e5f6" })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.delete", json!({ "roomId": "GENERAL", "msgId": "a1b2c3d4e5f6" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["_id"], "a1b2c3d4e5f6");
        assert!(v["ts"].as_str().unwrap().chars().all(|c| c.is_ascii_digit()));
        assert_eq!(v["message"]["u"]["username"], "bob");
        let (st, _) = s.get(Some(&bob), "/api/v1/chat.getMessage", &[("msgId", "a1b2c3d4e5f6")]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        s.stop().await;
    }

    async fn message_paging_and_history_bounds(s: TestServer) {
        let rid = s.room(&s.admin, "channels", "paging", &[]).await;
        let mut stamps = Vec::new();
        for i in 0..7 {
            let m = s.say(&s.admin, &rid, &format!("m{i}")).await;
            stamps.push(m["ts"].as_str().unwrap().to_string());
        }
        let (_, v) = s.get(Some(&s.admin), "/api/v1/channels.messages", &[("roomId", &rid), ("count", "3"), ("offset", "2")]).await;
        assert_eq!((v["count"].clone(), v["offset"].clone(), v["total"].clone()), (json!(3), json!(2), json!(7)));
        let texts: Vec<&str> = v["messages"].as_array().unwrap().iter().map(|m| m["msg"].as_str().unwrap()).collect();
        assert_eq!(texts, ["m4", "m3", "m2"]);
        let (_, v) = s.get(Some(&s.admin), "/api/v1/channels.messages", &[("roomId", &rid), ("sort", r#"{"ts":1}"#), ("count", "2")]).await;
        let texts: Vec<&str> = v["messages"].as_array().unwrap().iter().map(|m| m["msg"].as_str().unwrap()).collect();
        assert_eq!(texts, ["m0", "m1"]);
        let (st, v) = s.get(Some(&s.admin), "/api/v1/channels.messages", &[("roomId", &rid), ("sort", "{bad")]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("invalid-params")));
        // history: latest is exclusive unless inclusive=true.
        let (_, v) = s.get(Some(&s.admin), "/api/v1/channels.history", &[("roomId", &rid), ("latest", &stamps[3]), ("count", "10")]).await;
        let n = v["messages"].as_array().unwrap().len();
        let (_, v2) = s.get(Some(&s.admin), "/api/v1/channels.history", &[("roomId", &rid), ("latest", &stamps[3]), ("inclusive", "true"), ("count", "10")]).await;
        assert!(v2["messages"].as_array().unwrap().len() > n);
        let (st, v) = s.get(Some(&s.admin), "/api/v1/channels.history", &[("roomId", &rid), ("latest", "not-a-date")]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-latest-param-invalid")));
        let (_, v) = s.get(Some(&s.admin), "/api/v1/channels.messages", &[("roomId", &rid), ("count", "500")]).await;
        assert_eq!(v["count"], 7, "count is capped, never more than asked");
        s.stop().await;
    }
}
