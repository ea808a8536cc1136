//! One loaded integration script: a QuickJS runtime with its own limits, the prelude, the user's script and
//! the `Script` instance, plus the host half of `console`, `fetch` and `HTTP`.
//!
//! An [`Instance`] is only ever used by one script thread at a time (the pool in `mod.rs` guarantees it), but
//! it may move between threads between calls, which is why rquickjs runs with its `parallel` feature (the
//! runtime sits behind a lock and QuickJS's stack-overflow check is re-anchored on each entry).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use rquickjs::{
    context::EvalOptions, function::Rest, promise::PromiseState, CatchResultExt, CaughtError,
    Context, Ctx, Function, Object, Promise, Runtime, Value,
};
use serde::Deserialize;

use super::copy_out::CopyError;
use super::{LogLevel, LogLine, ScriptConfig, ScriptError, ScriptFailure};
use crate::egress::{EgressError, EgressRequest, GuardedClient, Oversize};

const KERNEL_JS: &str = include_str!("js/kernel.js");
const UNDERSCORE_JS: &str = include_str!("js/underscore.js");
const STRING_JS: &str = include_str!("js/string.js");
const MOMENT_JS: &str = include_str!("js/moment.js");

/// Shown as the file name in stack traces.
pub(crate) const SCRIPT_FILE: &str = "integration-script.js";

/// Bounds what one call can push into the caller's log buffer.
const MAX_LOG_LINES: usize = 200;
const MAX_LOG_LINE_BYTES: usize = 16 * 1024;

/// Redirects followed by `fetch`/`HTTP` in `follow` mode; every hop is re-checked by the egress guard.
const SCRIPT_MAX_REDIRECTS: usize = 5;

/// Everything the host handed to an integration's runtime.
#[derive(Clone)]
pub(crate) struct HostEnv {
    pub egress: Arc<GuardedClient>,
    pub handle: tokio::runtime::Handle,
}

/// Completion of an asynchronous host operation, delivered to the script thread that waits for the call.
enum HostEvent {
    Fetch { call: u64, id: u32, payload: String },
}

/// State shared between the script thread and the host closures installed in the runtime (which must be
/// `Send` because the runtime moves between threads).
struct Shared {
    /// Deadline of the current call, in nanoseconds since `epoch`; `u64::MAX` while idle.
    deadline: AtomicU64,
    epoch: Instant,
    /// Set by the interrupt handler when it stopped the script, so the resulting (uncatchable) exception is
    /// reported as a timeout rather than an error.
    interrupted: AtomicBool,
    logs: Mutex<Vec<LogLine>>,
    /// Identifies the current call so that a fetch finishing after its call ended is ignored.
    call_seq: AtomicU64,
    integration: String,
    /// How large a result may be copied out (the runtime's memory limit: `JSON.stringify` would run out
    /// of that).
    copy_budget: usize,
    env: HostEnv,
    events: mpsc::Sender<HostEvent>,
}

impl Shared {
    fn deadline(&self) -> Instant {
        let nanos = self.deadline.load(Ordering::Relaxed);
        self.epoch + Duration::from_nanos(nanos)
    }

    fn set_deadline(&self, timeout: Duration) {
        let at = self.epoch.elapsed() + timeout;
        self.deadline.store(
            at.as_nanos().min(u64::MAX as u128 - 1) as u64,
            Ordering::Relaxed,
        );
        self.interrupted.store(false, Ordering::Relaxed);
    }

    fn clear_deadline(&self) {
        self.deadline.store(u64::MAX, Ordering::Relaxed);
    }

    fn remaining(&self) -> Duration {
        self.deadline().saturating_duration_since(Instant::now())
    }

