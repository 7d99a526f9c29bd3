//! `ward serve`: the composition root. Configuration → log adapter → state store and pipeline
//! ([`super::platform`]) → registry, dead letters and metrics → `ward_api::router` → a socket
//! (HTTP, or HTTPS with `[server.tls]`), until SIGTERM or Ctrl-C; then the pipeline drains.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ward_api::deadletter::FileDeadLetters;
use ward_api::registry::file::FileDeviceStore;
use ward_api::{AppState, KeyOrigin, MasterKey, Ports, Settings, SystemClock};
use ward_log::Log;

use crate::Outcome;
use crate::cli::{ReplayArgs, ServeArgs};
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
    ward_api::tls::install_crypto_provider();
    let log = open_log(config, data_dir).await?;
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let key = master_key(config, data_dir)?;
    let platform = super::platform::build(config, data_dir, Arc::clone(&log), &key).await?;
    for p in &platform.rule_problems {
        tracing::warn!(problem = %p, "rule not loaded");
    }
    if let Some((user, password)) = super::platform::bootstrap(&platform.store).await? {
        eprintln!(
            "created tenant `demo` and its first admin: user `{user}`, password `{password}` \
             (shown only this once; log in with POST /api/auth/login)"
        );
    }
    let hub = ward_api::stream::StreamHub::new(1024);
    let responder = super::actions::responder_over(config, platform.store.clone())?;
    let api = platform.api_ports(hub.clone(), Arc::clone(&responder));
    let app =
        build_app_with(config, data_dir, Arc::clone(&log), Some(api), key, platform.dead_letters.clone())?;
    let mut running = platform.start(Arc::clone(&log), hub);
    // One responder for the API and the pipeline: its action state is in memory (persisted to a
    // file), so a second instance would not see the pipeline's actions (GET /api/actions, rollback).
    running.respond(platform.store.clone(), Arc::clone(&responder));
    let collector = match &config.flow {
        Some(flow) => Some(start_collector(flow, Arc::clone(&log), platform.dead_letters.clone())?),
        None => None,
    };
    tracing::info!(rules = platform.rules_loaded, store = ?platform.store.backend(), "pipeline running");
    let served = match &config.server.tls {
        Some(tls) => {
            let server = ward_api::tls::TlsServer::bind(addr, &tls.cert, &tls.key)
                .await
                .with_context(|| format!("serving HTTPS on {addr}"))?;
            announce(server.local_addr()?, data_dir, config)?;
            server.run(app, shutdown_signal(), Duration::from_secs(10)).await.context("serving HTTPS")
        }
        None => {
            let listener =
                tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
            announce(listener.local_addr()?, data_dir, config)?;
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown_signal())
                .await
                .context("serving HTTP")
        }
    };
    tracing::info!("HTTP stopped; draining the pipeline");
    if let Some((stop, task)) = collector {
        let _ = stop.send(());
        if let Err(e) = task.await {
            tracing::error!(error = %e, "the flow collector ended abnormally");
        }
    }
    running.shutdown().await;
    platform.store.close().await;
    served?;
    tracing::info!("stopped");
    Ok(Outcome::Success)
}

/// Binds the NetFlow/IPFIX collector and runs it until the returned sender fires.
fn start_collector(
    flow: &ward_flow::collector::CollectorConfig,
    log: Arc<dyn Log>,
    dead_letters: FileDeadLetters,
) -> Result<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)> {
    let collector = ward_flow::collector::Collector::bind(flow.clone()).context("[flow] collector")?;
    for addr in collector.local_addrs() {
        eprintln!("flow collector on udp {addr}");
    }
    let sink = Arc::new(super::platform::LogFlowSink::new(log, dead_letters));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        collector
            .run(sink, async move {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((stop, task))
}

/// Prints where the server listens (tests and scripts read this line).
fn announce(bound: SocketAddr, data_dir: &Path, config: &Config) -> Result<()> {
    println!("listening on {bound}");
    std::io::stdout().flush()?;
    tracing::info!(%bound, data_dir = %data_dir.display(), log = %config.log.url, "serving");
    Ok(())
}

/// Runs `ward replay --from OFFSET`: every stage re-reads the log from that `raw_events`
/// offset and rewrites what it derives; deterministic ids make the rewrite idempotent.
///
/// # Errors
/// The log or store cannot be opened, or a stage fails.
pub fn replay(args: &ReplayArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    init_tracing();
    super::runtime()?.block_on(async {
        let log = open_log(config, data_dir).await?;
        let key = master_key(config, data_dir)?;
        let platform = super::platform::build(config, data_dir, log, &key).await?;
        let report = platform.pipeline.replay(args.from).await.context("replaying")?;
        platform.store.close().await;
        println!("{}", serde_json::to_string(&report)?);
        Ok(Outcome::Success)
    })
}

/// The router with every port wired from configuration.
///
/// # Errors
/// An unusable data directory or master key, or invalid settings.
pub fn build_app(config: &Config, data_dir: &Path, log: Arc<dyn Log>) -> Result<axum::Router> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let key = master_key(config, data_dir)?;
    let dead_letters = FileDeadLetters::open(&data_dir.join("deadletter.ndjson"))?;
    build_app_with(config, data_dir, log, None, key, dead_letters)
}

/// The router, with the `/api/*` routes when `api` is given (they answer 503 otherwise).
///
/// # Errors
/// Unusable data directory or invalid settings.
fn build_app_with(
    config: &Config,
    data_dir: &Path,
    log: Arc<dyn Log>,
    api: Option<ward_api::api::ApiPorts>,
    key: Arc<MasterKey>,
    dead_letters: FileDeadLetters,
) -> Result<axum::Router> {
    let ports = Ports {
        log,
        devices: Arc::new(FileDeviceStore::new(data_dir, Some(key))),
        dead_letters: Arc::new(dead_letters),
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
    let state = match api {
        Some(api) => AppState::with_api(ports, &settings, api, &config.api)?,
        None => AppState::new(ports, &settings)?,
    };
    Ok(ward_api::router(state))
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
