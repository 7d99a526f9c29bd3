//! Composition: [`PipelineBuilder`] wires the stages to their ports; [`Pipeline::spawn`] runs
//! them on tokio (one task per stage and input partition) and returns a [`PipelineHandle`];
//! [`Pipeline::drain`] runs them in-process until the log is consumed (tests, benchmarks);
//! [`Pipeline::replay`] rebuilds derived state from `raw_events`.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use ward_ioc::SharedIndicators;
use ward_log::{Log, StoredRecord, Topic};
use ward_rules::correlate::CorrelateError;

use crate::config::{IncidentsConfig, PipelineConfig, TriageConfig};
use crate::deadletter::{DeadLetterSink, MemoryDeadLetters};
use crate::detect::{Detect, DetectionRules, DetectorFactory, IocDetector};
use crate::features::FeatureSource;
use crate::fuse::Fuse;
use crate::incidents::{Clock, IncidentSink, Incidents, PipelineEvent, SystemClock};
use crate::normalize::{Enricher, NoopEnricher, Normalize};
use crate::runtime::{Batch, Output, PartitionRunner, Pass, Stage, StageError, StageSnapshot, StageStats};
use crate::triage::{BuiltinTriager, LlmError, LlmTriager, Triager};

/// The closed set of stages, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// `raw_events` → `enriched_events`.
    Normalize,
    /// `enriched_events` → `model_outputs`.
    Detect,
    /// `model_outputs` → `consolidated_alerts`.
    Fuse,
    /// `consolidated_alerts` → incident sink.
    Incidents,
}

impl StageKind {
    /// Every stage, in order.
    pub const ALL: [StageKind; 4] = [Self::Normalize, Self::Detect, Self::Fuse, Self::Incidents];

    /// The stage name (consumer group suffix, metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normalize => "normalize",
            Self::Detect => "detect",
            Self::Fuse => "fuse",
            Self::Incidents => "incidents",
        }
    }

    /// The topic the stage consumes.
    pub fn input(self) -> Topic {
        match self {
            Self::Normalize => Topic::RawEvents,
            Self::Detect => Topic::EnrichedEvents,
            Self::Fuse => Topic::ModelOutputs,
            Self::Incidents => Topic::ConsolidatedAlerts,
        }
    }
}

/// A pipeline that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The correlation settings are unusable.
    #[error("correlation: {0}")]
    Correlation(#[from] CorrelateError),
    /// The LLM triager cannot be built.
    #[error("triage: {0}")]
    Llm(#[from] LlmError),
}

/// Collects the ports and settings of a pipeline.
pub struct PipelineBuilder {
    log: Arc<dyn Log>,
    sink: Arc<dyn IncidentSink>,
    rules: Option<Arc<DetectionRules>>,
    indicators: Option<Arc<SharedIndicators>>,
    detectors: Vec<DetectorFactory>,
    enricher: Arc<dyn Enricher>,
    features: Option<Arc<dyn FeatureSource>>,
    dead_letters: Arc<dyn DeadLetterSink>,
    triager: Option<Arc<dyn Triager>>,
    triage: TriageConfig,
    clock: Arc<dyn Clock>,
    config: PipelineConfig,
    incidents: IncidentsConfig,
}

impl PipelineBuilder {
    /// Detection rules (Sigma + correlations).
    pub fn rules(mut self, rules: Arc<DetectionRules>) -> Self {
        self.rules = Some(rules);
        self
    }

    /// Threat-intel indicators.
    pub fn indicators(mut self, indicators: Arc<SharedIndicators>) -> Self {
        self.indicators = Some(indicators);
        self
    }

    /// An extra detector (learned model), built once per partition.
    pub fn detector(mut self, factory: DetectorFactory) -> Self {
        self.detectors.push(factory);
        self
    }

    /// The enrichment hook of `normalize`.
    pub fn enricher(mut self, enricher: Arc<dyn Enricher>) -> Self {
        self.enricher = enricher;
        self
    }

    /// Rolling per-entity features: `normalize` observes every enriched event into it and
    /// triage reads the features of each incident's primary entity (e.g. `Arc<ward_features::Features>`
    /// with the cargo feature `features`).
    pub fn features(mut self, source: Arc<dyn FeatureSource>) -> Self {
        self.features = Some(source);
        self
    }

    /// Where rejected records go (default: kept in memory).
    pub fn dead_letters(mut self, sink: Arc<dyn DeadLetterSink>) -> Self {
        self.dead_letters = sink;
        self
    }

    /// A triager replacing the configured one.
    pub fn triager(mut self, triager: Arc<dyn Triager>) -> Self {
        self.triager = Some(triager);
        self
    }

    /// `[triage]` settings (an enabled `[triage.llm]` selects the LLM triager).
    pub fn triage_config(mut self, config: TriageConfig) -> Self {
        self.triage = config;
        self
    }

    /// The clock for `created_at`/`updated_at`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// `[pipeline]` settings.
    pub fn config(mut self, config: PipelineConfig) -> Self {
        self.config = config;
        self
    }

    /// `[incidents]` settings.
    pub fn incidents_config(mut self, config: IncidentsConfig) -> Self {
        self.incidents = config;
        self
    }

    /// Checks the settings and builds the pipeline.
    ///
    /// # Errors
    /// [`BuildError`] for unusable correlation or LLM settings.
    pub fn build(self) -> Result<Pipeline, BuildError> {
        let fields: Arc<[String]> = self.config.entity_fields.clone().into();
        if let Some(rules) = &self.rules {
            rules.detector(Arc::clone(&fields))?;
        }
        let triager: Arc<dyn Triager> = match (self.triager, &self.triage.llm) {
            (Some(t), _) => t,
            (None, Some(llm)) if llm.enabled => Arc::new(LlmTriager::new(llm.clone())?),
            (None, _) => Arc::new(BuiltinTriager),
        };
        let (events, _) = broadcast::channel(self.incidents.event_channel_capacity.max(1));
        Ok(Pipeline {
            log: self.log,
            sink: self.sink,
            rules: self.rules,
            indicators: self.indicators,
            detectors: self.detectors,
            enricher: self.enricher,
            features: self.features,
            dead_letters: self.dead_letters,
            triager,
            clock: self.clock,
            config: self.config,
            incidents: self.incidents,
            fields,
            events,
        })
    }
}

/// A built pipeline: makes stages on demand, runs them spawned or in-process.
pub struct Pipeline {
    log: Arc<dyn Log>,
    sink: Arc<dyn IncidentSink>,
    rules: Option<Arc<DetectionRules>>,
    indicators: Option<Arc<SharedIndicators>>,
    detectors: Vec<DetectorFactory>,
    enricher: Arc<dyn Enricher>,
    features: Option<Arc<dyn FeatureSource>>,
    dead_letters: Arc<dyn DeadLetterSink>,
    triager: Arc<dyn Triager>,
    clock: Arc<dyn Clock>,
    config: PipelineConfig,
    incidents: IncidentsConfig,
    fields: Arc<[String]>,
    events: broadcast::Sender<PipelineEvent>,
}

/// What [`Pipeline::drain`] or [`Pipeline::replay`] processed, per stage.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// Input records consumed, per stage in order.
    pub records_in: Vec<(StageKind, u64)>,
    /// Records dead-lettered, per stage in order.
    pub rejected: Vec<(StageKind, u64)>,
}

