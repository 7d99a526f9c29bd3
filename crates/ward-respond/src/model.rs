//! The records response speaks: actions, approvals, decisions, audit entries and playbook runs.
//! They are what `ResponseRepo` persists and what the CLI and API print.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{Factor, TenantId};

pub use ward_model::response::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, ExecMode, PlaybookRun, RiskClass,
    RunStatus, StepRecord, StepState,
};

ward_model::name_enum!(
    /// Operating mode: how far automation may go.
    Mode, "mode" {
        /// Decide and record only.
        Monitor = "monitor",
        /// Every action needs a human approval.
        Assisted = "assisted",
        /// Allowed actions run without a human.
        Autonomous = "autonomous",
    }
);

ward_model::name_enum!(
    /// A policy's answer.
    Outcome, "decision" {
        /// Go ahead.
        Allow = "allow",
        /// Never.
        Deny = "deny",
        /// Only after a human says yes.
        RequireApproval = "require_approval",
    }
);

ward_model::name_enum!(
    /// Role of whoever approves, rejects or rolls back (mirrors the API's roles).
    Role, "role" {
        /// Everything.
        Admin = "admin",
        /// Reads and triages.
        Analyst = "analyst",
        /// Approves and runs responses.
        Responder = "responder",
        /// Reads only.
        Viewer = "viewer",
    }
);

/// A policy decision about one action on one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Deterministic for automated decisions (incident + action + target), random for manual ones.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// The incident it is about, if any.
    pub incident_id: Option<String>,
    /// The action.
    pub action: ActionKind,
    /// Its target (address, host id, user id, key comment, port, channel).
    pub target: String,
    /// The policy's (or a guard's) answer.
    pub outcome: Outcome,
    /// Why.
    pub reasons: Vec<String>,
    /// `version@hash` of the policy set.
    pub policy_version: String,
    /// Consolidated score given to the policy.
    pub score: f64,
    /// The score's provenance.
    pub factors: Vec<Factor>,
    /// The action record created for it.
    pub action_id: Option<String>,
}

/// One audit record; the store chains them by hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Owner.
    pub tenant: TenantId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (`policy`, `cli:root`, `user:alice`, `reconciler`).
    pub actor: String,
    /// What happened (`decision`, `guard.kill_switch`, `action.verified`, `approval.approved`, …).
    pub event: String,
    /// Object id (action, approval, run).
    pub subject: String,
    /// Details.
    pub detail: serde_json::Value,
}
