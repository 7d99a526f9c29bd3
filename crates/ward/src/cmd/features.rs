//! `ward features get` and `ward features export`: the online feature store (or, with the
//! in-process store, features recomputed by replaying the log) and point-in-time-correct
//! Parquet exports from the offline store.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use ward_features::{EntityKey, EntityKind, Features, FeaturesConfig, OfflineConfig};
use ward_log::{Log, Topic};
use ward_model::{Event, RawEnvelope, TenantId};

use crate::Outcome;
use crate::config::Config;

/// `ward features …`.
#[derive(Debug, Subcommand)]
pub enum FeaturesCommand {
    /// Print one entity's rolling-window features as JSON.
    Get(GetArgs),
    /// Write point-in-time-correct features of a tenant's entities to a Parquet file.
    Export(ExportArgs),
    /// Write a tenant's events from the log into the offline store (rebuilds its history).
    Backfill(BackfillArgs),
}

/// `ward features backfill`.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Tenant (default: `decode.tenant`).
    #[arg(long)]
    pub tenant: Option<String>,
    /// What is read (`auto`: `enriched_events`, else `raw_events` decoded again, else
    /// `<data-dir>/events.ndjson`).
    #[arg(long, default_value = "auto")]
    pub replay: String,
    /// Offline store, overriding `offline.url`: `file:///dir` or `s3://bucket/prefix`.
    #[arg(long)]
    pub offline_url: Option<String>,
}

/// `ward features get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Entity kind: source.ip, user.name or host.name.
    #[arg(long)]
    pub kind: String,
    /// Entity value (an IP, a user name, a host name).
    #[arg(long)]
    pub value: String,
    /// Tenant (default: `decode.tenant`).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Event time the features describe, RFC 3339 (default: the entity's newest event).
    #[arg(long)]
    pub at: Option<String>,
    /// Online store, overriding `features.online`: `memory` or `redis://HOST:PORT`.
    #[arg(long)]
    pub online: Option<String>,
    /// With the in-process store: what is replayed to compute features (`auto`: the log's
    /// `enriched_events`, else `raw_events` decoded again, else `<data-dir>/events.ndjson`).
    #[arg(long, default_value = "auto")]
    pub replay: String,
}

/// `ward features export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The point in time, RFC 3339: only events with event time at or before it are used.
    #[arg(long)]
    pub at: String,
    /// Tenant (default: `decode.tenant`).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Output Parquet file.
    #[arg(long)]
    pub out: PathBuf,
    /// Only these entities, as `kind=value` (repeatable; default: every entity active in the
    /// longest window before `--at`).
    #[arg(long = "entity")]
    pub entities: Vec<String>,
    /// Offline store, overriding `offline.url`: `file:///dir` or `s3://bucket/prefix`.
    #[arg(long)]
    pub offline_url: Option<String>,
}

/// Runs `ward features …`.
///
/// # Errors
/// Bad arguments, an unreachable store, an unreadable log or offline store.
pub fn run(
    command: &FeaturesCommand,
    features: &FeaturesConfig,
    offline: &OfflineConfig,
    config: &Config,
    data_dir: &Path,
) -> Result<Outcome> {
    match command {
        FeaturesCommand::Get(args) => super::runtime()?.block_on(get(args, features, config, data_dir)),
        FeaturesCommand::Export(args) => super::runtime()?.block_on(export(args, offline, config)),
        FeaturesCommand::Backfill(args) => {
            super::runtime()?.block_on(backfill(args, offline, config, data_dir))
        }
    }
}

fn tenant(flag: Option<&str>, config: &Config) -> Result<TenantId> {
    TenantId::new(flag.unwrap_or(&config.decode.tenant)).context("--tenant")
}

fn time(text: &str, flag: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("{flag} {text:?} is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)"))
}

async fn get(args: &GetArgs, features: &FeaturesConfig, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let tenant = tenant(args.tenant.as_deref(), config)?;
    let at = args.at.as_deref().map(|t| time(t, "--at")).transpose()?;
    let mut settings = features.clone();
    if let Some(url) = &args.online {
        settings.online.clone_from(url);
    }
    let store = ward_features::online::open(&settings).await.context("opening the online feature store")?;
    let features = Features::new(store);
    let mut outcome = Outcome::Success;
    if features.adapter() == "memory" {
        let log = super::serve::open_log(config, data_dir).await?;
        let replay =
            replay(log.as_ref(), &args.replay, &tenant, &Sink::Features(&features), data_dir).await?;
        eprintln!(
            "replayed topic={} records={} events={} rejected={}",
            replay.topic, replay.records, replay.events, replay.rejected
        );
        if replay.rejected > 0 {
            outcome = Outcome::Partial;
        }
    }
    let body = features.api_body(&tenant, &args.kind, &args.value, at, Utc::now()).await?;
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(outcome)
}

