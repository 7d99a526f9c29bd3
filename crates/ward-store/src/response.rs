//! Response state: actions (keyed by their deterministic id, so a retried decision never acts
//! twice), the approvals that gate them, durable playbook runs with their append-only step
//! journal, and installation-wide settings (the kill switch). The records are
//! `ward_model::response`'s, shared with the response engine and the API.
//!
//! Per-tenant reads and writes go through [`TenantStore`]; the scans the responder's background
//! loops need across tenants (active actions for the reconciler, pending approvals for expiry,
//! running playbooks for resumption) and the global settings are on [`Store`].

use chrono::{DateTime, Utc};
use ward_model::response::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, PlaybookRun, RunStatus,
    StepRecord,
};

use crate::db::{self, Param, Where, bind_params, on_pool};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;
use crate::{Store, TenantStore};

const ACTION_COLS: &str = "tenant, id, decision_id, incident_id, kind, target, mode, status, reason, requested_by, \
     risk, ttl_secs, expires_at, attempts, state, policy_version, created_at, updated_at, verified_at";
const APPROVAL_COLS: &str =
    "tenant, id, action_id, status, requested_by, decided_by, reason, created_at, expires_at, decided_at";
const RUN_COLS: &str =
    "tenant, id, playbook, playbook_hash, incident_id, context, status, reason, created_at, updated_at";
/// Largest free-text field (reasons, targets, ids) accepted.
const MAX_FIELD: usize = 4096;
/// Largest JSON document (executor state, run context, step output) accepted.
const MAX_JSON: usize = 1 << 20;

#[derive(sqlx::FromRow)]
struct ActionRow {
    tenant: String,
    id: String,
    decision_id: String,
    incident_id: Option<String>,
    kind: String,
    target: String,
    mode: String,
    status: String,
    reason: String,
    requested_by: String,
    risk: String,
    ttl_secs: Option<i64>,
    expires_at: Option<i64>,
    attempts: i64,
    state: String,
    policy_version: String,
    created_at: i64,
    updated_at: i64,
    verified_at: Option<i64>,
}

