//! Rolling per-entity features as a pipeline port: `normalize` observes every enriched event,
//! and triage reads the features of an incident's primary entity at its newest alert, so a
//! verdict can cite "7 login failures in 10 minutes" rather than only rule names.
//!
//! [`FeatureSource`] is implemented for `ward_features::Features` (in-process or Redis) with the
//! cargo feature `features`. Feature failures never stop the pipeline: they are logged and
//! counted (`ward_pipeline_feature_errors_total{op}`), and triage proceeds without features.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_model::{Event, TenantId};

/// A feature store that could not answer (unreachable, rejected the request).
#[derive(Debug, thiserror::Error)]
#[error("feature source {adapter}: {reason}")]
pub struct FeatureSourceError {
    /// The adapter (`memory`, `redis`).
    pub adapter: String,
    /// What went wrong.
    pub reason: String,
}

/// Where rolling per-entity features come from and are updated.
#[async_trait]
pub trait FeatureSource: Send + Sync {
    /// Updates the features of every entity `events` name; every event belongs to `tenant`.
    ///
    /// # Errors
    /// The store failed; the events are not counted.
    async fn observe(&self, tenant: &TenantId, events: &[Event]) -> Result<(), FeatureSourceError>;

    /// The features (name → value) of the entity `field=value` (`source.ip`, `user.name`,
    /// `host.name`) at event time `at`; `None` when the source keeps no features for that field
    /// or has never seen the entity.
    ///
    /// # Errors
    /// The store failed.
    async fn features(
        &self,
        tenant: &TenantId,
        field: &str,
        value: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<BTreeMap<String, f64>>, FeatureSourceError>;
}

/// The features of one entity at one time, as triage sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityFeatures {
    /// Entity field (`source.ip`).
    pub field: String,
    /// Entity value.
    pub value: String,
    /// Event time the features describe (the incident's `last_seen`).
    pub at: DateTime<Utc>,
    /// Feature name (`login_failures_10m`) → value.
    pub features: BTreeMap<String, f64>,
}

/// Observes a batch of events (of any tenants, in order) into `source`, one call per run of
/// events of one tenant; events marked as duplicates (`ward.duplicate_of`) are not counted.
/// Failures are logged and counted, never returned.
pub(crate) async fn observe_batch(source: &dyn FeatureSource, events: &[Event]) {
    for run in events.chunk_by(|a, b| a.tenant() == b.tenant()) {
        let Some(first) = run.first() else { continue };
        let tenant = match TenantId::new(first.tenant()) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(tenant = first.tenant(), error = %e, "events with an invalid tenant not observed");
                crate::telemetry::feature_error("observe", run.len());
                continue;
            }
        };
        let result = if run.iter().any(|e| e.get(DUPLICATE_OF).is_some()) {
            let unique: Vec<Event> = run.iter().filter(|e| e.get(DUPLICATE_OF).is_none()).cloned().collect();
            source.observe(&tenant, &unique).await
        } else {
            source.observe(&tenant, run).await
        };
        if let Err(e) = result {
            tracing::warn!(tenant = %tenant, events = run.len(), error = %e, "feature observation failed");
            crate::telemetry::feature_error("observe", run.len());
        }
    }
}

/// The field enrichment sets on a duplicate event (see `ward_enrich::DUPLICATE_OF`).
const DUPLICATE_OF: &str = "ward.duplicate_of";

/// The features of an incident's primary entity (its grouping key) at `at`; empty when there
/// are none or the source failed (logged and counted).
pub(crate) async fn primary(
    source: &dyn FeatureSource,
    tenant: &TenantId,
    group_key: &str,
    at: DateTime<Utc>,
) -> Vec<EntityFeatures> {
    let Some((field, value)) = group_key.split_once('=') else { return Vec::new() };
    match source.features(tenant, field, value, at).await {
        Ok(Some(features)) => {
            vec![EntityFeatures { field: field.to_owned(), value: value.to_owned(), at, features }]
        }
        Ok(None) => Vec::new(),
        Err(e) => {
            tracing::warn!(tenant = %tenant, key = group_key, error = %e, "feature lookup failed; triage without features");
            crate::telemetry::feature_error("read", 1);
            Vec::new()
        }
    }
}

#[cfg(feature = "features")]
#[async_trait]
impl FeatureSource for ward_features::Features {
    async fn observe(&self, tenant: &TenantId, events: &[Event]) -> Result<(), FeatureSourceError> {
        let report = self
            .observe_batch(tenant, events)
            .await
            .map_err(|e| FeatureSourceError { adapter: self.adapter().to_owned(), reason: e.to_string() })?;
        if report.tenant_mismatch > 0 || report.invalid_entities > 0 {
            tracing::debug!(
                tenant_mismatch = report.tenant_mismatch,
                invalid_entities = report.invalid_entities,
                "events partly observed (counted by ward_features_skipped_total)"
            );
        }
        Ok(())
    }

    async fn features(
        &self,
        tenant: &TenantId,
        field: &str,
        value: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<BTreeMap<String, f64>>, FeatureSourceError> {
        let Ok(kind) = field.parse::<ward_features::EntityKind>() else { return Ok(None) };
        match self.get(tenant, kind, value, at).await {
            Ok(v) if v.last_seen.is_some() => Ok(Some(v.features)),
            Ok(_) => Ok(None),
            Err(e) if e.is_bad_request() => Ok(None),
            Err(e) => Err(FeatureSourceError { adapter: self.adapter().to_owned(), reason: e.to_string() }),
        }
    }
}
