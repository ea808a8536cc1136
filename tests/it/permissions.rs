//! Roles and permissions: the catalogue, editing it, and its effect on what users may do.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::harness::TestServer;

backend_tests! {
    async fn catalogue_has_rocketchat_ids(s: TestServer) {
        let (st, v) = s.get(Some(&s.admin), "/api/v1/permissions.listAll", &[]).await;
        assert_eq!(st, StatusCode::OK);
        let perms = v["update"].as_array().unwrap();
        let roles_of = |id: &str| -> Vec<String> {
            let p = perms.iter().find(|p| p["_id"] == id).unwrap_or_else(|| panic!("permission {id} missing"));
            serde_json::from_value(p["roles"].clone()).unwrap()
        };
        for id in [
            "create-c", "create-p", "create-d", "view-c-room", "view-other-user-channels", "add-user-to-any-c-room",
            "add-user-to-any-p-room", "message-impersonate", "post-readonly", "edit-message", "delete-message",
            "view-room-administration", "manage-incoming-integrations", "manage-own-incoming-integrations",
            "manage-outgoing-integrations", "manage-own-outgoing-integrations",
        ] {
            roles_of(id);
        }
        assert_eq!(roles_of("message-impersonate"), ["bot", "app"]);
        assert_eq!(roles_of("manage-incoming-integrations"), ["admin"]);
        assert!(perms[0]["_updatedAt"].as_str().unwrap().ends_with('Z'));
        let (_, v) = s.get(Some(&s.admin), "/api/v1/roles.list", &[]).await;
        let ids: Vec<&str> = v["roles"].as_array().unwrap().iter().map(|r| r["_id"].as_str().unwrap()).collect();
        for r in ["admin", "user", "bot", "owner", "moderator"] {
            assert!(ids.contains(&r), "{r}");
        }
        s.stop().await;
    }

    async fn update_changes_what_users_may_do(s: TestServer) {
        let bob = s.user("bob").await;
        s.room(&bob, "channels", "first", &[]).await;
        let (st, v) = s.post(Some(&bob), "/api/v1/permissions.update", json!({ "permissions": [{ "_id": "create-c", "roles": ["admin"] }] })).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(v["errorType"], "error-unauthorized");

        let (st, v) = s.post(Some(&s.admin), "/api/v1/permissions.update", json!({ "permissions": [{ "_id": "create-c", "roles": ["admin"] }] })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let updated = v["permissions"].as_array().unwrap().iter().find(|p| p["_id"] == "create-c").unwrap().clone();
        assert_eq!(updated["roles"], json!(["admin"]));
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.create", json!({ "name": "second" })).await;
        assert_eq!((st, v), (StatusCode::FORBIDDEN, json!({ "success": false, "error": "unauthorized" })));

        // updatedSince returns only what changed.
        let since = updated["_updatedAt"].as_str().unwrap().to_string();
        let (_, v): (_, Value) = s.get(Some(&bob), "/api/v1/permissions.listAll", &[("updatedSince", "2000-01-01T00:00:00.000Z")]).await;
        assert!(v["update"].as_array().unwrap().len() > 10);
        let before = switchboard::util::iso(switchboard::util::parse_date(&since).unwrap() - 1);
        let (_, v) = s.get(Some(&bob), "/api/v1/permissions.listAll", &[("updatedSince", &before)]).await;
        assert_eq!(v["update"].as_array().unwrap().len(), 1);
        let (st, v) = s.get(Some(&bob), "/api/v1/permissions.listAll", &[("updatedSince", "yesterday-ish")]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-roomId-param-invalid")));

        let (st, v) = s.post(Some(&s.admin), "/api/v1/permissions.update", json!({ "permissions": [{ "_id": "no-such", "roles": [] }] })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-permission")));
        let (st, v) = s.post(Some(&s.admin), "/api/v1/permissions.update", json!({ "permissions": [{ "_id": "create-c", "roles": ["emperor"] }] })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-role")));
        let (st, v) = s.post(Some(&s.admin), "/api/v1/permissions.update", json!({ "permissions": "all" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-body-params")));
        s.stop().await;
    }
}
