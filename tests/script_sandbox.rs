//! Integration tests of the script sandbox against the real QuickJS engine and a real local HTTP server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{
    body::Bytes,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use serde_json::{json, Value};
use switchboard::egress::{EgressDefaults, EgressPolicy, GuardedClient};
use switchboard::script::{
    compile, LogLevel, ScriptConfig, ScriptFailure, ScriptHost, ScriptKey, ScriptOutcome,
};

fn client(allow_private: bool) -> Arc<GuardedClient> {
    Arc::new(
        GuardedClient::new(
            EgressPolicy::from_parts(allow_private, vec![]),
            EgressDefaults::default(),
        )
        .unwrap(),
    )
}

fn host_with(config: ScriptConfig, allow_private: bool) -> ScriptHost {
    ScriptHost::new(config, client(allow_private))
}

fn host() -> ScriptHost {
    host_with(ScriptConfig::default(), false)
}

fn key(id: &str, version: &str) -> ScriptKey {
    ScriptKey {
        integration_id: id.into(),
        version: version.into(),
    }
}

fn compiled(src: &str) -> String {
    compile(src)
        .unwrap_or_else(|e| panic!("compile failed: {e:?}"))
        .into_string()
}

async fn run(host: &ScriptHost, src: &str, method: &str, args: Value) -> ScriptOutcome {
    host.dry_run(&compiled(src), method, args).await
}

fn ok(o: &ScriptOutcome) -> Value {
    match &o.result {
        Ok(v) => v.clone().unwrap_or(Value::Null),
        Err(e) => panic!("script failed: {e:?}; logs: {:?}", o.logs),
    }
}

/// A tiny HTTP server on 127.0.0.1 for fetch/HTTP tests.
async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route(
            "/json",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"text":"hi","n":3}"#,
                )
            }),
        )
        .route("/big", get(|| async { "x".repeat(10_000) }))
        .route(
            "/redirect-out",
            get(move || async move {
                (
                    StatusCode::FOUND,
                    [("location", format!("http://127.0.0.2:{port}/json"))],
                )
            }),
        )
        .route(
            "/redirect-in",
            get(|| async { (StatusCode::FOUND, [("location", "/json")]) }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "nope") }),
        )
        .route(
            "/echo",
            post(|headers: HeaderMap, body: Bytes| async move {
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                axum::Json(json!({
                    "contentType": ct,
                    "auth": auth,
                    "body": String::from_utf8_lossy(&body),
                }))
                .into_response()
            }),
        );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://127.0.0.1:{port}")
}

