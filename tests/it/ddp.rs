//! DDP conformance (spec `realtime-ddp.md` §9, items 1–13) against the real server, on SQLite and on
//! PostgreSQL: each test gets a fresh `TestServer`, talks REST with reqwest and DDP with tokio-tungstenite.
//! Absence of an event is checked with a marker: a later event that must arrive on the same connection, since
//! a connection's frames are delivered in order.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::backend_tests;
use crate::harness::{Session, TestServer, ADMIN_PASSWORD};

const WAIT: Duration = Duration::from_secs(10);

/// The test server, with the REST and DDP helpers these tests use.
struct Server {
    t: TestServer,
    /// `127.0.0.1:<port>`.
    addr: String,
    http: reqwest::Client,
}

type Auth = Session;

impl Server {
    fn new(t: TestServer) -> Server {
        let addr = t.base.trim_start_matches("http://").to_string();
        let http = t.client.clone();
        Server { t, addr, http }
    }

    fn url(&self, path: &str) -> String {
        self.t.url(path)
    }

    async fn login(&self, user: &str, password: &str) -> Auth {
        self.t.login(user, password).await
    }

    async fn admin(&self) -> Auth {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// POSTs as `auth` and asserts `success: true`.
    async fn post(&self, auth: &Auth, path: &str, body: Value) -> Value {
        let (_, v) = self.t.post(Some(auth), path, body).await;
        assert_eq!(v["success"], json!(true), "{path}: {v}");
        v
    }

    /// Creates a user (password `pw-<name>`) and logs them in over REST.
    async fn user(&self, admin: &Auth, name: &str) -> Auth {
        self.post(
            admin,
            "/api/v1/users.create",
            json!({ "username": name, "name": name, "email": format!("{name}@example.org"), "password": format!("pw-{name}") }),
        )
        .await;
        self.login(name, &format!("pw-{name}")).await
    }

    async fn say(&self, auth: &Auth, channel: &str, text: &str) -> Value {
        self.post(
            auth,
            "/api/v1/chat.postMessage",
            json!({ "channel": channel, "text": text }),
        )
        .await["message"]
            .clone()
    }

    async fn ws(&self, path: &str) -> Ddp {
        Ddp::open(&self.addr, path).await
    }

    /// A raw DDP connection past `connected`.
    async fn ddp(&self) -> Ddp {
        let mut c = self.ws("/websocket").await;
        assert_eq!(c.recv_text().await, r#"{"server_id":"0"}"#);
        c.send(json!({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}))
            .await;
        assert_eq!(c.recv().await["msg"], json!("connected"));
        c
    }

    /// A connection logged in as `user` with the password `password`.
    async fn ddp_as(&self, user: &str, password: &str) -> Ddp {
        let mut c = self.ddp().await;
        let r = c
            .call(
                "login",
                json!([{ "user": { "username": user }, "password": password }]),
            )
            .await;
        assert!(r.get("result").is_some(), "login failed: {r}");
        c
    }

    /// Stops the server gracefully (panics if `run` failed or took too long); the database stays until `stop`.
    async fn shutdown(&mut self) {
        self.t.shutdown().await;
    }

    /// Stops the server and removes its database.
    async fn stop(self) {
        self.t.stop().await;
    }
}

/// A DDP client over tokio-tungstenite. Frames read while looking for something else are kept, in order.
struct Ddp {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    backlog: VecDeque<String>,
    next_id: u64,
}

impl Ddp {
    async fn open(addr: &str, path: &str) -> Ddp {
        // Nagle off, as Python `websockets` and browsers do, so back-to-back frames leave at once.
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(format!("ws://{addr}{path}"), None, true)
                .await
                .expect("websocket handshake");
        Ddp {
            ws,
            backlog: VecDeque::new(),
            next_id: 0,
        }
    }

    async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    /// The next text frame from the wire, or `None` when the socket closed.
    async fn next_wire(&mut self, wait: Duration) -> Option<String> {
        loop {
            match tokio::time::timeout(wait, self.ws.next())
                .await
                .expect("timed out waiting for a frame")
            {
                Some(Ok(Message::Text(t))) => return Some(t.to_string()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    async fn recv_text(&mut self) -> String {
        if let Some(t) = self.backlog.pop_front() {
            return t;
        }
        self.next_wire(WAIT).await.expect("socket closed")
    }

    async fn recv(&mut self) -> Value {
        let t = self.recv_text().await;
        serde_json::from_str(&t).unwrap_or_else(|_| panic!("not JSON: {t}"))
    }

    /// The first frame matching `pred`; frames before it stay queued for later `recv`s.
    async fn recv_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self
            .backlog
            .iter()
            .position(|t| serde_json::from_str::<Value>(t).is_ok_and(|v| pred(&v)))
        {
            let t = self.backlog.remove(i).unwrap();
            return serde_json::from_str(&t).unwrap();
        }
        loop {
            let t = self.next_wire(WAIT).await.expect("socket closed");
            let v: Value = serde_json::from_str(&t).unwrap();
            if pred(&v) {
                return v;
            }
            self.backlog.push_back(t);
        }
    }

    /// Drops queued frames (after a test has looked at what it needs from them).
    fn take_backlog(&mut self) -> Vec<Value> {
        self.backlog
            .drain(..)
            .map(|t| serde_json::from_str(&t).unwrap())
            .collect()
    }

    /// Calls a method and returns its `result` frame, checking that `updated` follows it.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = format!("m{}", self.next_id);
        self.send(json!({ "msg": "method", "id": id, "method": method, "params": params }))
            .await;
        let result = self
            .recv_where(|v| v["msg"] == "result" && v["id"] == json!(id))
            .await;
        let updated = self
            .recv_where(|v| v["msg"] == "updated" || (v["msg"] == "result"))
            .await;
        assert_eq!(updated, json!({ "msg": "updated", "methods": [id] }));
        result
    }

    /// Subscribes and returns the `ready` or `nosub` answer (with an `added` first, if any, left queued).
    async fn sub(&mut self, id: &str, name: &str, params: Value) -> Value {
        self.send(json!({ "msg": "sub", "id": id, "name": name, "params": params }))
            .await;
        self.recv_where(|v| {
            (v["msg"] == "ready" && v["subs"] == json!([id]))
                || (v["msg"] == "nosub" && v["id"] == id)
        })
        .await
    }

    /// Waits for the socket to close; true if it did within `wait`.
    async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.ws.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

fn is_changed(v: &Value, event: &str) -> bool {
    v["msg"] == "changed" && v["fields"]["eventName"] == event
}

fn changed_text(v: &Value, event: &str, text: &str) -> bool {
    is_changed(v, event) && v["fields"]["args"][0]["msg"] == text
}

// ---- 1. greeting, connect forms, failed negotiation, connection-level errors --------------------------------

backend_tests! {
    async fn greeting_and_the_three_connect_forms(server: TestServer) {
        let s = Server::new(server);
        let forms = [
            json!({"msg": "connect", "version": "1", "support": ["1"]}),
            json!({"msg": "connect", "version": "pre2", "support": ["pre2"]}),
            json!({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}),
        ];
        for (form, path) in forms
            .iter()
            .zip(["/websocket", "/websocket/?x=1", "/sockjs/websocket"])
        {
            let mut c = s.ws(path).await;
            assert_eq!(c.recv_text().await, r#"{"server_id":"0"}"#, "{path}");
            c.send(form.clone()).await;
            let connected = c.recv().await;
            assert_eq!(connected["msg"], "connected", "{form}");
            assert!(connected["session"].as_str().is_some_and(|s| !s.is_empty()));
        }
        s.stop().await;
    }
}

backend_tests! {
    async fn unsupported_version_fails_and_closes(server: TestServer) {
        let s = Server::new(server);
        for (form, version) in [
            (
                json!({"msg": "connect", "version": "2", "support": ["2"]}),
                "1",
            ),
            (
                json!({"msg": "connect", "version": "1", "support": ["pre2"]}),
                "1",
            ),
            (
                json!({"msg": "connect", "version": "pre2", "support": ["pre1", "pre2"]}),
                "pre1",
            ),
        ] {
            let mut c = s.ws("/websocket").await;
            c.recv_text().await;
            c.send(form).await;
            assert_eq!(c.recv().await, json!({"msg": "failed", "version": version}));
            assert!(c.closed_within(WAIT).await);
        }
        s.stop().await;
    }
}

backend_tests! {
    async fn connection_level_errors_keep_the_socket(server: TestServer) {
        let s = Server::new(server);
        let mut c = s.ws("/websocket").await;
        c.recv_text().await;
        c.send(json!({"msg": "method", "id": "1", "method": "x"}))
            .await;
        let e = c.recv().await;
        assert_eq!(e["msg"], "error");
        assert_eq!(e["reason"], "Must connect first");
        assert_eq!(e["offendingMessage"]["id"], "1");
        c.send_text("{not json").await;
        assert_eq!(
            c.recv().await,
            json!({"msg": "error", "reason": "Parse error"})
        );
        c.send(json!({"hello": 1})).await;
        let e = c.recv().await;
        assert_eq!(e["reason"], "Bad request");
        assert_eq!(e["offendingMessage"], json!({"hello": 1}));
        c.send(json!({"msg": "connect", "version": "1", "support": ["1"]}))
            .await;
        assert_eq!(c.recv().await["msg"], "connected");
        c.send(json!({"msg": "connect", "version": "1", "support": ["1"]}))
            .await;
        assert_eq!(c.recv().await["reason"], "Already connected");
        c.send(json!({"msg": "what"})).await;
        assert_eq!(c.recv().await["reason"], "Bad request");
        c.send(json!({"msg": "method", "id": 5, "method": "x"}))
            .await;
        assert_eq!(c.recv().await["reason"], "Malformed method invocation");
        c.send(json!({"msg": "method", "id": "5", "method": "x", "params": {}}))
            .await;
        assert_eq!(c.recv().await["reason"], "Malformed method invocation");
        c.send(json!({"msg": "sub", "id": "5", "name": 3})).await;
        assert_eq!(c.recv().await["reason"], "Malformed subscription");
        // A frame that fails deep inside (EJSON `$type`) is a method error, not a crash.
        let r = c
            .call("rooms/get", json!([{"$type": "x", "$value": 1}]))
            .await;
        assert_eq!(r["error"]["error"], json!(400));
        // Still open and serving.
        c.send(json!({"msg": "ping", "id": "after"})).await;
        assert_eq!(c.recv().await, json!({"msg": "pong", "id": "after"}));
        s.stop().await;
    }
}

// ---- 2. connect + login back to back --------------------------------------------------------------------

backend_tests! {
    async fn connect_and_login_in_one_segment(server: TestServer) {
        let s = Server::new(server);
        let mut c = s.ws("/websocket").await;
        assert_eq!(c.recv_text().await, r#"{"server_id":"0"}"#);
        // `feed` queues without flushing, so both frames leave in one write, as rocketchat-async sends them.
        c.ws.feed(Message::text(
            json!({"msg": "connect", "version": "1", "support": ["1"]}).to_string(),
        ))
        .await
        .unwrap();
        c.ws.feed(Message::text(
            json!({"msg": "method", "method": "login", "id": "1", "params": [
                {"user": {"username": "admin"}, "password": {"digest": sha256_hex(ADMIN_PASSWORD), "algorithm": "sha-256"}}
            ]})
            .to_string(),
        ))
        .await
        .unwrap();
        // And a subscription right behind the login must see the logged-in user.
        c.ws.feed(Message::text(
            json!({"msg": "sub", "id": "2", "name": "stream-room-messages", "params": ["__my_messages__", false]})
                .to_string(),
        ))
        .await
        .unwrap();
        c.ws.flush().await.unwrap();
        assert_eq!(c.recv().await["msg"], "connected");
        let r = c.recv().await;
        assert_eq!(r["msg"], "result");
        assert_eq!(r["id"], "1");
        assert!(r["result"]["id"].is_string());
        assert_eq!(c.recv().await, json!({"msg": "updated", "methods": ["1"]}));
        assert_eq!(c.recv().await, json!({"msg": "ready", "subs": ["2"]}));
        s.stop().await;
    }
}

// ---- 3. ping / pong -------------------------------------------------------------------------------------

backend_tests! {
    async fn ping_pong_with_and_without_id(server: TestServer) {
        let s = Server::new(server);
        let mut c = s.ddp().await;
        c.send(json!({"msg": "ping", "id": "17"})).await;
        assert_eq!(c.recv_text().await, r#"{"msg":"pong","id":"17"}"#);
        c.send(json!({"msg": "ping"})).await;
        assert_eq!(c.recv_text().await, r#"{"msg":"pong"}"#);
        // An id-less pong (rocketchat-async answers server pings that way) is accepted silently.
        c.send(json!({"msg": "pong"})).await;
        c.send(json!({"msg": "pong", "id": "whatever"})).await;
        c.send(json!({"msg": "ping", "id": "x"})).await;
        assert_eq!(c.recv().await, json!({"msg": "pong", "id": "x"}));
        // Pings are answered ahead of a slow method queued before them (a password login).
        c.send(
            json!({"msg": "method", "id": "slow", "method": "login", "params": [
                {"user": {"username": "admin"}, "password": ADMIN_PASSWORD}
            ]}),
        )
        .await;
        c.send(json!({"msg": "ping", "id": "fast"})).await;
        assert_eq!(c.recv().await, json!({"msg": "pong", "id": "fast"}));
        assert_eq!(c.recv().await["id"], "slow");
        s.stop().await;
    }
}

// ---- 4. heartbeat ---------------------------------------------------------------------------------------

backend_tests! {
    #[config("realtime.ping_after_secs" = "1", "realtime.close_after_secs" = "1")]
    async fn heartbeat_pings_idle_clients_then_closes(server: TestServer) {
        let s = Server::new(server);
        let mut c = s.ddp().await;
        let started = tokio::time::Instant::now();
        assert_eq!(c.recv_text().await, r#"{"msg":"ping"}"#);
        assert!(started.elapsed() >= Duration::from_millis(900));
        // Not answering: the server gives up about a second later.
        assert!(c.closed_within(Duration::from_secs(5)).await);

        // Answering keeps the connection alive across several intervals.
        let mut c = s.ddp().await;
        for _ in 0..3 {
            assert_eq!(c.recv_text().await, r#"{"msg":"ping"}"#);
            c.send(json!({"msg": "pong"})).await;
        }
        c.send(json!({"msg": "ping", "id": "alive"})).await;
        assert_eq!(c.recv().await, json!({"msg": "pong", "id": "alive"}));

        // Any frame resets the timer: traffic every 400 ms means no server ping for 2 s.
        let mut c = s.ddp().await;
        for i in 0..5 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            c.send(json!({"msg": "ping", "id": i.to_string()})).await;
            assert_eq!(c.recv().await, json!({"msg": "pong", "id": i.to_string()}));
        }

        // pre1 sessions get no server pings, and their pings are bad requests.
        let mut c = s.ws("/websocket").await;
        c.recv_text().await;
        c.send(json!({"msg": "connect", "version": "pre1", "support": ["pre1"]}))
            .await;
        assert_eq!(c.recv().await["msg"], "connected");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        c.send(json!({"msg": "ping", "id": "1"})).await;
        assert_eq!(c.recv().await["reason"], "Bad request");
        s.stop().await;
    }
}

// ---- 5. login -------------------------------------------------------------------------------------------

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn assert_login_result(r: &Value, uid: &str, kind: &str) -> String {
    let res = &r["result"];
    assert_eq!(res["id"], uid, "{r}");
    assert_eq!(res["type"], kind);
    assert!(res["tokenExpires"]["$date"].is_i64(), "{r}");
    assert!(res["tokenExpires"]["$date"].as_i64().unwrap() > 0);
    res["token"].as_str().expect("token").to_string()
}

backend_tests! {
    async fn login_variants(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        let bob = s.user(&admin, "bob").await;

        // digest
        let mut c = s.ddp().await;
        let r = c
            .call(
                "login",
                json!([{"user": {"username": "bob"}, "password": {"digest": sha256_hex("pw-bob"), "algorithm": "sha-256"}}]),
            )
            .await;
        let token = assert_login_result(&r, &bob.uid, "password");
        // The token works on REST too.
        let me: Value = s
            .http
            .get(s.url("/api/v1/me"))
            .header("X-User-Id", &bob.uid)
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], "bob");

        // plain text (SDK 0.2.x) and by email, on fresh connections
        let mut c = s.ddp().await;
        let r = c
            .call(
                "login",
                json!([{"user": {"username": "bob"}, "password": "pw-bob"}]),
            )
            .await;
        assert_login_result(&r, &bob.uid, "password");
        let mut c = s.ddp().await;
        let r = c
            .call(
                "login",
                json!([{"user": {"email": "bob@example.org"}, "password": {"digest": sha256_hex("pw-bob"), "algorithm": "sha-256"}}]),
            )
            .await;
        assert_login_result(&r, &bob.uid, "password");

        // resume with a REST session token
        let mut c = s.ddp().await;
        let r = c.call("login", json!([{"resume": bob.token}])).await;
        assert_eq!(assert_login_result(&r, &bob.uid, "resume"), bob.token);

        // resume with a personal access token
        let pat = s
            .post(
                &bob,
                "/api/v1/users.generatePersonalAccessToken",
                json!({"tokenName": "x"}),
            )
            .await["token"]
            .as_str()
            .expect("PAT")
            .to_string();
        let mut c = s.ddp().await;
        let r = c.call("login", json!([{"resume": pat}])).await;
        assert_login_result(&r, &bob.uid, "resume");

        // failures carry a `reason` (rocketchat-async raises with it)
        let mut c = s.ddp().await;
        let r = c
            .call(
                "login",
                json!([{"user": {"username": "bob"}, "password": "nope"}]),
            )
            .await;
        assert!(r.get("result").is_none());
        assert_eq!(r["error"]["error"], json!(403));
        assert_eq!(r["error"]["reason"], "Incorrect password");
        assert_eq!(r["error"]["errorType"], "Meteor.Error");
        let r = c
            .call(
                "login",
                json!([{"user": {"username": "nobody"}, "password": "x"}]),
            )
            .await;
        assert_eq!(r["error"]["reason"], "User not found");
        let r = c.call("login", json!([{"resume": "not-a-token"}])).await;
        assert_eq!(r["error"]["error"], json!(403));
        assert_eq!(
            r["error"]["reason"],
            "You've been logged out by the server. Please log in again."
        );
        let r = c.call("login", json!([{"ldap": true}])).await;
        assert_eq!(r["error"]["error"], json!(400));
        assert_eq!(
            r["error"]["reason"],
            "Unrecognized options for login request"
        );
        let r = c.call("login", json!(["x"])).await;
        assert_eq!(r["error"]["reason"], "Match failed");
        // Not logged in after all that.
        let r = c
            .call("sendMessage", json!([{"rid": "GENERAL", "msg": "x"}]))
            .await;
        assert_eq!(r["error"]["error"], "error-invalid-user");

        // logout forgets the user and revokes the session token
        let mut c = s.ddp().await;
        let r = c.call("login", json!([{"resume": bob.token}])).await;
        assert!(r.get("result").is_some());
        let r = c.call("logout", json!([])).await;
        assert!(r.get("result").is_none() && r.get("error").is_none(), "{r}");
        assert_eq!(c.call("rooms/get", json!([])).await["result"], json!([]));
        let r = c.call("login", json!([{"resume": bob.token}])).await;
        assert_eq!(r["error"]["error"], json!(403));
        s.stop().await;
    }
}

// ---- 6. rooms/get, subscriptions/get and the other read methods ---------------------------------------

backend_tests! {
    async fn rooms_and_subscriptions_get_both_shapes(server: TestServer) {
        let s = Server::new(server);
        let mut c = s.ddp().await;
        assert_eq!(c.call("rooms/get", json!([])).await["result"], json!([]));
        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        let r = c.call("rooms/get", json!([])).await;
        let rooms = r["result"].as_array().expect("array");
        let general = rooms
            .iter()
            .find(|r| r["_id"] == "GENERAL")
            .expect("GENERAL");
        assert_eq!(general["t"], "c");
        assert!(general["_updatedAt"]["$date"].is_i64());
        let r = c.call("rooms/get", json!([{"$date": 0}])).await;
        assert!(r["result"]["update"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["_id"] == "GENERAL"));
        assert_eq!(r["result"]["remove"], json!([]));
        let r = c
            .call("rooms/get", json!([{"$date": 32503680000000_i64}]))
            .await;
        assert_eq!(r["result"], json!({"update": [], "remove": []}));

        let r = c.call("subscriptions/get", json!([])).await;
        let subs = r["result"].as_array().expect("array");
        assert!(subs
            .iter()
            .any(|s| s["rid"] == "GENERAL" && s["ls"]["$date"].is_i64()));
        let r = c.call("subscriptions/get", json!([{"$date": 0}])).await;
        assert!(r["result"]["update"].is_array());
        assert!(r["result"]["remove"].is_array());

        assert_eq!(
            c.call("getRoomIdByNameOrId", json!(["general"])).await["result"],
            "GENERAL"
        );
        assert_eq!(
            c.call("getRoomNameById", json!(["GENERAL"])).await["result"],
            "general"
        );
        let r = c.call("getRoomIdByNameOrId", json!(["no-such-room"])).await;
        assert_eq!(r["error"]["error"], "error-not-allowed");
        assert_eq!(
            r["error"]["details"],
            json!({"method": "getRoomIdByNameOrId"})
        );
        s.stop().await;
    }
}

// ---- 7. error shape -------------------------------------------------------------------------------------

backend_tests! {
    async fn unknown_method_error_shape_and_updated(server: TestServer) {
        let s = Server::new(server);
        let mut c = s.ddp().await;
        c.send(json!({"msg": "method", "id": "7", "method": "no/such", "params": []}))
            .await;
        let r = c.recv().await;
        assert_eq!(
            r,
            json!({"msg": "result", "id": "7", "error": {
                "isClientSafe": true, "error": 404, "reason": "Method 'no/such' not found",
                "message": "Method 'no/such' not found [404]", "errorType": "Meteor.Error"
            }})
        );
        assert_eq!(c.recv().await, json!({"msg": "updated", "methods": ["7"]}));
        // A method that returns nothing has no `result` key at all.
        c.send(json!({"msg": "method", "id": "8", "method": "UserPresence:online", "params": []}))
            .await;
        assert_eq!(c.recv_text().await, r#"{"msg":"result","id":"8"}"#);
        assert_eq!(c.recv().await, json!({"msg": "updated", "methods": ["8"]}));
        s.stop().await;
    }
}

// ---- 8. stream-room-messages, the three option forms ----------------------------------------------------

backend_tests! {
    async fn room_messages_three_option_forms(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        let alice = s.user(&admin, "alice").await;
        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        assert_eq!(
            c.sub("s1", "stream-room-messages", json!(["GENERAL", false]))
                .await,
            json!({"msg": "ready", "subs": ["s1"]})
        );
        assert_eq!(
            c.sub(
                "s2",
                "stream-room-messages",
                json!(["GENERAL", {"useCollection": false, "args": []}])
            )
            .await["msg"],
            "ready"
        );
        c.send(json!({"msg": "sub", "id": "s3", "name": "stream-room-messages", "params": ["GENERAL", true]}))
            .await;
        assert_eq!(
            c.recv().await,
            json!({"msg": "added", "collection": "stream-room-messages", "id": "id", "fields": {"eventName": "GENERAL"}})
        );
        assert_eq!(c.recv().await, json!({"msg": "ready", "subs": ["s3"]}));
        // A repeated sub id is ignored (no second ready).

        c.send(json!({"msg": "sub", "id": "s3", "name": "stream-room-messages", "params": ["GENERAL", false]}))
            .await;

        let posted = s.say(&alice, "#general", "hi").await;
        s.say(&alice, "#general", "marker").await;
        let mut his = 0;
        loop {
            let v = c.recv().await;
            assert_eq!(v["msg"], "changed", "{v}");
            assert_eq!(v["collection"], "stream-room-messages");
            assert_eq!(v["id"], "id");
            assert_eq!(v["fields"]["eventName"], "GENERAL");
            let args = v["fields"]["args"].as_array().unwrap();
            assert_eq!(args.len(), 1);
            let m = &args[0];
            if m["msg"] == "marker" {
                break;
            }
            assert_eq!(m["msg"], "hi");
            assert_eq!(m["_id"], posted["_id"]);
            assert_eq!(m["rid"], "GENERAL");
            assert_eq!(m["u"]["_id"], alice.uid);
            assert_eq!(m["u"]["username"], "alice");
            assert!(m["ts"]["$date"].is_i64(), "{m}");
            assert!(m["_updatedAt"]["$date"].is_i64());
            his += 1;
        }
        assert_eq!(his, 3, "one changed per subscription");
        s.stop().await;
    }
}

// ---- 9. __my_messages__ -----------------------------------------------------------------------------------

backend_tests! {
    async fn my_messages_with_metadata(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        let alice = s.user(&admin, "alice").await;
        s.post(
            &alice,
            "/api/v1/channels.create",
            json!({"name": "alices-channel"}),
        )
        .await;
        s.post(
            &alice,
            "/api/v1/groups.create",
            json!({"name": "alices-group"}),
        )
        .await;
        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        c.send(json!({"msg": "sub", "id": "my", "name": "stream-room-messages", "params": ["__my_messages__", true]}))
            .await;
        assert_eq!(
            c.recv().await,
            json!({"msg": "added", "collection": "stream-room-messages", "id": "id", "fields": {"eventName": "__my_messages__"}})
        );
        assert_eq!(c.recv().await, json!({"msg": "ready", "subs": ["my"]}));

        s.say(&alice, "#general", "in general").await;
        let v = c.recv().await;
        assert!(changed_text(&v, "__my_messages__", "in general"), "{v}");
        assert_eq!(
            v["fields"]["args"][1],
            json!({"roomParticipant": true, "roomType": "c", "roomName": "general"})
        );
        assert!(v["fields"]["args"][0]["ts"]["$date"].is_i64());

        // A public channel the admin is not in: delivered, as a non-participant. A private group: not at all.
        s.say(&alice, "#alices-group", "secret").await;
        s.say(&alice, "#alices-channel", "public").await;
        let v = c.recv().await;
        assert!(changed_text(&v, "__my_messages__", "public"), "{v}");
        assert_eq!(
            v["fields"]["args"][1],
            json!({"roomParticipant": false, "roomType": "c", "roomName": "alices-channel"})
        );

        // A DM is a participant's room.
        let dm = c.call("createDirectMessage", json!(["alice"])).await;
        let rid = dm["result"]["rid"].as_str().expect("rid").to_string();
        assert_eq!(dm["result"]["t"], "d");
        c.take_backlog();
        s.post(
            &alice,
            "/api/v1/chat.postMessage",
            json!({"roomId": rid, "text": "psst"}),
        )
        .await;
        let v = c
            .recv_where(|v| changed_text(v, "__my_messages__", "psst"))
            .await;
        assert_eq!(v["fields"]["args"][1]["roomParticipant"], true);
        assert_eq!(v["fields"]["args"][1]["roomType"], "d");
        s.stop().await;
    }
}

// ---- 10. refused subscriptions ----------------------------------------------------------------------------

backend_tests! {
    async fn subscriptions_refused_when_not_allowed(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        let alice = s.user(&admin, "alice").await;
        let group = s
            .post(
                &alice,
                "/api/v1/groups.create",
                json!({"name": "private-one"}),
            )
            .await["group"]["_id"]
            .as_str()
            .unwrap()
            .to_string();
        let not_allowed = json!({"isClientSafe": true, "error": "not-allowed", "message": "[not-allowed]", "errorType": "Meteor.Error"});

        // Not logged in.
        let mut anon = s.ddp().await;
        let r = anon
            .sub("a", "stream-room-messages", json!(["GENERAL", false]))
            .await;
        assert_eq!(r, json!({"msg": "nosub", "id": "a", "error": not_allowed}));

        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        let r = c
            .sub("g", "stream-room-messages", json!([group, false]))
            .await;
        assert_eq!(r, json!({"msg": "nosub", "id": "g", "error": not_allowed}));
        let r = c
            .sub(
                "u",
                "stream-notify-user",
                json!([format!("{}/rooms-changed", alice.uid), false]),
            )
            .await;
        assert_eq!(r, json!({"msg": "nosub", "id": "u", "error": not_allowed}));
        let r = c
            .sub(
                "r",
                "stream-notify-room",
                json!([format!("{group}/user-activity"), false]),
            )
            .await;
        assert_eq!(r["error"]["error"], "not-allowed");
        let r = c.sub("e", "stream-room-messages", json!(["", false])).await;
        assert_eq!(r["error"]["error"], "invalid-event-name");
        let r = c.sub("x", "no-such-publication", json!([])).await;
        assert_eq!(r["error"]["error"], json!(404));
        assert_eq!(
            r["error"]["reason"],
            "Subscription 'no-such-publication' not found"
        );

        // The ones every client makes are accepted.
        for (id, name, params) in [
            ("l", "meteor.loginServiceConfiguration", json!([])),
            ("v", "meteor_autoupdate_clientVersions", json!([])),
            (
                "na",
                "stream-notify-all",
                json!(["public-settings-changed", false]),
            ),
            ("nl", "stream-notify-logged", json!(["user-status", false])),
            ("p", "stream-user-presence", json!(["", false])),
        ] {
            assert_eq!(c.sub(id, name, params).await["msg"], "ready", "{name}");
        }
        // The owner's own stream-notify-user works and carries room changes.
        let me = s.admin().await;
        let r = c
            .sub(
                "mine",
                "stream-notify-user",
                json!([format!("{}/rooms-changed", me.uid), false]),
            )
            .await;
        assert_eq!(r["msg"], "ready");
        s.post(
            &alice,
            "/api/v1/groups.invite",
            json!({"roomId": group, "userId": me.uid}),
        )
        .await;
        let v = c
            .recv_where(|v| is_changed(v, &format!("{}/rooms-changed", me.uid)))
            .await;
        assert_eq!(v["collection"], "stream-notify-user");
        assert_eq!(v["fields"]["args"][0], "inserted");
        assert_eq!(v["fields"]["args"][1]["_id"], json!(group));
        // Now a member, the group's stream is allowed.
        assert_eq!(
            c.sub("g2", "stream-room-messages", json!([group, false]))
                .await["msg"],
            "ready"
        );
        s.stop().await;
    }
}

backend_tests! {
    async fn removed_member_stops_receiving_at_once(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        let alice = s.user(&admin, "alice").await;
        let group = s
            .post(
                &alice,
                "/api/v1/groups.create",
                json!({"name": "kick-me", "members": ["admin"]}),
            )
            .await["group"]["_id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        assert_eq!(
            c.sub("g", "stream-room-messages", json!([group, false]))
                .await["msg"],
            "ready"
        );
        assert_eq!(
            c.sub("gen", "stream-room-messages", json!(["GENERAL", false]))
                .await["msg"],
            "ready"
        );
        s.say(&alice, "#kick-me", "before").await;
        assert!(changed_text(&c.recv().await, &group, "before"));
        s.post(
            &alice,
            "/api/v1/groups.kick",
            json!({"roomId": group, "userId": admin.uid}),
        )
        .await;
        s.say(&alice, "#kick-me", "after").await;
        s.say(&alice, "#general", "marker").await;
        let v = c.recv_where(|v| changed_text(v, "GENERAL", "marker")).await;
        assert!(is_changed(&v, "GENERAL"));
        for v in c.take_backlog() {
            assert!(!is_changed(&v, &group), "event after removal: {v}");
        }
        s.stop().await;
    }
}

// ---- 11. typing -----------------------------------------------------------------------------------------

backend_tests! {
    async fn typing_fans_out_but_not_back(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        s.user(&admin, "alice").await;
        let mut a = s.ddp_as("admin", ADMIN_PASSWORD).await;
        let mut b = s.ddp_as("alice", "pw-alice").await;
        for c in [&mut a, &mut b] {
            assert_eq!(
                c.sub(
                    "act",
                    "stream-notify-room",
                    json!(["GENERAL/user-activity", false])
                )
                .await["msg"],
                "ready"
            );
            assert_eq!(
                c.sub(
                    "typ",
                    "stream-notify-room",
                    json!(["GENERAL/typing", false])
                )
                .await["msg"],
                "ready"
            );
        }
        let r = a
            .call(
                "stream-notify-room",
                json!(["GENERAL/user-activity", "admin", ["user-typing"], {}]),
            )
            .await;
        assert!(r.get("result").is_none() && r.get("error").is_none(), "{r}");
        let v = b.recv().await;
        assert_eq!(
            v,
            json!({"msg": "changed", "collection": "stream-notify-room", "id": "id",
                   "fields": {"eventName": "GENERAL/user-activity", "args": ["admin", ["user-typing"], {}]}})
        );
        let v = b.recv().await;
        assert_eq!(v["fields"]["eventName"], "GENERAL/typing");
        assert_eq!(v["fields"]["args"], json!(["admin", true]));

        // Legacy form from alice; admin gets it — and nothing of his own before it.
        let r = b
            .call(
                "stream-notify-room",
                json!(["GENERAL/typing", "alice", false]),
            )
            .await;
        assert!(r.get("error").is_none());
        let v = a.recv().await;
        assert_eq!(v["fields"]["eventName"], "GENERAL/user-activity", "{v}");
        assert_eq!(v["fields"]["args"], json!(["alice", [], {}]));
        let v = a.recv().await;
        assert_eq!(v["fields"]["args"], json!(["alice", false]));

        // Typing as someone else, or in a room you are not in, is answered but not emitted.
        let r = a
            .call(
                "stream-notify-room",
                json!(["GENERAL/typing", "alice", true]),
            )
            .await;
        assert!(r.get("error").is_none());
        let r = b
            .call(
                "stream-notify-room",
                json!(["GENERAL/typing", "alice", true]),
            )
            .await;
        assert!(r.get("error").is_none());
        let v = a.recv().await;
        assert_eq!(v["fields"]["args"][0], "alice");
        assert_eq!(v["fields"]["eventName"], "GENERAL/user-activity");
        assert_eq!(a.recv().await["fields"]["args"], json!(["alice", true]));
        s.stop().await;
    }
}

// ---- 12. unsub ------------------------------------------------------------------------------------------

backend_tests! {
    async fn unsub_ends_events(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        let alice = s.user(&admin, "alice").await;
        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        assert_eq!(
            c.sub("g", "stream-room-messages", json!(["GENERAL", false]))
                .await["msg"],
            "ready"
        );
        assert_eq!(
            c.sub(
                "my",
                "stream-room-messages",
                json!(["__my_messages__", false])
            )
            .await["msg"],
            "ready"
        );
        s.say(&alice, "#general", "one").await;
        assert!(changed_text(&c.recv().await, "GENERAL", "one"));
        assert!(changed_text(&c.recv().await, "__my_messages__", "one"));
        c.send(json!({"msg": "unsub", "id": "g"})).await;
        assert_eq!(c.recv().await, json!({"msg": "nosub", "id": "g"}));
        c.send(json!({"msg": "unsub", "id": "never-was"})).await;
        assert_eq!(c.recv().await, json!({"msg": "nosub", "id": "never-was"}));
        s.say(&alice, "#general", "two").await;
        // The next frame is the __my_messages__ copy: nothing for the ended subscription before it.
        let v = c.recv().await;
        assert!(changed_text(&v, "__my_messages__", "two"), "{v}");
        s.stop().await;
    }
}

// ---- 13. SockJS -----------------------------------------------------------------------------------------

backend_tests! {
    async fn sockjs_info_and_framing(server: TestServer) {
        let s = Server::new(server);
        let res = s
            .http
            .get(s.url("/sockjs/info?cb=abc123"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["access-control-allow-origin"], "*");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let info: Value = res.json().await.unwrap();
        assert_eq!(info["websocket"], true);
        assert_eq!(info["origins"], json!(["*:*"]));
        assert_eq!(info["cookie_needed"], false);
        assert!(info["entropy"].is_u64());

        let mut c = s.ws("/sockjs/123/abcdefgh/websocket").await;
        assert_eq!(c.recv_text().await, "o");
        assert_eq!(c.recv_text().await, r#"a["{\"server_id\":\"0\"}"]"#);
        let connect =
            json!({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}).to_string();
        c.send(json!([connect])).await;
        let frame = c.recv_text().await;
        let inner = frame.strip_prefix('a').expect("a-frame");
        let msgs: Vec<String> = serde_json::from_str(inner).unwrap();
        assert_eq!(msgs.len(), 1);
        let connected: Value = serde_json::from_str(&msgs[0]).unwrap();
        assert_eq!(connected["msg"], "connected");
        // Several messages in one frame, and the bare-string form.
        c.send(json!([
            json!({"msg": "ping", "id": "1"}).to_string(),
            json!({"msg": "ping", "id": "2"}).to_string()
        ]))
        .await;
        assert_eq!(
            c.recv_text().await,
            r#"a["{\"msg\":\"pong\",\"id\":\"1\"}"]"#
        );
        assert_eq!(
            c.recv_text().await,
            r#"a["{\"msg\":\"pong\",\"id\":\"2\"}"]"#
        );
        c.send(Value::String(json!({"msg": "ping"}).to_string()))
            .await;
        assert_eq!(c.recv_text().await, r#"a["{\"msg\":\"pong\"}"]"#);

        // Only `<3 digits>/<8 chars>` are SockJS session paths.
        let bad =
            tokio_tungstenite::connect_async(format!("ws://{}/sockjs/12/abcdefgh/websocket", s.addr))
                .await;
        assert!(bad.is_err());
        s.stop().await;
    }
}

// ---- methods bots call --------------------------------------------------------------------------------

backend_tests! {
    async fn send_message_and_friends(server: TestServer) {
        let s = Server::new(server);
        let admin = s.admin().await;
        s.user(&admin, "alice").await;
        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        let mut watcher = s.ddp_as("alice", "pw-alice").await;
        assert_eq!(
            watcher
                .sub("g", "stream-room-messages", json!(["GENERAL", false]))
                .await["msg"],
            "ready"
        );

        let r = c
            .call(
                "sendMessage",
                json!([{"_id": "abcdef123456", "rid": "GENERAL", "msg": "hello bot"}]),
            )
            .await;
        let m = &r["result"];
        assert_eq!(m["_id"], "abcdef123456", "{r}");
        assert_eq!(m["msg"], "hello bot");
        assert_eq!(m["rid"], "GENERAL");
        assert!(m["ts"]["$date"].is_i64());
        let v = watcher.recv().await;
        assert!(changed_text(&v, "GENERAL", "hello bot"));
        assert_eq!(v["fields"]["args"][0]["_id"], "abcdef123456");
        let r = c
            .call(
                "sendMessage",
                json!([{"_id": "abcdef123456", "rid": "GENERAL", "msg": "again"}]),
            )
            .await;
        assert_eq!(r["error"]["error"], "error-duplicate-message-id");
        // A client `ts` in EJSON is decoded and honoured when close to now.
        let r = c
            .call(
                "sendMessage",
                json!([{"rid": "GENERAL", "msg": "dated", "ts": {"$date": 1}}]),
            )
            .await;
        assert_eq!(r["error"]["error"], "error-message-ts-out-of-sync");

        // Reactions toggle and re-broadcast the message.
        c.call("setReaction", json!([":thumbsup:", "abcdef123456"]))
            .await;
        let v = watcher.recv_where(|v| is_changed(v, "GENERAL")).await;
        assert_eq!(
            v["fields"]["args"][0]["reactions"],
            json!({":thumbsup:": {"usernames": ["admin"]}})
        );
        c.call("setReaction", json!([":thumbsup:", "abcdef123456"]))
            .await;
        let v = watcher.recv_where(|v| is_changed(v, "GENERAL")).await;
        assert!(v["fields"]["args"][0].get("reactions").is_none(), "{v}");

        // Edits too.
        let r = c
            .call(
                "updateMessage",
                json!([{"_id": "abcdef123456", "rid": "GENERAL", "msg": "edited"}]),
            )
            .await;
        assert!(r.get("error").is_none(), "{r}");
        let v = watcher.recv_where(|v| is_changed(v, "GENERAL")).await;
        assert_eq!(v["fields"]["args"][0]["msg"], "edited");
        assert!(v["fields"]["args"][0]["editedAt"]["$date"].is_i64());

        // History: newest first, `end` exclusive, limit honoured. `end` is a timestamp (as in Rocket.Chat), so
        // the messages are sent in distinct milliseconds.
        for i in 0..3 {
            c.call(
                "sendMessage",
                json!([{"rid": "GENERAL", "msg": format!("h{i}")}]),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        let r = c.call("loadHistory", json!(["GENERAL", null, 2])).await;
        let msgs = r["result"]["messages"].as_array().expect("messages");
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0]["msg"], "h2");
        assert_eq!(msgs[1]["msg"], "h1");
        let end = msgs[1]["ts"].clone();
        let r = c.call("loadHistory", json!(["GENERAL", end, 1])).await;
        let older = &r["result"]["messages"][0];
        assert_eq!(older["msg"], "h0");
        let r = c
            .call("loadHistory", json!(["no-such-room", null, 20]))
            .await;
        assert_eq!(r["result"], json!(false));

        // Join and leave.
        let alice = s.login("alice", "pw-alice").await;
        let ch = s
            .post(
                &alice,
                "/api/v1/channels.create",
                json!({"name": "joinable"}),
            )
            .await["channel"]["_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(c.call("joinRoom", json!([ch])).await["result"], true);
        assert_eq!(c.call("joinRoom", json!([ch])).await["result"], true);
        let r = c.call("leaveRoom", json!([ch])).await;
        assert!(r.get("error").is_none(), "{r}");
        let r = c.call("joinRoom", json!(["nope"])).await;
        assert_eq!(r["error"]["error"], "error-invalid-room");
        s.stop().await;
    }
}

// ---- shutdown -------------------------------------------------------------------------------------------

backend_tests! {
    async fn graceful_shutdown_with_open_socket(server: TestServer) {
        let mut s = Server::new(server);
        let mut c = s.ddp_as("admin", ADMIN_PASSWORD).await;
        assert_eq!(
            c.sub("g", "stream-room-messages", json!(["GENERAL", false]))
                .await["msg"],
            "ready"
        );
        let mut sockjs = s.ws("/sockjs/000/zzzzzzzz/websocket").await;
        assert_eq!(sockjs.recv_text().await, "o");
        s.shutdown().await;
        assert!(c.closed_within(WAIT).await, "raw socket not closed");
        assert!(sockjs.closed_within(WAIT).await, "sockjs socket not closed");
        s.stop().await;
    }
}
