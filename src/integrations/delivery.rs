//! The outgoing delivery queue's consumer. Jobs are rows in `delivery_jobs`, written in the same transaction
//! as the event that caused them (see [`super::outgoing`]); a worker task claims due jobs (a lease, so a job
//! whose worker died is claimed again once the lease runs out), runs Rocket.Chat's per-URL pipeline — the
//! `prepare_outgoing_request` script, the HTTP call through the guarded client, `process_outgoing_response`,
//! the reply posted back — and writes the outcome through the group commit: the job removed or rescheduled,
//! and one history record per attempt.
//!
//! Delivery semantics follow the Standard Webhooks rules rather than Rocket.Chat's (DECISIONS 8): 2xx is
//! success; network errors, timeouts, 5xx, 408 and 429 (honouring `Retry-After`) are retried with
//! Rocket.Chat's `retryDelay` formulas up to `retryCount`; other statuses are final; 410 disables the
//! integration. Every call carries `webhook-id` (the job id, stable across retries and crashes),
//! `webhook-timestamp` and `webhook-signature`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Semaphore};

use super::Integrations;
use crate::chat::messages::MessageDefaults;
use crate::egress::{EgressRequest, GuardedClient};
use crate::error::{Error, Result};
use crate::model::{DeliveryJob, Integration, OutgoingHistory, User, CALL_DATA_IS_DATA};
use crate::script::{ScriptFailure, ScriptKey};
use crate::store::batch::WriteOp;
use crate::store::HistoryRow;
use crate::util::{new_id, now_ms, DateStyle};

/// Rocket.Chat's default `User-Agent` for outgoing calls (receivers written for it may look at it).
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.0 Safari/537.36";

/// The longest `Retry-After` honoured; a receiver cannot park a job for longer than this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Settings of the delivery workers (`[outgoing]` in the configuration).
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// Calls in flight at once on this node.
    pub concurrency: usize,
    /// How often the queue is polled when no local event woke the worker (bounds retry lateness and the
    /// pickup of other nodes' jobs).
    pub poll: Duration,
    /// How long a claimed job stays invisible to other claimers.
    pub lease: Duration,
    /// How long history records are kept.
    pub history_retention: Duration,
    /// Scales every retry delay, in percent (tests run the real schedule faster).
    pub retry_delay_percent: u64,
    /// How often the trigger registry is reloaded from the database.
    pub reload: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            concurrency: 64,
            poll: Duration::from_millis(500),
            lease: Duration::from_secs(60),
            history_retention: Duration::from_secs(30 * 86_400),
            retry_delay_percent: 100,
            reload: Duration::from_secs(10),
        }
    }
}

