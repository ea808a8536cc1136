//! Login (every accepted shape), logout, `me`, the 401 bodies, and personal access tokens.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::harness::{TestServer, ADMIN_PASSWORD};

fn sha256_hex(s: &str) -> String {
    switchboard::util::sha256_hex(s)
}

backend_tests! {
    async fn login_accepts_every_shape(s: TestServer) {
        for body in [
            json!({ "user": "admin", "password": ADMIN_PASSWORD }),
            json!({ "username": "admin", "password": ADMIN_PASSWORD }),
            json!({ "email": "admin@localhost", "password": ADMIN_PASSWORD }),
            json!({ "user": "admin@localhost", "password": ADMIN_PASSWORD }),
            json!({ "user": { "username": "admin" }, "password": { "digest": sha256_hex(ADMIN_PASSWORD), "algorithm": "sha-256" } }),
        ] {
            let (st, v) = s.post(None, "/api/v1/login", body.clone()).await;
            assert_eq!(st, StatusCode::OK, "{body}: {v}");
            assert_eq!(v["status"], "success");
            assert_eq!(v["data"]["userId"], json!(s.admin.uid));
            assert_eq!(v["data"]["me"]["username"], "admin");
            assert!(v["data"]["authToken"].as_str().unwrap().len() >= 40);
        }
        // Form-encoded, as some senders post.
        let (st, v) = s
            .post_raw(None, "/api/v1/login", "application/x-www-form-urlencoded", format!("user=admin&password={ADMIN_PASSWORD}"))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        // resume returns the same token.
        let (st, v) = s.post(None, "/api/v1/login", json!({ "resume": s.admin.token })).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["data"]["authToken"], json!(s.admin.token));
        s.stop().await;
    }

    async fn bad_credentials_get_the_rocketchat_401(s: TestServer) {
        let expected = json!({ "status": "error", "error": "Unauthorized", "message": "Unauthorized", "success": false });
        for body in [
            json!({ "user": "admin", "password": "wrong" }),
            json!({ "user": "nobody", "password": "x" }),
            json!({ "resume": "not-a-token" }),
            json!({ "user": "admin" }),
        ] {
            let (st, v) = s.post(None, "/api/v1/login", body).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED);
            assert_eq!(v, expected);
        }
        s.stop().await;
    }

    async fn me_and_logout(s: TestServer) {
        let (st, v) = s.get(Some(&s.admin), "/api/v1/me", &[]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["_id"], json!(s.admin.uid));
        assert_eq!(v["email"], "admin@localhost");
        assert!(v["roles"].as_array().unwrap().contains(&json!("admin")));
        assert!(v.get("services").unwrap().get("resume").is_none());
        assert!(v["avatarUrl"].as_str().unwrap().ends_with("/avatar/admin"));

        let unauth = json!({
            "success": false, "status": "error",
            "message": "You must be logged in to do this.", "error": "You must be logged in to do this."
        });
        let (st, v) = s.get(None, "/api/v1/me", &[]).await;
        assert_eq!((st, v), (StatusCode::UNAUTHORIZED, unauth.clone()));
        // A valid token with somebody else's id is rejected too.
        let bob = s.user("bob").await;
        let forged = crate::harness::Session { uid: bob.uid.clone(), ..s.admin.clone() };
        let (st, _) = s.get(Some(&forged), "/api/v1/me", &[]).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);

        let (st, v) = s.post(Some(&bob), "/api/v1/logout", json!({})).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["data"]["message"], "You've been logged out!");
        let (st, v) = s.get(Some(&bob), "/api/v1/me", &[]).await;
        assert_eq!((st, v), (StatusCode::UNAUTHORIZED, unauth));
        s.stop().await;
    }

    async fn personal_access_tokens(s: TestServer) {
        let bob = s.user("bob").await;
        let (st, v) = s.post(Some(&bob), "/api/v1/users.generatePersonalAccessToken", json!({ "tokenName": "alertmanager" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let pat = v["token"].as_str().unwrap().to_string();
        let (st, v) = s.post(Some(&bob), "/api/v1/users.generatePersonalAccessToken", json!({ "tokenName": "alertmanager" })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["errorType"], "error-token-already-exists");
        let (st, v) = s.post(Some(&bob), "/api/v1/users.generatePersonalAccessToken", json!({})).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("The 'tokenName' param is required")));

        // Logging out of the session leaves the PAT working.
        s.post(Some(&bob), "/api/v1/logout", json!({})).await;
        let via_pat = crate::harness::Session { uid: bob.uid.clone(), token: pat.clone(), username: "bob".into() };
        let (st, v) = s.get(Some(&via_pat), "/api/v1/me", &[]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["username"], "bob");
        let (st, v) = s.post(Some(&via_pat), "/api/v1/chat.postMessage", json!({ "channel": "#general", "text": "from a PAT" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");

        let (_, v) = s.get(Some(&via_pat), "/api/v1/users.getPersonalAccessTokens", &[]).await;
        assert_eq!(v["tokens"][0]["name"], "alertmanager");
        assert_eq!(v["tokens"][0]["lastTokenPart"], json!(&pat[pat.len() - 6..]));
        assert!(v["tokens"][0].get("token").is_none());
        let (st, _) = s.post(Some(&via_pat), "/api/v1/users.removePersonalAccessToken", json!({ "tokenName": "alertmanager" })).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = s.get(Some(&via_pat), "/api/v1/me", &[]).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        s.stop().await;
    }

    async fn tokens_are_stored_hashed(s: TestServer) {
        let bob = s.user("bob").await;
        let stored: Vec<String> = match s.backend {
            crate::harness::Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&s.database_url).await.unwrap();
                let rows: Vec<(String,)> = sqlx::query_as("SELECT hashed FROM login_tokens").fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.into_iter().map(|r| r.0).collect()
            }
            crate::harness::Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&s.database_url).await.unwrap();
                let rows: Vec<(String,)> = sqlx::query_as("SELECT hashed FROM login_tokens").fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.into_iter().map(|r| r.0).collect()
            }
        };
        assert!(!stored.is_empty());
        assert!(!stored.contains(&bob.token), "plain token found in the database");
        assert!(stored.contains(&switchboard::util::hash_token(&bob.token)));
        s.stop().await;
    }
}

/// The info endpoint answers without authentication.
#[tokio::test]
async fn api_info_is_public() {
    let s = TestServer::start(crate::harness::Backend::Sqlite).await;
    let (st, v) = s.get(None, "/api/info", &[]).await;
    assert_eq!(st, StatusCode::OK);
    let version = v["version"].as_str().unwrap();
    assert_eq!(
        version.split('.').count(),
        2,
        "anonymous callers get major.minor: {version}"
    );
    let (_, v): (_, Value) = s.get(Some(&s.admin), "/api/info", &[]).await;
    assert_eq!(v["version"].as_str().unwrap().split('.').count(), 3);
    s.stop().await;
}
