//! Analyst operations on incidents beyond a patch: comments, the timeline, labels (dispositions
//! kept for learning), merging duplicates into one incident and splitting alerts off into a new
//! one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{Incident, IncidentStatus};

use crate::TenantStore;
use crate::db::{self, on_pool};
use crate::error::{Result, StoreError};
use crate::incidents::{load_incident, recompute, timeline};

/// A note an analyst left on an incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Sequence id.
    pub id: i64,
    /// The incident.
    pub incident_id: String,
    /// Who wrote it.
    pub author: String,
    /// The text.
    pub body: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One change in an incident's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Sequence id (increasing).
    pub id: i64,
    /// The incident.
    pub incident_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (`ward` for the pipeline, a user name, a triager name).
    pub actor: String,
    /// What (`created`, `alerts_linked`, `triaged`, `status_changed`, `assigned`,
    /// `severity_changed`, `commented`, `labelled`, `merged`, `merged_into`, `split`, `split_from`).
    pub kind: String,
    /// Details of the change.
    pub details: serde_json::Value,
}

/// An analyst disposition of an incident, kept as a training label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Sequence id (increasing; training reads labels after the last id it saw).
    pub id: i64,
    /// The incident.
    pub incident_id: String,
    /// The label (`false_positive`, `resolved`, `true_positive`, …).
    pub label: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: i64,
    incident_id: String,
    author: String,
    body: String,
    at: i64,
}

#[derive(sqlx::FromRow)]
struct TimelineRow {
    id: i64,
    incident_id: String,
    at: i64,
    actor: String,
    kind: String,
    details: String,
}

#[derive(sqlx::FromRow)]
struct LabelRow {
    id: i64,
    incident_id: String,
    label: String,
    actor: String,
    at: i64,
}

impl LabelRow {
    fn into_label(self) -> Label {
        Label {
            id: self.id,
            incident_id: self.incident_id,
            label: self.label,
            actor: self.actor,
            at: db::time(self.at),
        }
    }
}

/// Largest comment body.
const MAX_COMMENT: usize = 64 * 1024;

fn check_actor(actor: &str) -> Result<()> {
    if actor.is_empty() || actor.len() > 128 {
        return Err(StoreError::invalid("actor", "must be 1-128 bytes"));
    }
    Ok(())
}

