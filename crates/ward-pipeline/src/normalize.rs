//! `normalize`: `raw_events` (RawEnvelope JSON) → decoded, enriched events on `enriched_events`
//! (binary, `ward_model::codec`).
//! Each envelope is decoded by the decoder its `source` names, with the tenant it carries and
//! its receipt time as "now", so a replay decodes to the same events.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_decode::{DecodeContext, Decoder, SourceKind};
use ward_log::{Record, StoredRecord, Topic};
use ward_model::{Event, FieldValue, RawEnvelope};

use crate::deadletter::DeadLetter;
use crate::features::{FeatureSource, observe_batch};
use crate::runtime::{Batch, Output, Stage, StageError};

/// Adds context to decoded events (GeoIP, assets, threat intel); implemented by the
/// enrichment crate. Runs on every batch after decoding.
pub trait Enricher: Send + Sync {
    /// Enriches `events` in place.
    fn enrich(&self, events: &mut Vec<Event>);
}

/// The enricher that changes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopEnricher;

impl Enricher for NoopEnricher {
    fn enrich(&self, _events: &mut Vec<Event>) {}
}

/// The normalize stage of one partition.
pub struct Normalize {
    enricher: Arc<dyn Enricher>,
    features: Option<Arc<dyn FeatureSource>>,
    decoders: BTreeMap<SourceKind, Box<dyn Decoder>>,
    events: Vec<Event>,
}

impl Normalize {
    /// A normalize stage applying `enricher`.
    pub fn new(enricher: Arc<dyn Enricher>) -> Self {
        Self { enricher, features: None, decoders: BTreeMap::new(), events: Vec::with_capacity(64) }
    }

    /// Also observes every enriched event into `features` (rolling per-entity features).
    pub fn with_features(mut self, features: Option<Arc<dyn FeatureSource>>) -> Self {
        self.features = features;
        self
    }

    /// Decodes one envelope into `self.events`; the reason and source on failure.
    fn decode(&mut self, record: &StoredRecord) -> Result<(), (String, String, Option<String>)> {
        let env: RawEnvelope = serde_json::from_slice(&record.payload)
            .map_err(|e| ("envelope".to_owned(), format!("invalid raw envelope: {e}"), None))?;
        let tenant = Some(env.tenant.as_str().to_owned());
        let kind: SourceKind =
            env.source.parse().map_err(|e| (env.source.clone(), format!("{e}"), tenant.clone()))?;
        let decoder = match self.decoders.entry(kind) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(kind.build(None).map_err(|e| (env.source.clone(), e.to_string(), tenant.clone()))?)
            }
        };
        let now = DateTime::<Utc>::from_timestamp_millis(env.received_ms).unwrap_or_default();
        let ctx = DecodeContext::new(env.tenant.clone(), now);
        let before = self.events.len();
        decoder.decode(&env.original, &ctx, &mut self.events).map_err(|e| {
            self.events.truncate(before);
            (env.source.clone(), e.to_string(), tenant)
        })
    }
}

#[async_trait]
impl Stage for Normalize {
    fn name(&self) -> &'static str {
        "normalize"
    }

    fn input(&self) -> Topic {
        Topic::RawEvents
    }

    async fn process(&mut self, batch: Batch<'_>, out: &mut Output) -> Result<(), StageError> {
        self.events.clear();
        for record in batch.records {
            if let Err((source, reason, tenant)) = self.decode(record) {
                out.reject(DeadLetter {
                    stage: "normalize".into(),
                    topic: Topic::RawEvents.to_string(),
                    partition: record.partition,
                    offset: record.offset,
                    source,
                    tenant,
                    reason,
                    payload: DeadLetter::payload_text(&record.payload),
                });
            }
        }
        self.enricher.enrich(&mut self.events);
        if let Some(f) = &self.features {
            observe_batch(f.as_ref(), &self.events).await;
        }
        for event in self.events.drain(..) {
            out.emit(Topic::EnrichedEvents, event_record(&event));
        }
        Ok(())
    }
}

/// An event as a log record, keyed by its entity (source address, else host, else tenant).
pub fn event_record(event: &Event) -> Record {
    let key = match event.get("source.ip") {
        Some(FieldValue::Ip(ip)) => ip.to_string(),
        Some(FieldValue::Str(s)) => s.to_string(),
        _ => event.str("host.name").unwrap_or(event.tenant()).to_owned(),
    };
    let payload = ward_model::codec::encode_event(event);
    Record { key: Some(key.into_bytes()), timestamp_ms: event.timestamp().timestamp_millis(), payload }
}
