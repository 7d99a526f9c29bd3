//! Playbooks (named definitions), their runs with a per-step journal so a run resumes after a
//! restart, and versioned policies.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{TenantId, UnknownName};

use crate::TenantStore;
use crate::db::{self, on_pool};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;
use crate::response::name_enum;

name_enum!(
    /// Where a playbook run is.
    RunStatus, "run status", {
        /// Steps are executing.
        Running = "running",
        /// Waiting (for an approval, a timer).
        Waiting = "waiting",
        /// All steps done.
        Succeeded = "succeeded",
        /// A step failed.
        Failed = "failed",
        /// Stopped by a human.
        Cancelled = "cancelled",
    }
);

name_enum!(
    /// Where one step of a run is.
    StepStatus, "step status", {
        /// Not started.
        Pending = "pending",
        /// Started, not finished (resume re-checks it).
        Running = "running",
        /// Done.
        Succeeded = "succeeded",
        /// Failed.
        Failed = "failed",
        /// Not applicable.
        Skipped = "skipped",
    }
);

/// A named response playbook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Playbook {
    /// Random id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Unique name.
    pub name: String,
    /// Its definition (YAML or JSON text, parsed by the response engine).
    pub definition: String,
    /// Whether it runs.
    pub enabled: bool,
    /// Incremented on every update.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One execution of a playbook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaybookRun {
    /// Random id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// The playbook.
    pub playbook_id: String,
    /// The incident it runs for.
    pub incident_id: Option<String>,
    /// Status.
    pub status: RunStatus,
    /// Run variables carried between steps.
    pub context: serde_json::Value,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// End, once finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What to start a run with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPlaybookRun {
    /// The playbook.
    pub playbook_id: String,
    /// The incident.
    pub incident_id: Option<String>,
    /// Initial variables.
    pub context: serde_json::Value,
}

/// One journal entry of a run: a step's state, rewritten as it progresses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStep {
    /// The run.
    pub run_id: String,
    /// Position in the playbook (0-based).
    pub step: i64,
    /// Step name.
    pub name: String,
    /// Status.
    pub status: StepStatus,
    /// What it produced.
    pub output: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
}

/// One version of a named policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Policy name.
    pub name: String,
    /// Version, from 1.
    pub version: i64,
    /// Policy text (Rego or another language the decide stage reads).
    pub body: String,
    /// Who saved it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

const PLAYBOOK_COLS: &str = "id, tenant, name, definition, enabled, version, created_at, updated_at";
const RUN_COLS: &str =
    "id, tenant, playbook_id, incident_id, status, context, started_at, updated_at, finished_at";
const STEP_COLS: &str = "run_id, step, name, status, output, error, started_at, finished_at";
/// Largest playbook definition or policy text.
const MAX_TEXT: usize = 1 << 20;

