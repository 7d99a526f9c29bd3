//! `incidents`: consolidated alerts → incidents in an [`IncidentSink`], grouped by entity and
//! event-time window, triaged when new or significantly changed, and announced on a broadcast
//! channel ([`PipelineEvent`]).
//!
//! Grouping: an alert's key is the first of the configured entity fields it names
//! (`source.ip=203.0.113.7`). It joins the open incident of that key whose span, widened by the
//! window on both sides, contains the alert's time; otherwise it opens one whose id is
//! XXH3-128(tenant, key, window bucket of the alert, n), n counting ids already taken. All state
//! is in the sink, and an alert already linked is skipped, so a replay reattaches rather than
//! duplicates.

mod memory;
mod sink;

pub use memory::MemorySink;
pub use sink::{IncidentSink, SinkError};

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::broadcast;
use ward_log::Topic;
use ward_model::{AlertRecord, Incident, IncidentStatus, TenantId, Triage, merge_entities};

use crate::config::IncidentsConfig;
use crate::deadletter::DeadLetter;
use crate::features::{self, FeatureSource};
use crate::runtime::{Batch, Output, Stage, StageError};
use crate::telemetry;
use crate::triage::{PriorSighting, TriageInput, Triager};

/// What the pipeline announces to live subscribers (the API's WebSocket).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum PipelineEvent {
    /// An alert was grouped for the first time.
    Alert(AlertRecord),
    /// A new incident.
    IncidentOpened(Incident),
    /// An incident gained alerts or was re-triaged.
    IncidentUpdated(Incident),
}

/// The source of "now" for `created_at`/`updated_at`.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Copies a triage onto an incident.
pub fn apply_triage(incident: &mut Incident, triage: &Triage) {
    incident.verdict = Some(triage.verdict);
    incident.confidence = Some(triage.confidence);
    incident.reasoning = triage.reasoning.clone();
    incident.iocs = triage.iocs.clone();
    incident.recommended_actions = triage.recommended_actions.clone();
}

/// The grouping key of an alert: `field=value` for the first configured field it names, else
/// `rule=<rule id>`.
pub fn group_key(alert: &AlertRecord, group_by: &[String]) -> String {
    group_by
        .iter()
        .find_map(|f| alert.entities.get(f).and_then(|v| v.first()).map(|v| format!("{f}={v}")))
        .unwrap_or_else(|| format!("rule={}", alert.rule_id))
}

/// The deterministic id of the `n`th incident of `key` opened in the window bucket `bucket`.
pub fn incident_id(tenant: &TenantId, key: &str, bucket: i64, n: u32) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(tenant.as_str().as_bytes());
    h.update(&[0x1f]);
    h.update(key.as_bytes());
    h.update(&[0x1f]);
    h.update(&bucket.to_le_bytes());
    h.update(&n.to_le_bytes());
    format!("{:032x}", h.digest128())
}

/// An incident touched by the batch being processed.
struct Work {
    incident: Incident,
    new_alerts: Vec<AlertRecord>,
    is_new: bool,
    prev_severity: ward_model::Severity,
    prev_count: u64,
    first_kind: ward_model::SignalKind,
}

impl Work {
    fn covers(&self, tenant: &TenantId, key: &str, t: DateTime<Utc>, window: Duration) -> bool {
        let i = &self.incident;
        &i.tenant == tenant && i.group_key == key && covers(i, t, window)
    }

    /// Whether triage should run again: new, more severe, a new kind of signal, or the alert
    /// count crossed a power of two.
    fn significant(&self) -> bool {
        let count = self.incident.alert_count;
        let crossed = (self.prev_count + 1..=count).any(u64::is_power_of_two);
        let strong = self
            .new_alerts
            .iter()
            .any(|a| matches!(a.kind, ward_model::SignalKind::Correlation | ward_model::SignalKind::Ioc));
        self.is_new || self.incident.severity > self.prev_severity || crossed || strong
    }
}

fn covers(i: &Incident, t: DateTime<Utc>, window: Duration) -> bool {
    i.first_seen - window <= t && t <= i.last_seen + window
}

/// The incidents stage.
pub struct Incidents {
    sink: Arc<dyn IncidentSink>,
    triager: Arc<dyn Triager>,
    events: broadcast::Sender<PipelineEvent>,
    config: IncidentsConfig,
    clock: Arc<dyn Clock>,
    features: Option<Arc<dyn FeatureSource>>,
}

