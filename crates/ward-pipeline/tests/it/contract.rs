//! Every stage run through the stage-contract checker.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;
use ward_decode::{DecodeContext, SourceKind};
use ward_log::{Log, Record, Topic};
use ward_model::{AlertRecord, Event, TenantId};
use ward_pipeline::detect::{Detect, alert_record};
use ward_pipeline::fuse::Fuse;
use ward_pipeline::incidents::Incidents;
use ward_pipeline::normalize::{Normalize, event_record};
use ward_pipeline::testing::{Subject, TopicSubject, check_stage_contract};
use ward_pipeline::{BuiltinTriager, Fusion, IncidentsConfig, MemorySink, NoopEnricher, Stage};

use super::support::{FixedClock, cowrie, fixture_lines, rules};

fn garbage() -> Record {
    Record { key: None, timestamp_ms: 0, payload: b"{not json".to_vec() }
}

fn cowrie_events() -> Vec<Event> {
    let decoder = SourceKind::Cowrie.build(None).unwrap();
    let ctx = DecodeContext::new(TenantId::default(), chrono::Utc::now());
    let mut out = Vec::new();
    for line in fixture_lines("testdata/cowrie/cowrie.json") {
        decoder.decode(&line, &ctx, &mut out).unwrap();
    }
    out
}

fn detect_stage() -> Box<dyn Stage> {
    let fields: Arc<[String]> = ward_pipeline::PipelineConfig::default().entity_fields.into();
    let sigma = rules().detector(fields).unwrap();
    Box::new(Detect::new(vec![Box::new(sigma)], 100_000))
}

/// Alerts as `detect` emits them for the Cowrie log.
async fn cowrie_alerts() -> Vec<AlertRecord> {
    let mut stage = detect_stage();
    let records: Vec<_> = cowrie_events()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let r = event_record(e);
            ward_log::StoredRecord {
                partition: 0,
                offset: i as u64,
                key: r.key,
                timestamp_ms: r.timestamp_ms,
                payload: r.payload,
            }
        })
        .collect();
    let mut out = ward_pipeline::Output::default();
    let batch = ward_pipeline::Batch { partition: 0, records: &records, pass: ward_pipeline::Pass::Live };
    stage.process(batch, &mut out).await.unwrap();
    stage.idle(0, &mut out).await.unwrap();
    out.records.into_iter().map(|(_, r)| serde_json::from_slice(&r.payload).unwrap()).collect()
}

#[tokio::test]
async fn normalize_keeps_the_contract() {
    let subject = || {
        TopicSubject::new(
            || Box::new(Normalize::new(Arc::new(NoopEnricher))) as Box<dyn Stage>,
            &[Topic::EnrichedEvents],
        )
    };
    let report = check_stage_contract(subject, cowrie(), garbage(), 16).await.unwrap();
    assert_eq!(report.outputs, 148);
}

#[tokio::test]
async fn detect_keeps_the_contract_including_correlation_state() {
    let good: Vec<Record> = cowrie_events().iter().map(event_record).collect();
    let subject = || TopicSubject::new(detect_stage, &[Topic::ModelOutputs]);
    let report = check_stage_contract(subject, good, garbage(), 8).await.unwrap();
    assert!(report.batches > 10);
    assert!(report.outputs > 10, "{report:?}");
}

#[tokio::test]
async fn fuse_keeps_the_contract() {
    let good: Vec<Record> = cowrie_alerts().await.iter().map(alert_record).collect();
    assert!(!good.is_empty());
    let subject = || {
        TopicSubject::new(
            || Box::new(Fuse::new(Fusion::NoisyOr)) as Box<dyn Stage>,
            &[Topic::ConsolidatedAlerts],
        )
    };
    check_stage_contract(subject, good, garbage(), 4).await.unwrap();
}

/// The incidents stage with its memory sink; observed through the sink.
struct IncidentSubject {
    sink: Arc<MemorySink>,
}

#[async_trait]
impl Subject for IncidentSubject {
    fn stage(&self) -> Box<dyn Stage> {
        let (tx, _) = broadcast::channel(16);
        Box::new(Incidents::new(
            self.sink.clone(),
            Arc::new(BuiltinTriager),
            tx,
            IncidentsConfig::default(),
            Arc::new(FixedClock),
        ))
    }

    async fn observe(&self, _log: &dyn Log) -> Vec<String> {
        let mut out: Vec<String> = self.sink.alerts().iter().map(|a| format!("alert:{}", a.id)).collect();
        for i in self.sink.incidents() {
            let members = self.sink.members(&i.tenant, &i.id);
            out.push(format!(
                "incident:{}:{}:{}:{}:{:?}",
                i.id, i.group_key, i.alert_count, i.severity, members
            ));
        }
        out.sort();
        out
    }
}

#[tokio::test]
async fn incidents_keep_the_contract() {
    let good: Vec<Record> = cowrie_alerts().await.iter().map(alert_record).collect();
    let subject = || IncidentSubject { sink: Arc::new(MemorySink::new()) };
    let report = check_stage_contract(subject, good, garbage(), 3).await.unwrap();
    assert!(report.outputs > 1);
}