/// The wait before retry number `tries + 1` (`tries` counts from 0 for the first retry), by Rocket.Chat's
/// `retryDelay` formulas; `None` for an unknown strategy.
pub fn retry_delay(strategy: &str, tries: u32) -> Option<Duration> {
    let ms: u64 = match strategy {
        "powers-of-ten" => 10u64
            .checked_pow(tries.saturating_add(2))
            .unwrap_or(u64::MAX),
        "powers-of-two" => 2u64
            .checked_pow(tries.saturating_add(1))
            .and_then(|v| v.checked_mul(1000))
            .unwrap_or(u64::MAX),
        "increments-of-two" => (u64::from(tries) + 1).saturating_mul(2000),
        _ => return None,
    };
    // Beyond a year the number means "never" in practice; keep it representable.
    Some(Duration::from_millis(ms.min(365 * 86_400_000)))
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`) turned
/// into the time left until then, measured against `now_ms`. A date in the past means "now".
fn parse_retry_after(v: &str, now_ms: i64) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s).min(MAX_RETRY_AFTER));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v)
        .ok()?
        .timestamp_millis();
    let left = at.saturating_sub(now_ms).max(0) as u64;
    Some(Duration::from_millis(left).min(MAX_RETRY_AFTER))
}

/// HMAC-SHA256 (RFC 2104), written out because it is a dozen lines over `sha2`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The Standard Webhooks signature header value: `v1,` and the base64 HMAC-SHA256 of `{id}.{ts}.{body}`
/// keyed with the secret's bytes (the base64 part after `whsec_`).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let raw = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = b64.decode(raw).unwrap_or_else(|_| raw.as_bytes().to_vec());
    let mut msg = Vec::with_capacity(id.len() + body.len() + 24);
    msg.extend_from_slice(id.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(timestamp.to_string().as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    format!("v1,{}", b64.encode(hmac_sha256(&key, &msg)))
}

/// The worker that drains the queue on this node.
pub struct Delivery {
    integrations: Arc<Integrations>,
    client: Arc<GuardedClient>,
    settings: DeliverySettings,
    /// When each integration's owner was last told about a failure (see [`Delivery::tell_owner`]).
    told: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

/// At most one failure notice per integration in this long, so a dead endpoint with a busy queue does not
/// bury its owner in messages.
const NOTICE_EVERY: Duration = Duration::from_secs(3600);

/// Up to 10 % added to every retry delay, so the jobs that failed together (an endpoint that went down)
/// do not all come back in the same instant. Only ever later: never earlier than Rocket.Chat's formula or
/// the receiver's `Retry-After`.
fn jittered(wait_ms: u64, rng: &mut impl rand::Rng) -> u64 {
    wait_ms.saturating_add(rng.gen_range(0..=wait_ms / 10))
}

/// What one attempt's history record is being filled with.
struct Attempt {
    doc: Map<String, Value>,
    created_at: i64,
    /// Every step passed, in order. Rocket.Chat keeps only the last one (`step`); the whole path is what
    /// tells someone reading the history *why* a call ended where it did.
    steps: Vec<Value>,
    /// The scripts' console output during this attempt, recorded as `logs` like an incoming hook's.
    logs: Vec<Value>,
}

/// Whether a header of a recorded request or response holds a credential: shown as `***` in the history,
/// which integration managers read (a script may add `Authorization` or an API key to its calls).
fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n.contains("cookie")
        || ["token", "secret", "password", "api-key", "apikey"]
            .iter()
            .any(|s| n.contains(s))
}

/// Headers as a JSON object for the history, credentials redacted.
fn recorded_headers(headers: &[(String, String)]) -> Value {
    let mut m = Map::new();
    for (k, v) in headers {
        let v = if is_secret_header(k) {
            "***"
        } else {
            v.as_str()
        };
        m.insert(k.clone(), json!(v));
    }
    Value::Object(m)
}

impl Attempt {
    fn new(created_at: i64) -> Attempt {
        Attempt {
            doc: Map::new(),
            created_at,
            steps: Vec::new(),
            logs: Vec::new(),
        }
    }
    fn step(&mut self, step: impl Into<String>) {
        let step = step.into();
        self.steps.push(Value::String(step.clone()));
        self.doc.insert("step".into(), Value::String(step));
    }
    fn set(&mut self, key: &str, v: Value) {
        self.doc.insert(key.into(), v);
    }
    fn fail(&mut self, step: impl Into<String>, stack: Option<String>) {
        self.step(step);
        self.set("error", json!(true));
        if let Some(s) = stack {
            self.set("errorStack", json!(s));
        }
    }
}

/// How an attempt ended, for the queue.
enum Outcome {
    Done,
    /// Retryable failure; the optional wait comes from `Retry-After`.
    Retry(Option<Duration>),
}

impl Delivery {
    pub fn new(
        integrations: Arc<Integrations>,
        client: Arc<GuardedClient>,
        settings: DeliverySettings,
    ) -> Arc<Delivery> {
        Arc::new(Delivery {
            integrations,
            client,
            settings,
            told: Default::default(),
        })
    }

    /// Runs the worker until `shutdown` turns true. In-flight calls are abandoned at shutdown; their
    /// jobs stay in the queue and are claimed again after the lease.
    pub fn spawn(
        self: &Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(me.settings.concurrency.max(1)));
            let chat = me.integrations.chat.clone();
            let mut last_reload = std::time::Instant::now();
            let mut last_purge: Option<std::time::Instant> = None;
            loop {
                if *shutdown.borrow() {
                    break;
                }
                if last_reload.elapsed() >= me.settings.reload {
                    last_reload = std::time::Instant::now();
                    if let Err(e) = me.integrations.refresh_outgoing().await {
                        tracing::warn!(error = %e, "reloading outgoing integrations");
                    }
                }
                if last_purge.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                    last_purge = Some(std::time::Instant::now());
                    let before = now_ms() - me.settings.history_retention.as_millis() as i64;
                    if let Err(e) = chat.store.purge_outgoing_history(before).await {
                        tracing::warn!(error = %e, "purging outgoing history");
                    }
                }
                let free = permits.available_permits();
                let mut claimed = 0;
                if free > 0 {
                    let now = now_ms();
                    let lease_until = now + me.settings.lease.as_millis() as i64;
                    match chat.store.claim_jobs(now, lease_until, free as i64).await {
                        Ok(jobs) => {
                            claimed = jobs.len();
                            for job in jobs {
                                let permit = permits
                                    .clone()
                                    .acquire_owned()
                                    .await
                                    .expect("semaphore never closed");
                                let me = me.clone();
                                tokio::spawn(async move {
                                    me.run_job(job).await;
                                    drop(permit);
                                });
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "claiming delivery jobs"),
                    }
                }
                if claimed > 0 && claimed == free {
                    // Saturated, and probably more due. Claiming as soon as one slot frees would cost a
                    // write transaction per finished call; wait until a quarter of the slots are free (or a
                    // few milliseconds have passed) so one claim fetches many jobs.
                    let want = (me.settings.concurrency / 4).max(1);
                    let until = tokio::time::Instant::now() + Duration::from_millis(20);
                    while permits.available_permits() < want && tokio::time::Instant::now() < until
                    {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(1)) => {}
                            _ = shutdown.changed() => break,
                        }
                    }
                    continue;
                }
                if claimed > 0 {
                    continue;
                }
                tokio::select! {
                    _ = chat.outgoing.wake.notified() => {}
                    _ = tokio::time::sleep(me.settings.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        })
    }

    /// One attempt of one job, and its outcome written.
    async fn run_job(&self, job: DeliveryJob) {
        let chat = &self.integrations.chat;
        let Some(i) = chat.outgoing.get(&job.integration_id) else {
            // The integration was removed; its jobs go with it.
            let _ = chat.writer.write(vec![WriteOp::JobDone(job.id)]).await;
            return;
        };
        if !i.enabled {
            // Rocket.Chat re-checks `enabled` before each attempt; a disabled integration drops its calls.
            let _ = chat.writer.write(vec![WriteOp::JobDone(job.id)]).await;
            return;
        }
        let now = now_ms();
        let mut a = Attempt::new(now);
        let history_id = new_id();
        a.set("_id", json!(history_id));
        a.set("type", json!("outgoing-webhook"));
        a.step("start-execute-trigger-url");
        // The integration itself is not copied into every record (it was most of a record's size, written
        // thousands of times a second under load); reads add it back (see `OutgoingHistory::render`).
        a.set("event", json!(job.event));
        a.set("data", job.data.clone());
        if let Some(w) = &job.trigger_word {
            a.set("triggerWord", json!(w));
        }
        a.set("ranPrepareScript", json!(false));
        a.set("finished", json!(false));
        a.set("url", json!(job.url));
        a.set("webhookId", json!(job.id));
        a.set("attempt", json!(job.attempts));
        if let Some(r) = &job.room_id {
            a.set("roomId", json!(r));
        }
        let outcome = self.attempt(&i, &job, &mut a).await;
        let mut ops = Vec::with_capacity(2);
        match outcome {
            Outcome::Done => {
                a.set("finished", json!(true));
                ops.push(WriteOp::JobDone(job.id.clone()));
            }
            Outcome::Retry(after) => match self.next_try(&i, &job, after, &mut a) {
                Some(due_at) => ops.push(WriteOp::JobRetry {
                    id: job.id.clone(),
                    due_at,
                }),
                None => {
                    if a.doc.get("step").and_then(Value::as_str) == Some("too-many-retries") {
                        let last = a
                            .doc
                            .get("statusCode")
                            .map(|c| format!("HTTP {c}"))
                            .or_else(|| {
                                a.doc
                                    .get("httpError")
                                    .and_then(Value::as_str)
                                    .map(str::to_string)
                            })
                            .unwrap_or_else(|| "an error".into());
                        self.tell_owner(
                            &i,
                            &format!(
                                "gave up on a call to {} after {} attempts (the last one ended with {last}).",
                                job.url, job.attempts
                            ),
                        )
                        .await;
                    }
                    a.set("finished", json!(true));
                    ops.push(WriteOp::JobDone(job.id.clone()));
                }
            },
        }
        let steps = std::mem::take(&mut a.steps);
        a.set("steps", Value::Array(steps));
        if !a.logs.is_empty() {
            let logs = std::mem::take(&mut a.logs);
            a.set("logs", Value::Array(logs));
        }
        ops.push(WriteOp::History(Box::new(HistoryRow::of(
            &OutgoingHistory {
                id: history_id,
                integration_id: i.id.clone(),
                created_at: a.created_at,
                updated_at: now_ms().max(a.created_at),
                doc: a.doc,
            },
        ))));
        if let Err(e) = chat.writer.write(ops).await {
            // The lease runs out and the job is attempted again: at least once, never lost.
            tracing::warn!(error = %e, job = %job.id, "recording a delivery outcome");
        }
    }

    /// When a retryable failure is tried again, or `None` (with the reason in the history) when not.
    fn next_try(
        &self,
        i: &Integration,
        job: &DeliveryJob,
        retry_after: Option<Duration>,
        a: &mut Attempt,
    ) -> Option<i64> {
        a.set("error", json!(true));
        if !i.retry_failed_calls() || i.retry_count() <= 0 {
            a.step("failed-and-not-configured-to-retry");
            return None;
        }
        // `attempts` counts this one; retries made so far are one fewer.
        let tries = (job.attempts - 1).max(0);
        if tries >= i.retry_count() {
            a.step("too-many-retries");
            return None;
        }
        let Some(mut wait) = retry_delay(i.retry_delay(), tries as u32) else {
            a.step("failed-and-retry-delay-is-invalid");
            return None;
        };
        if let Some(after) = retry_after {
            wait = wait.max(after);
        }
        let wait_ms = jittered(
            (wait.as_millis() as u64).saturating_mul(self.settings.retry_delay_percent) / 100,
            &mut rand::thread_rng(),
        );
        let due = now_ms().saturating_add(wait_ms as i64);
        a.step(format!("going-to-retry-{}", tries + 1));
        a.set("nextAttemptAt", json!(crate::util::iso(due)));
        Some(due)
    }

    fn script_of<'a>(&self, i: &'a Integration) -> Option<&'a str> {
        if !i.script_enabled || self.integrations.settings.scripts_disabled {
            return None;
        }
        i.script_compiled
            .as_deref()
            .filter(|c| !c.trim().is_empty())
    }

    async fn call_script(
        &self,
        i: &Integration,
        compiled: &str,
        method: &str,
        args: Value,
        a: &mut Attempt,
    ) -> std::result::Result<Option<Value>, ScriptFailure> {
        a.step(format!("execute-script-before-running-{method}"));
        let key = ScriptKey {
            integration_id: i.id.clone(),
            version: i.updated_at.to_string(),
        };
        let outcome = self
            .integrations
            .scripts
            .call(key, compiled, method, args)
            .await;
        for l in &outcome.logs {
            tracing::info!(integration = %i.id, name = %i.name, level = ?l.level, "script: {}", l.message);
            a.logs
                .push(json!({ "level": l.level, "message": l.message, "ts_ms": l.ts_ms, "method": method }));
        }
        outcome.result
    }

    /// Rocket.Chat's per-URL pipeline (§6.5–6.7), with our retry classification.
    async fn attempt(&self, i: &Integration, job: &DeliveryJob, a: &mut Attempt) -> Outcome {
        let mut request = json!({
            "params": {}, "method": "POST", "url": job.url, "data": job.data,
            "headers": { "User-Agent": USER_AGENT },
        });
        a.step("mapped-args-to-data");
        let script = self.script_of(i);
        if let Some(compiled) = script {
            a.step("execute-script-getting-script");
            let method = "prepare_outgoing_request";
            match self
                .call_script(
                    i,
                    compiled,
                    method,
                    json!({ "request": request.clone() }),
                    a,
                )
                .await
            {
                Err(ScriptFailure::MethodNotFound { .. }) => {
                    a.step(format!("execute-script-no-method-{method}"));
                }
                Err(f) => {
                    a.fail(
                        format!("execute-script-error-running-{method}"),
                        Some(f.to_string()),
                    );
                    // A script error is a bug in the script: retrying the same input would fail again.
                    return Outcome::Done;
                }
                Ok(result) => {
                    a.set("ranPrepareScript", json!(true));
                    a.step("after-maybe-ran-prepare");
                    let Some(Value::Object(mut opts)) = result else {
                        a.step("after-prepare-no-opts");
                        return Outcome::Done;
                    };
                    if let Some(Value::Object(msg)) = opts.get("message") {
                        match self.post_reply(i, job, msg).await {
                            Ok(sent) => {
                                a.set("prepareSentMessage", json!(sent));
                                a.step("after-prepare-send-message");
                            }
                            Err(e) => {
                                a.fail("after-prepare-send-message-failed", Some(e.to_string()));
                                return Outcome::Done;
                            }
                        }
                    }
                    let has = |k: &str| {
                        opts.get(k)
                            .and_then(Value::as_str)
                            .is_some_and(|s| !s.is_empty())
                    };
                    if !has("url") || !has("method") {
                        a.step("after-prepare-no-url_or_method");
                        return Outcome::Done;
                    }
                    // Rocket.Chat writes into `headers`, so a missing one must become an object.
                    if !opts.get("headers").is_some_and(Value::is_object) {
                        opts.insert("headers".into(), json!({}));
                    }
                    request = Value::Object(opts);
                }
            }
        }
        a.step("pre-http-call");
        let egress = match self.build_request(i, job, &request) {
            Ok(r) => r,
            Err(e) => {
                a.set("httpError", json!(e));
                a.fail("after-http-call", None);
                return Outcome::Done;
            }
        };
        if let Some(d) = request.get("data").filter(|d| !d.is_null()) {
            // Usually the payload went out as it was queued: mark that instead of storing it twice.
            if *d == job.data {
                a.set(CALL_DATA_IS_DATA, json!(true));
            } else {
                a.set("httpCallData", d.clone());
            }
        }
        a.set("httpMethod", json!(egress.method.as_str()));
        a.set("requestHeaders", recorded_headers(&egress.headers));
        let started = std::time::Instant::now();
        let result = self.client.send(egress).await;
        a.set(
            "durationMs",
            json!(started.elapsed().as_secs_f64() * 1000.0),
        );
        a.step("after-http-call");
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                a.set("httpError", json!(e.to_string()));
                return Outcome::Retry(None);
            }
        };
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        a.set("statusCode", json!(resp.status));
        a.set("responseHeaders", recorded_headers(&resp.headers));
        a.set(
            "httpResult",
            json!(serde_json::to_string_pretty(&text).unwrap_or_default()),
        );
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        if let Some(compiled) = script {
            let method = "process_outgoing_response";
            let headers: Map<String, Value> = resp
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
                .collect();
            let response = json!({
                "error": null, "status_code": resp.status,
                "content": parsed.clone().unwrap_or_else(|| json!(text)),
                "content_raw": text, "headers": headers,
            });
            match self
                .call_script(
                    i,
                    compiled,
                    method,
                    json!({ "request": request, "response": response }),
                    a,
                )
                .await
            {
                Err(ScriptFailure::MethodNotFound { .. }) => {
                    a.step(format!("execute-script-no-method-{method}"));
                }
                Err(f) => {
                    a.fail(
                        format!("execute-script-error-running-{method}"),
                        Some(f.to_string()),
                    );
                    return Outcome::Done;
                }
                Ok(Some(Value::Bool(false))) => {
                    a.step("after-process-false-result");
                    return Outcome::Done;
                }
                Ok(Some(Value::Object(r))) if r.get("content").is_some_and(Value::is_object) => {
                    let content = r["content"].as_object().cloned().unwrap_or_default();
                    match self.post_reply(i, job, &content).await {
                        Ok(sent) => {
                            a.set("processSentMessage", json!(sent));
                            a.step("after-process-send-message");
                        }
                        Err(e) => a.fail("after-process-send-message-failed", Some(e.to_string())),
                    }
                    return Outcome::Done;
                }
                Ok(_) => {}
            }
        }
        match resp.status {
            200..=299 => {
                let reply = parsed.as_ref().and_then(Value::as_object).filter(|o| {
                    o.get("text")
                        .is_some_and(|t| t.as_str().is_some_and(|s| !s.is_empty()))
                        || o.get("attachments").is_some_and(Value::is_array)
                });
                if let Some(body) = reply {
                    match self.post_reply(i, job, body).await {
                        Ok(sent) => {
                            a.set("resultMessage", json!(sent));
                            a.step("url-response-sent-message");
                        }
                        Err(e) => {
                            a.fail("after-http-call-send-message-failed", Some(e.to_string()))
                        }
                    }
                }
                Outcome::Done
            }
            410 => {
                a.fail("after-process-http-status-410", None);
                if let Err(e) = self.disable(i).await {
                    tracing::warn!(error = %e, integration = %i.id, "disabling after 410");
                }
                self.tell_owner(
                    i,
                    &format!(
                        "was disabled: {} answered 410 Gone, which means it wants no more calls. \
                         Enable it again once the endpoint is back.",
                        job.url
                    ),
                )
                .await;
                Outcome::Done
            }
            408 | 429 | 500..=599 => {
                a.step(format!("after-process-http-status-{}", resp.status));
                Outcome::Retry(if resp.status == 429 {
                    resp.header("retry-after")
                        .and_then(|v| parse_retry_after(v, now_ms()))
                } else {
                    None
                })
            }
            s => {
                a.fail(format!("after-process-http-status-{s}"), None);
                Outcome::Done
            }
        }
    }

    /// The HTTP request from the (possibly script-made) request object, with the signature headers.
    fn build_request(
        &self,
        i: &Integration,
        job: &DeliveryJob,
        request: &Value,
    ) -> std::result::Result<EgressRequest, String> {
        let method = request["method"]
            .as_str()
            .unwrap_or("POST")
            .to_ascii_uppercase();
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let url = request["url"].as_str().unwrap_or(&job.url).to_string();
        let mut req = EgressRequest::new(method, url);
        if let Some(h) = request.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    v => v.to_string(),
                };
                req.headers.push((k.clone(), v));
            }
        }
        if let Some(auth) = request.get("auth").and_then(Value::as_str) {
            if !auth.contains(':') {
                return Err("auth must be \"user:password\"".into());
            }
            let b = base64::engine::general_purpose::STANDARD.encode(auth);
            req.headers
                .push(("Authorization".into(), format!("Basic {b}")));
        }
        let body: Bytes = match request.get("data").filter(|d| !d.is_null()) {
            Some(d) => {
                req.headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
                req.headers
                    .push(("Content-Type".into(), "application/json".into()));
                Bytes::from(serde_json::to_vec(d).unwrap_or_default())
            }
            None => Bytes::new(),
        };
        if let Some(ms) = request.get("timeout").and_then(Value::as_u64) {
            req.timeout = Some(Duration::from_millis(ms.clamp(1, 600_000)));
        }
        let ts = now_ms() / 1000;
        req.headers.push(("webhook-id".into(), job.id.clone()));
        req.headers
            .push(("webhook-timestamp".into(), ts.to_string()));
        if let Some(secret) = i.webhook_secret() {
            req.headers
                .push(("webhook-signature".into(), sign(secret, &job.id, ts, &body)));
        }
        if !body.is_empty() {
            req.body = Some(body);
        }
        Ok(req)
    }

    /// A direct message from `rocket.cat` to the integration's creator about a failure they must act on
    /// (retries exhausted, disabled by a 410), with a link to its delivery history. Rocket.Chat fails
    /// silently; the first anyone hears of it is usually the missing bot. At most one per [`NOTICE_EVERY`].
    async fn tell_owner(&self, i: &Integration, what: &str) {
        let Some(owner) = i.created_by.as_ref().map(|a| a.username.clone()) else {
            return;
        };
        {
            let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
            let now = std::time::Instant::now();
            if told
                .get(&i.id)
                .is_some_and(|t| now.duration_since(*t) < NOTICE_EVERY)
            {
                return;
            }
            told.insert(i.id.clone(), now);
        }
        let chat = &self.integrations.chat;
        let link = format!(
            "{}/admin/integrations/outgoing/{}/history",
            self.integrations.settings.site_url.trim_end_matches('/'),
            i.id
        );
        let text = format!(
            "Outgoing integration *{}* {what} Its delivery history: {link}",
            i.name
        );
        let sent = async {
            let bot = chat
                .store
                .user_by_username("rocket.cat")
                .await?
                .ok_or_else(|| Error::failure("rocket.cat is missing"))?;
            let mut body = Map::new();
            body.insert("text".into(), json!(text));
            // Marked as a bot's message, so no outgoing integration fires on it (no loops).
            body.insert("bot".into(), json!({ "i": i.id }));
            chat.post_payload(
                &bot,
                &[format!("@{owner}")],
                &body,
                &MessageDefaults::default(),
                false,
            )
            .await
        };
        if let Err(e) = sent.await {
            tracing::warn!(error = %e, integration = %i.id, "telling the owner about a failing integration");
        }
    }

    async fn disable(&self, i: &Integration) -> Result<()> {
        let store = &self.integrations.chat.store;
        if let Some(mut cur) = store.integration_by_id(&i.id).await? {
            cur.enabled = false;
            cur.updated_at = now_ms().max(cur.updated_at + 1);
            store.update_integration(&cur).await?;
        }
        self.integrations.refresh_outgoing().await
    }

    /// Posts a reply (§6.7): as the triggering user with `impersonateUser`, else the integration's user;
    /// to the reply's `channel`, else `targetRoom`, else the event's room; with the integration's
    /// alias/avatar/emoji and `bot: {i}`. Returns `[{channel, message}]` as Rocket.Chat records it.
    async fn post_reply(
        &self,
        i: &Integration,
        job: &DeliveryJob,
        body: &Map<String, Value>,
    ) -> Result<Vec<Value>> {
        let chat = &self.integrations.chat;
        let mut poster: Option<User> = None;
        if i.impersonate_user() {
            if let Some(name) = job.data.get("user_name").and_then(Value::as_str) {
                poster = chat.store.user_by_username(name).await?;
            }
        }
        if poster.is_none() {
            poster = chat.store.user_by_id(&i.user_id).await?;
        }
        let poster = poster.ok_or_else(|| Error::failure("error-invalid-user"))?;
        let mut targets: Vec<String> = Vec::new();
        match body.get("channel") {
            Some(Value::String(s)) if !s.trim().is_empty() => targets.push(s.clone()),
            Some(Value::Array(a)) => {
                targets.extend(a.iter().filter_map(Value::as_str).map(str::to_string))
            }
            _ => {}
        }
        if let Some(t) = i.target_room() {
            targets.push(t.to_string());
        }
        if let Some(r) = &job.room_id {
            targets.push(r.clone());
        }
        let mut body = body.clone();
        body.remove("channel");
        body.remove("roomId");
        let defaults = MessageDefaults {
            alias: i.alias.clone().unwrap_or_default(),
            avatar: i.avatar.clone().unwrap_or_default(),
            emoji: i.emoji.clone().unwrap_or_default(),
            bot: Some(json!({ "i": i.id })),
        };
        // The first target that resolves wins; a miss falls back to the next, as in Rocket.Chat.
        let mut last_err = Error::failure("No room to post the reply to");
        for t in targets {
            match chat
                .post_payload(&poster, std::slice::from_ref(&t), &body, &defaults, false)
                .await
            {
                Ok(results) => {
                    return Ok(results
                        .into_iter()
                        .filter_map(|r| {
                            r.result.ok().map(|m| {
                                json!({ "channel": r.target, "message": m.render(DateStyle::Iso) })
                            })
                        })
                        .collect())
                }
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }
}

impl Integrations {
    /// `integrations.replayOutgoing`: queues the call of a history record again — same data, same URL,
    /// same `webhook-id` — subject to the integration's current settings.
    pub async fn replay_outgoing(
        &self,
        actor: &User,
        integration_id: &str,
        history_id: &str,
    ) -> Result<()> {
        let i = self
            .chat
            .store
            .integration_by_id(integration_id)
            .await?
            .ok_or_else(|| Error::meteor("error-invalid-integration", "Invalid integration"))?;
        if !self.may_manage(actor, &i) {
            return Err(Error::meteor(
                "error-invalid-integration",
                "Invalid integration",
            ));
        }
        if !i.is_outgoing() {
            return Err(Error::meteor(
                "integration-type-must-be-outgoing",
                "The integration type to replay must be outgoing.",
            ));
        }
        let h = self
            .chat
            .store
            .outgoing_history_record(&i.id, history_id)
            .await?
            .ok_or_else(|| {
                Error::meteor(
                    "error-invalid-integration-history",
                    "Invalid Integration History",
                )
            })?;
        let Some(data) = h.doc.get("data").filter(|d| !d.is_null()).cloned() else {
            return Err(Error::meteor(
                "history-data-must-be-defined",
                "The history data must be defined to replay an integration.",
            ));
        };
        let now = now_ms();
        let s = |k: &str| h.doc.get(k).and_then(Value::as_str).map(str::to_string);
        let job = DeliveryJob {
            id: s("webhookId").unwrap_or_else(new_id),
            integration_id: i.id.clone(),
            event: s("event").unwrap_or_else(|| i.event().to_string()),
            url: s("url").unwrap_or_default(),
            data,
            trigger_word: s("triggerWord"),
            room_id: s("roomId"),
            created_at: now,
            due_at: now,
            attempts: 0,
        };
        match self.chat.store.insert_job(&job).await {
            Ok(()) => {}
            // The original delivery is still queued (being retried): replaying it again adds nothing.
            Err(crate::store::DbError::Unique(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.chat.jobs_written(1);
        Ok(())
    }

    /// `integrations.clearHistory` for an outgoing integration (or the recorded requests of an incoming one).
    pub async fn clear_history(&self, actor: &User, integration_id: &str) -> Result<()> {
        let i = self
            .chat
            .store
            .integration_by_id(integration_id)
            .await?
            .ok_or_else(|| Error::meteor("error-invalid-integration", "Invalid integration"))?;
        if !self.may_manage(actor, &i) {
            return Err(Error::meteor(
                "error-invalid-integration",
                "Invalid integration",
            ));
        }
        if i.is_outgoing() {
            self.chat.store.clear_outgoing_history(&i.id).await?;
        } else {
            self.requests.forget(&i.id);
            self.chat.store.clear_hook_requests(&i.id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedules_follow_rocketchat() {
        let ms = |s: &str, t: u32| retry_delay(s, t).map(|d| d.as_millis() as u64);
        assert_eq!(
            (0..5)
                .map(|t| ms("powers-of-ten", t).unwrap())
                .collect::<Vec<_>>(),
            vec![100, 1_000, 10_000, 100_000, 1_000_000]
        );
        assert_eq!(
            (0..4)
                .map(|t| ms("powers-of-two", t).unwrap())
                .collect::<Vec<_>>(),
            vec![2_000, 4_000, 8_000, 16_000]
        );
        assert_eq!(
            (0..4)
                .map(|t| ms("increments-of-two", t).unwrap())
                .collect::<Vec<_>>(),
            vec![2_000, 4_000, 6_000, 8_000]
        );
        assert_eq!(ms("fibonacci", 0), None);
        // Huge exponents saturate instead of overflowing.
        assert!(ms("powers-of-ten", 40).is_some());
    }

    #[test]
    fn jitter_only_ever_adds_up_to_a_tenth() {
        let mut rng = rand::thread_rng();
        let waits: Vec<u64> = (0..200).map(|_| jittered(10_000, &mut rng)).collect();
        assert!(
            waits.iter().all(|w| (10_000..=11_000).contains(w)),
            "{waits:?}"
        );
        assert!(waits.iter().any(|w| *w != waits[0]), "spread out");
        assert_eq!(jittered(0, &mut rng), 0);
        assert!(jittered(u64::MAX, &mut rng) == u64::MAX);
    }

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn hmac_matches_rfc4231() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signature_follows_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
