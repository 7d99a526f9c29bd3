//! Incidents: what the pipeline writes (find the open incident of a group, upsert, link alerts,
//! record triage) and what analysts read and change (filtered/sorted listing, patch with the
//! lifecycle enforced). Merge, split, comments, timeline and labels are in `incident_ops`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{AlertRecord, Incident, IncidentStatus, Severity, Triage};

use crate::alerts::{AlertRow, severity_of, severity_rank};
use crate::db::{self, Param, Where, bind_params, on_pool};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;
use crate::{Page, TenantStore};

/// Which incidents to list; every field narrows, `Default` lists all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentFilter {
    /// Any of these statuses (empty = any).
    #[serde(default)]
    pub statuses: Vec<IncidentStatus>,
    /// Any of these severities (empty = any).
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// This severity or higher.
    pub min_severity: Option<Severity>,
    /// Score at least this.
    pub min_score: Option<f64>,
    /// Assigned to exactly this analyst.
    pub assignee: Option<String>,
    /// Names this entity value (an IP, host or user name) among its entities.
    pub entity: Option<String>,
    /// Case-insensitive substring of the title or grouping key.
    pub text: Option<String>,
    /// Last seen at or after this.
    pub from: Option<DateTime<Utc>>,
    /// First seen before this.
    pub to: Option<DateTime<Utc>>,
}

/// The field incidents are ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    /// When Ward opened it.
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Consolidated score.
    Score,
    /// Severity.
    Severity,
}

impl SortField {
    fn column(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Score => "score",
            Self::Severity => "severity",
        }
    }
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

/// How to order an incident listing (ties broken by id, in the same direction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSort {
    /// The field.
    pub field: SortField,
    /// The direction.
    pub order: SortOrder,
}

/// An analyst's change to an incident; `None` fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentPatch {
    /// New status (checked with [`IncidentStatus::can_move_to`]).
    pub status: Option<IncidentStatus>,
    /// New assignee; `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
    /// New severity (from then on the pipeline no longer recomputes it).
    pub severity: Option<Severity>,
}

pub(crate) const INCIDENT_COLS: &str = "id, tenant, status, severity, score, title, group_key, entities, alert_count, \
     verdict, confidence, reasoning, iocs, recommended_actions, assignee, first_seen, last_seen, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct IncidentRow {
    id: String,
    tenant: String,
    status: String,
    severity: i64,
    score: f64,
    title: String,
    group_key: String,
    entities: String,
    alert_count: i64,
    verdict: Option<String>,
    confidence: Option<f64>,
    reasoning: String,
    iocs: String,
    recommended_actions: String,
    assignee: Option<String>,
    first_seen: i64,
    last_seen: i64,
    created_at: i64,
    updated_at: i64,
}

impl IncidentRow {
    pub(crate) fn into_incident(self) -> Result<Incident> {
        Ok(Incident {
            tenant: tenant_of(&self.tenant)?,
            status: db::parse_name("incidents.status", &self.status)?,
            severity: severity_of(self.severity)?,
            entities: db::from_json("incidents.entities", &self.entities)?,
            alert_count: u64::try_from(self.alert_count).unwrap_or_default(),
            verdict: self.verdict.as_deref().map(|v| db::parse_name("incidents.verdict", v)).transpose()?,
            reasoning: db::from_json("incidents.reasoning", &self.reasoning)?,
            iocs: db::from_json("incidents.iocs", &self.iocs)?,
            recommended_actions: db::from_json("incidents.recommended_actions", &self.recommended_actions)?,
            id: self.id,
            score: self.score,
            title: self.title,
            group_key: self.group_key,
            confidence: self.confidence,
            assignee: self.assignee,
            first_seen: db::time(self.first_seen),
            last_seen: db::time(self.last_seen),
            created_at: db::time(self.created_at),
            updated_at: db::time(self.updated_at),
        })
    }
}

/// Appends a timeline entry inside a transaction.
macro_rules! timeline {
    ($tx:expr, $tenant:expr, $incident:expr, $actor:expr, $kind:expr, $details:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO incident_timeline (tenant, incident_id, at, actor, kind, details) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($tenant)
        .bind($incident)
        .bind($at)
        .bind($actor)
        .bind($kind)
        .bind($crate::db::to_json(&$details)?)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use timeline;

/// Loads an incident inside a transaction, `NotFound` when absent.
macro_rules! load_incident {
    ($tx:expr, $tenant:expr, $id:expr) => {{
        let row: Option<$crate::incidents::IncidentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM incidents WHERE tenant = $1 AND id = $2",
            $crate::incidents::INCIDENT_COLS
        )))
        .bind($tenant)
        .bind($id)
        .fetch_optional(&mut *$tx)
        .await?;
        row.ok_or_else(|| $crate::error::StoreError::not_found("incident", $id))?.into_incident()?
    }};
}
pub(crate) use load_incident;