    fn log(&self, level: LogLevel, mut message: String) {
        if message.len() > MAX_LOG_LINE_BYTES {
            let mut cut = MAX_LOG_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        match level {
            LogLevel::Error => {
                tracing::error!(target: "switchboard::script", integration = %self.integration, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "switchboard::script", integration = %self.integration, "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(target: "switchboard::script", integration = %self.integration, "{message}")
            }
            _ => {
                tracing::info!(target: "switchboard::script", integration = %self.integration, "{message}")
            }
        }
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        if logs.len() < MAX_LOG_LINES {
            logs.push(LogLine {
                level,
                message,
                ts_ms: chrono::Utc::now().timestamp_millis(),
            });
        } else if logs.len() == MAX_LOG_LINES {
            logs.push(LogLine {
                level: LogLevel::Warn,
                message: format!("log output truncated after {MAX_LOG_LINES} lines"),
                ts_ms: chrono::Utc::now().timestamp_millis(),
            });
        }
    }

    fn take_logs(&self) -> Vec<LogLine> {
        std::mem::take(&mut *self.logs.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The request a script's `fetch`/`HTTP` wrapper hands to the host.
#[derive(Deserialize)]
struct JsRequest {
    url: String,
    method: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    timeout: Option<f64>,
    #[serde(default)]
    redirect: String,
}

/// A loaded script. Field order matters: the context must be dropped before the runtime.
pub(crate) struct Instance {
    pub version: String,
    ctx: Context,
    rt: Runtime,
    shared: Arc<Shared>,
    events: mpsc::Receiver<HostEvent>,
    /// A load failure that will not go away by retrying (syntax error, missing class, constructor threw):
    /// kept so every call reports it without re-evaluating the script.
    load_failure: Option<ScriptFailure>,
}

/// Result of one call with the log lines it produced.
pub(crate) struct CallResult {
    pub result: Result<Option<serde_json::Value>, ScriptFailure>,
    pub logs: Vec<LogLine>,
    /// Whether the runtime must be thrown away (it hit a limit and may be in an inconsistent state).
    pub poisoned: bool,
}

impl Instance {
    /// Creates a runtime, loads the prelude and the script, and instantiates `Script`. `Err` only for
    /// failures that make the runtime unusable (limits hit while loading); script errors are kept in the
    /// instance and reported by every call.
    pub fn load(
        config: &ScriptConfig,
        env: &HostEnv,
        integration: &str,
        version: &str,
        compiled: &str,
    ) -> Result<Instance, (ScriptFailure, Vec<LogLine>)> {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            deadline: AtomicU64::new(u64::MAX),
            epoch: Instant::now(),
            interrupted: AtomicBool::new(false),
            logs: Mutex::new(Vec::new()),
            call_seq: AtomicU64::new(0),
            integration: integration.to_string(),
            copy_budget: config.memory_limit,
            env: env.clone(),
            events: tx,
        });
        let internal = |e: rquickjs::Error| {
            (
                ScriptFailure::Internal(format!("cannot create script runtime: {e}")),
                Vec::new(),
            )
        };
        // QuickJS allocates through the process's allocator (mimalloc in the server) rather than the C
        // library's malloc: script values are made and dropped by the thousand per second, and the memory
        // limit is still enforced by QuickJS before each allocation.
        let rt = Runtime::new_with_alloc(rquickjs::allocator::RustAllocator).map_err(internal)?;
        let ctx = Context::full(&rt).map_err(internal)?;
        {
            let shared = shared.clone();
            rt.set_interrupt_handler(Some(Box::new(move || {
                let deadline = shared.deadline.load(Ordering::Relaxed);
                if deadline != u64::MAX && shared.epoch.elapsed().as_nanos() as u64 >= deadline {
                    shared.interrupted.store(true, Ordering::Relaxed);
                    true
                } else {
                    false
                }
            })));
        }
        rt.set_max_stack_size(config.max_stack);
        let mut inst = Instance {
            version: version.to_string(),
            ctx,
            rt,
            shared,
            events: rx,
            load_failure: None,
        };
        inst.shared.set_deadline(config.timeout);
        let prelude = inst.install_prelude();
        // The prelude's own allocations are not the script's fault, so the limit applies from here on.
        inst.rt.set_memory_limit(config.memory_limit);
        let loaded = prelude.and_then(|()| inst.load_script(compiled));
        inst.shared.clear_deadline();
        match loaded {
            Ok(()) => Ok(inst),
            Err(f) if f.is_resource_limit() => Err((f, inst.shared.take_logs())),
            Err(f) => {
                inst.load_failure = Some(f);
                Ok(inst)
            }
        }
    }

    fn install_prelude(&self) -> Result<(), ScriptFailure> {
        let shared = self.shared.clone();
        self.ctx.with(|ctx| {
            let res: rquickjs::Result<()> = (|| {
                for (name, src) in [
                    ("underscore.js", UNDERSCORE_JS),
                    ("underscore.string.js", STRING_JS),
                    ("moment.js", MOMENT_JS),
                ] {
                    ctx.eval_with_options::<(), _>(src, eval_options(name, true))?;
                }
                let kernel: Function =
                    ctx.eval_with_options(KERNEL_JS, eval_options("kernel.js", true))?;
                let host = host_object(&ctx, &shared)?;
                kernel.call::<_, ()>((host,))?;
                Ok(())
            })();
            res.catch(&ctx).map_err(|e| {
                let failure = classify(&shared, e);
                match failure {
                    ScriptFailure::Thrown(err) | ScriptFailure::Evaluation(err) => {
                        ScriptFailure::Internal(format!("prelude failed to load: {}", err.message))
                    }
                    other => other,
                }
            })
        })
    }

    fn load_script(&self, compiled: &str) -> Result<(), ScriptFailure> {
        let shared = self.shared.clone();
        self.ctx.with(|ctx| {
            let evaluated: rquickjs::Result<Value> =
                ctx.eval_with_options(compiled, eval_options(SCRIPT_FILE, false));
            if let Err(e) = evaluated.catch(&ctx) {
                return Err(match classify(&shared, e) {
                    ScriptFailure::Thrown(err) => ScriptFailure::Evaluation(err),
                    other => other,
                });
            }
            // `Script` may be a global `var`, a global lexical binding or a global property: a separate global
            // script sees all three.
            let class: Value = ctx
                .eval_with_options(
                    "typeof Script === 'function' ? Script : undefined",
                    eval_options("lookup.js", false),
                )
                .catch(&ctx)
                .map_err(|e| classify(&shared, e))?;
            if !class.is_function() {
                return Err(ScriptFailure::ClassNotFound);
            }
            let kernel: Object = ctx
                .globals()
                .get("__sb_kernel")
                .map_err(|e| ScriptFailure::Internal(e.to_string()))?;
            let init: Function = kernel
                .get("init")
                .map_err(|e| ScriptFailure::Internal(e.to_string()))?;
            init.call::<_, ()>((class,))
                .catch(&ctx)
                .map_err(|e| match classify(&shared, e) {
                    ScriptFailure::Thrown(err) => ScriptFailure::Evaluation(err),
                    other => other,
                })
        })
    }

    /// Calls `Script.prototype[method](args)`, awaiting a returned promise until the deadline.
    pub fn call(
        &mut self,
        method: &str,
        args: &super::ScriptArgs,
        timeout: Duration,
    ) -> CallResult {
        if let Some(f) = &self.load_failure {
            return CallResult {
                result: Err(f.clone()),
                logs: self.shared.take_logs(),
                poisoned: false,
            };
        }
        let call = self.shared.call_seq.fetch_add(1, Ordering::Relaxed) + 1;
        self.shared.set_deadline(timeout);
        // Drop completions of an earlier call's fetches that were never awaited.
        while self.events.try_recv().is_ok() {}
        let serialised;
        let args = match args {
            super::ScriptArgs::HookRequest(p) => Args::HookRequest(p),
            super::ScriptArgs::Value(v) => match serde_json::to_string(v) {
                Ok(s) => {
                    serialised = s;
                    Args::Json(serialised.as_str())
                }
                Err(e) => {
                    return CallResult {
                        result: Err(ScriptFailure::Internal(format!("arguments: {e}"))),
                        logs: Vec::new(),
                        poisoned: false,
                    }
                }
            },
        };
        let shared = self.shared.clone();
        let events = &self.events;
        let result = self.ctx.with(|ctx| {
            let res = run_call(&ctx, &shared, events, call, method, args);
            // Leave no half-finished exception behind for the next call.
            let _ = ctx.catch();
            res
        });
        self.shared.clear_deadline();
        let poisoned = matches!(&result, Err(f) if f.is_resource_limit());
        CallResult {
            result,
            logs: self.shared.take_logs(),
            poisoned,
        }
    }
}

fn eval_options(name: &str, strict: bool) -> EvalOptions {
    let mut o = EvalOptions::default();
    o.global = true;
    o.strict = strict;
    o.backtrace_barrier = true;
    o.filename = Some(name.to_string());
    o
}

fn host_object<'js>(ctx: &Ctx<'js>, shared: &Arc<Shared>) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    {
        let shared = shared.clone();
        host.set(
            "log",
            Function::new(ctx.clone(), move |level: String, message: String| {
                let level = match level.as_str() {
                    "error" => LogLevel::Error,
                    "warn" => LogLevel::Warn,
                    "info" => LogLevel::Info,
                    "debug" => LogLevel::Debug,
                    _ => LogLevel::Log,
                };
                shared.log(level, message);
            })?,
        )?;
    }
    {
        let shared = shared.clone();
        host.set(
            "fetch",
            Function::new(ctx.clone(), move |id: u32, request: String| {
                start_fetch(&shared, id, &request);
            })?,
        )?;
    }
    {
        let shared = shared.clone();
        host.set(
            "http",
            Function::new(ctx.clone(), move |request: String| {
                blocking_http(&shared, &request)
            })?,
        )?;
    }
    Ok(host)
}

fn to_egress(shared: &Shared, raw: &str) -> Result<(EgressRequest, bool), String> {
    let r: JsRequest = serde_json::from_str(raw).map_err(|e| format!("bad request: {e}"))?;
    let method = reqwest::Method::from_bytes(r.method.as_bytes())
        .map_err(|_| format!("invalid HTTP method `{}`", r.method))?;
    let mut req = EgressRequest::new(method, r.url);
    req.headers = r.headers;
    req.body = r.body.map(bytes::Bytes::from);
    let default = shared.env.egress.defaults().timeout;
    let asked = r
        .timeout
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| Duration::from_millis(t as u64))
        .unwrap_or(default);
    // A request can never outlive the call that made it.
    req.timeout = Some(asked.min(shared.remaining()).max(Duration::from_millis(1)));
    req.max_redirects = Some(if r.redirect == "follow" {
        SCRIPT_MAX_REDIRECTS
    } else {
        0
    });
    req.oversize = Oversize::Refuse;
    Ok((req, r.redirect == "error"))
}

