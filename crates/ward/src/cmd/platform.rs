//! The detection platform behind `ward serve` and `ward replay`: the state store, the
//! enrichment chain, the detection rules and indicators, the pipeline stages (normalize →
//! detect → fuse → incidents) and the ports of the `/api/*` routes, wired from configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::zeroize;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use ward_api::MasterKey;
use ward_api::api::{ApiPorts, AttackCoverage, PipelineStats};
use ward_api::backend::StoreBackend;
use ward_api::deadletter::{DeadLetterStore, FileDeadLetters};
use ward_api::stream::{StreamHub, StreamTopic};
use ward_enrich::{EnrichChain, Shared};
use ward_features::Features;
use ward_log::Log;
use ward_ml::detector::ModelDetector;
use ward_ml::registry::Registry;
use ward_model::{Event, TenantId};
use ward_pipeline::runtime::group_name;
use ward_pipeline::{
    DeadLetter, DeadLetterError, DeadLetterSink, DetectionRules, Detector, Enricher, Pass, Pipeline,
    PipelineEvent, PipelineHandle, StageKind,
};
use ward_rules::{Engine, Pipeline as LogsourcePipeline, RuleSet};
use ward_store::{AuditSigning, Role, Store};

use crate::builtin;
use crate::config::Config;

/// Records between two signed audit checkpoints.
const AUDIT_CHECKPOINT_EVERY: u64 = 256;

/// Everything the running platform owns besides the HTTP server.
pub struct Platform {
    /// The state store.
    pub store: Store,
    /// The pipeline, built (not yet running).
    pub pipeline: Pipeline,
    /// Counters the API reports under `/api/telemetry/status`.
    pub stats: Arc<PipelineStats>,
    /// `<data-dir>/deadletter.ndjson`: one appending handle shared by ingest, the pipeline,
    /// the flow collector and `GET /api/deadletter`.
    pub dead_letters: FileDeadLetters,
    /// Rolling per-entity features (`[features] online`), fed by `normalize`, read by triage
    /// and `GET /api/entities/{kind}/{value}/features`.
    pub features: Arc<Features>,
    /// ATT&CK coverage of the loaded rules (`GET /api/attack/coverage`).
    pub coverage: Arc<AttackCoverage>,
    /// Every rule problem found at load (file, line, reason).
    pub rule_problems: Vec<String>,
    /// Rules loaded (detection + correlation).
    pub rules_loaded: usize,
}