impl Incidents {
    /// A stage writing to `sink`, triaging with `triager`, announcing on `events`.
    pub fn new(
        sink: Arc<dyn IncidentSink>,
        triager: Arc<dyn Triager>,
        events: broadcast::Sender<PipelineEvent>,
        config: IncidentsConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { sink, triager, events, config, clock, features: None }
    }

    /// Triage also reads the rolling features of each incident's primary entity from `features`.
    pub fn with_features(mut self, features: Option<Arc<dyn FeatureSource>>) -> Self {
        self.features = features;
        self
    }

    fn window(&self) -> Duration {
        Duration::seconds(i64::try_from(self.config.window_secs.max(1)).unwrap_or(i64::MAX / 2))
    }

    fn sink_error(e: SinkError) -> StageError {
        StageError::Sink { stage: "incidents", reason: e.to_string() }
    }

    /// Groups `alerts` (in order) into incidents, saves them and announces the changes.
    ///
    /// # Errors
    /// [`StageError::Sink`] when the sink fails (the batch is retried; everything is idempotent).
    pub async fn group(&self, alerts: Vec<AlertRecord>) -> Result<usize, StageError> {
        let mut tenants: Vec<&TenantId> = alerts.iter().map(|a| &a.tenant).collect();
        tenants.sort();
        tenants.dedup();
        let mut linked = vec![false; alerts.len()];
        for tenant in tenants {
            let (idx, mine): (Vec<usize>, Vec<AlertRecord>) = alerts
                .iter()
                .enumerate()
                .filter(|(_, a)| &a.tenant == tenant)
                .map(|(i, a)| (i, a.clone()))
                .unzip();
            self.sink.insert_alerts(tenant, &mine).await.map_err(Self::sink_error)?;
            let ids: Vec<String> = mine.into_iter().map(|a| a.id).collect();
            let found = self.sink.linked_incidents(tenant, &ids).await.map_err(Self::sink_error)?;
            for (i, f) in idx.into_iter().zip(found) {
                linked[i] = f.is_some();
            }
        }
        let mut work: Vec<Work> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (alert, done) in alerts.into_iter().zip(linked) {
            // Already grouped before (a redelivery), or twice in this batch.
            if done || !seen.insert((alert.tenant.clone(), alert.id.clone())) {
                continue;
            }
            self.attach(alert, &mut work).await?;
        }
        let touched = work.len();
        for w in work {
            self.finish(w).await?;
        }
        Ok(touched)
    }

    async fn attach(&self, alert: AlertRecord, work: &mut Vec<Work>) -> Result<(), StageError> {
        let key = group_key(&alert, &self.config.group_by);
        let (t, window) = (alert.timestamp, self.window());
        if let Some(w) = work.iter_mut().find(|w| w.covers(&alert.tenant, &key, t, window)) {
            merge(&mut w.incident, &alert, &key);
            w.new_alerts.push(alert);
            return Ok(());
        }
        let found =
            self.sink.find_open_incident(&alert.tenant, &key, t - window).await.map_err(Self::sink_error)?;
        let mut w = match found.filter(|i| covers(i, t, window)) {
            Some(incident) => Work {
                prev_severity: incident.severity,
                prev_count: incident.alert_count,
                incident,
                new_alerts: Vec::new(),
                is_new: false,
                first_kind: alert.kind,
            },
            None => self.open(&alert, &key, work).await?,
        };
        merge(&mut w.incident, &alert, &key);
        w.new_alerts.push(alert);
        work.push(w);
        Ok(())
    }

    async fn open(&self, alert: &AlertRecord, key: &str, work: &[Work]) -> Result<Work, StageError> {
        let secs = i64::try_from(self.config.window_secs.max(1)).unwrap_or(i64::MAX);
        let bucket = alert.timestamp.timestamp().div_euclid(secs);
        let mut n = 0u32;
        let id = loop {
            let id = incident_id(&alert.tenant, key, bucket, n);
            let taken_here = work.iter().any(|w| w.incident.id == id && w.incident.tenant == alert.tenant);
            let taken = taken_here
                || self.sink.incident(&alert.tenant, &id).await.map_err(Self::sink_error)?.is_some();
            if !taken {
                break id;
            }
            n += 1;
        };
        let now = self.clock.now();
        let incident = Incident {
            id,
            tenant: alert.tenant.clone(),
            status: IncidentStatus::New,
            severity: alert.level,
            score: 0.0,
            title: String::new(),
            group_key: key.to_owned(),
            entities: Default::default(),
            alert_count: 0,
            verdict: None,
            confidence: None,
            reasoning: Vec::new(),
            iocs: Default::default(),
            recommended_actions: Vec::new(),
            assignee: None,
            first_seen: alert.timestamp,
            last_seen: alert.timestamp,
            created_at: now,
            updated_at: now,
        };
        Ok(Work {
            incident,
            new_alerts: Vec::new(),
            is_new: true,
            prev_severity: alert.level,
            prev_count: 0,
            first_kind: alert.kind,
        })
    }

