//! What one script call costs on its own, without HTTP or the database: the incoming-hook script of
//! `bench/hooks.py` called through the script host, one call at a time, from a single task.
//!
//! ```sh
//! cargo build --release --example script_call
//! target/release/examples/script_call [calls]            # default 50 000 calls per round, 3 rounds
//! SCRIPT='class Script { process_incoming_request() { return 1; } }' target/release/examples/script_call
//! ```
//!
//! It prints, per call, the round trip as the calling task sees it (the hand-over to a script thread and
//! back included) and the time spent on the script thread (building `request`, running the method and
//! copying the result out). Run it under `taskset -c 0` to keep both threads on one CPU.

use std::sync::Arc;
use std::time::Instant;

use switchboard::egress::{EgressDefaults, EgressPolicy, GuardedClient};
use switchboard::script::{
    compile, HookRequestParts, ScriptArgs, ScriptConfig, ScriptHost, ScriptKey,
};

// The server's allocator, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The script `bench/hooks.py` measures.
const SCRIPT: &str = r#"
class Script {
  process_incoming_request({ request }) {
    const c = request.content;
    return { content: { text: 'Alert: ' + c.title, attachments: [{ color: 'danger', title: c.title, text: c.text }] } };
  }
}
"#;

const BODY: &str = r#"{"title":"disk full","text":"/var is at 98%"}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let source = std::env::var("SCRIPT").unwrap_or_else(|_| SCRIPT.to_string());
    let compiled = match compile(&source) {
        Ok(c) => c.into_string(),
        Err(e) => {
            eprintln!("the script does not compile: {e:?}");
            std::process::exit(2);
        }
    };
    let config = ScriptConfig {
        threads: 1,
        ..ScriptConfig::default()
    };
    let egress = GuardedClient::new(EgressPolicy::default(), EgressDefaults::default())
        .expect("an HTTP client");
    let host = ScriptHost::new(config, Arc::new(egress));
    let key = ScriptKey {
        integration_id: "bench".into(),
        version: "1".into(),
    };
    let parts = HookRequestParts {
        pathname: "/hooks/bench/token".into(),
        search: String::new(),
        query: "{}".into(),
        integration_id: "bench".into(),
        token: "token".into(),
        user_id: None,
        content: None,
        content_raw: BODY.into(),
        headers: "host\n127.0.0.1:3000\ncontent-length\n45\ncontent-type\napplication/json".into(),
        user: ["bot".into(), "Rocket.Cat".into(), "rocket.cat".into()],
    };
    // Round 0 loads the script and warms the caches; later rounds are the figures to read.
    for round in 0..3 {
        let started = Instant::now();
        let mut on_thread = 0.0;
        for _ in 0..calls {
            let outcome = host
                .call(
                    key.clone(),
                    &compiled,
                    "process_incoming_request",
                    ScriptArgs::HookRequest(Box::new(parts.clone())),
                )
                .await;
            if let Err(e) = &outcome.result {
                eprintln!("the script failed: {e}");
                std::process::exit(1);
            }
            on_thread += outcome.elapsed.as_secs_f64();
        }
        let total = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {calls} calls, {:.2} µs round trip, {:.2} µs on the script thread per call",
            total / calls as f64 * 1e6,
            on_thread / calls as f64 * 1e6
        );
    }
}