fn response_json(
    res: Result<crate::egress::EgressResponse, EgressError>,
    redirect_error: bool,
) -> String {
    match res {
        Ok(r) if redirect_error && (300..400).contains(&r.status) => {
            serde_json::json!({ "error": format!("redirect to {} refused (redirect: 'error')", r.header("location").unwrap_or("?")) })
                .to_string()
        }
        Ok(r) => serde_json::json!({
            "status": r.status,
            "statusText": r.status_text,
            "url": r.url,
            "headers": r.headers,
            "body": String::from_utf8_lossy(&r.body),
        })
        .to_string(),
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    }
}

fn start_fetch(shared: &Arc<Shared>, id: u32, raw: &str) {
    let call = shared.call_seq.load(Ordering::Relaxed);
    let tx = shared.events.clone();
    match to_egress(shared, raw) {
        Ok((req, redirect_error)) => {
            let egress = shared.env.egress.clone();
            shared.env.handle.spawn(async move {
                let res = egress.send(req).await;
                let _ = tx.send(HostEvent::Fetch {
                    call,
                    id,
                    payload: response_json(res, redirect_error),
                });
            });
        }
        Err(e) => {
            let _ = tx.send(HostEvent::Fetch {
                call,
                id,
                payload: serde_json::json!({ "error": e }).to_string(),
            });
        }
    }
}