const RC_E2E_SCRIPT: &str = r#"
class Script {
  process_incoming_request({ request }) {
    msg = buildMessage(request.content);
    return { content: { text: msg, attachments: [] } };
  }
}
function buildMessage(c) { return 'Alert: ' + c.title; }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sloppy_implicit_global_like_rocket_chat() {
    let h = host();
    let o = h
        .call(
            key("i1", "v1"),
            &compiled(RC_E2E_SCRIPT),
            "process_incoming_request",
            json!({"request": {"content": {"title": "disk full"}}}),
        )
        .await;
    assert_eq!(
        ok(&o),
        json!({"content": {"text": "Alert: disk full", "attachments": []}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_state_persists_until_version_changes() {
    let h = host();
    let src = compiled(
        r#"
        class Script {
          constructor() { this.count = 0; }
          process_incoming_request() {
            this.count++;
            Store.set('total', (Store.get('total') || 0) + 10);
            return { count: this.count, total: Store.get('total') };
          }
        }"#,
    );
    let m = "process_incoming_request";
    for n in 1..=3 {
        let o = h.call(key("a", "v1"), &src, m, json!({})).await;
        assert_eq!(ok(&o), json!({"count": n, "total": n * 10}));
    }
    // Another integration has its own instance and Store.
    let o = h.call(key("b", "v1"), &src, m, json!({})).await;
    assert_eq!(ok(&o), json!({"count": 1, "total": 10}));
    // A new version starts from scratch.
    let o = h.call(key("a", "v2"), &src, m, json!({})).await;
    assert_eq!(ok(&o), json!({"count": 1, "total": 10}));
    // A dry run does not touch the live instance.
    let o = h.dry_run(&src, m, json!({})).await;
    assert_eq!(ok(&o), json!({"count": 1, "total": 10}));
    let o = h.call(key("a", "v2"), &src, m, json!({})).await;
    assert_eq!(ok(&o), json!({"count": 2, "total": 20}));
    h.evict("a");
    let o = h.call(key("a", "v2"), &src, m, json!({})).await;
    assert_eq!(ok(&o), json!({"count": 1, "total": 10}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_version_runs_its_own_source() {
    let h = host();
    let version = |v: &str| {
        compiled(&format!(
            "class Script {{ process_incoming_request() {{ return {{ v: '{v}' }}; }} }}"
        ))
    };
    let m = "process_incoming_request";
    for v in ["v1", "v2", "v2", "v1", "v3"] {
        let o = h.call(key("a", v), &version(v), m, json!({})).await;
        assert_eq!(ok(&o), json!({ "v": v }), "calling version {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compile_errors_are_reported_in_rocket_chat_shape() {
    let err = compile("class Script {\n  process_incoming_request( {\n}\n").unwrap_err();
    assert_eq!(err.name, "SyntaxError");
    assert!(!err.message.is_empty());
    assert!(err.stack.starts_with("SyntaxError: "), "{err:?}");
    let v = serde_json::to_value(&err).unwrap();
    assert!(v.get("name").is_some() && v.get("message").is_some() && v.get("stack").is_some());
    assert!(compile("let x = ;").is_err());
    // Legacy scripts with a top-level return are accepted.
    let h = host();
    let o = run(
        &h,
        "class Script { process_incoming_request() { return {content: {text: 'legacy'}}; } }\nreturn Script;",
        "process_incoming_request",
        json!({}),
    )
    .await;
    assert_eq!(ok(&o), json!({"content": {"text": "legacy"}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_distinguished() {
    let h = host();
    let o = run(&h, "class Script { a() { return 1 } }", "b", json!({})).await;
    assert!(matches!(o.result, Err(ScriptFailure::MethodNotFound { ref method }) if method == "b"));
    assert_eq!(
        o.result.unwrap_err().error_id(),
        "integration-method-not-found"
    );
    let o = run(&h, "class Other {}", "a", json!({})).await;
    assert_eq!(o.result, Err(ScriptFailure::ClassNotFound));
    let o = run(
        &h,
        "throw new Error('top')\nclass Script {}",
        "a",
        json!({}),
    )
    .await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Evaluation(ref e)) if e.message == "top"),
        "{:?}",
        o.result
    );
    let o = run(&h, "class Script { a() { null.x } }", "a", json!({})).await;
    match o.result {
        Err(ScriptFailure::Thrown(e)) => {
            assert_eq!(e.name, "TypeError");
            assert!(e.stack.starts_with("TypeError: "), "{e:?}");
            assert!(e.stack.contains("integration-script.js"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    // What a script finds in `e.stack` has V8's shape, as under Rocket.Chat: the `name: message` line, then
    // the script's own frames, none of the engine's; `console.log(e)` prints the same.
    let o = run(
        &h,
        "function inner() { throw new TypeError('bad input') }\nclass Script { a() { try { inner() } catch (e) { console.log(e); return e.stack } } }",
        "a",
        json!({}),
    )
    .await;
    let stack = o.result.clone().unwrap().unwrap();
    let stack = stack.as_str().unwrap();
    assert!(
        stack.starts_with("TypeError: bad input\n    at inner (integration-script.js:1:"),
        "{stack}"
    );
    assert!(
        stack.contains("\n    at a (integration-script.js:2:"),
        "{stack}"
    );
    assert!(!stack.contains("kernel.js"), "{stack}");
    assert_eq!(o.logs[0].message, stack);
    let o = run(&h, "class Script { a() { throw 'plain' } }", "a", json!({})).await;
    assert!(matches!(o.result, Err(ScriptFailure::Thrown(ref e)) if e.message == "plain"));
    let o = run(
        &h,
        "class Script { async a() { await null; throw new RangeError('late') } }",
        "a",
        json!({}),
    )
    .await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Thrown(ref e)) if e.name == "RangeError" && e.message == "late")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_deep_copied_as_json() {
    let h = host();
    let o = run(
        &h,
        "class Script { a() { return { f() {}, u: undefined, n: null, d: new Date(0), nested: [1, 'x', {y: true}] } } b() {} c() { return false } }",
        "a",
        json!({}),
    )
    .await;
    assert_eq!(
        ok(&o),
        json!({"n": null, "d": "1970-01-01T00:00:00.000Z", "nested": [1, "x", {"y": true}]})
    );
    let o = run(&h, "class Script { b() {} }", "b", json!({})).await;
    assert_eq!(o.result, Ok(None));
    let o = run(&h, "class Script { c() { return false } }", "c", json!({})).await;
    assert_eq!(o.result, Ok(Some(json!(false))));
    let o = run(
        &h,
        "class Script { c() { const a = {}; a.a = a; return a } }",
        "c",
        json!({}),
    )
    .await;
    assert!(matches!(o.result, Err(ScriptFailure::Thrown(_))));
    // Arguments arrive as passed.
    let o = run(
        &h,
        "class Script { process_outgoing_response({request, response}) { return [request.url, response.content.text, response.status_code] } }",
        "process_outgoing_response",
        json!({"request": {"url": "http://x"}, "response": {"content": {"text": "t"}, "status_code": 200}}),
    )
    .await;
    assert_eq!(ok(&o), json!(["http://x", "t", 200]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_is_captured() {
    let h = host();
    let o = run(
        &h,
        "console.log('loading');\nclass Script { a() { console.log('x', 1, {a: [1]}); console.warn('w %s=%d', 'k', 5); console.error(new Error('boom')); return 1 } }",
        "a",
        json!({}),
    )
    .await;
    assert_eq!(ok(&o), json!(1));
    let lines: Vec<(LogLevel, &str)> = o
        .logs
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    assert_eq!(lines[0], (LogLevel::Log, "loading"));
    assert_eq!(lines[1], (LogLevel::Log, "x 1 { a: [ 1 ] }"));
    assert_eq!(lines[2], (LogLevel::Warn, "w k=5"));
    assert_eq!(lines[3].0, LogLevel::Error);
    assert!(lines[3].1.starts_with("Error: boom"), "{}", lines[3].1);
    assert!(o.logs.iter().all(|l| l.ts_ms > 1_600_000_000_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_host_escape_hatches() {
    let h = host();
    let o = run(
        &h,
        r#"class Script { a() { return {
            require: typeof require, process: typeof process, std: typeof std, os: typeof os,
            Buffer: typeof Buffer, module: typeof module, host: typeof host,
            viaEval: eval('typeof process'), viaFunction: Function('return typeof require')(),
            globals: Object.getOwnPropertyNames(globalThis).filter(n => /^(std|os|process|require|host)$/.test(n)),
            importFails: (() => { try { eval('import("fs")'); return 'no'; } catch (e) { return 'threw'; } })(),
        } } }"#,
        "a",
        json!({}),
    )
    .await;
    let v = ok(&o);
    for k in [
        "require",
        "process",
        "std",
        "os",
        "Buffer",
        "module",
        "host",
        "viaEval",
        "viaFunction",
    ] {
        assert_eq!(v[k], "undefined", "{k}: {v}");
    }
    assert_eq!(v["globals"], json!([]));
    // A dynamic import gets a rejected promise or a throw, never a module.
    let o = run(
        &h,
        "class Script { async a() { try { await import('fs'); return 'loaded' } catch (e) { return 'refused' } } }",
        "a",
        json!({}),
    )
    .await;
    assert_eq!(ok(&o), json!("refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn endless_loop_times_out_without_blocking_other_integrations() {
    let config = ScriptConfig {
        timeout: Duration::from_millis(1500),
        threads: 1,
        ..ScriptConfig::default()
    };
    let h = Arc::new(host_with(config, false));
    let looping = compiled("class Script { a() { while (true) {} } }");
    let quick = compiled("class Script { a() { return 'quick' } }");
    // Warm up the quick integration so its call below is a plain call.
    assert_eq!(
        ok(&h.call(key("quick", "1"), &quick, "a", json!({})).await),
        json!("quick")
    );

    let h2 = h.clone();
    let started = Instant::now();
    let looper =
        tokio::spawn(async move { h2.call(key("loop", "1"), &looping, "a", json!({})).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let q_start = Instant::now();
    let o = h.call(key("quick", "1"), &quick, "a", json!({})).await;
    let quick_latency = q_start.elapsed();
    assert_eq!(ok(&o), json!("quick"));
    assert!(!looper.is_finished(), "the loop should still be running");
    assert!(quick_latency < Duration::from_secs(1), "{quick_latency:?}");

    let o = looper.await.unwrap();
    assert_eq!(o.result, Err(ScriptFailure::Timeout));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(3500),
        "{took:?}"
    );
    // The runtime was discarded; the next call loads it again (and times out again).
    assert!(h.thread_count() >= 2);

    // Timeouts also cover promises that wait on timers.
    let o = h
        .dry_run(
            &compiled("class Script { a() { return new Promise(r => setTimeout(r, 60000)) } }"),
            "a",
            json!({}),
        )
        .await;
    assert_eq!(o.result, Err(ScriptFailure::Timeout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_and_deep_recursion_fail_cleanly() {
    let h = host();
    let bomb = compiled(
        "class Script { a() { const a = []; while (true) a.push(new Array(100000).fill(a.length)); } b() { return 'alive' } }",
    );
    let o = h.call(key("bomb", "1"), &bomb, "a", json!({})).await;
    assert_eq!(o.result, Err(ScriptFailure::OutOfMemory));
    // The runtime was recreated.
    let o = h.call(key("bomb", "1"), &bomb, "b", json!({})).await;
    assert_eq!(ok(&o), json!("alive"));

    let o = run(
        &h,
        "class Script { a() { const s = 'x'.repeat(1 << 20); let t = ''; while (true) t += s; } }",
        "a",
        json!({}),
    )
    .await;
    assert_eq!(o.result, Err(ScriptFailure::OutOfMemory));

    let deep = compiled("function f(n) { return f(n + 1) + 1 }\nclass Script { a() { return f(0) } b() { try { f(0) } catch (e) { return e.name } } }");
    let o = h.call(key("deep", "1"), &deep, "a", json!({})).await;
    match o.result {
        Err(ScriptFailure::Thrown(e)) => assert_eq!(e.name, "RangeError", "{e:?}"),
        other => panic!("{other:?}"),
    }
    let o = h.call(key("deep", "1"), &deep, "b", json!({})).await;
    assert_eq!(ok(&o), json!("RangeError"));
    // Deeply nested results and arguments do not crash the host either.
    let o = run(
        &h,
        "class Script { a() { let o = {}; for (let i = 0; i < 100000; i++) o = {o}; return o } }",
        "a",
        json!({}),
    )
    .await;
    assert!(o.result.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_methods_and_timers() {
    let h = host();
    let o = run(
        &h,
        r#"
        const sleep = (ms) => new Promise(r => setTimeout(r, ms));
        class Script {
          async process_incoming_request({ request }) {
            const order = [];
            setTimeout(() => order.push('t20'), 20);
            setTimeout(() => order.push('t5'), 5);
            await sleep(30);
            order.push(await Promise.resolve('micro'));
            return { content: { text: order.join(',') + ' ' + request.content.x } };
          }
        }"#,
        "process_incoming_request",
        json!({"request": {"content": {"x": 42}}}),
    )
    .await;
    assert_eq!(ok(&o), json!({"content": {"text": "t5,t20,micro 42"}}));
    let o = run(
        &h,
        "class Script { a() { return new Promise(() => {}) } }",
        "a",
        json!({}),
    )
    .await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Thrown(ref e)) if e.message.contains("never settles"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_and_http_through_the_egress_guard() {
    let base = server().await;
    let src = compiled(&format!(
        r#"
        class Script {{
          async viaFetch() {{
            const r = await fetch('{base}/json');
            const body = await r.json();
            return {{ status: r.status, ok: r.ok, ct: r.headers.get('Content-Type'), body }};
          }}
          async post() {{
            const r = await fetch('{base}/echo', {{ method: 'POST', body: {{ a: 1 }} }});
            return await r.json();
          }}
          viaHttp() {{
            const r = HTTP('POST', '{base}/echo', {{ data: {{ b: 2 }}, auth: 'user:pass' }});
            return r;
          }}
          httpGet() {{ return HTTP('GET', '{base}/json', {{ params: {{ q: 'a b' }} }}).result.data; }}
          httpMissing() {{ const r = HTTP('GET', '{base}/missing'); return [!!r.error, r.error.response.statusCode]; }}
          async refused() {{
            try {{ await fetch('{base}/json'); return 'fetched'; }} catch (e) {{ return e.message; }}
          }}
          refusedHttp() {{ return HTTP('GET', '{base}/json').error.message; }}
        }}"#
    ));
    // Refused by default: 127.0.0.1 is loopback.
    let strict = host();
    let o = strict.call(key("f", "1"), &src, "refused", json!({})).await;
    let msg = ok(&o);
    assert!(
        msg.as_str().unwrap().contains("refused: 127.0.0.1"),
        "{msg}"
    );
    assert!(
        msg.as_str()
            .unwrap()
            .contains("SWITCHBOARD_ALLOW_PRIVATE_NETWORKS"),
        "{msg}"
    );
    let o = strict
        .call(key("f", "1"), &src, "refusedHttp", json!({}))
        .await;
    assert!(
        ok(&o).as_str().unwrap().contains("loopback"),
        "{:?}",
        o.result
    );

    // Allowed with allow_private.
    let open = host_with(ScriptConfig::default(), true);
    let o = open.call(key("f", "1"), &src, "viaFetch", json!({})).await;
    assert_eq!(
        ok(&o),
        json!({"status": 200, "ok": true, "ct": "application/json", "body": {"text": "hi", "n": 3}})
    );
    let o = open.call(key("f", "1"), &src, "post", json!({})).await;
    assert_eq!(ok(&o)["body"], json!("{\"a\":1}"));
    assert_eq!(ok(&o)["contentType"], json!("application/json"));
    let o = open.call(key("f", "1"), &src, "viaHttp", json!({})).await;
    let v = ok(&o);
    assert_eq!(v["result"]["statusCode"], json!(200));
    assert_eq!(v["result"]["data"]["body"], json!("{\"b\":2}"));
    assert_eq!(v["result"]["data"]["auth"], json!("Basic dXNlcjpwYXNz"));
    let o = open.call(key("f", "1"), &src, "httpGet", json!({})).await;
    assert_eq!(ok(&o), json!({"text": "hi", "n": 3}));
    let o = open
        .call(key("f", "1"), &src, "httpMissing", json!({}))
        .await;
    assert_eq!(ok(&o), json!([true, 404]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_rechecked_and_bodies_limited() {
    let base = server().await;
    // Only 127.0.0.1 is allowed; the redirect goes to 127.0.0.2.
    let policy = EgressPolicy::from_parts(
        false,
        EgressPolicy::parse_cidr_list("127.0.0.1/32").unwrap(),
    );
    let defaults = EgressDefaults {
        max_body: 4096,
        ..EgressDefaults::default()
    };
    let h = ScriptHost::new(
        ScriptConfig::default(),
        Arc::new(GuardedClient::new(policy, defaults).unwrap()),
    );
    let src = compiled(&format!(
        r#"
        class Script {{
          async out() {{ try {{ await fetch('{base}/redirect-out'); return 'followed'; }} catch (e) {{ return e.message; }} }}
          async inside() {{ const r = await fetch('{base}/redirect-in'); return [r.status, r.url, (await r.json()).text]; }}
          async manual() {{ const r = await fetch('{base}/redirect-out', {{ redirect: 'manual' }}); return [r.status, r.headers.get('location') !== null]; }}
          async big() {{ try {{ await fetch('{base}/big'); return 'read'; }} catch (e) {{ return e.message; }} }}
          bigHttp() {{ return HTTP('GET', '{base}/big').error.message; }}
        }}"#
    ));
    let o = h.call(key("r", "1"), &src, "out", json!({})).await;
    let m = ok(&o);
    assert!(m.as_str().unwrap().contains("refused: 127.0.0.2"), "{m}");
    let o = h.call(key("r", "1"), &src, "inside", json!({})).await;
    assert_eq!(ok(&o), json!([200, format!("{base}/json"), "hi"]));
    let o = h.call(key("r", "1"), &src, "manual", json!({})).await;
    assert_eq!(ok(&o), json!([302, true]));
    let o = h.call(key("r", "1"), &src, "big", json!({})).await;
    assert!(
        ok(&o)
            .as_str()
            .unwrap()
            .contains("exceeds the limit of 4096 bytes"),
        "{:?}",
        o.result
    );
    let o = h.call(key("r", "1"), &src, "bigHttp", json!({})).await;
    assert!(ok(&o).as_str().unwrap().contains("4096"), "{:?}", o.result);
}

/// `cargo test --test script_sandbox -- --ignored --nocapture bench` prints calls per second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_trivial_calls() {
    let h = Arc::new(host());
    let src = compiled(
        "class Script { process_incoming_request({ request }) { return { content: { text: request.content.text } } } }",
    );
    let args = json!({"request": {"content": {"text": "hello"}, "headers": {"content-type": "application/json"}}});
    let m = "process_incoming_request";
    h.call(key("bench", "1"), &src, m, args.clone()).await;
    let n = 20_000;
    let start = Instant::now();
    let mut script_time = Duration::ZERO;
    for _ in 0..n {
        let o = h.call(key("bench", "1"), &src, m, args.clone()).await;
        script_time += o.elapsed;
        assert!(o.result.is_ok());
    }
    let wall = start.elapsed();
    println!(
        "sequential: {:.0} calls/s ({:.1} µs per call incl. thread hop, {:.1} µs script-thread time)",
        n as f64 / wall.as_secs_f64(),
        wall.as_secs_f64() * 1e6 / n as f64,
        script_time.as_secs_f64() * 1e6 / n as f64
    );
    // Parallel: several integrations at once.
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..4 {
        let h = h.clone();
        let src = src.clone();
        let args = args.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..n / 4 {
                h.call(key(&format!("bench-{t}"), "1"), &src, m, args.clone())
                    .await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let wall = start.elapsed();
    println!(
        "4 integrations in parallel: {:.0} calls/s",
        n as f64 / wall.as_secs_f64()
    );
}
