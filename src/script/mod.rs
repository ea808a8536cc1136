//! The integration script sandbox: Rocket.Chat-compatible `class Script { ... }` scripts run in QuickJS.
//!
//! * [`compile`] runs at save time: it reports syntax errors in Rocket.Chat's `scriptError` shape and lowers
//!   classes to sloppy-mode functions (see [`lower`]), producing the `scriptCompiled` text to store.
//! * [`ScriptHost`] runs stored scripts. Each integration gets its own QuickJS runtime with its own memory
//!   limit, stack limit and per-call deadline, and its `Script` instance (and `Store`) lives until the
//!   integration's version changes. Scripts never run on the async runtime: a small pool of dedicated script
//!   threads serves them, any free thread can serve any integration (calls for one integration are
//!   serialised), and the pool grows while every thread is busy, so one integration's endless loop does not
//!   hold up the others.
//! * Scripts get `console`, `_`, `s`, `moment`, `Store`, `fetch`, `HTTP`, `setTimeout`, `btoa`/`atob` and
//!   nothing else from the host: no filesystem, environment, process or network except through
//!   [`crate::egress::GuardedClient`].

mod copy_out;
mod engine;
pub mod lower;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::egress::GuardedClient;
use engine::{HostEnv, Instance};

/// A script error in Rocket.Chat's `scriptError` shape (`{name, message, stack}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptError {
    pub name: String,
    pub message: String,
    pub stack: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for ScriptError {}

/// Why a script call produced no result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScriptFailure {
    /// The stored script could not be evaluated, or its top level or `new Script()` threw.
    #[error("the script could not be evaluated: {0}")]
    Evaluation(ScriptError),
    /// The script defines no global `Script` class.
    #[error("the script defines no `Script` class")]
    ClassNotFound,
    #[error("the script has no method `{method}`")]
    MethodNotFound { method: String },
    /// The method threw (or its promise rejected).
    #[error("the script threw {0}")]
    Thrown(ScriptError),
    #[error("the script ran out of time")]
    Timeout,
    #[error("the script ran out of memory")]
    OutOfMemory,
    /// A host-side problem (shutting down, result not representable, engine failure).
    #[error("script host error: {0}")]
    Internal(String),
}

impl ScriptFailure {
    /// The Rocket.Chat error id for this failure.
    pub fn error_id(&self) -> &'static str {
        match self {
            ScriptFailure::Evaluation(_) => "error-evaluating-script",
            ScriptFailure::ClassNotFound => "class-script-not-found",
            ScriptFailure::MethodNotFound { .. } => "integration-method-not-found",
            _ => "error-running-script",
        }
    }

    /// Limits whose hit leaves the runtime in an unknown state, so it is thrown away.
    fn is_resource_limit(&self) -> bool {
        matches!(
            self,
            ScriptFailure::Timeout | ScriptFailure::OutOfMemory | ScriptFailure::Internal(_)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Log,
    Debug,
    Info,
    Warn,
    Error,
}

/// One `console.*` line written by a script during a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
    /// Unix time in milliseconds.
    pub ts_ms: i64,
}

/// Everything a call produced.
#[derive(Debug, Clone)]
pub struct ScriptOutcome {
    /// `Ok(None)` when the method returned `undefined` (or only functions).
    pub result: Result<Option<serde_json::Value>, ScriptFailure>,
    pub logs: Vec<LogLine>,
    /// Script-thread time spent on the call (including loading the script when it had to be).
    pub elapsed: Duration,
}

impl ScriptOutcome {
    fn failed(f: ScriptFailure) -> Self {
        Self {
            result: Err(f),
            logs: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }
}

/// Identifies a loaded script: a new `version` (e.g. the integration's `_updatedAt`) replaces the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScriptKey {
    pub integration_id: String,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct ScriptConfig {
    /// Wall-clock budget of one call (and of loading a script), as in Rocket.Chat.
    pub timeout: Duration,
    /// Memory limit of one integration's runtime, on top of the prelude.
    pub memory_limit: usize,
    /// JavaScript stack limit; script threads get a native stack comfortably larger than this.
    pub max_stack: usize,
    /// Script threads kept running.
    pub threads: usize,
    /// Upper bound the pool grows to while every thread is busy (e.g. with endless loops).
    pub max_threads: usize,
}

impl Default for ScriptConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(3000),
            memory_limit: 16 * 1024 * 1024,
            max_stack: 512 * 1024,
            threads: 2,
            max_threads: 16,
        }
    }
}

