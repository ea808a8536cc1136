//! Start-up, restart and shutdown: the seed, data surviving a restart, and the real binary's command line,
//! first-start admin password and graceful exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::harness::TestServer;

backend_tests! {
    async fn data_survives_a_restart(s: TestServer) {
        let bob = s.user("bob").await;
        let rid = s.room(&bob, "groups", "kept", &[]).await;
        s.say(&bob, &rid, "still here").await;
        let s = s.restart().await;
        // The seed does not run twice: one admin, one general.
        let (_, v) = s.get(Some(&s.admin), "/api/v1/users.list", &[]).await;
        assert_eq!(v["total"], 3);
        let bob = s.login("bob", "pw-123456").await;
        let (st, v) = s.get(Some(&bob), "/api/v1/groups.history", &[("roomId", &rid)]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["messages"][0]["msg"], "still here");
        s.stop().await;
    }

    async fn recorded_hook_requests_are_written_at_shutdown(s: TestServer) {
        // Recordings wait in memory for the next background write; a graceful stop writes them first.
        let h = s.hook("#general", None, json!({})).await;
        for i in 0..3 {
            let (st, _) = s.post(None, &h.url, json!({ "text": format!("kept {i}") })).await;
            assert_eq!(st, StatusCode::OK);
        }
        let s = s.restart().await;
        let rec = s.hook_history(&h).await;
        let texts: Vec<&str> = rec.iter().map(|r| r["content"]["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["kept 2", "kept 1", "kept 0"]);
        s.stop().await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `switchboard serve` as a user would, with configuration from flags and environment.
#[tokio::test]
async fn binary_serves_prints_generated_password_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("sb-bin-{}", switchboard::util::random_id(8)));
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&dir)
        .env("SWITCHBOARD_ADMIN_USERNAME", "boss")
        .env("SWITCHBOARD_SITE_URL", "https://chat.example.org")
        .env("RUST_LOG", "info")
        .env_remove("SWITCHBOARD_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut password = None;
    let mut log = String::new();
    while password.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let plain = strip_ansi(&line);
            log.push_str(&plain);
            log.push('\n');
            if let Some(i) = plain.find("password=") {
                password = plain[i + 9..].split_whitespace().next().map(str::to_string);
            }
        }
    }
    let password = password.unwrap_or_else(|| panic!("no generated password in the log:\n{log}"));
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ok = false;
    for _ in 0..100 {
        if let Ok(r) = client
            .post(format!("{base}/api/v1/login"))
            .json(&json!({ "user": "boss", "password": password }))
            .send()
            .await
        {
            assert_eq!(r.status(), StatusCode::OK);
            let v: serde_json::Value = r.json().await.unwrap();
            assert_eq!(
                v["data"]["me"]["avatarUrl"],
                "https://chat.example.org/avatar/boss"
            );
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "could not log in with the printed password");
    assert!(
        dir.join("switchboard.db").exists(),
        "SQLite database under --data-dir"
    );

    // SIGTERM: a clean exit.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn binary_rejects_bad_configuration() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen"));
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve"])
        .env("SWITCHBOARD_NOT_A_KEY", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
