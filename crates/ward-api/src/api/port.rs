//! What the `/api/*` routes read and change, as ports: incidents and alerts, the audit log and
//! dead letters. The state store implements them; every method takes the tenant, so no call can
//! reach another tenant's rows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{AlertRecord, Incident, IncidentStatus, InvalidTransition, Severity, TenantId, Verdict};
pub use ward_store::{AuditRecord, Comment, Label, Page, TimelineEntry};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// No such object for this tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// A status change the lifecycle forbids.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// An argument is invalid (bad cursor, empty text, …).
    #[error("{0}")]
    Invalid(String),
    /// The request itself is malformed (unknown status, kind or entity).
    #[error("{0}")]
    BadRequest(String),
    /// This caller may not do this to this object (e.g. approve their own high-risk request).
    #[error("{0}")]
    Forbidden(String),
    /// A backing service (feature store) does not answer now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The store failed.
    #[error("store: {0}")]
    Backend(String),
}

/// How to order incidents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSort {
    /// Most recently updated first (default).
    #[default]
    UpdatedDesc,
    /// Newest first.
    CreatedDesc,
    /// Oldest first.
    CreatedAsc,
    /// Highest score first.
    ScoreDesc,
    /// Most severe first.
    SeverityDesc,
}

/// Filters, order and page of an incident listing. Empty lists and `None` filter nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentQuery {
    /// Any of these statuses.
    pub status: Vec<IncidentStatus>,
    /// Any of these severities.
    pub severity: Vec<Severity>,
    /// Score at least this.
    pub min_score: Option<f64>,
    /// Assigned to this user.
    pub assignee: Option<String>,
    /// Names this entity value (in any field), or `field=value`.
    pub entity: Option<String>,
    /// Case-insensitive text in the title or entities.
    pub q: Option<String>,
    /// Last seen at or after.
    pub from: Option<DateTime<Utc>>,
    /// First seen before.
    pub to: Option<DateTime<Utc>>,
    /// Order.
    pub sort: IncidentSort,
    /// Most items returned.
    pub limit: usize,
    /// Opaque position from a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Filters and page of an alert listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertQuery {
    /// Alerts of this incident.
    pub incident: Option<String>,
    /// This rule.
    pub rule_id: Option<String>,
    /// At least this level.
    pub min_level: Option<Severity>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Most items returned.
    pub limit: usize,
    /// Opaque position from a previous page.
    pub cursor: Option<String>,
}

/// Changes to an incident (absent fields are left alone).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// New status (checked against the lifecycle).
    #[serde(default)]
    pub status: Option<IncidentStatus>,
    /// New assignee; `""` unassigns.
    #[serde(default)]
    pub assignee: Option<String>,
    /// New severity.
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// An analyst's disposition of an incident, kept as a label for learning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Disposition {
    /// The analyst's verdict.
    pub verdict: Verdict,
    /// Why.
    #[serde(default)]
    pub note: String,
}