/// A script ready to store (`scriptCompiled`) and to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledScript {
    source: String,
}

impl CompiledScript {
    /// Wraps a previously stored `scriptCompiled` value.
    pub fn from_stored(source: String) -> Self {
        Self { source }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn into_string(self) -> String {
        self.source
    }
}

/// Checks `source` and lowers it for sloppy-mode execution. A syntax error comes back in Rocket.Chat's
/// `scriptError` shape (the caller still saves the integration, without `scriptCompiled`).
///
/// Parsing is synchronous and takes a few milliseconds for large scripts; call it from `spawn_blocking`
/// if that matters.
pub fn compile(source: &str) -> Result<CompiledScript, ScriptError> {
    syntax_check(source)?;
    let legacy = lower::has_top_level_return(source);
    let wrap = |s: &str| {
        if legacy {
            // Old scripts ran as a function body; keep the user's first line on line 1.
            format!("var Script = (function () {{{s}\n;return typeof Script !== 'undefined' ? Script : undefined;}}).call(this);")
        } else {
            s.to_string()
        }
    };
    match lower::lower_classes(source) {
        Ok(lowered) => {
            let candidate = wrap(&lowered);
            match syntax_check(&candidate) {
                Ok(()) => return Ok(CompiledScript { source: candidate }),
                Err(e) => tracing::warn!(
                    "class lowering produced invalid code ({e}); storing the script unlowered (class bodies stay strict)"
                ),
            }
        }
        Err(e) => tracing::warn!(
            "class lowering failed ({e}); storing the script unlowered (class bodies stay strict)"
        ),
    }
    Ok(CompiledScript {
        source: wrap(source),
    })
}

/// Parses without running: the source becomes the body of a function that is created but never called
/// (which is also how Rocket.Chat checks untranspiled scripts, and why a top-level `return` is accepted).
fn syntax_check(source: &str) -> Result<(), ScriptError> {
    let internal = |e: rquickjs::Error| ScriptError {
        name: "Error".into(),
        message: format!("cannot start the script parser: {e}"),
        stack: String::new(),
    };
    let rt = rquickjs::Runtime::new().map_err(internal)?;
    rt.set_memory_limit(64 * 1024 * 1024);
    let ctx = rquickjs::Context::full(&rt).map_err(internal)?;
    ctx.with(|ctx| {
        let mut opts = rquickjs::context::EvalOptions::default();
        opts.strict = false;
        opts.filename = Some(engine::SCRIPT_FILE.to_string());
        let wrapped = format!("(function () {{{source}\n}})");
        let r: rquickjs::Result<rquickjs::Value> = ctx.eval_with_options(wrapped, opts);
        match rquickjs::CatchResultExt::catch(r, &ctx) {
            Ok(_) => Ok(()),
            Err(rquickjs::CaughtError::Exception(ex)) => {
                let name = ex
                    .as_object()
                    .get::<_, String>("name")
                    .unwrap_or_else(|_| "SyntaxError".into());
                let message = ex.message().unwrap_or_default();
                let frames = ex.stack().unwrap_or_default();
                Err(ScriptError {
                    stack: format!("{name}: {message}\n{frames}"),
                    name,
                    message,
                })
            }
            Err(e) => Err(ScriptError {
                name: "SyntaxError".into(),
                message: e.to_string(),
                stack: String::new(),
            }),
        }
    })
}

/// Runs integration scripts on dedicated threads. Create one per server and share it (`Arc<ScriptHost>`).
pub struct ScriptHost {
    pool: Arc<Pool>,
}

/// A call's arguments: a JSON value, or an incoming hook's request in parts.
pub enum ScriptArgs {
    Value(serde_json::Value),
    /// `{ request }` for `process_incoming_request`, assembled by the script runtime.
    HookRequest(Box<HookRequestParts>),
}

/// An incoming hook's `request` (§1.5) in the parts the script runtime assembles it from. QuickJS parses
/// JSON at roughly ten nanoseconds a character, which made parsing one whole request document most of a
/// small script's cost; built from its strings, only the body and the query are left to parse, and the body
/// once for both `content` and `body` (one object, as in Rocket.Chat).
#[derive(Clone, Debug, Default)]
pub struct HookRequestParts {
    pub pathname: String,
    /// `?a=1`, or empty.
    pub search: String,
    /// `url.query`, as JSON text; empty for no query.
    pub query: String,
    pub integration_id: String,
    pub token: String,
    /// Only on the legacy route.
    pub user_id: Option<String>,
    /// `content` (and `body`) as JSON text, or `None` when `content_raw` is that text: a JSON body need not
    /// be copied a second time.
    pub content: Option<String>,
    pub content_raw: String,
    /// Lower-case header names and their values, alternating, joined by newlines (which no header holds).
    pub headers: String,
    /// The "post as" user: `_id`, `name`, `username`.
    pub user: [String; 3],
}

impl From<serde_json::Value> for ScriptArgs {
    fn from(v: serde_json::Value) -> Self {
        ScriptArgs::Value(v)
    }
}

struct Job {
    call: Call,
    /// The call goes back with the outcome, to be freed by the thread that built it (see
    /// [`crate::store::batch::Job::answer`] for why).
    reply: oneshot::Sender<(ScriptOutcome, Call)>,
}

struct Call {
    key: Option<ScriptKey>,
    /// The script to load when the thread has no instance of this version. Shared by the calls of one
    /// integration version: real scripts run to tens of kilobytes, too much to copy per call.
    compiled: Arc<str>,
    method: String,
    args: ScriptArgs,
}

enum Work {
    /// The integration has queued jobs and is not being served by any thread.
    Integration(String),
    DryRun(Job),
}

#[derive(Default)]
struct Slot {
    queued: VecDeque<Job>,
    /// The latest version's source, as its calls share it.
    source: Option<(String, Arc<str>)>,
    /// The loaded script while no thread is running it (a running thread holds it instead).
    instance: Option<Instance>,
    /// In the ready queue or being served: guarantees one thread per integration at a time.
    scheduled: bool,
    /// The loaded script must be dropped when the running call returns it.
    evicted: bool,
}

struct PoolState {
    slots: HashMap<String, Slot>,
    ready: VecDeque<Work>,
    workers: usize,
    idle: usize,
    shutdown: bool,
    spawned: usize,
}

struct Pool {
    config: ScriptConfig,
    env: HostEnv,
    state: Mutex<PoolState>,
    /// Signalled when work is queued (and on shutdown).
    work_ready: Condvar,
}

/// How long a thread above `ScriptConfig::threads` waits for work before it exits.
const EXTRA_THREAD_IDLE: Duration = Duration::from_secs(30);

impl ScriptHost {
    /// Creates the host; must be called inside a Tokio runtime, whose handle runs `fetch`/`HTTP` requests.
    pub fn new(config: ScriptConfig, egress: Arc<GuardedClient>) -> Self {
        Self::with_handle(config, egress, tokio::runtime::Handle::current())
    }

