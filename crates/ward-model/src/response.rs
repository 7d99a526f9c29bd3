//! Response records shared by the response engine (`ward-respond`), the state store that keeps
//! them (`ward-store`) and the API that shows them: actions, approvals, playbook runs and their
//! step journal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::TenantId;

crate::name_enum!(
    /// Every response action Ward can take.
    ActionKind, "action" {
        /// Drop traffic from an address (nftables set element).
        BlockIp = "block_ip",
        /// Remove an address from the block set.
        UnblockIp = "unblock_ip",
        /// Network-contain a host through the EDR.
        IsolateHost = "isolate_host",
        /// Lift an EDR containment.
        ReleaseHost = "release_host",
        /// Disable an identity-provider account.
        DisableUser = "disable_user",
        /// Re-enable an identity-provider account.
        EnableUser = "enable_user",
        /// Replace an authorized SSH key with a freshly generated one.
        RotateSshKey = "rotate_ssh_key",
        /// Start a decoy TCP listener.
        LaunchDecoy = "launch_decoy",
        /// Stop a decoy listener.
        StopDecoy = "stop_decoy",
        /// Chat message (Slack-compatible webhook; target = channel name).
        Notify = "notify",
        /// Jira issue.
        CreateTicket = "create_ticket",
        /// Generic HMAC-signed webhook.
        Webhook = "webhook",
        /// E-mail over SMTP.
        Email = "email",
    }
);

crate::name_enum!(
    /// How much harm a wrong action does; drives approval and requester rules.
    RiskClass, "risk class" {
        /// Informational side effects only.
        Low = "low",
        /// Reversible, limited blast radius.
        Medium = "medium",
        /// Cuts off hosts, users or traffic.
        High = "high",
    }
);

crate::name_enum!(
    /// Where an action is in its life.
    ActionStatus, "action status" {
        /// Waiting for a human.
        PendingApproval = "pending_approval",
        /// Refused (guard, policy, rejection, approval expiry).
        Denied = "denied",
        /// Recorded as a dry run; nothing changed.
        DryRun = "dry_run",
        /// Being executed.
        Running = "running",
        /// Executed but not (yet) verified.
        Executed = "executed",
        /// Executed and its effect verified.
        Verified = "verified",
        /// Execution or verification failed after every retry.
        Failed = "failed",
        /// Undone by a rollback.
        RolledBack = "rolled_back",
        /// Undone because its TTL elapsed.
        Expired = "expired",
        /// Withdrawn before it ran.
        Cancelled = "cancelled",
    }
);

impl ActionStatus {
    /// Whether the action's effect is (meant to be) in place.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Executed | Self::Verified)
    }
}

crate::name_enum!(
    /// Whether an execution touched the world.
    ExecMode, "execution mode" {
        /// Nothing changed.
        DryRun = "dry_run",
        /// Real.
        Real = "real",
    }
);

crate::name_enum!(
    /// Where an approval request is.
    ApprovalStatus, "approval status" {
        /// Waiting.
        Pending = "pending",
        /// Approved.
        Approved = "approved",
        /// Rejected.
        Rejected = "rejected",
        /// Nobody answered in time (counts as denied).
        Expired = "expired",
        /// Withdrawn.
        Cancelled = "cancelled",
    }
);

/// One action, from request to verification and rollback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// Deterministic: hash of tenant, decision id and action (the idempotency key).
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// The decision that produced it.
    pub decision_id: String,
    /// The incident it answers, if any.
    pub incident_id: Option<String>,
    /// What.
    pub kind: ActionKind,
    /// On what.
    pub target: String,
    /// Dry run or real.
    pub mode: ExecMode,
    /// Where it is.
    pub status: ActionStatus,
    /// Why it is there (last reason).
    pub reason: String,
    /// Who or what asked (`cli:root`, `policy`, `playbook:<run>`).
    pub requested_by: String,
    /// Risk class of the action.
    pub risk: RiskClass,
    /// Time to live, seconds (reversible actions).
    pub ttl_secs: Option<u64>,
    /// When Ward undoes it.
    pub expires_at: Option<DateTime<Utc>>,
    /// Execution attempts made.
    pub attempts: u32,
    /// Executor state needed for verification and rollback (never secrets).
    pub state: serde_json::Value,
    /// Policy version that decided it.
    pub policy_version: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When its effect was verified.
    pub verified_at: Option<DateTime<Utc>>,
}

/// A request for a human to approve an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// Id (equals the action id: one approval per action).
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// The action waiting.
    pub action_id: String,
    /// Where it is.
    pub status: ApprovalStatus,
    /// Who asked for the action.
    pub requested_by: String,
    /// Who answered.
    pub decided_by: Option<String>,
    /// Why it is needed, or the answer's reason.
    pub reason: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expiry (then denied).
    pub expires_at: DateTime<Utc>,
    /// When answered.
    pub decided_at: Option<DateTime<Utc>>,
}

crate::name_enum!(
    /// Where a playbook run is.
    RunStatus, "run status" {
        /// Executing (or to be resumed).
        Running = "running",
        /// Finished.
        Completed = "completed",
        /// A step failed; completed steps were rolled back.
        Failed = "failed",
    }
);

/// One durable playbook run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaybookRun {
    /// Id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Playbook name.
    pub playbook: String,
    /// Content hash of the playbook it started with.
    pub playbook_hash: String,
    /// The incident it runs on.
    pub incident_id: String,
    /// Run context (incident facts, entity values) used to fill step targets.
    pub context: serde_json::Value,
    /// Where it is.
    pub status: RunStatus,
    /// Why (the failing step and error, or "completed").
    pub reason: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

crate::name_enum!(
    /// A journaled step state.
    StepState, "step state" {
        /// Begun (an attempt is in flight).
        Started = "started",
        /// Done; never run again.
        Completed = "completed",
        /// Failed after every retry.
        Failed = "failed",
        /// Undone during on-failure rollback.
        RolledBack = "rolled_back",
    }
);

/// One journal line of a playbook run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Run.
    pub run_id: String,
    /// Step path (`block`, `fanout/0/tell`).
    pub step: String,
    /// State reached.
    pub state: StepState,
    /// Attempt number (1-based).
    pub attempt: u32,
    /// Output (action id, condition branch) or error.
    pub output: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}
