//! Alerts: batched, idempotent inserts keyed by the deterministic alert id, and filtered,
//! cursor-paginated listing (newest first).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{AlertRecord, Severity, SignalKind};

use crate::db::{self, Param, Where, bind_params, on_pool};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;
use crate::{Page, TenantStore};

/// Which alerts to list; every field narrows, `Default` lists all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertFilter {
    /// Event time at or after this.
    pub from: Option<DateTime<Utc>>,
    /// Event time before this.
    pub to: Option<DateTime<Utc>>,
    /// Exactly this rule, feed or model id.
    pub rule_id: Option<String>,
    /// Exactly this detector kind.
    pub kind: Option<SignalKind>,
    /// Exactly this level.
    pub level: Option<Severity>,
    /// This level or higher.
    pub min_level: Option<Severity>,
    /// Only alerts linked to this incident.
    pub incident_id: Option<String>,
}

pub(crate) const ALERT_COLS: &str = "id, tenant, kind, rule_id, rule_title, level, score, ts, event_ids, tags, techniques, entities, source, details";
/// Columns per inserted row.
const COLS_PER_ROW: usize = 15;
/// Rows per INSERT statement. SQLite slows down sharply with thousands of parameters in one
/// statement (measured: 500 rows ≈ 4× slower than 50), PostgreSQL prefers large statements.
const SQLITE_ROWS_PER_STATEMENT: usize = 50;
const POSTGRES_ROWS_PER_STATEMENT: usize = 500;
/// Largest accepted alert, serialized.
const MAX_ALERT_BYTES: usize = 1 << 20;

#[derive(sqlx::FromRow)]
pub(crate) struct AlertRow {
    id: String,
    tenant: String,
    kind: String,
    rule_id: String,
    rule_title: String,
    level: i64,
    score: f64,
    ts: i64,
    event_ids: String,
    tags: String,
    techniques: String,
    entities: String,
    source: String,
    details: String,
}

impl AlertRow {
    pub(crate) fn into_alert(self) -> Result<AlertRecord> {
        Ok(AlertRecord {
            tenant: tenant_of(&self.tenant)?,
            kind: db::parse_name("alerts.kind", &self.kind)?,
            level: severity_of(self.level)?,
            event_ids: db::from_json("alerts.event_ids", &self.event_ids)?,
            tags: db::from_json("alerts.tags", &self.tags)?,
            techniques: db::from_json("alerts.techniques", &self.techniques)?,
            entities: db::from_json("alerts.entities", &self.entities)?,
            details: db::from_json("alerts.details", &self.details)?,
            id: self.id,
            rule_id: self.rule_id,
            rule_title: self.rule_title,
            score: self.score,
            timestamp: db::time(self.ts),
            source: self.source,
        })
    }
}

/// The stored rank (0..=4) of a severity.
pub(crate) fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Informational => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The severity of a stored rank.
pub(crate) fn severity_of(rank: i64) -> Result<Severity> {
    usize::try_from(rank).ok().and_then(|i| Severity::ALL.get(i).copied()).ok_or_else(|| {
        StoreError::Corrupt { what: "severity column".to_owned(), reason: format!("rank {rank}") }
    })
}

/// One alert's column values, in [`ALERT_COLS`] order plus `created_at`.
fn alert_params(a: &AlertRecord, now: i64) -> Result<Vec<Param>> {
    Ok(vec![
        Param::Text(a.id.clone()),
        Param::Text(a.tenant.as_str().to_owned()),
        Param::Text(a.kind.as_str().to_owned()),
        Param::Text(a.rule_id.clone()),
        Param::Text(a.rule_title.clone()),
        Param::I64(severity_rank(a.level)),
        Param::F64(a.score),
        Param::I64(db::micros(a.timestamp)),
        Param::Text(db::to_json(&a.event_ids)?),
        Param::Text(db::to_json(&a.tags)?),
        Param::Text(db::to_json(&a.techniques)?),
        Param::Text(db::to_json(&a.entities)?),
        Param::Text(a.source.clone()),
        Param::Text(db::to_json(&a.details)?),
        Param::I64(now),
    ])
}

/// The multi-row INSERT for `rows` alerts.
fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT INTO alerts ({ALERT_COLS}, created_at) VALUES ");
    for r in 0..rows {
        let ph: Vec<String> = (1..=COLS_PER_ROW).map(|c| format!("${}", r * COLS_PER_ROW + c)).collect();
        sql.push_str(if r == 0 { "(" } else { ", (" });
        sql.push_str(&ph.join(", "));
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (tenant, id) DO NOTHING");
    sql
}