    pub fn with_handle(
        config: ScriptConfig,
        egress: Arc<GuardedClient>,
        handle: tokio::runtime::Handle,
    ) -> Self {
        let pool = Arc::new(Pool {
            config,
            env: HostEnv { egress, handle },
            state: Mutex::new(PoolState {
                slots: HashMap::new(),
                ready: VecDeque::new(),
                workers: 0,
                idle: 0,
                shutdown: false,
                spawned: 0,
            }),
            work_ready: Condvar::new(),
        });
        {
            let mut st = pool.lock();
            for _ in 0..pool.config.threads.max(1) {
                spawn_worker(&pool, &mut st);
            }
        }
        Self { pool }
    }

    pub fn config(&self) -> &ScriptConfig {
        &self.pool.config
    }

    /// Calls `method` on the integration's `Script` instance, loading `compiled` first when the integration
    /// has no runtime yet or `key.version` changed.
    pub async fn call(
        &self,
        key: ScriptKey,
        compiled: &str,
        method: &str,
        args: impl Into<ScriptArgs>,
    ) -> ScriptOutcome {
        let (reply, rx) = oneshot::channel();
        let args = args.into();
        {
            let mut st = self.pool.lock();
            if st.shutdown {
                return ScriptOutcome::failed(ScriptFailure::Internal(
                    "script host is shut down".into(),
                ));
            }
            let st = &mut *st;
            // Looked up before inserting, so a busy integration's id is not copied for every call.
            let slot = match st.slots.get_mut(&key.integration_id) {
                Some(slot) => slot,
                None => st.slots.entry(key.integration_id.clone()).or_default(),
            };
            let source = match &slot.source {
                Some((version, source)) if *version == key.version => source.clone(),
                _ => {
                    let source: Arc<str> = Arc::from(compiled);
                    slot.source = Some((key.version.clone(), source.clone()));
                    source
                }
            };
            let schedule = !slot.scheduled;
            slot.scheduled = true;
            let id = schedule.then(|| key.integration_id.clone());
            slot.queued.push_back(Job {
                call: Call {
                    key: Some(key),
                    compiled: source,
                    method: method.to_string(),
                    args,
                },
                reply,
            });
            if let Some(id) = id {
                st.ready.push_back(Work::Integration(id));
                self.pool.wake(st);
            }
        }
        answered(rx).await
    }