/// Recomputes an incident's alert count, times, score, entities and (unless an analyst set it)
/// severity from its linked alerts, inside a transaction.
macro_rules! recompute {
    ($tx:expr, $tenant:expr, $id:expr, $now:expr) => {{
        let rows: Vec<$crate::alerts::AlertRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM alerts a WHERE a.tenant = $1 AND a.id IN \
             (SELECT alert_id FROM incident_alerts WHERE tenant = $1 AND incident_id = $2)",
            $crate::incidents::ALERT_COLS_A
        )))
        .bind($tenant)
        .bind($id)
        .fetch_all(&mut *$tx)
        .await?;
        let alerts = rows.into_iter().map(|r| r.into_alert()).collect::<$crate::error::Result<Vec<_>>>()?;
        if let Some(agg) = $crate::incidents::Aggregate::of(&alerts) {
            sqlx::query(
                "UPDATE incidents SET alert_count = $3, first_seen = $4, last_seen = $5, score = $6, entities = $7, \
                 severity = CASE WHEN severity_locked THEN severity ELSE $8 END, updated_at = $9 \
                 WHERE tenant = $1 AND id = $2",
            )
            .bind($tenant)
            .bind($id)
            .bind(agg.count)
            .bind(agg.first_seen)
            .bind(agg.last_seen)
            .bind(agg.score)
            .bind($crate::db::to_json(&agg.entities)?)
            .bind(agg.severity)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        } else {
            sqlx::query("UPDATE incidents SET alert_count = 0, updated_at = $3 WHERE tenant = $1 AND id = $2")
                .bind($tenant)
                .bind($id)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(crate) use recompute;

/// The alert columns qualified with the alias `a`.
pub(crate) const ALERT_COLS_A: &str = "a.id, a.tenant, a.kind, a.rule_id, a.rule_title, a.level, a.score, a.ts, \
     a.event_ids, a.tags, a.techniques, a.entities, a.source, a.details";

/// What an incident's alerts add up to.
pub(crate) struct Aggregate {
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub score: f64,
    pub severity: i64,
    pub entities: ward_model::Entities,
}

impl Aggregate {
    /// Aggregates a non-empty alert list (`None` when empty).
    pub fn of(alerts: &[AlertRecord]) -> Option<Self> {
        let first = alerts.first()?;
        let mut agg = Self {
            count: alerts.len() as i64,
            first_seen: db::micros(first.timestamp),
            last_seen: db::micros(first.timestamp),
            score: first.score,
            severity: severity_rank(first.level),
            entities: ward_model::Entities::new(),
        };
        for a in alerts {
            let ts = db::micros(a.timestamp);
            agg.first_seen = agg.first_seen.min(ts);
            agg.last_seen = agg.last_seen.max(ts);
            agg.score = agg.score.max(a.score);
            agg.severity = agg.severity.max(severity_rank(a.level));
            ward_model::merge_entities(&mut agg.entities, &a.entities);
        }
        Some(agg)
    }
}

/// The sort key of an incident under `field`, as a bind parameter and as cursor JSON.
fn sort_key(i: &Incident, field: SortField) -> serde_json::Value {
    match field {
        SortField::CreatedAt => db::micros(i.created_at).into(),
        SortField::UpdatedAt => db::micros(i.updated_at).into(),
        SortField::Score => i.score.into(),
        SortField::Severity => severity_rank(i.severity).into(),
    }
}

fn key_param(field: SortField, v: &serde_json::Value) -> Result<Param> {
    let bad = || StoreError::invalid("cursor", "sort key does not match the sort field");
    Ok(match field {
        SortField::Score => Param::F64(v.as_f64().ok_or_else(bad)?),
        _ => Param::I64(v.as_i64().ok_or_else(bad)?),
    })
}

#[derive(Serialize, Deserialize)]
struct IncidentCursor {
    field: SortField,
    order: SortOrder,
    key: serde_json::Value,
    id: String,
}

impl IncidentFilter {
    fn apply(&self, w: &mut Where) {
        if !self.statuses.is_empty() {
            let ph: Vec<String> =
                self.statuses.iter().map(|s| w.next(Param::Text(s.as_str().to_owned()))).collect();
            w.raw(format!("status IN ({})", ph.join(", ")));
        }
        if !self.severities.is_empty() {
            let ph: Vec<String> =
                self.severities.iter().map(|s| w.next(Param::I64(severity_rank(*s)))).collect();
            w.raw(format!("severity IN ({})", ph.join(", ")));
        }
        if let Some(s) = self.min_severity {
            w.push("severity >= {}", Param::I64(severity_rank(s)));
        }
        if let Some(s) = self.min_score {
            w.push("score >= {}", Param::F64(s));
        }
        if let Some(a) = &self.assignee {
            w.push("assignee = {}", Param::Text(a.clone()));
        }
        if let Some(e) = &self.entity {
            let quoted = serde_json::Value::String(e.clone()).to_string();
            w.push("entities LIKE {} ESCAPE '\\'", Param::Text(format!("%{}%", db::like_escape(&quoted))));
        }
        if let Some(t) = &self.text {
            let pat = format!("%{}%", db::like_escape(&t.to_lowercase()));
            let (a, b) = (w.next(Param::Text(pat.clone())), w.next(Param::Text(pat)));
            w.raw(format!("(LOWER(title) LIKE {a} ESCAPE '\\' OR LOWER(group_key) LIKE {b} ESCAPE '\\')"));
        }
        if let Some(t) = self.from {
            w.push("last_seen >= {}", Param::I64(db::micros(t)));
        }
        if let Some(t) = self.to {
            w.push("first_seen < {}", Param::I64(db::micros(t)));
        }
    }
}

fn check_incident(i: &Incident, tenant: &ward_model::TenantId) -> Result<()> {
    if &i.tenant != tenant {
        return Err(StoreError::invalid(
            "incident.tenant",
            format!("incident `{}` belongs to `{}`", i.id, i.tenant),
        ));
    }
    if i.id.is_empty() || i.id.len() > 128 {
        return Err(StoreError::invalid("incident.id", format!("`{}` must be 1-128 bytes", i.id)));
    }
    if !i.score.is_finite() {
        return Err(StoreError::invalid("incident.score", "must be finite"));
    }
    Ok(())
}

impl TenantStore {
    /// The newest open (not closed) incident of `group_key` last seen at or after `since`.
    pub async fn find_open_incident(
        &self,
        group_key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Incident>> {
        let row: Option<IncidentRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {INCIDENT_COLS} FROM incidents WHERE tenant = $1 AND group_key = $2 AND last_seen >= $3 \
                 AND status NOT IN ('resolved', 'false_positive', 'duplicate') ORDER BY last_seen DESC, id DESC LIMIT 1")))
                .bind(self.t()).bind(group_key).bind(db::micros(since)).fetch_optional(p).await?
        });
        row.map(IncidentRow::into_incident).transpose()
    }

    /// Creates the incident, or updates what the pipeline owns of an existing one: score, title,
    /// entities, first/last seen (widened, never narrowed) and severity unless an analyst set
    /// it. Status, assignee and triage are kept; `alert_count` always counts linked alerts.
    /// Returns the stored incident.
    pub async fn upsert_incident(&self, incident: &Incident) -> Result<Incident> {
        check_incident(incident, &self.tenant)?;
        let now = db::micros(db::now());
        let i = incident;
        on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM incidents WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(&i.id).fetch_optional(&mut *tx).await?;
            if exists.is_some() {
                sqlx::query(
                    "UPDATE incidents SET score = $3, title = $4, entities = $5, \
                     severity = CASE WHEN severity_locked THEN severity ELSE $6 END, \
                     first_seen = CASE WHEN $7 < first_seen THEN $7 ELSE first_seen END, \
                     last_seen = CASE WHEN $8 > last_seen THEN $8 ELSE last_seen END, updated_at = $9 \
                     WHERE tenant = $1 AND id = $2")
                    .bind(self.t()).bind(&i.id).bind(i.score).bind(&i.title).bind(db::to_json(&i.entities)?)
                    .bind(severity_rank(i.severity)).bind(db::micros(i.first_seen)).bind(db::micros(i.last_seen)).bind(now)
                    .execute(&mut *tx).await?;
            } else {
                sqlx::query(
                    "INSERT INTO incidents (tenant, id, status, severity, severity_locked, score, title, group_key, entities, \
                     alert_count, verdict, confidence, reasoning, iocs, recommended_actions, assignee, first_seen, last_seen, \
                     created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)")
                    .bind(self.t()).bind(&i.id).bind(i.status.as_str()).bind(severity_rank(i.severity)).bind(false)
                    .bind(i.score).bind(&i.title).bind(&i.group_key).bind(db::to_json(&i.entities)?)
                    .bind(i.verdict.map(|v| v.as_str())).bind(i.confidence).bind(db::to_json(&i.reasoning)?)
                    .bind(db::to_json(&i.iocs)?).bind(db::to_json(&i.recommended_actions)?).bind(&i.assignee)
                    .bind(db::micros(i.first_seen)).bind(db::micros(i.last_seen)).bind(now)
                    .execute(&mut *tx).await?;
                let details = serde_json::json!({"group_key": i.group_key, "status": i.status, "severity": i.severity});
                timeline!(tx, self.t(), &i.id, "ward", "created", details, now);
            }
            tx.commit().await?;
        });
        self.incident(&incident.id).await
    }

    /// Links alerts to an incident; alerts already linked (to it or to another incident) stay
    /// where they are. Returns how many were newly linked and keeps `alert_count` exact.
    pub async fn link_alerts(&self, incident_id: &str, alert_ids: &[String]) -> Result<usize> {
        let now = db::micros(db::now());
        let mut linked = 0u64;
        on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let _ = load_incident!(tx, self.t(), incident_id);
            for id in alert_ids {
                let known: Option<String> = sqlx::query_scalar("SELECT id FROM alerts WHERE tenant = $1 AND id = $2")
                    .bind(self.t()).bind(id).fetch_optional(&mut *tx).await?;
                if known.is_none() {
                    return Err(StoreError::not_found("alert", id.as_str()));
                }
                linked += sqlx::query(
                    "INSERT INTO incident_alerts (tenant, incident_id, alert_id, linked_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant, alert_id) DO NOTHING")
                    .bind(self.t()).bind(incident_id).bind(id).bind(now)
                    .execute(&mut *tx).await?.rows_affected();
            }
            if linked > 0 {
                sqlx::query("UPDATE incidents SET alert_count = (SELECT COUNT(*) FROM incident_alerts \
                             WHERE tenant = $1 AND incident_id = $2), updated_at = $3 WHERE tenant = $1 AND id = $2")
                    .bind(self.t()).bind(incident_id).bind(now).execute(&mut *tx).await?;
                timeline!(tx, self.t(), incident_id, "ward", "alerts_linked", serde_json::json!({"count": linked}), now);
            }
            tx.commit().await?;
        });
        Ok(usize::try_from(linked).unwrap_or(usize::MAX))
    }

    /// Records a triage result on an incident (status is not changed).
    pub async fn set_triage(&self, incident_id: &str, triage: &Triage) -> Result<Incident> {
        let now = db::micros(db::now());
        on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let n = sqlx::query(
                "UPDATE incidents SET verdict = $3, confidence = $4, reasoning = $5, iocs = $6, recommended_actions = $7, \
                 triager = $8, updated_at = $9 WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(incident_id).bind(triage.verdict.as_str()).bind(triage.confidence)
                .bind(db::to_json(&triage.reasoning)?).bind(db::to_json(&triage.iocs)?)
                .bind(db::to_json(&triage.recommended_actions)?).bind(&triage.triager).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::not_found("incident", incident_id));
            }
            let details = serde_json::json!({"verdict": triage.verdict, "confidence": triage.confidence, "triager": triage.triager});
            timeline!(tx, self.t(), incident_id, triage.triager.as_str(), "triaged", details, now);
            tx.commit().await?;
        });
        self.incident(incident_id).await
    }

    /// The incident with `id`.
    pub async fn incident(&self, id: &str) -> Result<Incident> {
        let row: Option<IncidentRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {INCIDENT_COLS} FROM incidents WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("incident", id))?.into_incident()
    }

    /// How many incidents match `filter` (e.g. open ones, for status pages).
    pub async fn count_incidents(&self, filter: &IncidentFilter) -> Result<u64> {
        let mut w = Where::tenant("tenant", self.t());
        filter.apply(&mut w);
        let sql = format!("SELECT COUNT(*) FROM incidents {}", w.sql());
        let n: i64 = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), w.params).fetch_one(p).await?
        });
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Incidents matching `filter` in `sort` order, `limit` (1..=1000) per page.
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        sort: IncidentSort,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Incident>> {
        let mut w = Where::tenant("tenant", self.t());
        filter.apply(&mut w);
        let (col, dir, cmp) = match sort.order {
            SortOrder::Asc => (sort.field.column(), "ASC", ">"),
            SortOrder::Desc => (sort.field.column(), "DESC", "<"),
        };
        if let Some(c) = cursor {
            let c: IncidentCursor = db::decode_cursor(c)?;
            if c.field != sort.field || c.order != sort.order {
                return Err(StoreError::invalid("cursor", "made for a different sort order"));
            }
            let (a, b) = (w.next(key_param(sort.field, &c.key)?), w.next(key_param(sort.field, &c.key)?));
            let i = w.next(Param::Text(c.id));
            w.raw(format!("({col} {cmp} {a} OR ({col} = {b} AND id {cmp} {i}))"));
        }
        let limit = db::clamp_limit(limit);
        let lim = w.next(Param::I64(limit + 1));
        let sql = format!(
            "SELECT {INCIDENT_COLS} FROM incidents {} ORDER BY {col} {dir}, id {dir} LIMIT {lim}",
            w.sql()
        );
        let rows: Vec<IncidentRow> = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), w.params).fetch_all(p).await?
        });
        let mut items = rows.into_iter().map(IncidentRow::into_incident).collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            let last = items.last().map(|i| IncidentCursor {
                field: sort.field,
                order: sort.order,
                key: sort_key(i, sort.field),
                id: i.id.clone(),
            });
            last.map(|c| db::encode_cursor(&c)).transpose()?
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Applies an analyst's change, enforcing the lifecycle; every changed field is appended
    /// to the timeline, and closing dispositions (`resolved`, `false_positive`, `duplicate`)
    /// are recorded as labels for learning.
    pub async fn update_incident(&self, id: &str, patch: &IncidentPatch, actor: &str) -> Result<Incident> {
        if let Some(Some(a)) = &patch.assignee
            && (a.is_empty() || a.len() > 128)
        {
            return Err(StoreError::invalid("assignee", "must be 1-128 bytes"));
        }
        let now = db::micros(db::now());
        on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let cur = load_incident!(tx, self.t(), id);
            if let Some(to) = patch.status.filter(|s| *s != cur.status) {
                cur.status.can_move_to(to)?;
                sqlx::query("UPDATE incidents SET status = $3, updated_at = $4 WHERE tenant = $1 AND id = $2")
                    .bind(self.t()).bind(id).bind(to.as_str()).bind(now).execute(&mut *tx).await?;
                timeline!(tx, self.t(), id, actor, "status_changed", serde_json::json!({"from": cur.status, "to": to}), now);
                if to.is_closed() {
                    sqlx::query("INSERT INTO labels (tenant, incident_id, label, actor, at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(self.t()).bind(id).bind(to.as_str()).bind(actor).bind(now).execute(&mut *tx).await?;
                }
            }
            if let Some(a) = patch.assignee.as_ref().filter(|a| **a != cur.assignee) {
                sqlx::query("UPDATE incidents SET assignee = $3, updated_at = $4 WHERE tenant = $1 AND id = $2")
                    .bind(self.t()).bind(id).bind(a).bind(now).execute(&mut *tx).await?;
                timeline!(tx, self.t(), id, actor, "assigned", serde_json::json!({"from": cur.assignee, "to": a}), now);
            }
            if let Some(s) = patch.severity.filter(|s| *s != cur.severity) {
                sqlx::query("UPDATE incidents SET severity = $3, severity_locked = $4, updated_at = $5 WHERE tenant = $1 AND id = $2")
                    .bind(self.t()).bind(id).bind(severity_rank(s)).bind(true).bind(now).execute(&mut *tx).await?;
                timeline!(tx, self.t(), id, actor, "severity_changed", serde_json::json!({"from": cur.severity, "to": s}), now);
            }
            tx.commit().await?;
        });
        self.incident(id).await
    }

    /// The alerts linked to an incident, oldest first.
    pub async fn incident_alerts(&self, incident_id: &str) -> Result<Vec<AlertRecord>> {
        self.incident(incident_id).await?;
        let rows: Vec<AlertRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ALERT_COLS_A} FROM alerts a JOIN incident_alerts l ON l.tenant = a.tenant AND l.alert_id = a.id \
                 WHERE a.tenant = $1 AND l.incident_id = $2 ORDER BY a.ts, a.id")))
                .bind(self.t()).bind(incident_id).fetch_all(p).await?
        });
        rows.into_iter().map(AlertRow::into_alert).collect()
    }
}