impl ActionRow {
    fn into_record(self) -> Result<ActionRecord> {
        Ok(ActionRecord {
            tenant: tenant_of(&self.tenant)?,
            kind: db::parse_name("actions.kind", &self.kind)?,
            mode: db::parse_name("actions.mode", &self.mode)?,
            status: db::parse_name("actions.status", &self.status)?,
            risk: db::parse_name("actions.risk", &self.risk)?,
            state: db::from_json("actions.state", &self.state)?,
            ttl_secs: self.ttl_secs.map(|s| u64::try_from(s).unwrap_or(0)),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            id: self.id,
            decision_id: self.decision_id,
            incident_id: self.incident_id,
            target: self.target,
            reason: self.reason,
            requested_by: self.requested_by,
            policy_version: self.policy_version,
            expires_at: db::opt_time(self.expires_at),
            created_at: db::time(self.created_at),
            updated_at: db::time(self.updated_at),
            verified_at: db::opt_time(self.verified_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    tenant: String,
    id: String,
    action_id: String,
    status: String,
    requested_by: String,
    decided_by: Option<String>,
    reason: String,
    created_at: i64,
    expires_at: i64,
    decided_at: Option<i64>,
}

impl ApprovalRow {
    fn into_record(self) -> Result<ApprovalRecord> {
        Ok(ApprovalRecord {
            tenant: tenant_of(&self.tenant)?,
            status: db::parse_name("approvals.status", &self.status)?,
            id: self.id,
            action_id: self.action_id,
            requested_by: self.requested_by,
            decided_by: self.decided_by,
            reason: self.reason,
            created_at: db::time(self.created_at),
            expires_at: db::time(self.expires_at),
            decided_at: db::opt_time(self.decided_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    tenant: String,
    id: String,
    playbook: String,
    playbook_hash: String,
    incident_id: String,
    context: String,
    status: String,
    reason: String,
    created_at: i64,
    updated_at: i64,
}

impl RunRow {
    fn into_record(self) -> Result<PlaybookRun> {
        Ok(PlaybookRun {
            tenant: tenant_of(&self.tenant)?,
            status: db::parse_name("playbook_runs.status", &self.status)?,
            context: db::from_json("playbook_runs.context", &self.context)?,
            id: self.id,
            playbook: self.playbook,
            playbook_hash: self.playbook_hash,
            incident_id: self.incident_id,
            reason: self.reason,
            created_at: db::time(self.created_at),
            updated_at: db::time(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct StepRow {
    run_id: String,
    step: String,
    state: String,
    attempt: i64,
    output: String,
    at: i64,
}

impl StepRow {
    fn into_record(self) -> Result<StepRecord> {
        Ok(StepRecord {
            state: db::parse_name("playbook_journal.state", &self.state)?,
            output: db::from_json("playbook_journal.output", &self.output)?,
            attempt: u32::try_from(self.attempt).unwrap_or(u32::MAX),
            run_id: self.run_id,
            step: self.step,
            at: db::time(self.at),
        })
    }
}

/// Rejects empty or oversized identifiers and texts.
fn check_text(field: &str, v: &str, allow_empty: bool) -> Result<()> {
    if (!allow_empty && v.is_empty()) || v.len() > MAX_FIELD {
        let range = if allow_empty { "0" } else { "1" };
        return Err(StoreError::invalid(field, format!("must be {range}-{MAX_FIELD} bytes")));
    }
    Ok(())
}

/// JSON text of `v`, refusing documents over [`MAX_JSON`].
fn json_text(field: &str, v: &serde_json::Value) -> Result<String> {
    let text = db::to_json(v)?;
    if text.len() > MAX_JSON {
        return Err(StoreError::invalid(field, format!("longer than {MAX_JSON} bytes of JSON")));
    }
    Ok(text)
}

fn to_i64(field: &str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::invalid(field, "out of range"))
}

impl TenantStore {
    /// Refuses a record of another tenant (the handle's tenant is the only one it may write).
    fn own(&self, what: &str, tenant: &ward_model::TenantId) -> Result<()> {
        if tenant != self.tenant_id() {
            return Err(StoreError::invalid(
                what,
                format!("record of tenant `{tenant}` written through tenant `{}`", self.tenant_id()),
            ));
        }
        Ok(())
    }

    fn check_action(&self, a: &ActionRecord) -> Result<()> {
        self.own("action tenant", &a.tenant)?;
        for (field, v) in [("action id", &a.id), ("decision_id", &a.decision_id), ("target", &a.target)] {
            check_text(field, v, false)?;
        }
        for (field, v) in
            [("reason", &a.reason), ("requested_by", &a.requested_by), ("policy_version", &a.policy_version)]
        {
            check_text(field, v, true)?;
        }
        Ok(())
    }

    /// Inserts `action` unless an action with its id exists. Returns the stored action and
    /// whether it was new — a retried decision gets the first record back and never acts twice.
    pub async fn insert_action(&self, a: &ActionRecord) -> Result<(ActionRecord, bool)> {
        self.check_action(a)?;
        let state = json_text("state", &a.state)?;
        let ttl = a.ttl_secs.map(|s| to_i64("ttl_secs", s)).transpose()?;
        let n = on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO actions (tenant, id, decision_id, incident_id, kind, target, mode, status, reason, \
                 requested_by, risk, ttl_secs, expires_at, attempts, state, policy_version, created_at, updated_at, \
                 verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
                 ON CONFLICT DO NOTHING")
                .bind(self.t()).bind(&a.id).bind(&a.decision_id).bind(&a.incident_id).bind(a.kind.as_str())
                .bind(&a.target).bind(a.mode.as_str()).bind(a.status.as_str()).bind(&a.reason)
                .bind(&a.requested_by).bind(a.risk.as_str()).bind(ttl).bind(a.expires_at.map(db::micros))
                .bind(i64::from(a.attempts)).bind(&state).bind(&a.policy_version).bind(db::micros(a.created_at))
                .bind(db::micros(a.updated_at)).bind(a.verified_at.map(db::micros))
                .execute(p).await?.rows_affected()
        });
        let stored = match self.action(&a.id).await? {
            Some(stored) => stored,
            // The conflict was on (decision_id, kind) under another id.
            None => {
                return Err(StoreError::conflict(format!(
                    "decision `{}` already has a `{}` action under another id",
                    a.decision_id, a.kind
                )));
            }
        };
        Ok((stored, n > 0))
    }

    /// Replaces every mutable field of an existing action (status, reason, attempts, executor
    /// state, expiry, verification time). Not found when the action does not exist here.
    pub async fn update_action(&self, a: &ActionRecord) -> Result<()> {
        self.check_action(a)?;
        let state = json_text("state", &a.state)?;
        let ttl = a.ttl_secs.map(|s| to_i64("ttl_secs", s)).transpose()?;
        let n = on_pool!(self.pool(), p => {
            sqlx::query(
                "UPDATE actions SET incident_id = $3, target = $4, mode = $5, status = $6, reason = $7, \
                 requested_by = $8, risk = $9, ttl_secs = $10, expires_at = $11, attempts = $12, state = $13, \
                 policy_version = $14, updated_at = $15, verified_at = $16 WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(&a.id).bind(&a.incident_id).bind(&a.target).bind(a.mode.as_str())
                .bind(a.status.as_str()).bind(&a.reason).bind(&a.requested_by).bind(a.risk.as_str()).bind(ttl)
                .bind(a.expires_at.map(db::micros)).bind(i64::from(a.attempts)).bind(&state)
                .bind(&a.policy_version).bind(db::micros(a.updated_at)).bind(a.verified_at.map(db::micros))
                .execute(p).await?.rows_affected()
        });
        if n == 0 { Err(StoreError::not_found("action", &a.id)) } else { Ok(()) }
    }

    /// The action with `id`, if it exists in this tenant.
    pub async fn action(&self, id: &str) -> Result<Option<ActionRecord>> {
        let row: Option<ActionRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ACTION_COLS} FROM actions WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.map(ActionRow::into_record).transpose()
    }

    /// Actions, newest first, only those with one of `statuses` unless it is empty.
    pub async fn list_actions(&self, statuses: &[ActionStatus]) -> Result<Vec<ActionRecord>> {
        self.select_actions(None, statuses).await
    }

    /// Actions of `kind` on `target`, newest first, only with one of `statuses` unless it is
    /// empty — how the responder counts a repeat offender's earlier blocks (indexed).
    pub async fn list_actions_on(
        &self,
        kind: ActionKind,
        target: &str,
        statuses: &[ActionStatus],
    ) -> Result<Vec<ActionRecord>> {
        self.select_actions(Some((kind, target)), statuses).await
    }

    async fn select_actions(
        &self,
        on: Option<(ActionKind, &str)>,
        statuses: &[ActionStatus],
    ) -> Result<Vec<ActionRecord>> {
        let mut w = Where::tenant("tenant", self.t());
        if let Some((kind, target)) = on {
            w.push("kind = {}", Param::Text(kind.as_str().to_owned()));
            w.push("target = {}", Param::Text(target.to_owned()));
        }
        if !statuses.is_empty() {
            let phs: Vec<String> =
                statuses.iter().map(|s| w.next(Param::Text(s.as_str().to_owned()))).collect();
            w.raw(format!("status IN ({})", phs.join(", ")));
        }
        let sql = format!("SELECT {ACTION_COLS} FROM actions {} ORDER BY created_at DESC, id", w.sql());
        let rows: Vec<ActionRow> = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), w.params).fetch_all(p).await?
        });
        rows.into_iter().map(ActionRow::into_record).collect()
    }

    /// Inserts or replaces an approval (one per action). Its action must exist in this tenant.
    pub async fn put_approval(&self, a: &ApprovalRecord) -> Result<()> {
        self.own("approval tenant", &a.tenant)?;
        check_text("approval id", &a.id, false)?;
        check_text("requested_by", &a.requested_by, true)?;
        check_text("reason", &a.reason, true)?;
        if self.action(&a.action_id).await?.is_none() {
            return Err(StoreError::not_found("action", &a.action_id));
        }
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO approvals (tenant, id, action_id, status, requested_by, decided_by, reason, created_at, \
                 expires_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant, id) DO UPDATE SET action_id = excluded.action_id, status = excluded.status, \
                 requested_by = excluded.requested_by, decided_by = excluded.decided_by, reason = excluded.reason, \
                 expires_at = excluded.expires_at, decided_at = excluded.decided_at")
                .bind(self.t()).bind(&a.id).bind(&a.action_id).bind(a.status.as_str()).bind(&a.requested_by)
                .bind(&a.decided_by).bind(&a.reason).bind(db::micros(a.created_at)).bind(db::micros(a.expires_at))
                .bind(a.decided_at.map(db::micros))
                .execute(p).await?;
        });
        Ok(())
    }

    /// The approval with `id`, if it exists in this tenant.
    pub async fn approval(&self, id: &str) -> Result<Option<ApprovalRecord>> {
        let row: Option<ApprovalRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {APPROVAL_COLS} FROM approvals WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.map(ApprovalRow::into_record).transpose()
    }

    /// Approvals, newest first, optionally only those with `status`.
    pub async fn list_approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<ApprovalRecord>> {
        let rows: Vec<ApprovalRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {APPROVAL_COLS} FROM approvals WHERE tenant = $1 AND ($2 = '' OR status = $2) \
                 ORDER BY created_at DESC, id")))
                .bind(self.t()).bind(status.map(|s| s.as_str()).unwrap_or("")).fetch_all(p).await?
        });
        rows.into_iter().map(ApprovalRow::into_record).collect()
    }

    /// Inserts or replaces a playbook run.
    pub async fn put_run(&self, r: &PlaybookRun) -> Result<()> {
        self.own("run tenant", &r.tenant)?;
        for (field, v) in [("run id", &r.id), ("playbook", &r.playbook), ("incident_id", &r.incident_id)] {
            check_text(field, v, false)?;
        }
        check_text("playbook_hash", &r.playbook_hash, true)?;
        check_text("reason", &r.reason, true)?;
        let context = json_text("context", &r.context)?;
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO playbook_runs (tenant, id, playbook, playbook_hash, incident_id, context, status, reason, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant, id) DO UPDATE SET playbook = excluded.playbook, \
                 playbook_hash = excluded.playbook_hash, incident_id = excluded.incident_id, \
                 context = excluded.context, status = excluded.status, reason = excluded.reason, \
                 updated_at = excluded.updated_at")
                .bind(self.t()).bind(&r.id).bind(&r.playbook).bind(&r.playbook_hash).bind(&r.incident_id)
                .bind(&context).bind(r.status.as_str()).bind(&r.reason).bind(db::micros(r.created_at))
                .bind(db::micros(r.updated_at))
                .execute(p).await?;
        });
        Ok(())
    }

    /// The playbook run with `id`, if it exists in this tenant.
    pub async fn run(&self, id: &str) -> Result<Option<PlaybookRun>> {
        let row: Option<RunRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {RUN_COLS} FROM playbook_runs WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.map(RunRow::into_record).transpose()
    }

    /// Appends one line to a run's journal. The journal table refuses updates and deletes, so
    /// what a run did can only grow.
    pub async fn journal_append(&self, s: &StepRecord) -> Result<()> {
        check_text("run id", &s.run_id, false)?;
        check_text("step", &s.step, false)?;
        let output = json_text("output", &s.output)?;
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO playbook_journal (tenant, run_id, step, state, attempt, output, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(self.t()).bind(&s.run_id).bind(&s.step).bind(s.state.as_str()).bind(i64::from(s.attempt))
                .bind(&output).bind(db::micros(s.at))
                .execute(p).await?;
        });
        Ok(())
    }

