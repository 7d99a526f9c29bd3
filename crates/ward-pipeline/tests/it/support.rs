//! Shared fixtures: real sensor records as raw envelopes, the default rule pack, logs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use ward_log::embedded::{EmbeddedLog, EmbeddedOptions};
use ward_log::{Log, LogLayout, Record, Topic, TopicConfig};
use ward_model::{RawEnvelope, TenantId};
use ward_pipeline::{Clock, DetectionRules, IncidentSink, MemoryDeadLetters, Pipeline, PipelineConfig};

/// The fixed receipt time of every fixture envelope.
pub const RECEIVED_MS: i64 = 1_764_097_800_000;

/// A clock that always says the same time, so saved incidents compare equal across runs.
pub struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 0).unwrap()
    }
}

/// The lines of a committed fixture.
pub fn fixture_lines(rel: &str) -> Vec<String> {
    let path = ward_testkit::workspace_root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect()
}

/// One raw envelope record as the ingest API appends it.
pub fn envelope(source: &str, original: &str) -> Record {
    let env = RawEnvelope {
        tenant: TenantId::default(),
        source: source.into(),
        received_ms: RECEIVED_MS,
        device_id: None,
        original: original.into(),
    };
    Record {
        key: Some(source.as_bytes().to_vec()),
        timestamp_ms: RECEIVED_MS,
        payload: serde_json::to_vec(&env).unwrap(),
    }
}

/// The real Cowrie honeypot log (brute force, logins, commands) as raw envelopes.
pub fn cowrie() -> Vec<Record> {
    fixture_lines("testdata/cowrie/cowrie.json").iter().map(|l| envelope("cowrie", l)).collect()
}

/// Real Suricata EVE lines as raw envelopes.
pub fn suricata() -> Vec<Record> {
    fixture_lines("testdata/demo/ids-suricata-eve.json").iter().map(|l| envelope("suricata", l)).collect()
}

/// Ward's default rule pack.
pub fn rules() -> Arc<DetectionRules> {
    let dir = ward_testkit::workspace_root().join("rules");
    let (rules, problems) = DetectionRules::load(&[dir], &[], Duration::from_secs(60)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    Arc::new(rules)
}

/// The log layout of the tests: `raw_events` and `enriched_events` with 2 partitions.
pub fn layout() -> LogLayout {
    let two = TopicConfig { partitions: 2, ..TopicConfig::default() };
    LogLayout::default().with(Topic::RawEvents, two).with(Topic::EnrichedEvents, two)
}

/// Opens the embedded log under `dir`.
pub async fn open_log(dir: &Path) -> Arc<dyn Log> {
    let dir = dir.to_path_buf();
    let log =
        tokio::task::spawn_blocking(move || EmbeddedLog::open(&dir, layout(), EmbeddedOptions::default()))
            .await
            .unwrap()
            .unwrap();
    Arc::new(log)
}

/// A pipeline over `log` with the default rules, writing to `sink`, in small batches.
pub fn pipeline(log: Arc<dyn Log>, sink: Arc<dyn IncidentSink>, dead: Arc<MemoryDeadLetters>) -> Pipeline {
    Pipeline::builder(log, sink)
        .rules(rules())
        .dead_letters(dead)
        .clock(Arc::new(FixedClock))
        .config(PipelineConfig { batch_size: 16, poll_interval_ms: 5, ..PipelineConfig::default() })
        .build()
        .unwrap()
}