impl TenantStore {
    fn check_alert(&self, a: &AlertRecord) -> Result<()> {
        if a.tenant != self.tenant {
            return Err(StoreError::invalid(
                "alert.tenant",
                format!("alert `{}` belongs to `{}`, not `{}`", a.id, a.tenant, self.tenant),
            ));
        }
        if a.id.is_empty() || a.id.len() > 128 {
            return Err(StoreError::invalid("alert.id", format!("`{}` must be 1-128 bytes", a.id)));
        }
        if !a.score.is_finite() {
            return Err(StoreError::invalid(
                "alert.score",
                format!("alert `{}` has a non-finite score", a.id),
            ));
        }
        Ok(())
    }

    /// Inserts alerts in one transaction; alerts already stored (same id) are left as they are,
    /// so replays never duplicate. Returns how many were new.
    pub async fn insert_alerts(&self, alerts: &[AlertRecord]) -> Result<usize> {
        let now = db::micros(db::now());
        let mut params = Vec::with_capacity(alerts.len());
        for a in alerts {
            self.check_alert(a)?;
            let row = alert_params(a, now)?;
            let size: usize = row.iter().map(|p| if let Param::Text(t) = p { t.len() } else { 8 }).sum();
            if size > MAX_ALERT_BYTES {
                return Err(StoreError::invalid(
                    "alert",
                    format!("alert `{}` is {size} bytes (max {MAX_ALERT_BYTES})", a.id),
                ));
            }
            params.push(row);
        }
        let mut inserted = 0u64;
        let rows_per_statement = match self.pool() {
            db::Pool::Sqlite(_) => SQLITE_ROWS_PER_STATEMENT,
            db::Pool::Postgres(_) => POSTGRES_ROWS_PER_STATEMENT,
        };
        on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            for chunk in params.chunks(rows_per_statement) {
                let sql = insert_sql(chunk.len());
                let q = bind_params!(sqlx::query(sqlx::AssertSqlSafe(sql)), chunk.iter().flatten().cloned());
                inserted += q.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(usize::try_from(inserted).unwrap_or(usize::MAX))
    }

    /// The alert with `id`.
    pub async fn alert(&self, id: &str) -> Result<AlertRecord> {
        let row: Option<AlertRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLS} FROM alerts WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("alert", id))?.into_alert()
    }

    /// The incident an alert is linked to, if any.
    pub async fn alert_incident(&self, alert_id: &str) -> Result<Option<String>> {
        Ok(on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT incident_id FROM incident_alerts WHERE tenant = $1 AND alert_id = $2")
                .bind(self.t()).bind(alert_id).fetch_optional(p).await?
        }))
    }

    fn alert_where(&self, filter: &AlertFilter) -> Where {
        let mut w = Where::tenant("tenant", self.t());
        if let Some(t) = filter.from {
            w.push("ts >= {}", Param::I64(db::micros(t)));
        }
        if let Some(t) = filter.to {
            w.push("ts < {}", Param::I64(db::micros(t)));
        }
        if let Some(r) = &filter.rule_id {
            w.push("rule_id = {}", Param::Text(r.clone()));
        }
        if let Some(k) = filter.kind {
            w.push("kind = {}", Param::Text(k.as_str().to_owned()));
        }
        if let Some(l) = filter.level {
            w.push("level = {}", Param::I64(severity_rank(l)));
        }
        if let Some(l) = filter.min_level {
            w.push("level >= {}", Param::I64(severity_rank(l)));
        }
        if let Some(inc) = &filter.incident_id {
            let (t, i) = (w.next(Param::Text(self.t().to_owned())), w.next(Param::Text(inc.clone())));
            w.raw(format!(
                "EXISTS (SELECT 1 FROM incident_alerts l WHERE l.tenant = {t} AND l.incident_id = {i} AND l.alert_id = alerts.id)"
            ));
        }
        w
    }

    /// How many alerts match `filter`.
    pub async fn count_alerts(&self, filter: &AlertFilter) -> Result<u64> {
        let w = self.alert_where(filter);
        let sql = format!("SELECT COUNT(*) FROM alerts {}", w.sql());
        let n: i64 = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), w.params).fetch_one(p).await?
        });
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Alerts matching `filter`, newest event time first, `limit` (1..=1000) per page.
    pub async fn list_alerts(
        &self,
        filter: &AlertFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AlertRecord>> {
        let mut w = self.alert_where(filter);
        if let Some(c) = cursor {
            let (ts, id): (i64, String) = db::decode_cursor(c)?;
            let (a, b, c2) = (w.next(Param::I64(ts)), w.next(Param::I64(ts)), w.next(Param::Text(id)));
            w.raw(format!("(ts < {a} OR (ts = {b} AND id < {c2}))"));
        }
        let limit = db::clamp_limit(limit);
        let lim = w.next(Param::I64(limit + 1));
        let sql =
            format!("SELECT {ALERT_COLS} FROM alerts {} ORDER BY ts DESC, id DESC LIMIT {lim}", w.sql());
        let rows: Vec<AlertRow> = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), w.params).fetch_all(p).await?
        });
        let mut items = rows.into_iter().map(AlertRow::into_alert).collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|a| db::encode_cursor(&(db::micros(a.timestamp), &a.id))).transpose()?
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
