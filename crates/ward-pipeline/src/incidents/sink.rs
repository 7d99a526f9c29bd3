//! The port incidents are written through: alerts, incidents, their links and the grouping
//! state, so a restart (or a replay) reattaches alerts to the incidents it already opened.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_model::{AlertRecord, Incident, TenantId, Triage};

/// A failure of the incident store.
#[derive(Debug, thiserror::Error)]
#[error("incident sink {operation} failed: {reason}")]
pub struct SinkError {
    /// Which operation.
    pub operation: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// Where alerts and incidents are kept. Every call is scoped to one tenant; implementations
/// must be idempotent as described per method, since delivery is at-least-once.
#[async_trait]
pub trait IncidentSink: Send + Sync {
    /// Stores alerts, keyed by `(tenant, id)`; an alert already stored is left as it is.
    /// Returns how many were new.
    ///
    /// # Errors
    /// [`SinkError`].
    async fn insert_alerts(&self, tenant: &TenantId, alerts: &[AlertRecord]) -> Result<u64, SinkError>;

    /// The incident an alert is linked to, if any.
    ///
    /// # Errors
    /// [`SinkError`].
    async fn linked_incident(&self, tenant: &TenantId, alert_id: &str) -> Result<Option<String>, SinkError>;

    /// [`IncidentSink::linked_incident`] of several alerts, in order (one round trip where the
    /// backend allows).
    ///
    /// # Errors
    /// [`SinkError`].
    async fn linked_incidents(
        &self,
        tenant: &TenantId,
        alert_ids: &[String],
    ) -> Result<Vec<Option<String>>, SinkError> {
        let mut out = Vec::with_capacity(alert_ids.len());
        for id in alert_ids {
            out.push(self.linked_incident(tenant, id).await?);
        }
        Ok(out)
    }

    /// The open (not closed) incident with `group_key` whose `last_seen` is at or after `since`;
    /// the most recent one when several are.
    ///
    /// # Errors
    /// [`SinkError`].
    async fn find_open_incident(
        &self,
        tenant: &TenantId,
        group_key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Incident>, SinkError>;

    /// One incident by id.
    ///
    /// # Errors
    /// [`SinkError`].
    async fn incident(&self, tenant: &TenantId, id: &str) -> Result<Option<Incident>, SinkError>;

    /// Upserts `incident`, links `alert_ids` to it (an alert linked elsewhere already stays
    /// where it is) and, when `triage` is given, records it. On update, the analyst-owned
    /// fields (`status`, `assignee`) of the stored row are kept. Repeating the call must be
    /// harmless (the batch is redelivered after a crash between its parts). Returns how many
    /// alerts were newly linked.
    ///
    /// # Errors
    /// [`SinkError`].
    async fn save_incident(
        &self,
        incident: &Incident,
        alert_ids: &[String],
        triage: Option<&Triage>,
    ) -> Result<u64, SinkError>;

    /// Up to `limit` alerts linked to an incident, most recent first.
    ///
    /// # Errors
    /// [`SinkError`].
    async fn incident_alerts(
        &self,
        tenant: &TenantId,
        incident_id: &str,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, SinkError>;

    /// Records a (re-)triage of an incident: verdict, confidence, reasoning, indicators and
    /// recommended actions.
    ///
    /// # Errors
    /// [`SinkError`].
    async fn set_triage(
        &self,
        tenant: &TenantId,
        incident_id: &str,
        triage: &Triage,
    ) -> Result<(), SinkError>;

    /// How many incidents other than `exclude` named `field = value` among their entities and
    /// started before `before` (the "repeat offender" signal of triage).
    ///
    /// # Errors
    /// [`SinkError`].
    async fn count_incidents_with_entity(
        &self,
        tenant: &TenantId,
        field: &str,
        value: &str,
        before: DateTime<Utc>,
        exclude: &str,
    ) -> Result<u64, SinkError>;
}