impl Pipeline {
    /// Starts a builder over `log`, writing incidents to `sink`.
    pub fn builder(log: Arc<dyn Log>, sink: Arc<dyn IncidentSink>) -> PipelineBuilder {
        PipelineBuilder {
            log,
            sink,
            rules: None,
            indicators: None,
            detectors: Vec::new(),
            enricher: Arc::new(NoopEnricher),
            features: None,
            dead_letters: Arc::new(MemoryDeadLetters::default()),
            triager: None,
            triage: TriageConfig::default(),
            clock: Arc::new(SystemClock),
            config: PipelineConfig::default(),
            incidents: IncidentsConfig::default(),
        }
    }

    /// A fresh instance of `kind` for one partition.
    pub fn stage(&self, kind: StageKind) -> Box<dyn Stage> {
        match kind {
            StageKind::Normalize => {
                Box::new(Normalize::new(Arc::clone(&self.enricher)).with_features(self.features.clone()))
            }
            StageKind::Detect => {
                let mut detectors: Vec<Box<dyn crate::detect::Detector>> = Vec::new();
                if let Some(rules) = &self.rules {
                    // Validated in `build`: the budget is usable.
                    if let Ok(d) = rules.detector(Arc::clone(&self.fields)) {
                        detectors.push(Box::new(d));
                    }
                }
                if let Some(ind) = &self.indicators {
                    detectors.push(Box::new(IocDetector::new(Arc::clone(ind), Arc::clone(&self.fields))));
                }
                detectors.extend(self.detectors.iter().map(|f| f()));
                Box::new(Detect::new(detectors, self.config.correlation_warmup_records))
            }
            StageKind::Fuse => Box::new(Fuse::new(self.config.fusion)),
            StageKind::Incidents => Box::new(
                Incidents::new(
                    Arc::clone(&self.sink),
                    Arc::clone(&self.triager),
                    self.events.clone(),
                    self.incidents.clone(),
                    Arc::clone(&self.clock),
                )
                .with_features(self.features.clone()),
            ),
        }
    }

    /// A runner of `kind` over one partition, counting into `stats`.
    pub fn runner(&self, kind: StageKind, partition: u32, stats: Arc<StageStats>) -> PartitionRunner {
        PartitionRunner::new(
            Arc::clone(&self.log),
            self.stage(kind),
            partition,
            Arc::clone(&self.dead_letters),
            self.config.clone(),
            stats,
        )
    }