/// A running pipeline with its helper tasks.
pub struct Running {
    handle: PipelineHandle,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Runs `responder` on every new or updated incident (decisions follow `[respond] mode`:
    /// `monitor` only records them) and its reconciler (TTL expiry, drift, approval expiry).
    pub fn respond(&mut self, store: Store, responder: Arc<ward_respond::Responder>) {
        let events = self.handle.subscribe();
        self.tasks.push(Arc::clone(&responder).spawn_reconciler(Duration::from_secs(30)));
        self.tasks.push(tokio::spawn(respond(events, store, responder)));
    }

    /// Stops the stages (each finishes its in-flight batch) and the helper tasks.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Opens the store and builds the pipeline from configuration.
///
/// # Errors
/// An unreachable store, unusable enrichment files, invalid rules configuration.
pub async fn build(config: &Config, data_dir: &Path, log: Arc<dyn Log>, key: &MasterKey) -> Result<Platform> {
    let store = super::state::open_store(config, data_dir).await?.with_audit_signing(audit_signing(key)?);
    let (detection, rule_problems, techniques) = detection_rules(config)?;
    let rules_loaded = detection.loaded();
    let chain =
        EnrichChain::from_config_with(&config.enrich, Shared::default()).context("[enrich] configuration")?;
    if let Some(worker) = chain.take_online_worker() {
        tokio::spawn(worker.run());
    }
    let indicators = chain.indicators().cloned();
    let coverage = Arc::new(AttackCoverage::new(Arc::clone(chain.attack()), techniques));
    let online = ward_features::online::open(&config.features).await.context("[features] online store")?;
    let features = Arc::new(Features::new(online));
    let stats = Arc::new(PipelineStats::default());
    let enrich = Arc::new(PlatformEnricher { chain, stats: Arc::clone(&stats) });
    let dead_letters = FileDeadLetters::open(&data_dir.join("deadletter.ndjson"))
        .with_context(|| format!("opening {}", data_dir.join("deadletter.ndjson").display()))?;
    let mut builder = Pipeline::builder(Arc::clone(&log), Arc::new(store.clone()))
        .rules(Arc::new(detection))
        .enricher(Arc::clone(&enrich) as Arc<dyn Enricher>)
        .dead_letters(Arc::new(PipelineDeadLetters(dead_letters.clone())))
        .config(config.pipeline.clone())
        .incidents_config(config.incidents.clone())
        .triage_config(config.triage.clone())
        .features(Arc::clone(&features) as Arc<dyn ward_pipeline::FeatureSource>);
    if let Some(set) = indicators {
        builder = builder.indicators(set);
    }
    for (name, model) in model_detectors(data_dir)? {
        tracing::info!(model = %name, "model detector loaded");
        builder =
            builder.detector(Arc::new(move || Box::new(ModelStage(Arc::clone(&model))) as Box<dyn Detector>));
    }
    let pipeline = builder.build().context("building the pipeline")?;
    Ok(Platform { store, pipeline, stats, dead_letters, features, coverage, rule_problems, rules_loaded })
}

impl Platform {
    /// Starts every stage and the tasks that feed the live stream and the lag gauges.
    pub fn start(&self, log: Arc<dyn Log>, hub: StreamHub) -> Running {
        let handle = self.pipeline.spawn();
        let forward = tokio::spawn(forward(handle.subscribe(), hub));
        let lag = tokio::spawn(track_lag(log, Arc::clone(&self.stats)));
        Running { handle, tasks: vec![forward, lag] }
    }

    /// The `/api/*` ports over this platform's store.
    pub fn api_ports(&self, hub: StreamHub, responder: Arc<ward_respond::Responder>) -> ApiPorts {
        let backend = StoreBackend::new(self.store.clone());
        backend
            .api_ports(Arc::new(self.dead_letters.clone()), hub, Arc::clone(&self.stats))
            .with_playbooks(Arc::new(ward_api::api::StorePlaybooks::new(
                self.store.clone(),
                Arc::clone(&responder),
            )))
            .with_response(responder)
            .with_features(Arc::clone(&self.features) as Arc<dyn ward_api::api::FeaturesPort>)
            .with_enrichment(Arc::clone(&self.coverage) as Arc<dyn ward_api::api::EnrichmentPort>)
            .with_assets(Arc::new(backend.assets(None)))
    }
}

/// What the audit-checkpoint key is derived for.
const AUDIT_KEY_PURPOSE: &str = "ward audit checkpoints v1";

/// The audit-checkpoint key: derived from the master key, so it never sits in the database.
fn audit_signing(key: &MasterKey) -> Result<AuditSigning> {
    Ok(AuditSigning::new(&key.derive(AUDIT_KEY_PURPOSE), AUDIT_CHECKPOINT_EVERY)?)
}

/// The raw audit-checkpoint key, for `ward audit verify`.
pub fn audit_key(key: &MasterKey) -> zeroize::Zeroizing<Vec<u8>> {
    key.derive(AUDIT_KEY_PURPOSE)
}

/// Every model of the registry (`<data-dir>/models`) that has a promoted version: `active`
/// ones raise `model` alerts, `shadow` ones are scored and counted only.
fn model_detectors(data_dir: &Path) -> Result<Vec<(String, Arc<ModelDetector>)>> {
    let registry = Registry::new(data_dir.join("models"));
    let mut names: Vec<String> =
        registry.list().context("reading the model registry")?.into_iter().map(|e| e.name).collect();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        if let Some(d) =
            ModelDetector::from_registry(&registry, &name).with_context(|| format!("loading model {name}"))?
        {
            out.push((name, Arc::new(d)));
        }
    }
    Ok(out)
}

/// A registry model as one more detector of the `detect` stage.
struct ModelStage(Arc<ModelDetector>);

impl Detector for ModelStage {
    fn name(&self) -> &'static str {
        "model"
    }

    fn detect(&mut self, event: &Event, pass: Pass, out: &mut Vec<ward_model::AlertRecord>) {
        // A model scores one event at a time: on warm-up the event was already scored.
        if matches!(pass, Pass::Live)
            && let Some(alert) = self.0.score_event(event)
        {
            out.push(alert);
        }
    }
}