impl TenantStore {
    /// Adds a comment (also appended to the timeline).
    pub async fn add_comment(&self, incident_id: &str, author: &str, body: &str) -> Result<Comment> {
        check_actor(author)?;
        if body.trim().is_empty() || body.len() > MAX_COMMENT {
            return Err(StoreError::invalid("comment", format!("must be 1-{MAX_COMMENT} bytes")));
        }
        let now = db::micros(db::now());
        let id: i64 = on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let _ = load_incident!(tx, self.t(), incident_id);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO incident_comments (tenant, incident_id, author, body, at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(self.t()).bind(incident_id).bind(author).bind(body).bind(now).fetch_one(&mut *tx).await?;
            timeline!(tx, self.t(), incident_id, author, "commented", serde_json::json!({"comment_id": id}), now);
            tx.commit().await?;
            id
        });
        Ok(Comment {
            id,
            incident_id: incident_id.to_owned(),
            author: author.to_owned(),
            body: body.to_owned(),
            at: db::time(now),
        })
    }

    /// The comments of an incident, oldest first.
    pub async fn list_comments(&self, incident_id: &str) -> Result<Vec<Comment>> {
        self.incident(incident_id).await?;
        let rows: Vec<CommentRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, incident_id, author, body, at FROM incident_comments \
                            WHERE tenant = $1 AND incident_id = $2 ORDER BY id")
                .bind(self.t()).bind(incident_id).fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| Comment {
                id: r.id,
                incident_id: r.incident_id,
                author: r.author,
                body: r.body,
                at: db::time(r.at),
            })
            .collect())
    }

    /// The history of an incident, oldest first.
    pub async fn list_timeline(&self, incident_id: &str) -> Result<Vec<TimelineEntry>> {
        self.incident(incident_id).await?;
        let rows: Vec<TimelineRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, incident_id, at, actor, kind, details FROM incident_timeline \
                            WHERE tenant = $1 AND incident_id = $2 ORDER BY id")
                .bind(self.t()).bind(incident_id).fetch_all(p).await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(TimelineEntry {
                    details: db::from_json("incident_timeline.details", &r.details)?,
                    id: r.id,
                    incident_id: r.incident_id,
                    at: db::time(r.at),
                    actor: r.actor,
                    kind: r.kind,
                })
            })
            .collect()
    }

    /// Records an analyst's disposition of an incident as a training label.
    pub async fn add_label(&self, incident_id: &str, label: &str, actor: &str) -> Result<Label> {
        check_actor(actor)?;
        if label.is_empty() || label.len() > 64 || label.chars().any(char::is_control) {
            return Err(StoreError::invalid("label", "must be 1-64 bytes of printable text"));
        }
        let now = db::micros(db::now());
        let id: i64 = on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let _ = load_incident!(tx, self.t(), incident_id);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO labels (tenant, incident_id, label, actor, at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(self.t()).bind(incident_id).bind(label).bind(actor).bind(now).fetch_one(&mut *tx).await?;
            timeline!(tx, self.t(), incident_id, actor, "labelled", serde_json::json!({"label": label}), now);
            tx.commit().await?;
            id
        });
        Ok(Label {
            id,
            incident_id: incident_id.to_owned(),
            label: label.to_owned(),
            actor: actor.to_owned(),
            at: db::time(now),
        })
    }

    /// Labels with an id greater than `after_id` (all when `None`), oldest first, at most
    /// `limit` (1..=1000): the feed a training job reads incrementally.
    pub async fn list_labels(&self, after_id: Option<i64>, limit: u32) -> Result<Vec<Label>> {
        let rows: Vec<LabelRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, incident_id, label, actor, at FROM labels WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(self.t()).bind(after_id.unwrap_or(0)).bind(db::clamp_limit(limit)).fetch_all(p).await?
        });
        Ok(rows.into_iter().map(LabelRow::into_label).collect())
    }

    /// Merges `sources` into `target`: their alerts move to the target, each source becomes
    /// `duplicate` (its lifecycle must allow it) and points at the target. Returns the target.
    pub async fn merge_incidents(&self, target: &str, sources: &[String], actor: &str) -> Result<Incident> {
        check_actor(actor)?;
        if sources.is_empty() {
            return Err(StoreError::invalid("sources", "name at least one incident to merge"));
        }
        if sources.iter().any(|s| s == target) {
            return Err(StoreError::invalid("sources", "an incident cannot be merged into itself"));
        }
        let now = db::micros(db::now());
        on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let tgt = load_incident!(tx, self.t(), target);
            if tgt.status == IncidentStatus::Duplicate {
                return Err(StoreError::conflict(format!("incident `{target}` is a duplicate; merge into its original")));
            }
            let mut moved_total = 0u64;
            for src in sources {
                let s = load_incident!(tx, self.t(), src.as_str());
                if s.status == IncidentStatus::Duplicate {
                    return Err(StoreError::conflict(format!("incident `{src}` is already a duplicate")));
                }
                s.status.can_move_to(IncidentStatus::Duplicate)?;
                let moved = sqlx::query("UPDATE incident_alerts SET incident_id = $3 WHERE tenant = $1 AND incident_id = $2")
                    .bind(self.t()).bind(src).bind(target).execute(&mut *tx).await?.rows_affected();
                moved_total += moved;
                sqlx::query("UPDATE incidents SET status = $3, duplicate_of = $4, alert_count = 0, updated_at = $5 \
                             WHERE tenant = $1 AND id = $2")
                    .bind(self.t()).bind(src).bind(IncidentStatus::Duplicate.as_str()).bind(target).bind(now)
                    .execute(&mut *tx).await?;
                sqlx::query("INSERT INTO labels (tenant, incident_id, label, actor, at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(self.t()).bind(src).bind(IncidentStatus::Duplicate.as_str()).bind(actor).bind(now)
                    .execute(&mut *tx).await?;
                let details = serde_json::json!({"target": target, "from": s.status, "alerts_moved": moved});
                timeline!(tx, self.t(), src.as_str(), actor, "merged_into", details, now);
            }
            recompute!(tx, self.t(), target, now);
            let details = serde_json::json!({"sources": sources, "alerts_moved": moved_total});
            timeline!(tx, self.t(), target, actor, "merged", details, now);
            tx.commit().await?;
        });
        self.incident(target).await
    }

    /// The incident `id` was merged into, if it is a duplicate.
    pub async fn duplicate_of(&self, id: &str) -> Result<Option<String>> {
        let row: Option<Option<String>> = on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT duplicate_of FROM incidents WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("incident", id))
    }

    /// Moves `alert_ids` (all linked to incident `id`, not all of its alerts) into a new
    /// incident, which is returned; both incidents' counts, times and scores are recomputed.
    pub async fn split_incident(&self, id: &str, alert_ids: &[String], actor: &str) -> Result<Incident> {
        check_actor(actor)?;
        if alert_ids.is_empty() {
            return Err(StoreError::invalid("alert_ids", "name at least one alert to split off"));
        }
        let new_id = db::new_id()?;
        let now = db::micros(db::now());
        on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let cur = load_incident!(tx, self.t(), id);
            if cur.status == IncidentStatus::Duplicate {
                return Err(StoreError::conflict(format!("incident `{id}` is a duplicate and cannot be split")));
            }
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incident_alerts WHERE tenant = $1 AND incident_id = $2")
                .bind(self.t()).bind(id).fetch_one(&mut *tx).await?;
            let mut distinct = alert_ids.to_vec();
            distinct.sort();
            distinct.dedup();
            if distinct.len() as i64 >= total {
                return Err(StoreError::invalid("alert_ids", "cannot split off every alert of an incident"));
            }
            sqlx::query(
                "INSERT INTO incidents (tenant, id, status, severity, severity_locked, score, title, group_key, entities, \
                 alert_count, reasoning, iocs, recommended_actions, first_seen, last_seen, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $14, $15, $15)")
                .bind(self.t()).bind(&new_id).bind(IncidentStatus::New.as_str())
                .bind(crate::alerts::severity_rank(cur.severity)).bind(false).bind(cur.score)
                .bind(format!("{} (split)", cur.title)).bind(format!("{}#split-{}", cur.group_key, &new_id[..8]))
                .bind("{}").bind("[]").bind("{}").bind("[]")
                .bind(db::micros(cur.first_seen)).bind(db::micros(cur.last_seen)).bind(now)
                .execute(&mut *tx).await?;
            for a in &distinct {
                let n = sqlx::query("UPDATE incident_alerts SET incident_id = $4 WHERE tenant = $1 AND incident_id = $2 AND alert_id = $3")
                    .bind(self.t()).bind(id).bind(a).bind(&new_id).execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::invalid("alert_ids", format!("alert `{a}` is not linked to incident `{id}`")));
                }
            }
            recompute!(tx, self.t(), id, now);
            recompute!(tx, self.t(), new_id.as_str(), now);
            timeline!(tx, self.t(), id, actor, "split", serde_json::json!({"new_incident": new_id, "alert_ids": distinct}), now);
            timeline!(tx, self.t(), new_id.as_str(), actor, "split_from", serde_json::json!({"incident": id, "alert_ids": distinct}), now);
            tx.commit().await?;
        });
        self.incident(&new_id).await
    }
}