/// What a log replay fed the in-process store.
struct Replay {
    topic: &'static str,
    records: u64,
    events: u64,
    rejected: u64,
}

/// Where replayed events go.
enum Sink<'a> {
    /// The in-process online store.
    Features(&'a Features),
    /// The offline store (feature `offline`).
    #[cfg(feature = "offline")]
    Offline(&'a ward_features::offline::OfflineStore),
}

impl Sink<'_> {
    async fn put(&self, tenant: &TenantId, events: &[Event]) -> Result<()> {
        match self {
            Self::Features(f) => {
                f.observe_batch(tenant, events).await?;
            }
            #[cfg(feature = "offline")]
            Self::Offline(store) => {
                if !events.is_empty() {
                    store.write_events(events).await?;
                }
            }
        }
        Ok(())
    }
}

async fn replay(
    log: &dyn Log,
    choice: &str,
    tenant: &TenantId,
    sink: &Sink<'_>,
    data_dir: &Path,
) -> Result<Replay> {
    let topics: &[Topic] = match choice {
        "auto" => &[Topic::EnrichedEvents, Topic::RawEvents],
        "enriched_events" => &[Topic::EnrichedEvents],
        "raw_events" => &[Topic::RawEvents],
        other => bail!("--replay {other:?}: use auto, enriched_events or raw_events"),
    };
    let mut last = Replay { topic: "none", records: 0, events: 0, rejected: 0 };
    for &topic in topics {
        last = replay_topic(log, topic, tenant, sink).await?;
        if last.records > 0 {
            return Ok(last);
        }
    }
    let file = data_dir.join("events.ndjson");
    if choice == "auto" && file.exists() {
        return replay_file(&file, tenant, sink).await;
    }
    Ok(last)
}

/// Replays the events `ward ingest` wrote to `<data-dir>/events.ndjson`.
async fn replay_file(path: &Path, tenant: &TenantId, sink: &Sink<'_>) -> Result<Replay> {
    use std::io::BufRead;
    let mut r = Replay { topic: "events.ndjson", records: 0, events: 0, rejected: 0 };
    let reader =
        std::io::BufReader::new(std::fs::File::open(path).with_context(|| format!("{}", path.display()))?);
    let mut events = Vec::with_capacity(1000);
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        r.records += 1;
        match serde_json::from_str::<Event>(&line) {
            Ok(e) if e.tenant() == tenant.as_str() => events.push(e),
            Ok(_) => {}
            Err(e) => {
                r.rejected += 1;
                let reason = e.to_string();
                eprintln!(
                    "{}",
                    serde_json::json!({"path": path.display().to_string(), "line": i + 1, "reason": reason})
                );
            }
        }
        if events.len() == 1000 {
            r.events += events.len() as u64;
            sink.put(tenant, &events).await?;
            events.clear();
        }
    }
    r.events += events.len() as u64;
    sink.put(tenant, &events).await?;
    Ok(r)
}

async fn replay_topic(log: &dyn Log, topic: Topic, tenant: &TenantId, sink: &Sink<'_>) -> Result<Replay> {
    let mut r = Replay { topic: topic.as_str(), records: 0, events: 0, rejected: 0 };
    let mut decoders = std::collections::HashMap::new();
    for partition in 0..log.partitions(topic) {
        let mut from = 0;
        loop {
            let batch = log.read(topic, partition, from, 1000).await?;
            let Some(last) = batch.last() else { break };
            from = last.offset + 1;
            let mut events = Vec::with_capacity(batch.len());
            for record in &batch {
                r.records += 1;
                let decoded = match topic {
                    Topic::RawEvents => decode_raw(&record.payload, &mut decoders, &mut events),
                    _ => ward_model::codec::decode_event(&record.payload)
                        .map(|e| events.push(e))
                        .map_err(Into::into),
                };
                if let Err(e) = decoded {
                    r.rejected += 1;
                    eprintln!(
                        "{{\"topic\":\"{topic}\",\"partition\":{partition},\"offset\":{},\"reason\":{:?}}}",
                        record.offset,
                        format!("{e:#}")
                    );
                }
            }
            events.retain(|e| e.tenant() == tenant.as_str());
            r.events += events.len() as u64;
            sink.put(tenant, &events).await?;
        }
    }
    Ok(r)
}

