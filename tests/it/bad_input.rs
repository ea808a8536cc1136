//! Malformed input gets a 4xx with Rocket.Chat's error body — never a 500, never a panic — and a body
//! over the limit gets a 413 with a JSON error.

use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::harness::{Backend, TestServer};

backend_tests! {
    async fn malformed_bodies_are_client_errors(s: TestServer) {
        let a = Some(&s.admin);
        for (ct, body) in [
            ("application/json", "{not json"),
            ("application/json", "[1,2,3]"),
            ("application/json", "\"just a string\""),
            ("application/json", "{\"name\": "),
        ] {
            let (st, v) = s.post_raw(a, "/api/v1/channels.create", ct, body).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
            assert_eq!(v["success"], false);
            assert_eq!(v["errorType"], "invalid-params");
        }
        // Wrong types.
        for (path, body) in [
            ("/api/v1/channels.create", json!({ "name": 42 })),
            ("/api/v1/users.create", json!({ "username": ["x"], "name": "n", "email": "e@x.org", "password": "p" })),
            ("/api/v1/chat.postMessage", json!({ "channel": 7, "text": "x" })),
            ("/api/v1/chat.postMessage", json!({ "channel": "#general", "text": { "nested": true } })),
            ("/api/v1/chat.postMessage", json!({ "channel": "#general", "attachments": [42] })),
            ("/api/v1/chat.update", json!({ "roomId": "GENERAL", "msgId": 1, "text": "x" })),
            ("/api/v1/users.update", json!({ "userId": "x", "data": "not an object" })),
            ("/api/v1/channels.invite", json!({ "roomId": "GENERAL", "usernames": "bob" })),
            ("/api/v1/permissions.update", json!({ "permissions": [{ "_id": "create-c", "roles": "admin" }] })),
            ("/api/v1/chat.sendMessage", json!({ "message": "hello" })),
        ] {
            let (st, v) = s.post(a, path, body.clone()).await;
            assert!(st.is_client_error(), "{path} {body}: {st} {v}");
            assert_eq!(v["success"], false, "{path}");
            assert!(v["error"].is_string(), "{path}: {v}");
        }
        // Unknown rooms and users.
        for (path, q) in [
            ("/api/v1/channels.info", ("roomId", "nope")),
            ("/api/v1/groups.info", ("roomName", "nope")),
            ("/api/v1/users.info", ("userId", "nope")),
            ("/api/v1/im.history", ("roomId", "nope")),
            ("/api/v1/channels.history", ("roomName", "nope")),
        ] {
            let (st, v) = s.get(a, path, &[q]).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        }
        let (st, v) = s.get(a, "/api/v1/channels.info", &[]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-roomid-param-not-provided")));
        // Unknown routes are JSON 404s.
        let (st, v) = s.get(a, "/api/v1/no.such.endpoint", &[]).await;
        assert_eq!((st, v), (StatusCode::NOT_FOUND, json!({ "success": false, "error": "Resource not found" })));
        // Authentication comes before validation.
        let (st, _) = s.post_raw(None, "/api/v1/channels.create", "application/json", "{broken").await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        s.stop().await;
    }

    async fn oversized_bodies_get_413(s: TestServer) {
        let big = format!("{{\"channel\":\"#general\",\"text\":\"{}\"}}", "x".repeat(1_100_000));
        let (st, v) = s.post_raw(Some(&s.admin), "/api/v1/chat.postMessage", "application/json", big).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(v["success"], false);
        // The server is still fine afterwards, and nothing was stored.
        let (_, h) = s.get(Some(&s.admin), "/api/v1/channels.messages", &[("roomId", "GENERAL")]).await;
        assert_eq!(h["total"], 1, "only the admin's join message: {h}");
        s.stop().await;
    }
}

#[tokio::test]
async fn body_limit_is_configurable() {
    let s = TestServer::start_with(Backend::Sqlite, &[("body_limit", "2048")]).await;
    let body = format!(
        "{{\"channel\":\"#general\",\"text\":\"{}\"}}",
        "y".repeat(3000)
    );
    let (st, v) = s
        .post_raw(
            Some(&s.admin),
            "/api/v1/chat.postMessage",
            "application/json",
            body,
        )
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (st, _) = s
        .post(
            Some(&s.admin),
            "/api/v1/chat.postMessage",
            json!({ "channel": "#general", "text": "small" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}