    /// Triages (when significant), saves and announces one touched incident.
    async fn finish(&self, mut w: Work) -> Result<(), StageError> {
        w.incident.updated_at = self.clock.now();
        let triage = if w.significant() { Some(self.triage(&w).await?) } else { None };
        if let Some(t) = &triage {
            apply_triage(&mut w.incident, t);
        }
        let ids: Vec<String> = w.new_alerts.iter().map(|a| a.id.clone()).collect();
        self.sink.save_incident(&w.incident, &ids, triage.as_ref()).await.map_err(Self::sink_error)?;
        if w.is_new {
            telemetry::incident(w.first_kind, w.incident.severity);
        }
        for a in w.new_alerts {
            let _ = self.events.send(PipelineEvent::Alert(a));
        }
        let event = if w.is_new {
            PipelineEvent::IncidentOpened(w.incident)
        } else {
            PipelineEvent::IncidentUpdated(w.incident)
        };
        // No subscriber is not an error: the API may not be listening.
        let _ = self.events.send(event);
        Ok(())
    }

    async fn triage(&self, w: &Work) -> Result<Triage, StageError> {
        let started = Instant::now();
        let inc = &w.incident;
        let mut alerts = w.new_alerts.clone();
        if !w.is_new {
            let limit = self.config.triage_alert_limit.saturating_sub(alerts.len());
            let old =
                self.sink.incident_alerts(&inc.tenant, &inc.id, limit).await.map_err(Self::sink_error)?;
            alerts.extend(old.into_iter().filter(|o| !w.new_alerts.iter().any(|n| n.id == o.id)));
        }
        let mut prior = Vec::new();
        for field in &self.config.group_by {
            for value in inc.entities.get(field).into_iter().flatten().take(5) {
                let n = self
                    .sink
                    .count_incidents_with_entity(&inc.tenant, field, value, inc.first_seen, &inc.id)
                    .await
                    .map_err(Self::sink_error)?;
                prior.push(PriorSighting { field: field.clone(), value: value.clone(), incidents: n });
            }
        }
        let feats = match &self.features {
            Some(f) => features::primary(f.as_ref(), &inc.tenant, &inc.group_key, inc.last_seen).await,
            None => Vec::new(),
        };
        let input = TriageInput { incident: inc, alerts: &alerts, prior: &prior, features: &feats };
        let triage = self.triager.triage(input).await;
        if triage.triager == "builtin" {
            telemetry::triage("builtin", started.elapsed());
        }
        Ok(triage)
    }
}

/// Adds one alert to an incident's aggregates; order-independent except for `n` of the id.
fn merge(i: &mut Incident, alert: &AlertRecord, key: &str) {
    let value = key.split_once('=').map_or(key, |(_, v)| v);
    let title = format!("{} — {}", alert.rule_title, value);
    if i.alert_count == 0 || alert.level > i.severity || (alert.level == i.severity && title < i.title) {
        i.title = title;
    }
    i.severity = i.severity.max(alert.level);
    i.score = i.score.max(alert.score);
    merge_entities(&mut i.entities, &alert.entities);
    i.alert_count += 1;
    i.first_seen = i.first_seen.min(alert.timestamp);
    i.last_seen = i.last_seen.max(alert.timestamp);
}

#[async_trait]
impl Stage for Incidents {
    fn name(&self) -> &'static str {
        "incidents"
    }

    fn input(&self) -> Topic {
        Topic::ConsolidatedAlerts
    }

    async fn process(&mut self, batch: Batch<'_>, out: &mut Output) -> Result<(), StageError> {
        let mut alerts = Vec::with_capacity(batch.records.len());
        for record in batch.records {
            match serde_json::from_slice::<AlertRecord>(&record.payload) {
                Ok(a) => alerts.push(a),
                Err(e) => out.reject(DeadLetter {
                    stage: "incidents".into(),
                    topic: Topic::ConsolidatedAlerts.to_string(),
                    partition: record.partition,
                    offset: record.offset,
                    source: "alert".into(),
                    tenant: None,
                    reason: format!("invalid alert record: {e}"),
                    payload: DeadLetter::payload_text(&record.payload),
                }),
            }
        }
        self.group(alerts).await?;
        Ok(())
    }
}
