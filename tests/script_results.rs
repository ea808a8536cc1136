//! A script's result reaches the server as `JSON.parse(JSON.stringify(result))` would give it, as in
//! Rocket.Chat. The runtime copies results out without printing them; here every case is also printed by
//! the engine's own `JSON.stringify` and read back, and the two must agree (or both fail).

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard::egress::{EgressDefaults, EgressPolicy, GuardedClient};
use switchboard::script::{compile, ScriptConfig, ScriptFailure, ScriptHost, ScriptKey};

const SCRIPT: &str = r#"
class Script {
  value({ code }) { return (0, eval)(code); }
  text({ code }) { return JSON.stringify((0, eval)(code)); }
}
"#;

/// What the result was, or the kind of failure (a thrown error's name, or the failure's description).
fn describe(r: Result<Option<Value>, ScriptFailure>) -> Result<Option<Value>, String> {
    r.map_err(|f| match f {
        ScriptFailure::Thrown(e) => e.name,
        other => format!("{other:?}").chars().take(40).collect(),
    })
}

/// A script host with [`SCRIPT`] compiled, and the key to call it under as integration `id`.
fn script_host(id: &str) -> (ScriptHost, String, ScriptKey) {
    let host = ScriptHost::new(
        ScriptConfig::default(),
        Arc::new(GuardedClient::new(EgressPolicy::default(), EgressDefaults::default()).unwrap()),
    );
    let key = ScriptKey {
        integration_id: id.into(),
        version: "1".into(),
    };
    (host, compile(SCRIPT).unwrap().into_string(), key)
}

async fn compare(cases: &[&str]) {
    let (host, compiled, key) = script_host("results");
    let mut failures = Vec::new();
    for code in cases {
        let copied = host
            .call(key.clone(), &compiled, "value", json!({ "code": code }))
            .await;
        let printed = host
            .call(key.clone(), &compiled, "text", json!({ "code": code }))
            .await;
        let copied = describe(copied.result);
        // What the old way made of it: the engine's text, parsed by serde_json.
        let expected = match describe(printed.result) {
            Ok(Some(Value::String(text))) => serde_json::from_str::<Value>(&text)
                .map(Some)
                .map_err(|e| format!("unparsable: {e}")),
            Ok(None) => Ok(None),
            other => other,
        };
        let agree = match (&copied, &expected) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => a == b || b.starts_with("unparsable"),
            _ => false,
        };
        if !agree {
            failures.push(format!(
                "{code}\n   stringify: {expected:?}\n   copied:    {copied:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_mean_what_json_stringify_makes_of_them() {
    compare(&[
        // Primitives and the values that vanish or turn into null.
        "({a: 1, b: [1, 'x', null, true, undefined, function () {}, Symbol('s')], c: undefined, d: () => 1, e: Symbol('x'), f: false})",
        "[NaN, Infinity, -Infinity, -0, 0.1, 1e21, 1e-7, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 2 ** 64 * 16, -(2 ** 63), -(2 ** 63) * 4, 123456789012345680000, 1.5, -3, 2147483648, -2147483649]",
        "({s: 'é\\n\"\\u0000\\u001f😀\\\\', empty: ''})",
        "undefined",
        "null",
        "42",
        "'text'",
        "() => 1",
        "Symbol('top')",
        // Key order: integer-like keys first, ascending, then insertion order.
        "({2: 'b', 1: 'a', x: 'c', 0: 'z', '-1': 'n', '01': 'o'})",
        // Objects that are not plain.
        "({d: new Date(0), n: new Number(3), s: new String('x'), b: new Boolean(false)})",
        "new Date(86400000)",
        "new Number(7)",
        "({k: {toJSON(key) { return 'key:' + key }}, arr: [{toJSON(key) { return key + '!' }}]})",
        "({toJSON(key) { return {top: key} }})",
        "(() => { class P { constructor() { this.x = 1 } get y() { return 2 } } return {p: new P()} })()",
        "({m: new Map([[1, 2]]), set: new Set([1]), re: /a/g, err: new Error('boom'), ta: new Uint8Array([1, 2])})",
        "Object.create(null, {a: {value: 1, enumerable: true}, hidden: {value: 2, enumerable: false}})",
        "(() => { const o = {}; Object.defineProperty(o, 'g', {get() { return 'got' }, enumerable: true}); return o })()",
        "JSON.parse('{\"__proto__\": {\"x\": 1}, \"y\": 2}')",
        "({__proto__: {inherited: 1}, own: 2})",
        "(() => { const a = [1, , 3]; a.length = 5; return a })()",
        "(() => { const a = []; a.length = 100000; return a })()",
        "new Proxy({a: 1, b: [2]}, {})",
        "new Proxy([1, 2], {})",
        "(() => { function f() {} f.toJSON = () => 'fn'; return {f} })()",
        "(() => { const a = [1, 2]; a.toJSON = () => 'arr'; return {a} })()",
        "(() => { const s = Symbol('k'); return {[s]: 1, v: 2} })()",
        // A shared (not cyclic) object appears twice.
        "(() => { const x = {v: 1}; return [x, {y: x}] })()",
        // Failures: cycles, BigInt, a throwing getter or toJSON, nesting beyond 128 levels.
        "(() => { const o = {}; o.o = o; return o })()",
        "(() => { const o = {x: {}}; o.x.up = o; return o })()",
        "(() => { const a = [1]; a.push(a); return {a} })()",
        "({n: 10n})",
        "(() => { const o = {}; Object.defineProperty(o, 'g', {get() { throw new RangeError('no') }, enumerable: true}); return o })()",
        "({toJSON() { throw new SyntaxError('no') }})",
        "(() => { let v = 1; for (let i = 0; i < 200; i++) v = [v]; return v })()",
        "(() => { let v = 1; for (let i = 0; i < 100; i++) v = {v}; return v })()",
        // A result too large for the memory limit once expanded.
        "(() => { let a = [1]; for (let i = 0; i < 30; i++) a = [a, a]; return a })()",
        // Last, as it changes every later object: a toJSON for everything.
        "(() => { Object.prototype.toJSON = function (key) { return 'P' + key }; return {a: 1, b: [2]} })()",
        "[1, {a: 2}]",
    ])
    .await;
}

/// A lone surrogate cannot travel in JSON text to a message; it becomes U+FFFD, as Rocket.Chat's database
/// driver makes it, instead of failing the call (scripts that cut long texts split emoji this way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_surrogates_become_replacement_characters() {
    let (host, compiled, key) = script_host("surrogates");
    for (code, expected) in [
        ("'cut 😀 here'.substring(0, 5)", json!("cut \u{FFFD}")),
        (
            "({text: 'x\\udc00y', list: ['\\ud83d']})",
            json!({"text": "x\u{FFFD}y", "list": ["\u{FFFD}"]}),
        ),
        ("'whole 😀'", json!("whole 😀")),
    ] {
        let o = host
            .call(key.clone(), &compiled, "value", json!({ "code": code }))
            .await;
        assert_eq!(o.result.ok().flatten(), Some(expected), "{code}");
    }
}