fn blocking_http(shared: &Arc<Shared>, raw: &str) -> String {
    let (req, redirect_error) = match to_egress(shared, raw) {
        Ok(r) => r,
        Err(e) => return serde_json::json!({ "error": e }).to_string(),
    };
    let wait = req.timeout.unwrap_or_default() + Duration::from_millis(50);
    let (tx, rx) = mpsc::sync_channel(1);
    let egress = shared.env.egress.clone();
    shared.env.handle.spawn(async move {
        let _ = tx.send(egress.send(req).await);
    });
    match rx.recv_timeout(wait) {
        Ok(res) => response_json(res, redirect_error),
        Err(_) => serde_json::json!({ "error": "the request timed out" }).to_string(),
    }
}

/// A call's arguments as the kernel takes them.
enum Args<'a> {
    Json(&'a str),
    HookRequest(&'a super::HookRequestParts),
}

fn run_call(
    ctx: &Ctx<'_>,
    shared: &Shared,
    events: &mpsc::Receiver<HostEvent>,
    call: u64,
    method: &str,
    args: Args<'_>,
) -> Result<Option<serde_json::Value>, ScriptFailure> {
    let internal = |e: rquickjs::Error| ScriptFailure::Internal(e.to_string());
    let kernel: Object = ctx.globals().get("__sb_kernel").map_err(internal)?;
    let called = match args {
        Args::Json(json) => {
            let invoke: Function = kernel.get("invoke").map_err(internal)?;
            invoke.call::<_, Value>((method, json))
        }
        Args::HookRequest(p) => {
            let invoke: Function = kernel.get("invokeHookRequest").map_err(internal)?;
            let headers = header_object(ctx, &p.headers).map_err(internal)?;
            let parts = vec![
                p.pathname.as_str(),
                &p.search,
                &p.query,
                &p.integration_id,
                &p.token,
                &p.content_raw,
                &p.user[0],
                &p.user[1],
                &p.user[2],
            ];
            let content = p.content.as_deref();
            invoke.call::<_, Value>((method, p.user_id.as_deref(), content, headers, Rest(parts)))
        }
    };
    let value = called.catch(ctx).map_err(|e| classify(shared, e))?;
    if value.as_object() == Some(&kernel) {
        return Err(ScriptFailure::MethodNotFound {
            method: method.to_string(),
        });
    }
    let value = match value.as_promise() {
        Some(p) => await_promise(ctx, shared, events, &kernel, call, method, p.clone())?,
        None => value,
    };
    // Let un-awaited promise chains finish what the call started, within the same deadline.
    drain_jobs(ctx, shared)?;
    to_json(ctx, shared, value)
}

/// `request.headers`, built here from the alternating name and value lines: splitting the text and
/// assigning the properties in script cost more than the rest of the `request` object together. Each
/// header is defined as an own data property, as JSON would make it (assigning `__proto__` would set the
/// object's prototype instead).
fn header_object<'js>(ctx: &Ctx<'js>, lines: &str) -> rquickjs::Result<Object<'js>> {
    let headers = Object::new(ctx.clone())?;
    let mut it = lines.split('\n');
    while let (Some(name), Some(value)) = (it.next(), it.next()) {
        headers.prop(
            name,
            rquickjs::object::Property::from(value)
                .writable()
                .enumerable()
                .configurable(),
        )?;
    }
    Ok(headers)
}

