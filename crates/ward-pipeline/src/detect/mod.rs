//! `detect`: `enriched_events` → alerts (`model_outputs`, [`ward_model::AlertRecord`] JSON).
//! Every [`Detector`] sees every event; built in are Sigma rules with streaming correlation
//! ([`SigmaDetector`]) and threat-intel indicators ([`IocDetector`]). Learned models plug in
//! through the same trait. Every alert naming the event gets the event's enrichment in
//! `details.enrichment` ([`enrichment_of`]).

mod enrichment;
mod entities;
mod ioc;
mod sigma;

pub use enrichment::{MAX_LIST, MAX_TEXT, MAX_THREAT_ITEMS, attach_enrichment, enrichment_of};
pub use entities::{entities_of, primary_key};
pub use ioc::IocDetector;
pub use sigma::{DetectionRules, RulesError, SigmaDetector};

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use ward_log::{Record, Topic};
use ward_model::{AlertRecord, Event};

use crate::deadletter::DeadLetter;
use crate::runtime::{Batch, Output, Pass, Stage, StageError};
use crate::telemetry;

/// Something that turns events into alerts. One instance serves one input partition, so it
/// may keep state (correlation windows, model context) without locking.
pub trait Detector: Send {
    /// Stable name (`sigma`, `ioc`, model name).
    fn name(&self) -> &'static str;

    /// Appends the alerts `event` raises. On [`Pass::Warmup`] the event was already processed
    /// before a restart: rebuild state, and emit only alerts that depend on more than this event
    /// (they may not have been emitted yet; ids are deterministic, so repeats are harmless).
    fn detect(&mut self, event: &Event, pass: Pass, out: &mut Vec<AlertRecord>);

    /// The input is idle: release alerts held for later input (the default holds none).
    fn idle(&mut self, _out: &mut Vec<AlertRecord>) {}
}

/// Builds a fresh detector for one partition.
pub type DetectorFactory = Arc<dyn Fn() -> Box<dyn Detector> + Send + Sync>;

/// The detect stage of one partition.
pub struct Detect {
    detectors: Vec<Box<dyn Detector>>,
    warmup: u64,
    alerts: Vec<AlertRecord>,
}

impl Detect {
    /// A detect stage running `detectors`; `warmup` records are re-read after a restart.
    pub fn new(detectors: Vec<Box<dyn Detector>>, warmup: u64) -> Self {
        Self { detectors, warmup, alerts: Vec::new() }
    }
}

#[async_trait]
impl Stage for Detect {
    fn name(&self) -> &'static str {
        "detect"
    }

    fn input(&self) -> Topic {
        Topic::EnrichedEvents
    }

    fn warmup_records(&self) -> u64 {
        self.warmup
    }

    async fn process(&mut self, batch: Batch<'_>, out: &mut Output) -> Result<(), StageError> {
        for record in batch.records {
            let event: Event = match ward_model::codec::decode_event(&record.payload) {
                Ok(e) => e,
                Err(e) => {
                    out.reject(DeadLetter {
                        stage: "detect".into(),
                        topic: Topic::EnrichedEvents.to_string(),
                        partition: record.partition,
                        offset: record.offset,
                        source: "event".into(),
                        tenant: None,
                        reason: format!("invalid event: {e}"),
                        payload: DeadLetter::payload_text(&record.payload),
                    });
                    continue;
                }
            };
            self.alerts.clear();
            for d in &mut self.detectors {
                d.detect(&event, batch.pass, &mut self.alerts);
            }
            attach_enrichment(&mut self.alerts, &event);
            annotate_signals(&mut self.alerts, &event);
            for alert in self.alerts.drain(..) {
                telemetry::alert(&alert.rule_id, alert.level);
                out.emit(Topic::ModelOutputs, alert_record(&alert));
            }
        }
        Ok(())
    }

    async fn idle(&mut self, _partition: u32, out: &mut Output) -> Result<(), StageError> {
        self.alerts.clear();
        for d in &mut self.detectors {
            d.idle(&mut self.alerts);
        }
        for alert in self.alerts.drain(..) {
            telemetry::alert(&alert.rule_id, alert.level);
            out.emit(Topic::ModelOutputs, alert_record(&alert));
        }
        Ok(())
    }
}

/// Records, on each alert raised by one event, every signal that event raised (kind, rule,
/// score), so `fuse` can combine them without state.
fn annotate_signals(alerts: &mut [AlertRecord], event: &Event) {
    if alerts.len() < 2 {
        return;
    }
    let eid = event.id().to_string();
    let on_event: Vec<serde_json::Value> = alerts
        .iter()
        .filter(|a| a.event_ids.len() == 1 && a.event_ids[0] == eid)
        .map(|a| json!({"kind": a.kind, "rule_id": a.rule_id, "score": a.score}))
        .collect();
    if on_event.len() < 2 {
        return;
    }
    for a in alerts.iter_mut().filter(|a| a.event_ids.len() == 1 && a.event_ids[0] == eid) {
        if let serde_json::Value::Object(map) = &mut a.details {
            map.insert("signals".into(), serde_json::Value::Array(on_event.clone()));
        }
    }
}

/// An alert as a log record keyed by its primary entity.
pub fn alert_record(alert: &AlertRecord) -> Record {
    let key = primary_key(&alert.entities).unwrap_or_else(|| alert.tenant.as_str().to_owned());
    // Serializing an alert (strings, numbers, JSON values) cannot fail.
    let payload = serde_json::to_vec(alert).unwrap_or_default();
    Record { key: Some(key.into_bytes()), timestamp_ms: alert.timestamp.timestamp_millis(), payload }
}