/// The built-in rule pack (unless `[detect] builtin = false`) plus the configured rule paths,
/// compiled for the configured logsource pipelines.
fn detection_rules(config: &Config) -> Result<(DetectionRules, Vec<String>, Vec<String>)> {
    let mut sources: Vec<(String, String)> = Vec::new();
    if config.detect.builtin {
        sources.extend(
            builtin::RULES.iter().map(|(name, text)| (format!("builtin:{name}"), (*text).to_owned())),
        );
    }
    for path in &config.detect.rules {
        read_rule_files(path, &mut sources)?;
    }
    let (set, mut problems) = RuleSet::from_sources(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    let pipeline = logsource_pipeline(&config.detect.pipelines)?;
    let (engine, compile) = Engine::compile(&set, &pipeline);
    let mut techniques: Vec<String> = set.rules().iter().flat_map(|r| r.meta.attack_techniques()).collect();
    techniques.sort();
    techniques.dedup();
    problems.extend(compile);
    let lateness = Duration::from_secs(config.pipeline.correlation_lateness_secs);
    let detection = DetectionRules::new(set, engine, lateness);
    let mut shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    shown.extend(detection.correlation_problems().iter().map(ToString::to_string));
    Ok((detection, shown, techniques))
}

/// The named logsource pipelines merged (every shipped one when none is named).
fn logsource_pipeline(names: &[String]) -> Result<LogsourcePipeline> {
    if names.is_empty() {
        return LogsourcePipeline::builtin().context("the shipped logsource pipelines");
    }
    let mut all = LogsourcePipeline::default();
    for name in names {
        let one = match LogsourcePipeline::builtin_named(name) {
            Some(builtin) => builtin.with_context(|| format!("[detect] pipelines: {name}"))?,
            None => {
                let text = std::fs::read_to_string(name)
                    .with_context(|| format!("[detect] pipelines: reading {name}"))?;
                LogsourcePipeline::from_yaml(name, &text)
                    .with_context(|| format!("[detect] pipelines: {name}"))?
            }
        };
        all = all.merge(one);
    }
    Ok(all)
}

/// Reads every `.yml`/`.yaml` file under `path` (recursively; `examples/` folders skipped).
fn read_rule_files(path: &Path, out: &mut Vec<(String, String)>) -> Result<()> {
    if path.is_file() {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        out.push((path.display().to_string(), text));
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("[detect] rules: reading {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "examples") {
                read_rule_files(&p, out)?;
            }
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            read_rule_files(&p, out)?;
        }
    }
    Ok(())
}

/// The `normalize` stage's enrichment hook: the configured chain, then per-tenant counters.
pub struct PlatformEnricher {
    chain: EnrichChain,
    stats: Arc<PipelineStats>,
}

impl Enricher for PlatformEnricher {
    fn enrich(&self, events: &mut Vec<Event>) {
        self.chain.enrich(events);
        // Duplicates are counted (per source) and linked by the chain; they go no further.
        events.retain(|e| e.get("ward.duplicate_of").is_none());
        let mut seen: BTreeMap<(&str, &str), (u64, DateTime<Utc>)> = BTreeMap::new();
        for e in events.iter() {
            let entry = seen.entry((e.tenant(), e.source())).or_insert((0, e.timestamp()));
            entry.0 += 1;
            entry.1 = entry.1.max(e.timestamp());
        }
        for ((tenant, source), (n, last)) in seen {
            if let Ok(tenant) = TenantId::new(tenant) {
                self.stats.record_events(&tenant, source, n, last);
            }
        }
    }
}

/// Pipeline dead letters go to the same file (and `GET /api/deadletter`) as ingest's.
struct PipelineDeadLetters(FileDeadLetters);

#[async_trait]
impl DeadLetterSink for PipelineDeadLetters {
    async fn put(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        let now = Utc::now().timestamp_millis();
        let entries = letters
            .iter()
            .map(|l| ward_api::deadletter::DeadLetter {
                path: format!("log:{}/{}", l.topic, l.partition),
                line: 0,
                offset: l.offset,
                reason: format!("{} stage: {}", l.stage, l.reason),
                source: l.source.clone(),
                index: 0,
                tenant: l.tenant.clone().unwrap_or_default(),
                device_id: None,
                received_ms: now,
                original: Some(l.payload.clone()),
            })
            .collect();
        self.0
            .put(entries)
            .await
            .map_err(|e| DeadLetterError { place: "deadletter.ndjson".into(), reason: e.to_string() })
    }
}

