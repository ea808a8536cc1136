//! Class lowering, checked by running the lowered scripts in the real engine: the results must be what the
//! same classes give natively, except that class bodies run in sloppy mode.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard::egress::{EgressDefaults, EgressPolicy, GuardedClient};
use switchboard::script::{compile, ScriptConfig, ScriptHost};

async fn run(src: &str, method: &str) -> Value {
    let compiled = compile(src).unwrap_or_else(|e| panic!("compile failed: {e:?}"));
    assert!(
        !compiled.as_str().contains("class Script"),
        "not lowered:\n{}",
        compiled.as_str()
    );
    let host = ScriptHost::new(
        ScriptConfig::default(),
        Arc::new(GuardedClient::new(EgressPolicy::default(), EgressDefaults::default()).unwrap()),
    );
    let o = host
        .dry_run(
            compiled.as_str(),
            method,
            json!({"request": {"content": {"a": 1}}}),
        )
        .await;
    match o.result {
        Ok(v) => v.unwrap_or(Value::Null),
        Err(e) => panic!("{e:?}\nlowered:\n{}", compiled.as_str()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_every_kind() {
    let v = run(
        r#"
        class Script {
          field = 1;
          ['comp' + 'uted'] = 2;
          #secret = 'hidden';
          static created = 0;
          static { Script.created = 10; }
          constructor() { this.made = ++Script.created; }
          get secret() { return this.#secret.toUpperCase(); }
          set secret(v) { this.#secret = v; }
          static twice(x) { return x * 2; }
          #priv() { return 'p'; }
          *gen() { yield 1; yield 2; }
          'quoted name'() { return 'q'; }
          42() { return 'num'; }
          async process_incoming_request({ request }) {
            implicitGlobal = 'sloppy';
            this.secret = 'changed';
            return {
              field: this.field, computed: this.computed, made: this.made, secret: this.secret,
              twice: Script.twice(21), priv: this.#priv(), gen: [...this.gen()], q: this['quoted name'](),
              num: this[42](), content: request.content, global: globalThis.implicitGlobal,
              keys: Object.keys(this), protoKeys: Object.keys(Script.prototype),
              name: Script.name, ctorOk: this.constructor === Script, isFn: typeof Script,
              noCall: (() => { try { Script(); return 'called'; } catch (e) { return e.name; } })(),
              thisUndefinedIsGlobal: (function () { return this === globalThis; })(),
            };
          }
        }"#,
        "process_incoming_request",
    )
    .await;
    assert_eq!(
        v,
        json!({
            "field": 1, "computed": 2, "made": 11, "secret": "CHANGED", "twice": 42, "priv": "p",
            "gen": [1, 2], "q": "q", "num": "num", "content": {"a": 1}, "global": "sloppy",
            "keys": ["field", "computed", "made"], "protoKeys": [], "name": "Script", "ctorOk": true,
            "isFn": "function", "noCall": "TypeError", "thisUndefinedIsGlobal": true
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inheritance_and_super() {
    let v = run(
        r#"
        class Base {
          kind = 'base';
          constructor(name) { this.name = name; }
          hello() { return 'hello ' + this.name; }
          static make() { return new this('made'); }
          get tag() { return '<' + this.name + '>'; }
        }
        class Mid extends Base {
          extra = this.name + '!';
          hello() { return super.hello() + ' from mid'; }
        }
        class Script extends Mid {
          constructor() {
            const pre = 'x';
            super('script' + pre);
            leaked = super.hello();
            this.arrow = (() => super.hello())();
          }
          hello() { return super.hello() + ' and script'; }
          static make() { return super.make().name + '?'; }
          get tag() { return super.tag + '*'; }
          run() {
            class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
            const e = new MyError('bad');
            return {
              hello: this.hello(), extra: this.extra, kind: this.kind, leaked, arrow: this.arrow,
              make: Script.make(), tag: this.tag, inst: [this instanceof Mid, this instanceof Base],
              err: [e instanceof MyError, e instanceof Error, e.message, e.name, String(e)],
              proto: Object.getPrototypeOf(Script) === Mid,
            };
          }
        }"#,
        "run",
    )
    .await;
    assert_eq!(
        v,
        json!({
            "hello": "hello scriptx from mid and script", "extra": "scriptx!", "kind": "base",
            "leaked": "hello scriptx from mid", "arrow": "hello scriptx from mid",
            "make": "scriptx?", "tag": "<scriptx>*", "inst": [true, true],
            "err": [true, true, "bad", "MyError", "MyError: bad"], "proto": true
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tricky_tokens_inside_methods() {
    let v = run(
        r#"
        // class Fake { in a comment }
        const helper = function () {
          class Inner { value() { return '}' + "{" + `${ { a: '}' }.a }` } }
          return new Inner().value();
        };
        const Expr = class Named { who() { return Named.name } };
        class Script {
          process_incoming_request() {
            const re = /[}{]+\/class/g;
            const divided = 10 / 2 / 5;
            const tpl = `a ${ `nested ${ 1 + 1 } }` } b`;
            const obj = { class: 'kw', if: 1 };
            const arrow = (x) => { return { y: x } };
            /* } */
            return {
              re: '}{/class'.match(re)[0], divided, tpl, cls: obj.class, arrow: arrow(3).y,
              helper: helper(), expr: new Expr().who(),
              asyncArrow: typeof (async () => 1),
              tern: true ? 'a' : 'b',
            };
          }
        }"#,
        "process_incoming_request",
    )
    .await;
    assert_eq!(
        v,
        json!({
            "re": "}{/class", "divided": 1, "tpl": "a nested 2 } b", "cls": "kw", "arrow": 3,
            "helper": "}{}", "expr": "Named", "asyncArrow": "function", "tern": "a"
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_initialisers_without_semicolons_and_async_arrows() {
    let v = run(
        r#"
        class Helper {
          items = []
          count = 0
          add = (x) => { this.items.push(x); this.count++; return this }
          static defaults = { a: 1,
            b: 2 }
          label = 'a'
            + 'b'
        }
        class Script {
          helper = new Helper()
          async prepare_outgoing_request({ request }) {
            const wait = async (v) => v * 2;
            this.helper.add(await wait(1)).add(await wait(2));
            return { items: this.helper.items, count: this.helper.count, d: Helper.defaults, label: this.helper.label };
          }
        }"#,
        "prepare_outgoing_request",
    )
    .await;
    assert_eq!(
        v,
        json!({"items": [2, 4], "count": 2, "d": {"a": 1, "b": 2}, "label": "ab"})
    );
}

#[test]
fn lowering_keeps_line_numbers() {
    let src = "class Script {\n  a() {\n    return 1;\n  }\n\n  b() { null.x }\n}\n";
    let out = compile(src).unwrap();
    assert_eq!(
        out.as_str().lines().count(),
        src.lines().count(),
        "{}",
        out.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contextual_keywords_as_member_names() {
    let v = run(
        r#"
        const mixin = (B) => class extends B { mixed() { return 'mixed' } };
        class A {}
        class Script extends mixin(true ? A : Object) {
          get() { return 'get' }
          set(v) { return 'set' + v }
          static() { return 'static' }
          async = 'field named async'
          static async *gen() { yield 1 }
          class() { return 'class' }
          constructor() { super(); }
          run() {
            return [this.get(), this.set(1), this.static(), this.async, this.class(), this.mixed(),
                    typeof Script.gen, this instanceof A];
          }
        }"#,
        "run",
    )
    .await;
    assert_eq!(
        v,
        json!([
            "get",
            "set1",
            "static",
            "field named async",
            "class",
            "mixed",
            "function",
            true
        ])
    );
}
