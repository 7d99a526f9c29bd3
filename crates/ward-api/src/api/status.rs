//! `GET /api/telemetry/status`: per-tenant telemetry health (events per source, last event time,
//! devices, open incidents) and pipeline lag.
//!
//! Counters and lag come from a [`PipelineStats`] the pipeline feeds (the API reads no topic
//! offsets of its own); devices and open incidents come from their stores.

use std::collections::BTreeMap;
use std::sync::RwLock;

use axum::Json;
use axum::extract::{Extension, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use ward_model::TenantId;

use crate::error::ApiError;
use crate::identity::Principal;
use crate::state::AppState;

/// Events seen for one tenant.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TenantTelemetry {
    /// Events per decoder (`cowrie`, `suricata`, …).
    pub events_by_source: BTreeMap<String, u64>,
    /// Event time of the newest event seen.
    pub last_event_at: Option<DateTime<Utc>>,
    /// When the pipeline last saw an event (wall clock).
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Counters the pipeline updates and the API reads. Bounded by tenants × sources.
#[derive(Debug, Default)]
pub struct PipelineStats {
    tenants: RwLock<BTreeMap<TenantId, TenantTelemetry>>,
    lag: RwLock<BTreeMap<String, u64>>,
}

impl PipelineStats {
    /// Counts `n` events of `source` for `tenant`, the newest at event time `event_time`.
    pub fn record_events(&self, tenant: &TenantId, source: &str, n: u64, event_time: DateTime<Utc>) {
        let Ok(mut tenants) = self.tenants.write() else { return };
        let t = tenants.entry(tenant.clone()).or_default();
        *t.events_by_source.entry(source.to_owned()).or_default() += n;
        t.last_event_at = Some(t.last_event_at.map_or(event_time, |l| l.max(event_time)));
        t.last_seen_at = Some(Utc::now());
    }

    /// Sets the lag (records not yet processed) of a stage or consumer group.
    pub fn set_lag(&self, stage: &str, records: u64) {
        if let Ok(mut lag) = self.lag.write() {
            lag.insert(stage.to_owned(), records);
        }
    }

    /// What is known about `tenant`.
    pub fn tenant(&self, tenant: &TenantId) -> TenantTelemetry {
        self.tenants.read().ok().and_then(|t| t.get(tenant).cloned()).unwrap_or_default()
    }

    /// Lag per stage.
    pub fn lag(&self) -> BTreeMap<String, u64> {
        self.lag.read().map(|l| l.clone()).unwrap_or_default()
    }
}

/// The answer of `GET /api/telemetry/status`.
#[derive(Debug, Serialize)]
pub(crate) struct StatusView {
    tenant: TenantId,
    events_total: u64,
    events_by_source: BTreeMap<String, u64>,
    last_event_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
    devices: usize,
    devices_enabled: usize,
    open_incidents: u64,
    pipeline_lag: BTreeMap<String, u64>,
}

/// `GET /api/telemetry/status`.
pub(crate) async fn status(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<StatusView>, ApiError> {
    let api = state.api()?;
    let t = api.stats.tenant(&p.tenant);
    let devices = state.0.devices.list().await.map_err(|e| ApiError::internal("listing devices", &e))?;
    let mine: Vec<_> = devices.iter().filter(|d| d.tenant == p.tenant).collect();
    let open =
        api.incidents.open_incidents(&p.tenant).await.map_err(|e| super::port_error(e, "incidents"))?;
    Ok(Json(StatusView {
        events_total: t.events_by_source.values().sum(),
        events_by_source: t.events_by_source,
        last_event_at: t.last_event_at,
        last_seen_at: t.last_seen_at,
        devices: mine.len(),
        devices_enabled: mine.iter().filter(|d| !d.disabled).count(),
        open_incidents: open,
        pipeline_lag: api.stats.lag(),
        tenant: p.tenant,
    }))
}