fn drain_jobs(ctx: &Ctx<'_>, shared: &Shared) -> Result<(), ScriptFailure> {
    while ctx.execute_pending_job() {
        if shared.interrupted.load(Ordering::Relaxed) {
            return Err(ScriptFailure::Timeout);
        }
        // A job that threw leaves its exception pending; promise jobs only do that for limit hits.
        let exc = ctx.catch();
        if exc.type_of() != rquickjs::Type::Uninitialized && is_out_of_memory(&exc) {
            return Err(ScriptFailure::OutOfMemory);
        }
    }
    if shared.interrupted.load(Ordering::Relaxed) {
        return Err(ScriptFailure::Timeout);
    }
    Ok(())
}

fn await_promise<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    events: &mpsc::Receiver<HostEvent>,
    kernel: &Object<'js>,
    call: u64,
    method: &str,
    promise: Promise<'js>,
) -> Result<Value<'js>, ScriptFailure> {
    let internal = |e: rquickjs::Error| ScriptFailure::Internal(e.to_string());
    let tick: Function = kernel.get("tick").map_err(internal)?;
    let deliver: Function = kernel.get("deliver").map_err(internal)?;
    let pending_fetches: Function = kernel.get("pendingFetches").map_err(internal)?;
    loop {
        drain_jobs(ctx, shared)?;
        match promise.state() {
            PromiseState::Resolved | PromiseState::Rejected => {
                return match promise.result::<Value>() {
                    Some(r) => r.catch(ctx).map_err(|e| classify(shared, e)),
                    None => Err(ScriptFailure::Internal("promise state changed".into())),
                };
            }
            PromiseState::Pending => {}
        }
        let next_timer: f64 = tick.call(()).catch(ctx).map_err(|e| classify(shared, e))?;
        drain_jobs(ctx, shared)?;
        if promise.state() != PromiseState::Pending {
            continue;
        }
        let fetches: u32 = pending_fetches.call(()).map_err(internal)?;
        if fetches == 0 && next_timer < 0.0 {
            return Err(ScriptFailure::Thrown(ScriptError {
                name: "Error".into(),
                message: format!(
                    "the promise returned by {method} never settles (nothing left to wait for)"
                ),
                stack: String::new(),
            }));
        }
        let remaining = shared.remaining();
        if remaining.is_zero() {
            return Err(ScriptFailure::Timeout);
        }
        let wait = if next_timer >= 0.0 {
            remaining.min(Duration::from_millis(next_timer as u64))
        } else {
            remaining
        };
        match events.recv_timeout(wait) {
            Ok(HostEvent::Fetch {
                call: c,
                id,
                payload,
            }) => {
                if c == call {
                    deliver
                        .call::<_, ()>((id, payload))
                        .catch(ctx)
                        .map_err(|e| classify(shared, e))?;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(ScriptFailure::Internal("host event channel closed".into()))
            }
        }
    }
}

