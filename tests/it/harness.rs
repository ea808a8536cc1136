//! The shared test harness: a real Switchboard server on 127.0.0.1:0 with its own database (a fresh SQLite
//! file, or a fresh PostgreSQL database), and a small HTTP client that speaks its REST API.

use std::collections::HashMap;
use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard::config::Config;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_PASSWORD: &str = "admin-pass";

/// Which database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A logged-in user's REST credentials.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub struct Session {
    pub uid: String,
    pub token: String,
    pub username: String,
}

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub admin: Session,
    pub backend: Backend,
    pub database_url: String,
    pub data_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    pg_db: Option<String>,
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}_{}",
        std::process::id(),
        switchboard::util::random_id(10).to_lowercase()
    )
}

/// The PostgreSQL server used for tests: `SB_TEST_PG_URL`, or the local one.
pub fn pg_admin_url() -> String {
    std::env::var("SB_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    match admin.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{db}", &admin[..i]),
        _ => format!("{admin}/{db}"),
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, &[]).await
    }

    /// Starts a server with extra configuration overrides (dotted keys).
    pub async fn start_with(backend: Backend, overrides: &[(&str, &str)]) -> TestServer {
        let data_dir = std::env::temp_dir().join(unique("sb-test-"));
        let (database_url, pg_db) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", data_dir.join("test.db").display()),
                None,
            ),
            Backend::Postgres => {
                let db = unique("sb_test_");
                let pool = sqlx::PgPool::connect(&pg_admin_url())
                    .await
                    .expect("PostgreSQL for tests (set SB_TEST_PG_URL)");
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(&pool)
                    .await
                    .expect("create test database");
                pool.close().await;
                (pg_url_for(&db), Some(db))
            }
        };
        std::fs::create_dir_all(&data_dir).unwrap();
        Self::launch(backend, data_dir, database_url, pg_db, overrides).await
    }

    async fn launch(
        backend: Backend,
        data_dir: PathBuf,
        database_url: String,
        pg_db: Option<String>,
        overrides: &[(&str, &str)],
    ) -> TestServer {
        let mut o: Vec<(&str, String)> = vec![
            ("data_dir", data_dir.display().to_string()),
            ("database_url", database_url.clone()),
            ("admin_password", ADMIN_PASSWORD.into()),
            ("sqlite_synchronous", "normal".into()),
            ("log", "warn".into()),
        ];
        o.extend(overrides.iter().map(|(k, v)| (*k, v.to_string())));
        let cfg = Config::load(None, &HashMap::new(), &o).expect("test config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(switchboard::run(cfg, listener, async move {
            let _ = rx.await;
        }));
        let base = format!("http://{addr}");
        let client = reqwest::Client::new();
        let mut server = TestServer {
            base,
            client,
            admin: Session {
                uid: String::new(),
                token: String::new(),
                username: "admin".into(),
            },
            backend,
            database_url,
            data_dir,
            shutdown: Some(tx),
            handle: Some(handle),
            pg_db,
        };
        // The server seeds before it listens for real work; retry the first login briefly.
        let mut admin = None;
        for _ in 0..200 {
            if let Some(s) = server.try_login("admin", ADMIN_PASSWORD).await {
                admin = Some(s);
                break;
            }
            if server.handle.as_ref().is_some_and(|h| h.is_finished()) {
                let h = server.handle.take().unwrap();
                panic!("server exited during start: {:?}", h.await);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        server.admin = admin.expect("admin login");
        server
    }

    /// Stops the server gracefully and starts a new one on the same database (a restart).
    pub async fn restart(mut self) -> TestServer {
        self.stop_server().await;
        let pg_db = self.pg_db.take();
        let (backend, data_dir, url) = (
            self.backend,
            self.data_dir.clone(),
            self.database_url.clone(),
        );
        self.data_dir = PathBuf::new();
        Self::launch(backend, data_dir, url, pg_db, &[]).await
    }

    /// Stops the server gracefully, keeping its database (for `stop` or a test that checks the shutdown itself).
    /// Panics if the server does not stop within 20 s or `run` returned an error.
    pub async fn shutdown(&mut self) {
        self.stop_server().await;
    }

    async fn stop_server(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let res = tokio::time::timeout(std::time::Duration::from_secs(20), h).await;
            let res = res
                .expect("server shut down within 20 s")
                .expect("server task");
            res.expect("server ran without error");
        }
    }

    /// Shuts down, then removes the database.
    pub async fn stop(mut self) {
        self.stop_server().await;
        if let Some(db) = self.pg_db.take() {
            if let Ok(pool) = sqlx::PgPool::connect(&pg_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
        if !self.data_dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn try_login(&self, user: &str, password: &str) -> Option<Session> {
        let r = self
            .client
            .post(self.url("/api/v1/login"))
            .json(&json!({ "user": user, "password": password }))
            .send()
            .await
            .ok()?;
        if r.status() != StatusCode::OK {
            return None;
        }
        let v: Value = r.json().await.ok()?;
        Some(Session {
            uid: v["data"]["userId"].as_str()?.to_string(),
            token: v["data"]["authToken"].as_str()?.to_string(),
            username: user.to_string(),
        })
    }

    pub async fn login(&self, user: &str, password: &str) -> Session {
        self.try_login(user, password)
            .await
            .unwrap_or_else(|| panic!("login as {user}"))
    }

    fn authed(&self, rb: reqwest::RequestBuilder, s: Option<&Session>) -> reqwest::RequestBuilder {
        match s {
            Some(s) => rb
                .header("X-User-Id", &s.uid)
                .header("X-Auth-Token", &s.token),
            None => rb,
        }
    }

    async fn finish(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = rb.send().await.expect("request");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let v = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("non-JSON answer ({status}): {text}"));
        (status, v)
    }

    /// GET with query parameters.
    pub async fn get(
        &self,
        s: Option<&Session>,
        path: &str,
        query: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        Self::finish(self.authed(self.client.get(self.url(path)).query(query), s)).await
    }

    /// POST a JSON body.
    pub async fn post(&self, s: Option<&Session>, path: &str, body: Value) -> (StatusCode, Value) {
        Self::finish(self.authed(self.client.post(self.url(path)).json(&body), s)).await
    }

    /// POST a raw body with a content type.
    pub async fn post_raw(
        &self,
        s: Option<&Session>,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        Self::finish(
            self.authed(
                self.client
                    .post(self.url(path))
                    .header("content-type", content_type)
                    .body(body),
                s,
            ),
        )
        .await
    }

    /// Creates a user as the admin and logs in as them.
    pub async fn user(&self, username: &str) -> Session {
        let (st, v) = self
            .post(
                Some(&self.admin),
                "/api/v1/users.create",
                json!({ "username": username, "name": format!("{username} name"), "email": format!("{username}@example.org"), "password": "pw-123456" }),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "users.create {username}: {v}");
        self.login(username, "pw-123456").await
    }

    /// Creates a room of `kind` (`channels` or `groups`) owned by `owner`; returns its id.
    pub async fn room(&self, owner: &Session, kind: &str, name: &str, members: &[&str]) -> String {
        let (st, v) = self
            .post(
                Some(owner),
                &format!("/api/v1/{kind}.create"),
                json!({ "name": name, "members": members }),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{kind}.create {name}: {v}");
        let key = if kind == "channels" {
            "channel"
        } else {
            "group"
        };
        v[key]["_id"].as_str().unwrap().to_string()
    }

    /// Posts a message with chat.postMessage and returns it.
    pub async fn say(&self, s: &Session, channel: &str, text: &str) -> Value {
        let (st, v) = self
            .post(
                Some(s),
                "/api/v1/chat.postMessage",
                json!({ "channel": channel, "text": text }),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "postMessage: {v}");
        v["message"].clone()
    }
}

/// Declares each test once and runs it against both backends: `name::sqlite` and `name::postgres`. An optional
/// `#[config("key" = "value", …)]` before a test starts its servers with those configuration overrides.
#[macro_export]
macro_rules! backend_tests {
    ($($(#[config($($key:literal = $val:literal),* $(,)?)])? async fn $name:ident($server:ident: TestServer) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($server: TestServer) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let overrides: &[(&str, &str)] = &[$($(($key, $val)),*)?];
                    run($crate::harness::TestServer::start_with($crate::harness::Backend::Sqlite, overrides).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let overrides: &[(&str, &str)] = &[$($(($key, $val)),*)?];
                    run($crate::harness::TestServer::start_with($crate::harness::Backend::Postgres, overrides).await).await;
                }
            }
        )*
    };
}

/// Like [`backend_tests!`], with configuration overrides for every test in the block:
/// `backend_tests_with! { [("key", "value"), …]; async fn … }`.
#[macro_export]
macro_rules! backend_tests_with {
    ($overrides:expr; $(async fn $name:ident($server:ident: TestServer) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($server: TestServer) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::harness::TestServer::start_with($crate::harness::Backend::Sqlite, &$overrides).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::harness::TestServer::start_with($crate::harness::Backend::Postgres, &$overrides).await).await;
                }
            }
        )*
    };
}

