//! Real Rocket.Chat client libraries against a freshly started server, on each backend: the Python scripts in
//! `tests/clients/` drive `rocketchat_API` (REST) and `rocketchat-async` (DDP) as their users do, and exit
//! non-zero with a `FAIL:` line on the first answer Rocket.Chat would not give.
//!
//! The interpreter is `SB_TEST_PYTHON` if set, else `tests/clients/.venv/bin/python` if it exists (`.ci/run`
//! creates it from `tests/clients/requirements.txt`), else `python3`. When it cannot import the libraries the
//! tests are skipped with a notice — unless `CI` is set, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::backend_tests;
use crate::harness::{TestServer, ADMIN_PASSWORD};

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SB_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = clients_dir().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// The interpreter, if it can import `modules`; otherwise why not.
fn python_with(modules: &str) -> Result<PathBuf, String> {
    let py = python();
    let probe = Command::new(&py)
        .args(["-c", &format!("import {modules}")])
        .output();
    let why = match probe {
        Ok(o) if o.status.success() => return Ok(py),
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string(),
        Err(e) => e.to_string(),
    };
    Err(format!(
        "{} cannot import {modules} ({why}); install them with: python3 -m venv tests/clients/.venv && \
         tests/clients/.venv/bin/pip install -r tests/clients/requirements.txt",
        py.display()
    ))
}

/// Runs `tests/clients/<script> BASE_URL admin PASSWORD` with an interpreter that has `modules` and asserts it
/// passed, showing its output if not; then stops the server. Without the modules: skips with a notice, or fails
/// when `CI` is set.
async fn client_script(s: TestServer, modules: &str, script: &str) {
    let py = match python_with(modules) {
        Ok(py) => py,
        Err(msg) => {
            s.stop().await;
            if std::env::var_os("CI").is_some() {
                panic!("CI is set, so the client library tests must run: {msg}");
            }
            eprintln!("SKIPPED {script}: {msg}");
            return;
        }
    };
    let mut cmd = Command::new(py);
    cmd.arg(script)
        .args([s.base.as_str(), "admin", ADMIN_PASSWORD])
        .current_dir(clients_dir())
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    // The server runs on this runtime's workers; the script blocks a thread of the blocking pool instead.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("script thread");
    let backend = s.backend;
    s.stop().await;
    let out = out.unwrap_or_else(|e| panic!("running {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("PASS"),
        "{script} on {backend:?} failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
}

backend_tests! {
    async fn rocketchat_api_rest_client(s: TestServer) {
        client_script(s, "rocketchat_API", "rest_client.py").await;
    }

    async fn rocketchat_async_ddp_client(s: TestServer) {
        client_script(s, "rocketchat_API, rocketchat_async", "ddp_client.py").await;
    }
}