    /// A run's journal in append order (empty for an unknown run).
    pub async fn journal(&self, run_id: &str) -> Result<Vec<StepRecord>> {
        let rows: Vec<StepRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(
                "SELECT run_id, step, state, attempt, output, at FROM playbook_journal \
                 WHERE tenant = $1 AND run_id = $2 ORDER BY seq")
                .bind(self.t()).bind(run_id).fetch_all(p).await?
        });
        rows.into_iter().map(StepRow::into_record).collect()
    }
}

impl Store {
    /// Actions of every tenant with one of `statuses` (e.g. `running` ones a stopped process
    /// left behind, resumed at start), oldest first.
    pub async fn actions_with_status(&self, statuses: &[ActionStatus]) -> Result<Vec<ActionRecord>> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = Where::default();
        let phs: Vec<String> = statuses.iter().map(|s| w.next(Param::Text(s.as_str().to_owned()))).collect();
        w.raw(format!("status IN ({})", phs.join(", ")));
        let sql = format!("SELECT {ACTION_COLS} FROM actions {} ORDER BY tenant, created_at, id", w.sql());
        let rows: Vec<ActionRow> = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), w.params).fetch_all(p).await?
        });
        rows.into_iter().map(ActionRow::into_record).collect()
    }

    /// Pending approvals of every tenant, for expiry.
    pub async fn pending_approvals(&self) -> Result<Vec<ApprovalRecord>> {
        let rows: Vec<ApprovalRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {APPROVAL_COLS} FROM approvals WHERE status = $1 ORDER BY tenant, expires_at, id")))
                .bind(ApprovalStatus::Pending.as_str()).fetch_all(p).await?
        });
        rows.into_iter().map(ApprovalRow::into_record).collect()
    }

    /// Playbook runs of every tenant with `status` (`running` ones are resumed after a restart).
    pub async fn runs_with_status(&self, status: RunStatus) -> Result<Vec<PlaybookRun>> {
        let rows: Vec<RunRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLS} FROM playbook_runs WHERE status = $1 ORDER BY tenant, created_at, id")))
                .bind(status.as_str()).fetch_all(p).await?
        });
        rows.into_iter().map(RunRow::into_record).collect()
    }

    /// An installation-wide setting (e.g. `respond.kill_switch`).
    pub async fn global_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT value FROM global_settings WHERE key = $1").bind(key).fetch_optional(p).await?
        }))
    }

    /// Sets an installation-wide setting.
    pub async fn set_global_setting(&self, key: &str, value: &str) -> Result<()> {
        check_text("setting key", key, false)?;
        check_text("setting value", value, true)?;
        let now: DateTime<Utc> = db::now();
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO global_settings (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
                .bind(key).bind(value).bind(db::micros(now)).execute(p).await?;
        });
        Ok(())
    }
}