    /// Subscribes to new alerts and incident changes.
    pub fn subscribe(&self) -> broadcast::Receiver<PipelineEvent> {
        self.events.subscribe()
    }

    /// Runs every stage over every partition until the log is consumed, stage after stage,
    /// committing as [`Pipeline::spawn`] would.
    ///
    /// # Errors
    /// The first [`StageError`].
    pub async fn drain(&self) -> Result<RunReport, StageError> {
        let mut report = RunReport::default();
        for kind in StageKind::ALL {
            let stats = Arc::new(StageStats::default());
            for p in 0..self.log.partitions(kind.input()) {
                self.runner(kind, p, Arc::clone(&stats)).run_until_idle().await?;
            }
            let snap = stats.snapshot();
            report.records_in.push((kind, snap.records_in));
            report.rejected.push((kind, snap.rejected));
        }
        Ok(report)
    }

    /// Rebuilds derived state from `raw_events` starting at `from_offset` in every partition:
    /// runs the stages in-process (no intermediate topics, no commits) into the incident sink.
    /// Ids are deterministic, so replaying over existing state changes nothing.
    ///
    /// # Errors
    /// The first [`StageError`].
    pub async fn replay(&self, from_offset: u64) -> Result<RunReport, StageError> {
        let mut counts = [0u64; 4];
        let mut rejected = [0u64; 4];
        for p in 0..self.log.partitions(Topic::RawEvents) {
            let mut chain: Vec<Box<dyn Stage>> = StageKind::ALL.iter().map(|k| self.stage(*k)).collect();
            let mut from = from_offset;
            loop {
                let batch = self.log.read(Topic::RawEvents, p, from, self.config.batch_size).await?;
                let Some(last) = batch.last() else { break };
                from = last.offset + 1;
                self.replay_batch(&mut chain, p, batch, false, &mut counts, &mut rejected).await?;
            }
            // The end of the input: release what stages hold back (correlation windows).
            self.replay_batch(&mut chain, p, Vec::new(), true, &mut counts, &mut rejected).await?;
        }
        let zip = |c: [u64; 4]| StageKind::ALL.into_iter().zip(c).collect();
        Ok(RunReport { records_in: zip(counts), rejected: zip(rejected) })
    }

    async fn replay_batch(
        &self,
        chain: &mut [Box<dyn Stage>],
        partition: u32,
        mut records: Vec<StoredRecord>,
        end: bool,
        counts: &mut [u64; 4],
        rejected: &mut [u64; 4],
    ) -> Result<(), StageError> {
        for (i, stage) in chain.iter_mut().enumerate() {
            counts[i] += records.len() as u64;
            let mut out = Output::default();
            if !records.is_empty() {
                stage.process(Batch { partition, records: &records, pass: Pass::Live }, &mut out).await?;
            }
            if end {
                stage.idle(partition, &mut out).await?;
            }
            rejected[i] += out.dead.len() as u64;
            self.dead_letters.put(&out.dead).await?;
            records = out
                .records
                .into_iter()
                .enumerate()
                .map(|(n, (_, r))| StoredRecord {
                    partition,
                    offset: n as u64,
                    key: r.key,
                    timestamp_ms: r.timestamp_ms,
                    payload: r.payload,
                })
                .collect();
        }
        Ok(())
    }

    /// Spawns one task per stage and input partition; they run until the handle shuts down.
    pub fn spawn(&self) -> PipelineHandle {
        let (tx, rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut stats = Vec::new();
        for kind in StageKind::ALL {
            let s = Arc::new(StageStats::default());
            for p in 0..self.log.partitions(kind.input()) {
                let runner = self.runner(kind, p, Arc::clone(&s));
                tasks.push(tokio::spawn(runner.run(rx.clone())));
            }
            stats.push((kind, s));
        }
        PipelineHandle { shutdown: tx, tasks, stats, events: self.events.clone() }
    }
}

/// Running stages: stats, live events, graceful shutdown. Dropping the handle without
/// [`PipelineHandle::shutdown`] also stops the stages after their in-flight batches, unwaited.
pub struct PipelineHandle {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    stats: Vec<(StageKind, Arc<StageStats>)>,
    events: broadcast::Sender<PipelineEvent>,
}

impl PipelineHandle {
    /// Counts per stage.
    pub fn stats(&self) -> Vec<(StageKind, StageSnapshot)> {
        self.stats.iter().map(|(k, s)| (*k, s.snapshot())).collect()
    }

    /// Subscribes to new alerts and incident changes.
    pub fn subscribe(&self) -> broadcast::Receiver<PipelineEvent> {
        self.events.subscribe()
    }

    /// Asks every stage to stop and waits until each has finished its in-flight batch.
    pub async fn shutdown(self) {
        // Receivers live in the tasks; a send error only means they all ended already.
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "pipeline task ended abnormally");
            }
        }
    }
}
