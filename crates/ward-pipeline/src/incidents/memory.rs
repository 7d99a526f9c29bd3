//! An in-memory [`IncidentSink`] for tests, benchmarks and `ward replay --dry-run`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_model::{AlertRecord, Incident, TenantId, Triage};

use super::sink::{IncidentSink, SinkError};

/// Everything the memory sink holds, per tenant.
#[derive(Debug, Default)]
struct State {
    alerts: HashMap<(TenantId, String), AlertRecord>,
    links: HashMap<(TenantId, String), String>,
    incidents: BTreeMap<(TenantId, String), Incident>,
    /// Alert ids per incident in link order.
    members: HashMap<(TenantId, String), Vec<String>>,
    /// Incident ids per grouping key.
    by_key: HashMap<(TenantId, String), Vec<String>>,
}

/// Incidents and alerts kept in memory behind one lock (each call is atomic).
#[derive(Debug, Default)]
pub struct MemorySink {
    state: Mutex<State>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every incident, ordered by tenant and id.
    pub fn incidents(&self) -> Vec<Incident> {
        self.lock().incidents.values().cloned().collect()
    }

    /// Every stored alert, ordered by id.
    pub fn alerts(&self) -> Vec<AlertRecord> {
        let mut all: Vec<AlertRecord> = self.lock().alerts.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// The alert ids linked to an incident, sorted.
    pub fn members(&self, tenant: &TenantId, incident_id: &str) -> Vec<String> {
        let mut ids =
            self.lock().members.get(&(tenant.clone(), incident_id.to_owned())).cloned().unwrap_or_default();
        ids.sort();
        ids
    }

    /// Changes an incident's status, as an analyst would through the API.
    pub fn set_status(&self, tenant: &TenantId, id: &str, status: ward_model::IncidentStatus) -> bool {
        match self.lock().incidents.get_mut(&(tenant.clone(), id.to_owned())) {
            Some(i) => {
                i.status = status;
                true
            }
            None => false,
        }
    }
}

#[async_trait]
impl IncidentSink for MemorySink {
    async fn insert_alerts(&self, tenant: &TenantId, alerts: &[AlertRecord]) -> Result<u64, SinkError> {
        let mut s = self.lock();
        let mut new = 0;
        for a in alerts {
            s.alerts.entry((tenant.clone(), a.id.clone())).or_insert_with(|| {
                new += 1;
                a.clone()
            });
        }
        Ok(new)
    }

    async fn linked_incident(&self, tenant: &TenantId, alert_id: &str) -> Result<Option<String>, SinkError> {
        Ok(self.lock().links.get(&(tenant.clone(), alert_id.to_owned())).cloned())
    }

    async fn linked_incidents(
        &self,
        tenant: &TenantId,
        alert_ids: &[String],
    ) -> Result<Vec<Option<String>>, SinkError> {
        let s = self.lock();
        Ok(alert_ids.iter().map(|id| s.links.get(&(tenant.clone(), id.clone())).cloned()).collect())
    }

    async fn find_open_incident(
        &self,
        tenant: &TenantId,
        group_key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Incident>, SinkError> {
        let s = self.lock();
        let ids = s.by_key.get(&(tenant.clone(), group_key.to_owned()));
        let found = ids
            .into_iter()
            .flatten()
            .filter_map(|id| s.incidents.get(&(tenant.clone(), id.clone())))
            .filter(|i| !i.status.is_closed() && i.last_seen >= since)
            .max_by(|a, b| a.last_seen.cmp(&b.last_seen).then_with(|| a.id.cmp(&b.id)));
        Ok(found.cloned())
    }

    async fn incident(&self, tenant: &TenantId, id: &str) -> Result<Option<Incident>, SinkError> {
        Ok(self.lock().incidents.get(&(tenant.clone(), id.to_owned())).cloned())
    }

    async fn save_incident(
        &self,
        incident: &Incident,
        alert_ids: &[String],
        triage: Option<&Triage>,
    ) -> Result<u64, SinkError> {
        let mut s = self.lock();
        let key = (incident.tenant.clone(), incident.id.clone());
        let mut row = incident.clone();
        if let Some(t) = triage {
            super::apply_triage(&mut row, t);
        }
        if let Some(old) = s.incidents.get(&key) {
            row.status = old.status;
            row.assignee = old.assignee.clone();
            row.created_at = old.created_at;
        }
        if s.incidents.insert(key.clone(), row).is_none() {
            s.by_key
                .entry((incident.tenant.clone(), incident.group_key.clone()))
                .or_default()
                .push(incident.id.clone());
        }
        let mut linked = 0;
        for id in alert_ids {
            let link = (incident.tenant.clone(), id.clone());
            if let std::collections::hash_map::Entry::Vacant(v) = s.links.entry(link) {
                v.insert(incident.id.clone());
                s.members.entry(key.clone()).or_default().push(id.clone());
                linked += 1;
            }
        }
        Ok(linked)
    }

    async fn incident_alerts(
        &self,
        tenant: &TenantId,
        incident_id: &str,
        limit: usize,
    ) -> Result<Vec<AlertRecord>, SinkError> {
        let s = self.lock();
        let ids = s.members.get(&(tenant.clone(), incident_id.to_owned()));
        let mut out: Vec<AlertRecord> = ids
            .into_iter()
            .flatten()
            .filter_map(|id| s.alerts.get(&(tenant.clone(), id.clone())).cloned())
            .collect();
        out.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| a.id.cmp(&b.id)));
        out.truncate(limit);
        Ok(out)
    }

    async fn set_triage(
        &self,
        tenant: &TenantId,
        incident_id: &str,
        triage: &Triage,
    ) -> Result<(), SinkError> {
        let mut s = self.lock();
        let Some(i) = s.incidents.get_mut(&(tenant.clone(), incident_id.to_owned())) else {
            return Err(SinkError { operation: "set_triage", reason: format!("no incident {incident_id}") });
        };
        super::apply_triage(i, triage);
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
        let s = self.lock();
        let n = s
            .incidents
            .values()
            .filter(|i| &i.tenant == tenant && i.id != exclude && i.first_seen < before)
            .filter(|i| i.entities.get(field).is_some_and(|v| v.iter().any(|x| x == value)))
            .count();
        Ok(n as u64)
    }
}
