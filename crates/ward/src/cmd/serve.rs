//! `ward serve`: the composition root of the HTTP API. Configuration → log adapter → registry,
//! dead letters and metrics → `ward_api::router` → a socket, until SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use ward_api::deadletter::FileDeadLetters;
use ward_api::registry::file::FileDeviceStore;
use ward_api::{AppState, KeyOrigin, MasterKey, Ports, Settings, SystemClock};
use ward_log::Log;

use crate::Outcome;
use crate::cli::ServeArgs;
use crate::config::Config;

/// Runs `ward serve`.
///
/// # Errors
/// Configuration, data-directory, log or socket problems.
pub fn run(args: &ServeArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    init_tracing();
    let listen = args.listen.as_deref().unwrap_or(&config.server.listen);
    let addr: SocketAddr = listen.parse().with_context(|| format!("--listen {listen:?} is not IP:PORT"))?;
    super::runtime()?.block_on(serve(addr, config, data_dir))
}

async fn serve(addr: SocketAddr, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let log = open_log(config, data_dir).await?;
    let app = build_app(config, data_dir, Arc::clone(&log))?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr()?;
    println!("listening on {bound}");
    std::io::stdout().flush()?;
    tracing::info!(%bound, data_dir = %data_dir.display(), log = %config.log.url, "serving");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving HTTP")?;
    tracing::info!("stopped");
    Ok(Outcome::Success)
}

/// The router with every port wired from configuration.
///
/// # Errors
/// An unusable data directory or master key, or invalid settings.
pub fn build_app(config: &Config, data_dir: &Path, log: Arc<dyn Log>) -> Result<axum::Router> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let key = master_key(config, data_dir)?;
    let ports = Ports {
        log,
        devices: Arc::new(FileDeviceStore::new(data_dir, Some(key))),
        dead_letters: Arc::new(FileDeadLetters::open(&data_dir.join("deadletter.ndjson"))?),
        clock: Arc::new(SystemClock),
        metrics: ward_api::telemetry::install().map_err(anyhow::Error::msg)?,
    };
    let settings = Settings {
        server: config.server.clone(),
        ingest: config.ingest.clone(),
        security: config.security.clone(),
        webhooks: config.webhooks.clone(),
        max_record_bytes: config.decode.max_record_bytes,
    };
    Ok(ward_api::router(AppState::new(ports, &settings)?))
}

/// The master key: `security.master_key` (or `WARD_SECURITY__MASTER_KEY`), else
/// `<data-dir>/master.key`, generated (mode 0600) when absent.
///
/// # Errors
/// A malformed key, or an unreadable or unwritable key file.
pub fn master_key(config: &Config, data_dir: &Path) -> Result<Arc<MasterKey>> {
    if let Some(text) = &config.security.master_key {
        return Ok(Arc::new(MasterKey::parse(text).context("security.master_key")?));
    }
    let path = data_dir.join("master.key");
    let (key, origin) = MasterKey::load_or_generate(&path)?;
    if origin == KeyOrigin::Generated {
        eprintln!(
            "generated a master key in {} (mode 0600); back it up: device secrets cannot be read without it",
            path.display()
        );
    }
    Ok(Arc::new(key))
}

/// The log adapter named by `log.url`.
///
/// # Errors
/// The log cannot be opened or reached, or this build lacks the adapter.
pub async fn open_log(config: &Config, data_dir: &Path) -> Result<Arc<dyn Log>> {
    let (url, layout) = (config.log.url.as_str(), config.log.topics.clone());
    if url == "embedded" {
        let root = data_dir.join("log");
        let log =
            ward_log::embedded::EmbeddedLog::open(&root, layout, config.log.embedded).with_context(|| {
                format!("opening the embedded log in {} (is a `ward serve` using it?)", root.display())
            })?;
        for cut in log.recovery() {
            let (path, dropped, reason) = (cut.path.display(), cut.dropped_bytes, &cut.reason);
            tracing::warn!(%path, dropped_bytes = dropped, %reason, "log recovery cut an unacknowledged torn tail");
        }
        return Ok(Arc::new(log));
    }
    if url.starts_with("nats://") {
        return nats(url, &config.log.prefix, layout).await;
    }
    if url.starts_with("redis://") {
        return redis(url, &config.log.prefix, layout).await;
    }
    bail!("log.url {url:?} is not `embedded`, `nats://…` or `redis://…`")
}

#[cfg(feature = "nats")]
async fn nats(url: &str, prefix: &str, layout: ward_log::LogLayout) -> Result<Arc<dyn Log>> {
    let log = ward_log::nats::NatsLog::connect(url, prefix, layout)
        .await
        .with_context(|| format!("connecting {url}"))?;
    Ok(Arc::new(log))
}

#[cfg(not(feature = "nats"))]
async fn nats(_: &str, _: &str, _: ward_log::LogLayout) -> Result<Arc<dyn Log>> {
    bail!("this ward was built without the `nats` feature; rebuild with --features nats")
}

#[cfg(feature = "redis")]
async fn redis(url: &str, prefix: &str, layout: ward_log::LogLayout) -> Result<Arc<dyn Log>> {
    let log = ward_log::redis::RedisLog::connect(url, prefix, layout)
        .await
        .with_context(|| format!("connecting {url}"))?;
    Ok(Arc::new(log))
}

#[cfg(not(feature = "redis"))]
async fn redis(_: &str, _: &str, _: ward_log::LogLayout) -> Result<Arc<dyn Log>> {
    bail!("this ward was built without the `redis` feature; rebuild with --features redis")
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let subscriber =
        tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    // Already initialised (in-process benchmark runs) is fine: keep the first subscriber.
    let _ = subscriber.try_init();
}
