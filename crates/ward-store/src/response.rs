//! Response records: actions (one per decision and action kind, so retries are idempotent) and
//! the approvals that gate them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{TenantId, UnknownName};

use crate::db::{self, Param, Where, bind_params, on_pool};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;
use crate::{Page, TenantStore};

/// Defines a snake_case string enum with `as_str`, `Display` and `FromStr`.
macro_rules! name_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$(Self::$v),+];

            /// The snake_case name used in JSON and SQL.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| UnknownName {
                    what: $what,
                    value: s.to_owned(),
                    expected: concat!($($s, " "),+),
                })
            }
        }
    };
}
pub(crate) use name_enum;

name_enum!(
    /// Where a response action is.
    ActionStatus, "action status", {
        /// Decided, not started.
        Pending = "pending",
        /// Waiting for a human approval.
        AwaitingApproval = "awaiting_approval",
        /// Approved, not started.
        Approved = "approved",
        /// Being executed.
        Running = "running",
        /// Done and verified.
        Succeeded = "succeeded",
        /// Failed (see `error`).
        Failed = "failed",
        /// Refused by policy or a human.
        Denied = "denied",
        /// Undone by its inverse.
        RolledBack = "rolled_back",
        /// Its TTL ran out (and it was undone, if it had run).
        Expired = "expired",
        /// Cancelled before it ran.
        Cancelled = "cancelled",
    }
);

name_enum!(
    /// Where an approval request is.
    ApprovalStatus, "approval status", {
        /// Waiting for a decision.
        Pending = "pending",
        /// Approved.
        Approved = "approved",
        /// Rejected.
        Rejected = "rejected",
        /// Not decided in time.
        Expired = "expired",
    }
);

/// A human's answer to an approval request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Go ahead.
    Approve,
    /// Do not.
    Reject,
}

/// A response action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// Random id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// The decision that asked for it (with `action`, its idempotency key).
    pub decision_id: String,
    /// The incident it responds to.
    pub incident_id: Option<String>,
    /// Action kind (`block_ip`, `disable_user`, …).
    pub action: String,
    /// What it acts on.
    pub target: String,
    /// Connector parameters.
    pub params: serde_json::Value,
    /// Status.
    pub status: ActionStatus,
    /// Simulated only.
    pub dry_run: bool,
    /// Connector output (and what is needed to undo it).
    pub result: serde_json::Value,
    /// Last error.
    pub error: Option<String>,
    /// When it should be undone.
    pub expires_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What to create an action with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAction {
    /// The deciding decision's id.
    pub decision_id: String,
    /// The incident.
    pub incident_id: Option<String>,
    /// Action kind.
    pub action: String,
    /// Target.
    pub target: String,
    /// Parameters.
    pub params: serde_json::Value,
    /// Initial status.
    pub status: ActionStatus,
    /// Simulated only.
    pub dry_run: bool,
    /// When it should be undone.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Which actions to list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionFilter {
    /// Only this status.
    pub status: Option<ActionStatus>,
    /// Only for this incident.
    pub incident_id: Option<String>,
    /// Only of this decision.
    pub decision_id: Option<String>,
}

/// A request for a human to allow an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// Random id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// The action it gates.
    pub action_id: String,
    /// Status.
    pub status: ApprovalStatus,
    /// Who (or what policy) asked.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Undecided requests expire at this time.
    pub expires_at: DateTime<Utc>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: Option<String>,
}

