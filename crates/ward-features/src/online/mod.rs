//! The online feature store port: rolling-window features per entity, updated from events and
//! read by detectors, the API and the CLI.
//!
//! Adapters ([`OnlineStore`]) only keep bucket aggregates and merge them on read into a
//! [`Snapshot`]; [`Features`] turns events into observations and snapshots into named features,
//! so both adapters give the same numbers.

pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use ward_model::{Event, TenantId};

use crate::FeatureError;
use crate::agg::Snapshot;
use crate::config::FeaturesConfig;
use crate::entity::{EntityKey, EntityKind};
use crate::inputs::{Observation, derive};
use crate::vector::FeatureVector;

/// What an adapter did with a batch of observations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Observations applied.
    pub applied: u64,
    /// Window updates skipped because the observation was older than the window can reach
    /// from the entity's newest event (counted once per window).
    pub late: u64,
    /// Entities dropped to stay within the memory bound (in-process adapter only).
    pub evicted: u64,
}

impl ApplyReport {
    fn add(&mut self, o: Self) {
        self.applied += o.applied;
        self.late += o.late;
        self.evicted += o.evicted;
    }
}

/// A place rolling-window aggregates live. Every key is scoped by tenant.
#[async_trait]
pub trait OnlineStore: Send + Sync {
    /// The adapter's name (`memory`, `redis`).
    fn adapter(&self) -> &'static str;

    /// Applies a batch of observations of one tenant, in order.
    async fn apply(&self, tenant: &TenantId, batch: &[Observation]) -> Result<ApplyReport, FeatureError>;

    /// The merged window aggregates of one entity as of event time `at_ms`.
    async fn snapshot(
        &self,
        tenant: &TenantId,
        entity: &EntityKey,
        at_ms: i64,
    ) -> Result<Snapshot, FeatureError>;
}

/// Opens the adapter `[features] online` names: `memory` or `redis://HOST:PORT`.
///
/// # Errors
/// An unknown URL, a Redis URL in a build without the `redis` feature, or an unreachable Redis.
pub async fn open(config: &FeaturesConfig) -> Result<Arc<dyn OnlineStore>, FeatureError> {
    let url = config.online.as_str();
    if url == "memory" {
        return Ok(Arc::new(memory::MemoryStore::new(config.max_entities)));
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        #[cfg(feature = "redis")]
        {
            let store = redis::RedisStore::connect(url, &config.prefix, config.ttl_secs).await?;
            return Ok(Arc::new(store));
        }
        #[cfg(not(feature = "redis"))]
        return Err(FeatureError::Config(format!("{url:?} needs a build with the `redis` feature")));
    }
    Err(FeatureError::Config(format!("{url:?} is not `memory` or `redis://…`")))
}

/// What [`Features::observe`] did with events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ObserveReport {
    /// Events looked at.
    pub events: u64,
    /// Entity updates derived from them.
    pub observations: u64,
    /// Events naming no entity (no `source.ip`, `user.name` or `host.name`).
    pub without_entity: u64,
    /// Entity fields present but invalid (e.g. a `source.ip` that is not an IP).
    pub invalid_entities: u64,
    /// Events whose tenant is not the tenant they were observed for; not applied.
    pub tenant_mismatch: u64,
    /// What the adapter reported.
    pub store: ApplyReport,
}

impl ObserveReport {
    /// Adds another report's counts.
    pub fn add(&mut self, o: &Self) {
        self.events += o.events;
        self.observations += o.observations;
        self.without_entity += o.without_entity;
        self.invalid_entities += o.invalid_entities;
        self.tenant_mismatch += o.tenant_mismatch;
        self.store.add(o.store);
    }
}

/// The feature store as the pipeline, detectors and API use it: events in, named features out.
#[derive(Clone)]
pub struct Features {
    store: Arc<dyn OnlineStore>,
    totals: Arc<Totals>,
}

#[derive(Default)]
struct Totals {
    events: AtomicU64,
    observations: AtomicU64,
    skipped: AtomicU64,
    late: AtomicU64,
    evicted: AtomicU64,
}

impl Features {
    /// Wraps an adapter.
    pub fn new(store: Arc<dyn OnlineStore>) -> Self {
        Self { store, totals: Arc::default() }
    }

    /// An in-process store bounded to `max_entities` entities.
    pub fn in_memory(max_entities: usize) -> Self {
        Self::new(Arc::new(memory::MemoryStore::new(max_entities)))
    }