#[derive(sqlx::FromRow)]
struct PlaybookRow {
    id: String,
    tenant: String,
    name: String,
    definition: String,
    enabled: bool,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl PlaybookRow {
    fn into_playbook(self) -> Result<Playbook> {
        Ok(Playbook {
            tenant: tenant_of(&self.tenant)?,
            id: self.id,
            name: self.name,
            definition: self.definition,
            enabled: self.enabled,
            version: self.version,
            created_at: db::time(self.created_at),
            updated_at: db::time(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    tenant: String,
    playbook_id: String,
    incident_id: Option<String>,
    status: String,
    context: String,
    started_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
}

impl RunRow {
    fn into_run(self) -> Result<PlaybookRun> {
        Ok(PlaybookRun {
            tenant: tenant_of(&self.tenant)?,
            status: db::parse_name("playbook_runs.status", &self.status)?,
            context: db::from_json("playbook_runs.context", &self.context)?,
            id: self.id,
            playbook_id: self.playbook_id,
            incident_id: self.incident_id,
            started_at: db::time(self.started_at),
            updated_at: db::time(self.updated_at),
            finished_at: db::opt_time(self.finished_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct StepRow {
    run_id: String,
    step: i64,
    name: String,
    status: String,
    output: String,
    error: Option<String>,
    started_at: i64,
    finished_at: Option<i64>,
}

impl StepRow {
    fn into_step(self) -> Result<RunStep> {
        Ok(RunStep {
            status: db::parse_name("playbook_run_steps.status", &self.status)?,
            output: db::from_json("playbook_run_steps.output", &self.output)?,
            run_id: self.run_id,
            step: self.step,
            name: self.name,
            error: self.error,
            started_at: db::time(self.started_at),
            finished_at: db::opt_time(self.finished_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    name: String,
    version: i64,
    body: String,
    created_by: String,
    created_at: i64,
}

impl PolicyRow {
    fn into_policy(self) -> Policy {
        Policy {
            name: self.name,
            version: self.version,
            body: self.body,
            created_by: self.created_by,
            created_at: db::time(self.created_at),
        }
    }
}

fn check_name(field: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() || v.len() > 128 || v.chars().any(char::is_control) {
        return Err(StoreError::invalid(field, "must be 1-128 bytes of printable text"));
    }
    Ok(())
}

fn check_body(field: &str, v: &str) -> Result<()> {
    if v.len() > MAX_TEXT {
        return Err(StoreError::invalid(field, format!("longer than {MAX_TEXT} bytes")));
    }
    Ok(())
}

impl TenantStore {
    /// Creates a playbook (names are unique per tenant).
    pub async fn create_playbook(&self, name: &str, definition: &str, enabled: bool) -> Result<Playbook> {
        check_name("playbook name", name)?;
        check_body("definition", definition)?;
        let (id, now) = (db::new_id()?, db::micros(db::now()));
        let res = on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO playbooks (tenant, id, name, definition, enabled, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, 1, $6, $6)")
                .bind(self.t()).bind(&id).bind(name).bind(definition).bind(enabled).bind(now).execute(p).await.map(|r| r.rows_affected())
        });
        match res {
            Err(e) if db::is_unique_violation(&e) => {
                Err(StoreError::conflict(format!("playbook `{name}` already exists")))
            }
            Err(e) => Err(e.into()),
            Ok(_) => self.playbook(&id).await,
        }
    }

    /// The playbook with `id`.
    pub async fn playbook(&self, id: &str) -> Result<Playbook> {
        let row: Option<PlaybookRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PLAYBOOK_COLS} FROM playbooks WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("playbook", id))?.into_playbook()
    }

    /// Every playbook, by name.
    pub async fn list_playbooks(&self) -> Result<Vec<Playbook>> {
        let rows: Vec<PlaybookRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PLAYBOOK_COLS} FROM playbooks WHERE tenant = $1 ORDER BY name")))
                .bind(self.t()).fetch_all(p).await?
        });
        rows.into_iter().map(PlaybookRow::into_playbook).collect()
    }

    /// Replaces a playbook's definition and enabled flag (bumps its version).
    pub async fn update_playbook(&self, id: &str, definition: &str, enabled: bool) -> Result<Playbook> {
        check_body("definition", definition)?;
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE playbooks SET definition = $3, enabled = $4, version = version + 1, updated_at = $5 \
                         WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).bind(definition).bind(enabled).bind(db::micros(db::now()))
                .execute(p).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::not_found("playbook", id));
        }
        self.playbook(id).await
    }

    /// Deletes a playbook and its runs.
    pub async fn delete_playbook(&self, id: &str) -> Result<()> {
        let n = on_pool!(self.pool(), p => {
            sqlx::query("DELETE FROM playbooks WHERE tenant = $1 AND id = $2").bind(self.t()).bind(id).execute(p).await?.rows_affected()
        });
        if n == 0 { Err(StoreError::not_found("playbook", id)) } else { Ok(()) }
    }

    /// Starts a run (status `running`).
    pub async fn create_run(&self, new: &NewPlaybookRun) -> Result<PlaybookRun> {
        self.playbook(&new.playbook_id).await?;
        let (id, now) = (db::new_id()?, db::micros(db::now()));
        on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO playbook_runs (tenant, id, playbook_id, incident_id, status, context, started_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
                .bind(self.t()).bind(&id).bind(&new.playbook_id).bind(&new.incident_id).bind(RunStatus::Running.as_str())
                .bind(db::to_json(&new.context)?).bind(now).execute(p).await?;
        });
        self.run(&id).await
    }

    /// The run with `id`.
    pub async fn run(&self, id: &str) -> Result<PlaybookRun> {
        let row: Option<RunRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {RUN_COLS} FROM playbook_runs WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("playbook run", id))?.into_run()
    }

    /// Runs, newest first, optionally only those with `status` (e.g. `running` to resume).
    pub async fn list_runs(&self, status: Option<RunStatus>) -> Result<Vec<PlaybookRun>> {
        let rows: Vec<RunRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLS} FROM playbook_runs WHERE tenant = $1 AND ($2 = '' OR status = $2) ORDER BY started_at DESC, id")))
                .bind(self.t()).bind(status.map(|s| s.as_str()).unwrap_or("")).fetch_all(p).await?
        });
        rows.into_iter().map(RunRow::into_run).collect()
    }

    /// Sets a run's status and context; finished statuses stamp `finished_at`.
    pub async fn update_run(
        &self,
        id: &str,
        status: RunStatus,
        context: &serde_json::Value,
    ) -> Result<PlaybookRun> {
        let now = db::micros(db::now());
        let finished =
            matches!(status, RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled).then_some(now);
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE playbook_runs SET status = $3, context = $4, updated_at = $5, finished_at = $6 \
                         WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).bind(status.as_str()).bind(db::to_json(context)?).bind(now).bind(finished)
                .execute(p).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::not_found("playbook run", id));
        }
        self.run(id).await
    }

    /// Writes a step's journal entry (inserted, or replaced by `(run, step)`).
    pub async fn record_step(&self, step: &RunStep) -> Result<()> {
        self.run(&step.run_id).await?;
        check_name("step name", &step.name)?;
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO playbook_run_steps (tenant, run_id, step, name, status, output, error, started_at, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant, run_id, step) DO UPDATE SET \
                 name = excluded.name, status = excluded.status, output = excluded.output, error = excluded.error, \
                 finished_at = excluded.finished_at")
                .bind(self.t()).bind(&step.run_id).bind(step.step).bind(&step.name).bind(step.status.as_str())
                .bind(db::to_json(&step.output)?).bind(&step.error).bind(db::micros(step.started_at))
                .bind(step.finished_at.map(db::micros))
                .execute(p).await?;
        });
        Ok(())
    }

    /// The journal of a run, in step order.
    pub async fn list_steps(&self, run_id: &str) -> Result<Vec<RunStep>> {
        self.run(run_id).await?;
        let rows: Vec<StepRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {STEP_COLS} FROM playbook_run_steps WHERE tenant = $1 AND run_id = $2 ORDER BY step")))
                .bind(self.t()).bind(run_id).fetch_all(p).await?
        });
        rows.into_iter().map(StepRow::into_step).collect()
    }

    /// Saves a new version of policy `name` (version = previous + 1).
    pub async fn put_policy(&self, name: &str, body: &str, actor: &str) -> Result<Policy> {
        check_name("policy name", name)?;
        check_name("actor", actor)?;
        check_body("policy", body)?;
        let now = db::micros(db::now());
        let version: i64 = on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let last: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM policies WHERE tenant = $1 AND name = $2")
                .bind(self.t()).bind(name).fetch_one(&mut *tx).await?;
            let v = last.unwrap_or(0) + 1;
            sqlx::query("INSERT INTO policies (tenant, name, version, body, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(self.t()).bind(name).bind(v).bind(body).bind(actor).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            v
        });
        Ok(Policy {
            name: name.to_owned(),
            version,
            body: body.to_owned(),
            created_by: actor.to_owned(),
            created_at: db::time(now),
        })
    }

    /// The latest version of policy `name` (or version `version`).
    pub async fn policy(&self, name: &str, version: Option<i64>) -> Result<Policy> {
        let row: Option<PolicyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT name, version, body, created_by, created_at FROM policies \
                            WHERE tenant = $1 AND name = $2 AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1")
                .bind(self.t()).bind(name).bind(version.unwrap_or(0)).fetch_optional(p).await?
        });
        Ok(row.ok_or_else(|| StoreError::not_found("policy", name))?.into_policy())
    }

    /// The latest version of every policy, by name.
    pub async fn list_policies(&self) -> Result<Vec<Policy>> {
        let rows: Vec<PolicyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT name, version, body, created_by, created_at FROM policies p WHERE tenant = $1 \
                            AND version = (SELECT MAX(version) FROM policies q WHERE q.tenant = p.tenant AND q.name = p.name) \
                            ORDER BY name")
                .bind(self.t()).fetch_all(p).await?
        });
        Ok(rows.into_iter().map(PolicyRow::into_policy).collect())
    }

    /// Every version of policy `name`, newest first.
    pub async fn policy_history(&self, name: &str) -> Result<Vec<Policy>> {
        let rows: Vec<PolicyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT name, version, body, created_by, created_at FROM policies \
                            WHERE tenant = $1 AND name = $2 ORDER BY version DESC")
                .bind(self.t()).bind(name).fetch_all(p).await?
        });
        Ok(rows.into_iter().map(PolicyRow::into_policy).collect())
    }
}