const ACTION_COLS: &str = "id, tenant, decision_id, incident_id, action, target, params, status, dry_run, result, error, expires_at, created_at, updated_at";
const APPROVAL_COLS: &str =
    "id, tenant, action_id, status, requested_by, requested_at, expires_at, decided_by, decided_at, reason";

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: String,
    tenant: String,
    decision_id: String,
    incident_id: Option<String>,
    action: String,
    target: String,
    params: String,
    status: String,
    dry_run: bool,
    result: String,
    error: Option<String>,
    expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ActionRow {
    fn into_action(self) -> Result<ActionRecord> {
        Ok(ActionRecord {
            tenant: tenant_of(&self.tenant)?,
            params: db::from_json("actions.params", &self.params)?,
            status: db::parse_name("actions.status", &self.status)?,
            result: db::from_json("actions.result", &self.result)?,
            id: self.id,
            decision_id: self.decision_id,
            incident_id: self.incident_id,
            action: self.action,
            target: self.target,
            dry_run: self.dry_run,
            error: self.error,
            expires_at: db::opt_time(self.expires_at),
            created_at: db::time(self.created_at),
            updated_at: db::time(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    id: String,
    tenant: String,
    action_id: String,
    status: String,
    requested_by: String,
    requested_at: i64,
    expires_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    reason: Option<String>,
}

impl ApprovalRow {
    fn into_approval(self) -> Result<Approval> {
        Ok(Approval {
            tenant: tenant_of(&self.tenant)?,
            status: db::parse_name("approvals.status", &self.status)?,
            id: self.id,
            action_id: self.action_id,
            requested_by: self.requested_by,
            requested_at: db::time(self.requested_at),
            expires_at: db::time(self.expires_at),
            decided_by: self.decided_by,
            decided_at: db::opt_time(self.decided_at),
            reason: self.reason,
        })
    }
}

fn check_short(field: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > 256 {
        return Err(StoreError::invalid(field, "must be 1-256 bytes"));
    }
    Ok(())
}

impl TenantStore {
    /// Creates the action of `(decision_id, action)`, or returns the one already created for
    /// that key (`false` in the second element) — so a retried decision never acts twice.
    pub async fn create_action(&self, new: &NewAction) -> Result<(ActionRecord, bool)> {
        check_short("decision_id", &new.decision_id)?;
        check_short("action", &new.action)?;
        check_short("target", &new.target)?;
        let (id, now) = (db::new_id()?, db::micros(db::now()));
        let n = on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO actions (tenant, id, decision_id, incident_id, action, target, params, status, dry_run, result, \
                 expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
                 ON CONFLICT (tenant, decision_id, action) DO NOTHING")
                .bind(self.t()).bind(&id).bind(&new.decision_id).bind(&new.incident_id).bind(&new.action)
                .bind(&new.target).bind(db::to_json(&new.params)?).bind(new.status.as_str()).bind(new.dry_run)
                .bind("null").bind(new.expires_at.map(db::micros)).bind(now)
                .execute(p).await?.rows_affected()
        });
        let row: ActionRow = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ACTION_COLS} FROM actions WHERE tenant = $1 AND decision_id = $2 AND action = $3")))
                .bind(self.t()).bind(&new.decision_id).bind(&new.action).fetch_one(p).await?
        });
        Ok((row.into_action()?, n > 0))
    }

    /// The action with `id`.
    pub async fn action(&self, id: &str) -> Result<ActionRecord> {
        let row: Option<ActionRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ACTION_COLS} FROM actions WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("action", id))?.into_action()
    }

    /// Actions matching `filter`, newest first.
    pub async fn list_actions(
        &self,
        filter: &ActionFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ActionRecord>> {
        let mut w = Where::tenant("tenant", self.t());
        if let Some(s) = filter.status {
            w.push("status = {}", Param::Text(s.as_str().to_owned()));
        }
        if let Some(i) = &filter.incident_id {
            w.push("incident_id = {}", Param::Text(i.clone()));
        }
        if let Some(d) = &filter.decision_id {
            w.push("decision_id = {}", Param::Text(d.clone()));
        }
        if let Some(c) = cursor {
            let (at, id): (i64, String) = db::decode_cursor(c)?;
            let (a, b, i) = (w.next(Param::I64(at)), w.next(Param::I64(at)), w.next(Param::Text(id)));
            w.raw(format!("(created_at < {a} OR (created_at = {b} AND id < {i}))"));
        }
        let limit = db::clamp_limit(limit);
        let lim = w.next(Param::I64(limit + 1));
        let sql = format!(
            "SELECT {ACTION_COLS} FROM actions {} ORDER BY created_at DESC, id DESC LIMIT {lim}",
            w.sql()
        );
        let rows: Vec<ActionRow> = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), w.params).fetch_all(p).await?
        });
        let mut items = rows.into_iter().map(ActionRow::into_action).collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|a| db::encode_cursor(&(db::micros(a.created_at), &a.id))).transpose()?
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Sets an action's status, result and error.
    pub async fn update_action(
        &self,
        id: &str,
        status: ActionStatus,
        result: &serde_json::Value,
        error: Option<&str>,
    ) -> Result<ActionRecord> {
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE actions SET status = $3, result = $4, error = $5, updated_at = $6 WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).bind(status.as_str()).bind(db::to_json(result)?).bind(error)
                .bind(db::micros(db::now())).execute(p).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::not_found("action", id));
        }
        self.action(id).await
    }

    /// Asks for approval of an action, pending until `expires_at`.
    pub async fn create_approval(
        &self,
        action_id: &str,
        requested_by: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Approval> {
        self.action(action_id).await?;
        check_short("requested_by", requested_by)?;
        let (id, now) = (db::new_id()?, db::micros(db::now()));
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO approvals (tenant, id, action_id, status, requested_by, requested_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(self.t()).bind(&id).bind(action_id).bind(ApprovalStatus::Pending.as_str()).bind(requested_by)
                .bind(now).bind(db::micros(expires_at)).execute(p).await?;
        });
        self.approval(&id).await
    }

    /// The approval with `id`.
    pub async fn approval(&self, id: &str) -> Result<Approval> {
        let row: Option<ApprovalRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {APPROVAL_COLS} FROM approvals WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("approval", id))?.into_approval()
    }

    /// Approvals, newest first, optionally only those with `status`.
    pub async fn list_approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>> {
        let rows: Vec<ApprovalRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {APPROVAL_COLS} FROM approvals WHERE tenant = $1 AND ($2 = '' OR status = $2) ORDER BY requested_at DESC, id")))
                .bind(self.t()).bind(status.map(|s| s.as_str()).unwrap_or("")).fetch_all(p).await?
        });
        rows.into_iter().map(ApprovalRow::into_approval).collect()
    }

    /// Decides a pending approval. Conflict when already decided or expired (an expired
    /// request is marked `expired` on the way).
    pub async fn decide_approval(
        &self,
        id: &str,
        decision: ApprovalDecision,
        decided_by: &str,
        reason: Option<&str>,
    ) -> Result<Approval> {
        check_short("decided_by", decided_by)?;
        let now = db::micros(db::now());
        let status = match decision {
            ApprovalDecision::Approve => ApprovalStatus::Approved,
            ApprovalDecision::Reject => ApprovalStatus::Rejected,
        };
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE approvals SET status = $3, decided_by = $4, decided_at = $5, reason = $6 \
                         WHERE tenant = $1 AND id = $2 AND status = 'pending' AND expires_at > $5")
                .bind(self.t()).bind(id).bind(status.as_str()).bind(decided_by).bind(now).bind(reason)
                .execute(p).await?.rows_affected()
        });
        if n == 0 {
            self.expire_approvals(db::time(now)).await?;
            let cur = self.approval(id).await?;
            return Err(StoreError::conflict(format!("approval `{id}` is {}, not pending", cur.status)));
        }
        self.approval(id).await
    }

    /// Marks pending approvals whose time ran out as `expired`; returns how many.
    pub async fn expire_approvals(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(on_pool!(self.pool(), p => {
            sqlx::query("UPDATE approvals SET status = 'expired' WHERE tenant = $1 AND status = 'pending' AND expires_at <= $2")
                .bind(self.t()).bind(db::micros(now)).execute(p).await?.rows_affected()
        }))
    }
}