type Decoders = std::collections::HashMap<String, Box<dyn ward_decode::Decoder>>;

/// Decodes one `raw_events` record (a [`RawEnvelope`]) with its source's decoder.
fn decode_raw(payload: &[u8], decoders: &mut Decoders, out: &mut Vec<Event>) -> Result<()> {
    let env: RawEnvelope = serde_json::from_slice(payload).context("not a raw envelope")?;
    if !decoders.contains_key(&env.source) {
        let kind: ward_decode::SourceKind = env.source.parse()?;
        decoders.insert(env.source.clone(), kind.build(None)?);
    }
    let decoder = decoders.get(&env.source).context("decoder")?;
    let received = DateTime::<Utc>::from_timestamp_millis(env.received_ms).unwrap_or_default();
    let ctx = ward_decode::DecodeContext::new(env.tenant.clone(), received);
    decoder.decode(&env.original, &ctx, out)?;
    Ok(())
}

async fn export(args: &ExportArgs, offline: &OfflineConfig, config: &Config) -> Result<Outcome> {
    let tenant = tenant(args.tenant.as_deref(), config)?;
    let at = time(&args.at, "--at")?;
    let entities: Vec<EntityKey> = args
        .entities
        .iter()
        .map(|text| {
            let (kind, value) =
                text.split_once('=').with_context(|| format!("--entity {text:?}: use kind=value"))?;
            Ok(EntityKey::new(kind.parse::<EntityKind>()?, value)?)
        })
        .collect::<Result<_>>()?;
    let mut settings = offline.clone();
    if let Some(url) = &args.offline_url {
        settings.url = Some(url.clone());
    }
    export_with(&settings, &tenant, at, &entities, &args.out).await
}

#[cfg(feature = "offline")]
async fn export_with(
    settings: &OfflineConfig,
    tenant: &TenantId,
    at: DateTime<Utc>,
    entities: &[EntityKey],
    out: &Path,
) -> Result<Outcome> {
    let store = ward_features::offline::OfflineStore::open(settings)?;
    let only = (!entities.is_empty()).then_some(entities);
    let export = store.export_features(tenant, at, only).await?;
    let tmp = out.with_extension("parquet.tmp");
    std::fs::write(&tmp, &export.parquet).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("renaming to {}", out.display()))?;
    eprintln!(
        "exported rows={} events={} at={} out={}",
        export.rows,
        export.events,
        at.to_rfc3339(),
        out.display()
    );
    Ok(Outcome::Success)
}

#[cfg(feature = "offline")]
async fn backfill(
    args: &BackfillArgs,
    offline: &OfflineConfig,
    config: &Config,
    data_dir: &Path,
) -> Result<Outcome> {
    let tenant = tenant(args.tenant.as_deref(), config)?;
    let mut settings = offline.clone();
    if let Some(url) = &args.offline_url {
        settings.url = Some(url.clone());
    }
    let store = ward_features::offline::OfflineStore::open(&settings)?;
    let log = super::serve::open_log(config, data_dir).await?;
    let r = replay(log.as_ref(), &args.replay, &tenant, &Sink::Offline(&store), data_dir).await?;
    eprintln!(
        "backfilled topic={} records={} events={} rejected={}",
        r.topic, r.records, r.events, r.rejected
    );
    Ok(if r.rejected > 0 { Outcome::Partial } else { Outcome::Success })
}

#[cfg(not(feature = "offline"))]
async fn backfill(_: &BackfillArgs, _: &OfflineConfig, _: &Config, _: &Path) -> Result<Outcome> {
    bail!("this ward was built without the `offline` feature (cargo build --features offline)")
}

#[cfg(not(feature = "offline"))]
async fn export_with(
    _: &OfflineConfig,
    _: &TenantId,
    _: DateTime<Utc>,
    _: &[EntityKey],
    _: &Path,
) -> Result<Outcome> {
    bail!("this ward was built without the `offline` feature (cargo build --features offline)")
}