    /// Runs `method` of a draft script in a fresh, throw-away runtime (the "Test" button): the live
    /// instance, its state and its `Store` are not touched.
    pub async fn dry_run(
        &self,
        compiled: &str,
        method: &str,
        args: impl Into<ScriptArgs>,
    ) -> ScriptOutcome {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            call: Call {
                key: None,
                compiled: Arc::from(compiled),
                method: method.to_string(),
                args: args.into(),
            },
            reply,
        };
        {
            let mut st = self.pool.lock();
            if st.shutdown {
                return ScriptOutcome::failed(ScriptFailure::Internal(
                    "script host is shut down".into(),
                ));
            }
            st.ready.push_back(Work::DryRun(job));
            self.pool.wake(&mut st);
        }
        answered(rx).await
    }

    /// Drops an integration's runtime (after it was deleted, or to reset its state).
    pub fn evict(&self, integration_id: &str) {
        let mut st = self.pool.lock();
        if let Some(slot) = st.slots.get_mut(integration_id) {
            slot.instance = None;
            if slot.scheduled {
                slot.evicted = true;
            } else {
                st.slots.remove(integration_id);
            }
        }
    }

    /// Number of script threads currently running (for metrics and tests).
    pub fn thread_count(&self) -> usize {
        self.pool.lock().workers
    }
}

/// The outcome a script thread sent back (the call it returned with it is freed here, where it was made).
async fn answered(rx: oneshot::Receiver<(ScriptOutcome, Call)>) -> ScriptOutcome {
    match rx.await {
        Ok((outcome, _call)) => outcome,
        Err(_) => ScriptOutcome::failed(ScriptFailure::Internal("script host is shut down".into())),
    }
}

impl Drop for ScriptHost {
    fn drop(&mut self) {
        let mut st = self.pool.lock();
        st.shutdown = true;
        st.ready.clear();
        st.slots.clear();
        drop(st);
        self.pool.work_ready.notify_all();
    }
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // A panicking script thread must not take the whole host down with a poisoned lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called after queueing work: wakes an idle thread, or starts one when all are busy.
    fn wake(self: &Arc<Self>, st: &mut PoolState) {
        if st.ready.len() > st.idle && st.workers < self.config.max_threads.max(1) {
            spawn_worker(self, st);
        }
        // Busy threads look for work before they wait (under this lock), so only a waiting thread needs
        // the wake-up, which costs a system call.
        if st.idle > 0 {
            self.work_ready.notify_one();
        }
    }
}

