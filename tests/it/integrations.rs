//! The integrations API for incoming hooks: shapes, validation errors, the own/all permission model,
//! updates, removal, and compile errors stored at save time.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::harness::TestServer;

fn incoming(extra: Value) -> Value {
    let mut b = json!({ "type": "webhook-incoming", "name": "n", "enabled": true, "username": "rocket.cat", "channel": "#general", "scriptEnabled": false });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

backend_tests! {
    async fn create_shape_and_bot_role(s: TestServer) {
        let bob = s.user("bob").await;
        let (st, v) = s
            .post(Some(&s.admin), "/api/v1/integrations.create", incoming(json!({ "username": "bob", "channel": "#general, @admin", "alias": "CI", "emoji": ":robot:" })))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let i = &v["integration"];
        assert_eq!(i["type"], "webhook-incoming");
        assert_eq!(i["channel"], json!(["#general", "@admin"]));
        assert_eq!(i["userId"], json!(bob.uid));
        assert_eq!(i["username"], "bob");
        assert_eq!(i["overrideDestinationChannelEnabled"], false);
        assert_eq!(i["scriptEngine"], "isolated-vm");
        assert_eq!(i["_createdBy"]["username"], "admin");
        assert!(i["_createdAt"].as_str().unwrap().ends_with('Z'));
        let token = i["token"].as_str().unwrap();
        assert_eq!(token.len(), 48);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
        let (_, v) = s.get(Some(&s.admin), "/api/v1/users.info", &[("username", "bob")]).await;
        assert!(v["user"]["roles"].as_array().unwrap().contains(&json!("bot")), "post-as user gets the bot role");
        s.stop().await;
    }

    async fn validation_errors(s: TestServer) {
        let cases: Vec<(Value, &str)> = vec![
            (json!({ "channel": "" }), "error-invalid-channel"),
            (json!({ "channel": "general" }), "error-invalid-channel-start-with-chars"),
            (json!({ "channel": "#nowhere" }), "error-invalid-room"),
            (json!({ "channel": "@ghost" }), "error-invalid-room"),
            (json!({ "username": "" }), "error-invalid-username"),
            (json!({ "username": "ghost" }), "error-invalid-user"),
            (json!({ "name": "" }), "invalid-params"),
            (json!({ "enabled": "maybe" }), "invalid-params"),
            (json!({ "scriptEnabled": null }), "invalid-params"),
        ];
        for (extra, code) in cases {
            let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.create", incoming(extra.clone())).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{extra}: {v}");
            assert_eq!(v["errorType"], code, "{extra}: {v}");
        }
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.create", incoming(json!({ "type": "webhook-sideways" }))).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "Invalid integration type." })));
        s.stop().await;
    }

    async fn own_versus_all(s: TestServer) {
        let bob = s.user("bob").await;
        let (st, v) = s.post(Some(&bob), "/api/v1/integrations.create", incoming(json!({}))).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("not_authorized")));
        let (st, _) = s.get(Some(&bob), "/api/v1/integrations.list", &[]).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Give ordinary users "manage own incoming integrations".
        let (st, _) = s
            .post(Some(&s.admin), "/api/v1/permissions.update", json!({ "permissions": [{ "_id": "manage-own-incoming-integrations", "roles": ["admin", "user"] }] }))
            .await;
        assert_eq!(st, StatusCode::OK);
        let gid = s.room(&s.admin, "groups", "admins-only", &[]).await;
        let (st, v) = s.post(Some(&bob), "/api/v1/integrations.create", incoming(json!({ "channel": "#admins-only" }))).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-channel")), "{v}");
        let (st, v) = s.post(Some(&bob), "/api/v1/integrations.create", incoming(json!({ "name": "bob's" }))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let bobs = v["integration"]["_id"].as_str().unwrap().to_string();
        let admins = s.hook(&format!("#{gid}"), None, json!({ "name": "admin's" })).await;

        let (_, v) = s.get(Some(&bob), "/api/v1/integrations.list", &[]).await;
        assert_eq!(v["total"], 1);
        assert_eq!(v["integrations"][0]["_id"], json!(bobs));
        let (st, v) = s.get(Some(&bob), "/api/v1/integrations.get", &[("integrationId", &admins.id)]).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "not-authorized" })));
        let (st, v) = s.post(Some(&bob), "/api/v1/integrations.remove", json!({ "type": "webhook-incoming", "integrationId": admins.id })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("not_authorized")));
        let (_, v) = s.get(Some(&s.admin), "/api/v1/integrations.list", &[("type", "webhook-incoming")]).await;
        assert_eq!(v["total"], 2);
        assert_eq!(v["items"], 2);
        let (_, v) = s.get(Some(&s.admin), "/api/v1/integrations.list", &[("name", "ADMIN")]).await;
        assert_eq!(v["total"], 1);
        let (_, v) = s.get(Some(&s.admin), "/api/v1/integrations.list", &[("count", "1"), ("offset", "1")]).await;
        assert_eq!((v["count"].clone(), v["total"].clone(), v["offset"].clone()), (json!(1), json!(2), json!(1)));
        s.stop().await;
    }

    async fn update_remove_and_compile_errors(s: TestServer) {
        let h = s.hook("#general", Some("class Script { process_incoming_request( { return 1 } }"), json!({})).await;
        assert!(h.doc.get("scriptCompiled").is_none());
        assert_eq!(h.doc["scriptError"]["name"], "SyntaxError");
        assert!(!h.doc["scriptError"]["message"].as_str().unwrap().is_empty());
        let (_, v) = s.get(Some(&s.admin), "/api/v1/integrations.get", &[("integrationId", &h.id)]).await;
        assert_eq!(v["integration"]["scriptError"]["name"], "SyntaxError");

        let fixed = "class Script { process_incoming_request({ request }) { return { content: { text: 'fixed ' + request.content.n } }; } }";
        let (st, v) = s
            .client
            .put(s.url("/api/v1/integrations.update"))
            .header("X-User-Id", &s.admin.uid)
            .header("X-Auth-Token", &s.admin.token)
            .json(&json!({ "type": "webhook-incoming", "integrationId": h.id, "name": "renamed", "script": fixed, "scriptEnabled": true }))
            .send()
            .await
            .map(|r| (r.status(), r))
            .unwrap();
        let v: Value = v.json().await.unwrap();
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["integration"]["name"], "renamed");
        assert!(v["integration"].get("scriptError").is_none());
        assert!(v["integration"]["scriptCompiled"].is_string());
        assert_eq!(v["integration"]["token"], json!(h.token), "the token survives updates");
        assert_eq!(v["integration"]["_updatedBy"]["username"], "admin");
        let (st, _) = s.post(None, &h.url, json!({ "n": 1 })).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(s.latest("GENERAL", 1).await[0]["msg"], "fixed 1");

        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.update", json!({ "type": "webhook-incoming", "integrationId": "nope", "name": "x" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("No integration found.")));
        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.update", json!({ "type": "webhook-incoming", "integrationId": h.id, "username": "ghost" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-post-as-user")));

        let (st, v) = s.post(Some(&s.admin), "/api/v1/integrations.remove", json!({ "type": "webhook-incoming", "integrationId": h.id })).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["integration"]["_id"], json!(h.id));
        let (st, v) = s.post(None, &h.url, json!({ "n": 2 })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::UNAUTHORIZED, json!("Invalid integration id or token provided.")));
        let (st, v) = s.get(Some(&s.admin), "/api/v1/integrations.get", &[("integrationId", &h.id)]).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("The integration does not exists.")));
        let (st, v) = s.get(Some(&s.admin), "/api/v1/integrations.get", &[]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("invalid-params")));
        let (st, v) = s.get(Some(&s.admin), "/api/v1/integrations.history", &[("id", " ")]).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("Invalid integration id.")));
        s.stop().await;
    }
}