/// Incidents, their alerts, comments, timelines and labels.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// A page of incidents.
    async fn list_incidents(
        &self,
        tenant: &TenantId,
        query: &IncidentQuery,
    ) -> Result<Page<Incident>, PortError>;
    /// One incident.
    async fn incident(&self, tenant: &TenantId, id: &str) -> Result<Option<Incident>, PortError>;
    /// Applies `patch` (lifecycle enforced) and records it in the timeline as `actor`.
    async fn patch_incident(
        &self,
        tenant: &TenantId,
        id: &str,
        patch: &IncidentPatch,
        actor: &str,
    ) -> Result<Incident, PortError>;
    /// Adds a comment.
    async fn add_comment(
        &self,
        tenant: &TenantId,
        id: &str,
        author: &str,
        body: &str,
    ) -> Result<Comment, PortError>;
    /// Comments, oldest first.
    async fn comments(&self, tenant: &TenantId, id: &str) -> Result<Vec<Comment>, PortError>;
    /// Timeline, oldest first.
    async fn timeline(&self, tenant: &TenantId, id: &str) -> Result<Vec<TimelineEntry>, PortError>;
    /// Moves the alerts of `others` into `into`, marking them `duplicate`; returns `into`.
    async fn merge(
        &self,
        tenant: &TenantId,
        into: &str,
        others: &[String],
        actor: &str,
    ) -> Result<Incident, PortError>;
    /// Moves `alert_ids` out of incident `id` into a new incident; returns the new one.
    async fn split(
        &self,
        tenant: &TenantId,
        id: &str,
        alert_ids: &[String],
        actor: &str,
    ) -> Result<Incident, PortError>;
    /// Records an analyst disposition.
    async fn add_label(
        &self,
        tenant: &TenantId,
        id: &str,
        label: &Disposition,
        actor: &str,
    ) -> Result<Label, PortError>;
    /// A page of alerts.
    async fn list_alerts(
        &self,
        tenant: &TenantId,
        query: &AlertQuery,
    ) -> Result<Page<AlertRecord>, PortError>;
    /// One alert.
    async fn alert(&self, tenant: &TenantId, id: &str) -> Result<Option<AlertRecord>, PortError>;
    /// Incidents that are not closed.
    async fn open_incidents(&self, tenant: &TenantId) -> Result<u64, PortError>;
}

/// One thing to write to the audit log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Who (user name, `apikey:<id>`, or the attempted name of a failed login).
    pub actor: String,
    /// What (`incident.patch`, `auth.login_failed`, `apikey.use`, …).
    pub action: String,
    /// On what (`incident:<id>`, `user:<name>`, a route).
    pub target: String,
    /// Details (never a secret).
    pub detail: serde_json::Value,
}

/// Which audit records to list (newest first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditQuery {
    /// Only by this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Most records returned.
    pub limit: usize,
    /// Opaque position from a previous page.
    pub cursor: Option<String>,
}

/// The append-only audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one record to `tenant`'s chain.
    async fn append(&self, tenant: &TenantId, entry: AuditEntry) -> Result<(), PortError>;
    /// A page of the tenant's records, newest first.
    async fn records(&self, tenant: &TenantId, query: &AuditQuery) -> Result<Page<AuditRecord>, PortError>;
}

/// Reading back dead letters for `GET /api/deadletter`.
#[async_trait]
pub trait DeadLetterReader: Send + Sync {
    /// The tenant's most recent dead letters, newest first, at most `limit`.
    async fn recent(&self, tenant: &TenantId, limit: usize) -> Result<Vec<serde_json::Value>, PortError>;
}

/// Reads the tail of the NDJSON dead-letter file (at most the last 8 MiB), so the answer time
/// does not grow with the file.
#[async_trait]
impl DeadLetterReader for crate::deadletter::FileDeadLetters {
    async fn recent(&self, tenant: &TenantId, limit: usize) -> Result<Vec<serde_json::Value>, PortError> {
        let path = self.path().to_path_buf();
        let tenant = tenant.as_str().to_owned();
        let read = move || -> std::io::Result<Vec<serde_json::Value>> {
            use std::io::{Read, Seek, SeekFrom};
            const TAIL: u64 = 8 << 20;
            let mut file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let len = file.metadata()?.len();
            let start = len.saturating_sub(TAIL);
            file.seek(SeekFrom::Start(start))?;
            let mut text = String::new();
            file.take(TAIL).read_to_string(&mut text)?;
            let body = if start > 0 { text.split_once('\n').map_or("", |(_, rest)| rest) } else { &text };
            Ok(body
                .lines()
                .rev()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|v| v.get("tenant").and_then(|t| t.as_str()) == Some(tenant.as_str()))
                .take(limit)
                .collect())
        };
        tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| PortError::Backend(format!("dead-letter reader: {e}")))?
            .map_err(|e| PortError::Backend(format!("reading dead letters: {e}")))
    }
}
