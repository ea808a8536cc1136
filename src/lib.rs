//! Switchboard: a self-hosted team chat server whose integrations are a drop-in replacement for
//! Rocket.Chat's.
//!
//! The layout follows the architecture: [`http`] is the REST API (one file per area), [`chat`] the domain
//! (users, rooms, messages, permissions), [`store`] the storage trait with its SQLite and PostgreSQL
//! backends, [`realtime`] the event hub and DDP WebSocket, [`ui`] the web UI. [`run`] is the one entry point, used by the
//! binary and by the tests alike.

pub mod chat;
pub mod config;
pub mod egress;
pub mod error;
pub mod http;
pub mod integrations;
pub mod model;
pub mod realtime;
pub mod script;
pub mod store;
pub mod ui;
pub mod util;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::chat::{Chat, Settings};
use crate::config::Config;
use crate::http::AppState;

/// Runs the server on `listener` until `shutdown` resolves, then lets in-flight requests finish, closes
/// realtime connections and the database, and returns.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let url = config.database_url();
    if url.starts_with("sqlite:") && config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    let store = store::connect(&url, &config.sqlite_synchronous)
        .await
        .with_context(|| format!("opening database {}", redact_url(&url)))?;
    let settings = Settings {
        site_url: config.site_url(Some(addr)),
        login_expiration_ms: config.login_expiration_days * 86_400_000,
        max_message_size: 5000,
        allow_editing: true,
        allow_deleting: true,
    };
    let chat = Arc::new(Chat::new(store, settings, config.hooks.history_size.max(0)));
    if let Some(password) = chat
        .seed(
            &config.admin_username,
            &config.admin_password,
            &config.admin_email,
        )
        .await
        .map_err(|e| anyhow::anyhow!("seeding the database: {e}"))?
    {
        tracing::warn!(
            username = %config.admin_username,
            %password,
            "created the administrator with a generated password; it is shown only this once"
        );
    }
    let (integrations, egress_client) = start_integrations(&config, chat.clone())?;
    let integrations = Arc::new(integrations);
    integrations
        .refresh_outgoing()
        .await
        .map_err(|e| anyhow::anyhow!("loading outgoing integrations: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let o = &config.outgoing;
    let delivery = integrations::delivery::Delivery::new(
        integrations.clone(),
        egress_client,
        integrations::delivery::DeliverySettings {
            concurrency: o.concurrency.max(1),
            poll: std::time::Duration::from_millis(o.poll_ms.max(1)),
            lease: std::time::Duration::from_secs(o.lease_secs.max(1)),
            history_retention: std::time::Duration::from_secs(o.history_days * 86_400),
            retry_delay_percent: o.retry_delay_percent,
            reload: std::time::Duration::from_secs(o.reload_secs.max(1)),
        },
    );
    let delivery_task = delivery.spawn(stop_rx.clone());
    let requests = integrations.requests.clone();
    let recorder = requests.clone().spawn_flusher(stop_rx.clone());
    let state = AppState {
        chat: chat.clone(),
        config: Arc::new(config),
        integrations,
        shutdown: stop_rx,
    };
    let app = http::app(state);
    tracing::info!(%addr, database = %redact_url(&url), "switchboard listening");
    // Realtime frames are small and sent back to back (`result` then `updated`, bursts of events);
    // without TCP_NODELAY, Nagle's algorithm meets the client's delayed ACK and adds ~40 ms to each.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            // Realtime connections watch this and close, so the server can drain.
            let _ = stop_tx.send(true);
        })
        .await?;
    // Calls still in flight are abandoned: their jobs stay queued and run again after the lease.
    delivery_task.abort();
    // The last recorded hook requests, then everything queued for the group commit before this point, are
    // written before the database closes.
    let _ = recorder.await;
    let _ = requests.flush().await;
    let _ = chat.writer.write(Vec::new()).await;
    chat.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The script host (with its guarded HTTP client) and the integrations service.
fn start_integrations(
    config: &Config,
    chat: Arc<Chat>,
) -> anyhow::Result<(integrations::Integrations, Arc<egress::GuardedClient>)> {
    let cidrs = egress::EgressPolicy::parse_cidr_list(&config.egress.allowed_cidrs.join(","))
        .map_err(|e| anyhow::anyhow!("egress.allowed_cidrs: {e}"))?;
    let policy = egress::EgressPolicy::from_parts(config.egress.allow_private_networks, cidrs);
    let defaults = egress::EgressDefaults {
        timeout: std::time::Duration::from_millis(config.egress.timeout_ms),
        max_body: config.egress.max_body_bytes,
        ..Default::default()
    };
    let client = Arc::new(
        egress::GuardedClient::new(policy, defaults)
            .map_err(|e| anyhow::anyhow!("egress client: {e}"))?,
    );
    let scripts = script::ScriptHost::new(
        script::ScriptConfig {
            timeout: std::time::Duration::from_millis(config.scripts.timeout_ms),
            memory_limit: config.scripts.memory_limit_mb * 1024 * 1024,
            threads: config.scripts.threads,
            max_threads: config.scripts.max_threads.max(config.scripts.threads),
            ..Default::default()
        },
        client.clone(),
    );
    let settings = integrations::IntegrationSettings {
        site_url: chat.settings.site_url.clone(),
        scripts_disabled: config.scripts.disabled,
        history_size: config.hooks.history_size.max(0),
        rate_limit: (config.hooks.rate_limit_per_minute > 0).then_some((
            config.hooks.rate_limit_per_minute,
            config.hooks.rate_limit_burst,
        )),
    };
    Ok((
        integrations::Integrations::new(chat, scripts, settings),
        client,
    ))
}

/// A database URL fit for logs: the password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
