//! The `switchboard` binary: parses the command line, loads the configuration, and calls
//! [`switchboard::run`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The server allocates many short-lived buffers from several threads at once (request bodies, JSON
/// documents); mimalloc handles that pattern far better than the system allocator (measured: see
/// BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "A self-hosted team chat server with Rocket.Chat-compatible integrations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server.
    Serve {
        /// Address and port to listen on [env: SWITCHBOARD_LISTEN] [default: 127.0.0.1:3000]
        #[arg(long)]
        listen: Option<String>,
        /// Directory for the embedded SQLite database [env: SWITCHBOARD_DATA_DIR] [default: ./data]
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// sqlite://… or postgres://… [env: SWITCHBOARD_DATABASE_URL]
        #[arg(long)]
        database_url: Option<String>,
        /// Public base URL used in webhook URLs [env: SWITCHBOARD_SITE_URL]
        #[arg(long)]
        site_url: Option<String>,
        /// A TOML configuration file (keys as in config.default.toml)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the built-in default configuration, with every key documented.
    DefaultConfig,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::DefaultConfig => {
            print!("{}", switchboard::config::DEFAULTS);
            ExitCode::SUCCESS
        }
        Command::Serve {
            listen,
            data_dir,
            database_url,
            site_url,
            config,
        } => {
            let mut overrides: Vec<(&str, String)> = Vec::new();
            if let Some(v) = listen {
                overrides.push(("listen", v));
            }
            if let Some(v) = data_dir {
                overrides.push(("data_dir", v.display().to_string()));
            }
            if let Some(v) = database_url {
                overrides.push(("database_url", v));
            }
            if let Some(v) = site_url {
                overrides.push(("site_url", v));
            }
            let env: HashMap<String, String> = std::env::vars().collect();
            let cfg = match switchboard::config::Config::load(config.as_deref(), &env, &overrides) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("switchboard: {e:#}");
                    return ExitCode::from(2);
                }
            };
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.log));
            tracing_subscriber::fmt().with_env_filter(filter).init();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("switchboard: starting the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let result = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&cfg.listen)
                    .await
                    .map_err(|e| anyhow::anyhow!("binding {}: {e}", cfg.listen))?;
                switchboard::run(cfg, listener, shutdown_signal()).await
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("switchboard: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