    /// The adapter's name.
    pub fn adapter(&self) -> &'static str {
        self.store.adapter()
    }

    /// Updates the features of every entity `event` names.
    ///
    /// # Errors
    /// The adapter failed (Redis unreachable); nothing is counted as applied then.
    pub async fn observe(&self, tenant: &TenantId, event: &Event) -> Result<ObserveReport, FeatureError> {
        self.observe_batch(tenant, std::slice::from_ref(event)).await
    }

    /// Updates the features of a batch of events of one tenant, in one adapter round trip.
    ///
    /// # Errors
    /// The adapter failed (Redis unreachable).
    pub async fn observe_batch(
        &self,
        tenant: &TenantId,
        events: &[Event],
    ) -> Result<ObserveReport, FeatureError> {
        let mut report = ObserveReport { events: events.len() as u64, ..ObserveReport::default() };
        let mut batch = Vec::with_capacity(events.len() * 2);
        for event in events {
            if event.tenant() != tenant.as_str() {
                report.tenant_mismatch += 1;
                continue;
            }
            let d = derive(tenant, event, &mut batch);
            report.invalid_entities += u64::from(d.invalid);
            if d.entities == 0 {
                report.without_entity += 1;
            }
        }
        report.observations = batch.len() as u64;
        if !batch.is_empty() {
            report.store = self.store.apply(tenant, &batch).await?;
        }
        self.count(&report);
        Ok(report)
    }

    fn count(&self, r: &ObserveReport) {
        let t = &self.totals;
        t.events.fetch_add(r.events, Ordering::Relaxed);
        t.observations.fetch_add(r.observations, Ordering::Relaxed);
        t.skipped.fetch_add(r.without_entity + r.invalid_entities + r.tenant_mismatch, Ordering::Relaxed);
        t.late.fetch_add(r.store.late, Ordering::Relaxed);
        t.evicted.fetch_add(r.store.evicted, Ordering::Relaxed);
        metrics::counter!("ward_features_events_total", "adapter" => self.adapter()).increment(r.events);
        metrics::counter!("ward_features_observations_total", "adapter" => self.adapter())
            .increment(r.observations);
        let skips = [
            ("without_entity", r.without_entity),
            ("invalid_entity", r.invalid_entities),
            ("tenant_mismatch", r.tenant_mismatch),
            ("late", r.store.late),
            ("evicted", r.store.evicted),
        ];
        for (reason, n) in skips.into_iter().filter(|(_, n)| *n > 0) {
            metrics::counter!("ward_features_skipped_total", "reason" => reason).increment(n);
        }
    }

    /// Totals since start: (events, observations, skipped events/fields, late window updates,
    /// evicted entities).
    pub fn totals(&self) -> [u64; 5] {
        let t = &self.totals;
        [&t.events, &t.observations, &t.skipped, &t.late, &t.evicted].map(|a| a.load(Ordering::Relaxed))
    }

    /// The features of one entity at event time `at`.
    ///
    /// # Errors
    /// An invalid value for the kind, or an adapter failure.
    pub async fn get(
        &self,
        tenant: &TenantId,
        kind: EntityKind,
        value: &str,
        at: DateTime<Utc>,
    ) -> Result<FeatureVector, FeatureError> {
        let entity = EntityKey::new(kind, value)?;
        let snap = self.store.snapshot(tenant, &entity, at.timestamp_millis()).await?;
        Ok(FeatureVector::compute(tenant.clone(), entity, at, &snap))
    }

    /// The features of one entity at `at`, or — when `at` is `None` — at its newest event time
    /// (at `now` when the entity was never seen).
    ///
    /// # Errors
    /// As [`Features::get`].
    pub async fn get_latest(
        &self,
        tenant: &TenantId,
        kind: EntityKind,
        value: &str,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<FeatureVector, FeatureError> {
        if let Some(at) = at {
            return self.get(tenant, kind, value, at).await;
        }
        let probe = self.get(tenant, kind, value, now).await?;
        match probe.last_seen {
            Some(last) if last != now => self.get(tenant, kind, value, last).await,
            _ => Ok(probe),
        }
    }

    /// The JSON body of `GET /api/entities/{kind}/{value}/features[?at=RFC3339]`: the feature
    /// vector (`tenant`, `kind`, `value`, `at`, `last_seen`, `features`) plus `feature_names`
    /// and the adapter.
    ///
    /// # Errors
    /// [`FeatureError::UnknownKind`] and [`FeatureError::InvalidEntity`] (answer 400 — see
    /// [`FeatureError::is_bad_request`]), or an adapter failure (answer 503).
    pub async fn api_body(
        &self,
        tenant: &TenantId,
        kind: &str,
        value: &str,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, FeatureError> {
        let kind: EntityKind = kind.parse()?;
        let vector = self.get_latest(tenant, kind, value, at, now).await?;
        let mut body = serde_json::to_value(&vector).map_err(|e| FeatureError::Config(e.to_string()))?;
        if let Some(map) = body.as_object_mut() {
            map.insert("adapter".into(), self.adapter().into());
            map.insert("windows".into(), crate::window::WINDOWS.map(|w| w.name).to_vec().into());
        }
        Ok(body)
    }
}