fn to_json<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    value: Value<'js>,
) -> Result<Option<serde_json::Value>, ScriptFailure> {
    if value.is_undefined() {
        return Ok(None);
    }
    match super::copy_out::copy_out(ctx, value, shared.copy_budget) {
        Ok(v) => Ok(v),
        Err(CopyError::Js(e)) => Err::<(), _>(e)
            .catch(ctx)
            .map_err(|e| classify(shared, e))
            .map(|()| None),
        Err(CopyError::TooLarge) => Err(ScriptFailure::OutOfMemory),
        Err(CopyError::Unrepresentable(e)) => Err(ScriptFailure::Thrown(ScriptError {
            name: "TypeError".into(),
            message: format!("the script's result cannot be copied out: {e}"),
            stack: String::new(),
        })),
    }
}

fn is_out_of_memory(v: &Value<'_>) -> bool {
    v.as_object()
        .and_then(|o| o.get::<_, String>("message").ok())
        .is_some_and(|m| m == "out of memory")
}

/// Turns a caught JavaScript failure into the failure reported to the caller.
fn classify(shared: &Shared, e: CaughtError<'_>) -> ScriptFailure {
    if shared.interrupted.load(Ordering::Relaxed) {
        return ScriptFailure::Timeout;
    }
    match e {
        CaughtError::Error(rquickjs::Error::Allocation) => ScriptFailure::OutOfMemory,
        CaughtError::Error(e) => ScriptFailure::Internal(e.to_string()),
        CaughtError::Exception(ex) => {
            let message = ex.message().unwrap_or_default();
            let name = ex
                .as_object()
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".into());
            if name == "InternalError" && message == "out of memory" {
                return ScriptFailure::OutOfMemory;
            }
            let stack = ex.stack().unwrap_or_default();
            ScriptFailure::Thrown(ScriptError {
                name,
                message,
                stack,
            })
        }
        CaughtError::Value(v) => {
            if is_out_of_memory(&v) {
                return ScriptFailure::OutOfMemory;
            }
            let message = match v.as_string() {
                Some(s) => s.to_string().unwrap_or_default(),
                None => v
                    .ctx()
                    .json_stringify(v.clone())
                    .ok()
                    .flatten()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_else(|| format!("{:?}", v.type_of())),
            };
            ScriptFailure::Thrown(ScriptError {
                name: "Error".into(),
                message,
                stack: String::new(),
            })
        }
    }
}
