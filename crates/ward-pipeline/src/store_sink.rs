//! [`IncidentSink`] over `ward_store::Store` (SQLite or PostgreSQL), feature `store`.
//!
//! `save_incident` is upsert, then link, then (when the incident carries a verdict) triage. The
//! three are separate transactions, which the store makes safe to repeat: the upsert widens
//! times and merges what the pipeline owns, `alert_count` always counts linked alerts, and a
//! link is unique per alert. A crash between them is repaired by the redelivery of the batch.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_model::{AlertRecord, Incident, TenantId, Triage};
use ward_store::{IncidentFilter, IncidentSort, Store, StoreError};

use crate::incidents::{IncidentSink, SinkError};

/// Largest number of earlier incidents counted for one entity.
const MAX_PRIOR: u32 = 1000;

fn err(operation: &'static str) -> impl Fn(StoreError) -> SinkError {
    move |e| SinkError { operation, reason: e.to_string() }
}

#[async_trait]
impl IncidentSink for Store {
    async fn insert_alerts(&self, tenant: &TenantId, alerts: &[AlertRecord]) -> Result<u64, SinkError> {
        let n = self.tenant(tenant).insert_alerts(alerts).await.map_err(err("insert_alerts"))?;
        Ok(n as u64)
    }

    async fn linked_incident(&self, tenant: &TenantId, alert_id: &str) -> Result<Option<String>, SinkError> {
        self.tenant(tenant).alert_incident(alert_id).await.map_err(err("linked_incident"))
    }

    async fn find_open_incident(
        &self,
        tenant: &TenantId,
        group_key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Incident>, SinkError> {
        self.tenant(tenant).find_open_incident(group_key, since).await.map_err(err("find_open_incident"))
    }

    async fn incident(&self, tenant: &TenantId, id: &str) -> Result<Option<Incident>, SinkError> {
        match self.tenant(tenant).incident(id).await {
            Ok(i) => Ok(Some(i)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(err("incident")(e)),
        }
    }

    async fn save_incident(
        &self,
        incident: &Incident,
        alert_ids: &[String],
        triage: Option<&Triage>,
    ) -> Result<u64, SinkError> {
        let t = self.tenant(&incident.tenant);
        t.upsert_incident(incident).await.map_err(err("save_incident"))?;
        let linked = t.link_alerts(&incident.id, alert_ids).await.map_err(err("save_incident"))?;
        if let Some(triage) = triage {
            t.set_triage(&incident.id, triage).await.map_err(err("save_incident"))?;
        }
        Ok(linked as u64)
    }

    async fn incident_alerts(
        &self,
        tenant: &TenantId,
        incident_id: &str,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, SinkError> {
        let mut all =
            self.tenant(tenant).incident_alerts(incident_id).await.map_err(err("incident_alerts"))?;
        all.reverse();
        all.truncate(limit);
        Ok(all)
    }

    async fn set_triage(
        &self,
        tenant: &TenantId,
        incident_id: &str,
        triage: &Triage,
    ) -> Result<(), SinkError> {
        self.tenant(tenant).set_triage(incident_id, triage).await.map_err(err("set_triage"))?;
        Ok(())
    }

    async fn count_incidents_with_entity(
        &self,
        tenant: &TenantId,
        field: &str,
        value: &str,
        before: DateTime<Utc>,
        exclude: &str,
    ) -> Result<u64, SinkError> {
        let filter =
            IncidentFilter { entity: Some(value.to_owned()), to: Some(before), ..IncidentFilter::default() };
        let page = self
            .tenant(tenant)
            .list_incidents(&filter, IncidentSort::default(), None, MAX_PRIOR)
            .await
            .map_err(err("count_incidents_with_entity"))?;
        let n = page
            .items
            .iter()
            .filter(|i| {
                i.id != exclude && i.entities.get(field).is_some_and(|v| v.iter().any(|x| x == value))
            })
            .count();
        Ok(n as u64)
    }
}