/// Publishes every pipeline event on the API's live stream.
async fn forward(mut events: broadcast::Receiver<PipelineEvent>, hub: StreamHub) {
    loop {
        match events.recv().await {
            Ok(event) => {
                let (topic, tenant) = match &event {
                    PipelineEvent::Alert(a) => (StreamTopic::Alerts, a.tenant.clone()),
                    PipelineEvent::IncidentOpened(i) | PipelineEvent::IncidentUpdated(i) => {
                        (StreamTopic::Incidents, i.tenant.clone())
                    }
                };
                if let Err(e) = hub.publish_json(&tenant, topic, &event) {
                    tracing::warn!(error = %e, "cannot publish a pipeline event on the live stream");
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "the live stream fell behind the pipeline");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Feeds incidents to the responder.
async fn respond(
    mut events: broadcast::Receiver<PipelineEvent>,
    store: Store,
    responder: Arc<ward_respond::Responder>,
) {
    loop {
        let incident = match events.recv().await {
            Ok(PipelineEvent::IncidentOpened(i) | PipelineEvent::IncidentUpdated(i)) => i,
            Ok(PipelineEvent::Alert(_)) => continue,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    skipped = n,
                    "the responder fell behind the pipeline; the reconciler catches up"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let alerts = match store.tenant(&incident.tenant).incident_alerts(&incident.id).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(incident = %incident.id, error = %e, "cannot read the incident's alerts to decide");
                continue;
            }
        };
        match responder.on_incident(&incident, &alerts).await {
            Ok(decisions) => {
                for d in decisions {
                    tracing::info!(incident = %incident.id, decision = ?d, "response decision");
                }
            }
            Err(e) => tracing::error!(incident = %incident.id, error = %e, "response decision failed"),
        }
    }
}

/// Every second: each stage's lag (records in its input topic not yet acknowledged).
async fn track_lag(log: Arc<dyn Log>, stats: Arc<PipelineStats>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        for stage in StageKind::ALL {
            let topic = stage.input();
            let Ok(parts) = log.stats(topic).await else { continue };
            let mut lag = 0;
            for p in parts {
                let done = log.committed(&group_name(stage.as_str()), topic, p.partition).await.unwrap_or(0);
                lag += p.next_offset.saturating_sub(done.max(p.first_offset));
            }
            stats.set_lag(stage.as_str(), lag);
        }
    }
}

/// On the very first start (no user anywhere): a `demo` tenant and its first admin, with a
/// generated password printed once.
///
/// # Errors
/// The store cannot be read or written.
pub async fn bootstrap(store: &Store) -> Result<Option<(String, String)>> {
    for tenant in store.list_tenants().await? {
        if !store.tenant(&tenant.id).list_users().await?.is_empty() {
            return Ok(None);
        }
    }
    let demo = TenantId::new("demo").context("tenant name")?;
    store.ensure_tenant(&demo).await?;
    let password = ward_api::identity::generate_secret(18)?;
    store.tenant(&demo).create_user("admin", Role::Admin, Some(&password)).await?;
    Ok(Some(("admin".into(), password)))
}

/// The NetFlow/IPFIX collector's sink: each flow becomes a `raw_events` record (source
/// `netflow`, the flow's JSON as its original), so flows replay like any other input.
pub struct LogFlowSink {
    log: Arc<dyn Log>,
    dead_letters: FileDeadLetters,
}

impl LogFlowSink {
    /// A sink appending to `log` and dead-lettering into `dead_letters`.
    pub fn new(log: Arc<dyn Log>, dead_letters: FileDeadLetters) -> Self {
        Self { log, dead_letters }
    }
}

impl ward_flow::collector::FlowSink for LogFlowSink {
    async fn deliver(&self, batch: Vec<Event>) -> Result<(), ward_flow::collector::SinkError> {
        let now = Utc::now().timestamp_millis();
        let mut records = Vec::with_capacity(batch.len());
        for event in batch {
            let Ok(tenant) = TenantId::new(event.tenant()) else { continue };
            let key = event.str("source.ip").unwrap_or_default().as_bytes().to_vec();
            let envelope = ward_model::RawEnvelope {
                tenant,
                source: "netflow".into(),
                received_ms: now,
                device_id: None,
                original: event.original().to_owned(),
            };
            let payload =
                serde_json::to_vec(&envelope).map_err(|e| ward_flow::collector::SinkError(e.to_string()))?;
            records.push(ward_log::Record { key: Some(key), timestamp_ms: now, payload });
        }
        self.log
            .append(ward_log::Topic::RawEvents, records)
            .await
            .map(|_| ())
            .map_err(|e| ward_flow::collector::SinkError(e.to_string()))
    }

    async fn dead_letter(&self, letter: ward_flow::collector::DeadLetter) {
        let entry = ward_api::deadletter::DeadLetter {
            path: format!("udp:{}", letter.exporter),
            line: 0,
            offset: 0,
            reason: letter.reason,
            source: "netflow".into(),
            index: 0,
            tenant: String::new(),
            device_id: None,
            received_ms: letter.received_ms,
            original: None,
        };
        if let Err(e) = self.dead_letters.put(vec![entry]).await {
            tracing::error!(error = %e, "cannot keep a malformed flow packet in the dead-letter file");
        }
    }
}