/// An incoming integration as created through the API.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub struct Hook {
    pub id: String,
    pub token: String,
    pub url: String,
    pub doc: Value,
}

impl TestServer {
    /// Creates an incoming integration as the admin; `extra` adds or overrides fields.
    pub async fn hook(&self, channel: &str, script: Option<&str>, extra: Value) -> Hook {
        let mut body = json!({
            "type": "webhook-incoming", "name": "test hook", "enabled": true, "username": "rocket.cat",
            "channel": channel, "scriptEnabled": script.is_some(), "script": script.unwrap_or(""),
        });
        if let Value::Object(e) = extra {
            for (k, v) in e {
                body[k] = v;
            }
        }
        let (st, v) = self
            .post(Some(&self.admin), "/api/v1/integrations.create", body)
            .await;
        assert_eq!(st, StatusCode::OK, "integrations.create: {v}");
        let doc = v["integration"].clone();
        let id = doc["_id"].as_str().unwrap().to_string();
        let token = doc["token"].as_str().unwrap().to_string();
        Hook {
            url: format!("/hooks/{id}/{token}"),
            id,
            token,
            doc,
        }
    }

    /// The newest messages of a room, newest first.
    pub async fn latest(&self, rid: &str, n: usize) -> Vec<Value> {
        let (st, v) = self
            .get(
                Some(&self.admin),
                "/api/v1/channels.messages",
                &[("roomId", rid), ("count", &n.to_string())],
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v["messages"].as_array().unwrap().clone()
    }

    /// The recorded requests of a hook, newest first.
    pub async fn hook_history(&self, hook: &Hook) -> Vec<Value> {
        // Recording is written by the group commit right after the answer; give it a moment.
        for _ in 0..50 {
            let (st, v) = self
                .get(
                    Some(&self.admin),
                    "/api/v1/integrations.history",
                    &[("id", &hook.id)],
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let h = v["history"].as_array().unwrap().clone();
            if !h.is_empty() {
                return h;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        vec![]
    }
}
