//! `users.*`: creation rules and errors, info, list paging, update, delete.

use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::harness::TestServer;

backend_tests! {
    async fn create_validates_and_rejects_duplicates(s: TestServer) {
        let (st, v) = s
            .post(Some(&s.admin), "/api/v1/users.create", json!({ "username": "carol", "name": "Carol", "email": "carol@example.org", "password": "pw", "roles": ["user", "bot"] }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let u = &v["user"];
        assert_eq!(u["username"], "carol");
        assert_eq!(u["_id"].as_str().unwrap().len(), 17);
        assert_eq!(u["roles"], json!(["user", "bot"]));
        assert_eq!(u["active"], true);
        assert!(u["createdAt"].as_str().unwrap().ends_with('Z'));
        assert!(u.get("services").is_none() && u.get("password").is_none());

        let (st, v) = s
            .post(Some(&s.admin), "/api/v1/users.create", json!({ "username": "carol", "name": "C2", "email": "c2@example.org", "password": "pw" }))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["errorType"], "error-field-unavailable");
        assert_eq!(v["error"], "carol is already in use :( [error-field-unavailable]");
        let (st, v) = s
            .post(Some(&s.admin), "/api/v1/users.create", json!({ "username": "c3", "name": "C3", "email": "CAROL@example.org", "password": "pw" }))
            .await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-field-unavailable")));
        let (st, v) = s
            .post(Some(&s.admin), "/api/v1/users.create", json!({ "username": "bad name!", "name": "x", "email": "x@example.org", "password": "pw" }))
            .await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-input-is-not-a-valid-field")));
        let (st, v) = s.post(Some(&s.admin), "/api/v1/users.create", json!({ "username": "dave", "name": "Dave", "password": "pw" })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["errorType"], "invalid-params");
        assert_eq!(v["error"], "must have required property 'email' [invalid-params]");
        let (st, v) = s
            .post(Some(&s.admin), "/api/v1/users.create", json!({ "username": "erin", "name": "E", "email": "e@example.org", "password": "pw", "roles": ["nope"] }))
            .await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-action-not-allowed")));

        // A plain user may not create users.
        let carol = s.login("carol", "pw").await;
        let (st, v) = s
            .post(Some(&carol), "/api/v1/users.create", json!({ "username": "frank", "name": "F", "email": "f@example.org", "password": "pw" }))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"], "Adding user is not allowed [error-action-not-allowed]");
        s.stop().await;
    }

    async fn new_users_join_general_and_info_works(s: TestServer) {
        let bob = s.user("bob").await;
        let (st, v) = s.get(Some(&bob), "/api/v1/users.info", &[("username", "bob")]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["user"]["_id"], json!(bob.uid));
        assert_eq!(v["user"]["canViewAllInfo"], true);
        let (st, v) = s.get(Some(&bob), "/api/v1/users.info", &[("userId", &s.admin.uid)]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["user"]["username"], "admin");
        assert!(v["user"].get("emails").is_none(), "other users' emails are private: {v}");
        let (st, v) = s.get(Some(&bob), "/api/v1/users.info", &[("username", "ghost")]).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "User not found." })));
        let (_, v) = s.get(Some(&bob), "/api/v1/channels.list.joined", &[]).await;
        assert_eq!(v["channels"][0]["_id"], "GENERAL");
        s.stop().await;
    }

    async fn list_pages_with_count_offset_total(s: TestServer) {
        for n in ["u1", "u2", "u3"] {
            s.user(n).await;
        }
        // admin, rocket.cat and three users.
        let (st, v) = s.get(Some(&s.admin), "/api/v1/users.list", &[("count", "2"), ("offset", "1")]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["total"], 5);
        assert_eq!(v["count"], 2);
        assert_eq!(v["offset"], 1);
        let names: Vec<&str> = v["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["rocket.cat", "u1"]);
        s.stop().await;
    }

    async fn update_and_delete(s: TestServer) {
        let bob = s.user("bob").await;
        let (st, v) = s.post(Some(&bob), "/api/v1/users.update", json!({ "userId": bob.uid, "data": { "name": "Robert" } })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["user"]["name"], "Robert");
        let (st, v) = s.post(Some(&bob), "/api/v1/users.update", json!({ "userId": s.admin.uid, "data": { "name": "pwned" } })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"], "Editing user is not allowed [error-action-not-allowed]");
        let (st, _) = s.post(Some(&s.admin), "/api/v1/users.update", json!({ "userId": bob.uid, "data": { "password": "new-pw" } })).await;
        assert_eq!(st, StatusCode::OK);
        assert!(s.try_login("bob", "pw-123456").await.is_none());
        let bob = s.login("bob", "new-pw").await;

        let (st, v) = s.post(Some(&bob), "/api/v1/users.delete", json!({ "userId": s.admin.uid })).await;
        assert_eq!((st, v), (StatusCode::FORBIDDEN, json!({ "success": false, "error": "unauthorized" })));
        let (st, v) = s.post(Some(&s.admin), "/api/v1/users.delete", json!({ "username": "bob" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert!(s.try_login("bob", "new-pw").await.is_none());
        let (st, _) = s.get(Some(&bob), "/api/v1/me", &[]).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let (st, v) = s.post(Some(&s.admin), "/api/v1/users.delete", json!({ "username": "bob" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-user")));
        s.stop().await;
    }
}