fn spawn_worker(pool: &Arc<Pool>, st: &mut PoolState) {
    st.spawned += 1;
    let n = st.spawned;
    let stack = pool.config.max_stack * 2 + 2 * 1024 * 1024;
    let p = pool.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("script-{n}"))
        .stack_size(stack)
        .spawn(move || worker(p));
    match spawned {
        Ok(_) => st.workers += 1,
        Err(e) => tracing::error!("cannot start a script thread: {e}"),
    }
}

fn worker(pool: Arc<Pool>) {
    let mut st = pool.lock();
    loop {
        if st.shutdown {
            break;
        }
        match st.ready.pop_front() {
            Some(Work::DryRun(job)) => {
                drop(st);
                let (outcome, _) = run_job(&pool, None, &job.call);
                let _ = job.reply.send((outcome, job.call));
                st = pool.lock();
            }
            Some(Work::Integration(id)) => {
                let Some(slot) = st.slots.get_mut(&id) else {
                    continue;
                };
                let Some(job) = slot.queued.pop_front() else {
                    slot.scheduled = false;
                    continue;
                };
                let instance = slot.instance.take();
                drop(st);
                let (outcome, instance) = run_job(&pool, instance, &job.call);
                let _ = job.reply.send((outcome, job.call));
                st = pool.lock();
                if let Some(slot) = st.slots.get_mut(&id) {
                    if slot.evicted {
                        slot.evicted = false;
                    } else {
                        slot.instance = instance;
                    }
                    if slot.queued.is_empty() {
                        slot.scheduled = false;
                    } else {
                        st.ready.push_back(Work::Integration(id));
                    }
                }
            }
            None => {
                st.idle += 1;
                let (guard, timeout) = pool
                    .work_ready
                    .wait_timeout(st, EXTRA_THREAD_IDLE)
                    .unwrap_or_else(|e| e.into_inner());
                st = guard;
                st.idle -= 1;
                if timeout.timed_out()
                    && st.ready.is_empty()
                    && st.workers > pool.config.threads.max(1)
                {
                    break;
                }
            }
        }
    }
    st.workers -= 1;
}

/// Runs one job, loading the script when needed; returns the instance to keep (if any).
fn run_job(
    pool: &Pool,
    instance: Option<Instance>,
    job: &Call,
) -> (ScriptOutcome, Option<Instance>) {
    let start = Instant::now();
    let (integration, version) = match &job.key {
        Some(k) => (k.integration_id.as_str(), k.version.as_str()),
        None => ("dry-run", ""),
    };
    let mut instance = instance.filter(|i| job.key.is_some() && i.version == version);
    let mut load_logs = Vec::new();
    if instance.is_none() {
        match Instance::load(&pool.config, &pool.env, integration, version, &job.compiled) {
            Ok(i) => instance = Some(i),
            Err((failure, logs)) => {
                return (
                    ScriptOutcome {
                        result: Err(failure),
                        logs,
                        elapsed: start.elapsed(),
                    },
                    None,
                )
            }
        }
    }
    let Some(mut inst) = instance else {
        return (
            ScriptOutcome::failed(ScriptFailure::Internal("no runtime".into())),
            None,
        );
    };
    let r = inst.call(&job.method, &job.args, pool.config.timeout);
    load_logs.extend(r.logs);
    if let Err(f) = &r.result {
        tracing::debug!(integration, method = %job.method, "script call failed: {f}");
    }
    let keep = if r.poisoned || job.key.is_none() {
        None
    } else {
        Some(inst)
    };
    (
        ScriptOutcome {
            result: r.result,
            logs: load_logs,
            elapsed: start.elapsed(),
        },
        keep,
    )
}
