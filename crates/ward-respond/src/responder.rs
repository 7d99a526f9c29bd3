//! The `Responder`: every action — automated from an incident, from a playbook, or asked for on
//! the command line — goes through the same path: target check, kill switch, protected assets,
//! ranges, policy, operating mode, approval, rate limit, idempotent execution with retries,
//! verification, metrics and audit. Rollback, approvals and the kill switch live here too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{AlertRecord, Factor, Incident, Severity, TenantId};

use crate::config::RespondConfig;
use crate::exec::{ActionError, ExecContext, Executor, Executors};
use crate::fusion::{Fused, fuse};
use crate::guards::{Guards, Refusal};
use crate::model::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, AuditEntry, Decision, ExecMode,
    Mode, Outcome, RiskClass, Role,
};
use crate::policy::{PolicyError, PolicyInput, PolicySet};
use crate::repo::{RepoError, ResponseRepo};
use crate::{Clock, hash_id, random_id};

/// The settings key of the kill switch (`on` / `off`).
pub const KILL_SWITCH_KEY: &str = "respond.kill_switch";

/// A responder failure (refusals are not errors: they are results with status `denied`).
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// The store failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The policy failed.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// No such action/approval for this tenant.
    #[error("{what} {id} not found")]
    NotFound {
        /// `action` or `approval`.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The request is not allowed in the object's state or for this user.
    #[error("{0}")]
    Conflict(String),
    /// The user's role may not do this.
    #[error("{0}")]
    Forbidden(String),
}

/// Who asked for an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The decision pipeline.
    Automated,
    /// An operator (CLI/API).
    Manual,
    /// A playbook step.
    Playbook,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Self::Automated => "automated",
            Self::Manual => "manual",
            Self::Playbook => "playbook",
        }
    }
}

/// One request for an action.
#[derive(Clone, Debug)]
pub struct ActionRequest {
    /// Owner.
    pub tenant: TenantId,
    /// What.
    pub kind: ActionKind,
    /// On what.
    pub target: String,
    /// TTL (default from config, escalated for repeat offenders).
    pub ttl: Option<Duration>,
    /// Record only.
    pub dry_run: bool,
    /// Who asked.
    pub origin: Origin,
    /// Actor name (`cli:root`, `user:alice`, `policy`, `playbook:<run>`).
    pub requested_by: String,
    /// Idempotency: the same decision id and action give the same action record.
    pub decision_id: Option<String>,
    /// The incident, if any.
    pub incident_id: Option<String>,
    /// Consolidated score given to the policy.
    pub score: f64,
    /// Asset criticality given to the policy.
    pub criticality: Option<String>,
    /// Incident severity given to the policy.
    pub severity: Option<Severity>,
    /// Notification text.
    pub message: String,
    /// Score provenance (recorded with the decision).
    pub factors: Vec<Factor>,
    /// Ask a human even when the policy allows (playbook `wait_for_approval`).
    pub force_approval: bool,
}

impl ActionRequest {
    /// An operator's request with neutral score and no incident.
    pub fn manual(
        tenant: TenantId,
        kind: ActionKind,
        target: impl Into<String>,
        actor: impl Into<String>,
    ) -> Self {
        Self {
            tenant,
            kind,
            target: target.into(),
            ttl: None,
            dry_run: false,
            origin: Origin::Manual,
            requested_by: actor.into(),
            decision_id: None,
            incident_id: None,
            score: 0.0,
            criticality: None,
            severity: None,
            message: String::new(),
            factors: Vec::new(),
            force_approval: false,
        }
    }
}

/// What a request, approval or rollback came to (the CLI's `{"id","status","reason"}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionResult {
    /// Action id.
    pub id: String,
    /// Status reached.
    pub status: ActionStatus,
    /// Why.
    pub reason: String,
}

impl From<&ActionRecord> for ActionResult {
    fn from(a: &ActionRecord) -> Self {
        Self { id: a.id.clone(), status: a.status, reason: a.reason.clone() }
    }
}

/// What one reconciler pass did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReconcileReport {
    /// Active actions checked.
    pub checked: usize,
    /// Undone because their TTL elapsed.
    pub expired: usize,
    /// Found not in effect.
    pub drifted: usize,
    /// Drift repaired.
    pub repaired: usize,
    /// Drift or expiry that could not be fixed (alerted).
    pub failed: usize,
    /// Approvals that expired.
    pub approvals_expired: usize,
    /// Actions a stopped process left `running`, completed by the start-up sweep.
    pub resumed: usize,
    /// Actions left `pending_approval` without their approval request, reopened at start-up.
    pub approvals_reopened: usize,
}

/// The decision-and-response engine.
pub struct Responder {
    config: RespondConfig,
    policies: Arc<PolicySet>,
    repo: Arc<dyn ResponseRepo>,
    executors: Executors,
    guards: Guards,
    clock: Arc<dyn Clock>,
}

impl Responder {
    /// Builds a responder from its parts (the binary picks the repo and the executors).
    pub fn new(
        config: RespondConfig,
        policies: Arc<PolicySet>,
        repo: Arc<dyn ResponseRepo>,
        executors: Executors,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let guards = Guards::new(&config.guards);
        Self { config, policies, repo, executors, guards, clock }
    }

    /// The store.
    pub fn repo(&self) -> &Arc<dyn ResponseRepo> {
        &self.repo
    }

    /// The policy set's `version@hash`.
    pub fn policy_version(&self) -> &str {
        self.policies.version()
    }

    /// The operating mode.
    pub fn mode(&self) -> Mode {
        self.config.mode
    }

    /// Fuses an incident's signals, asks the policy which actions its score calls for, and
    /// requests each on the incident's entities. Idempotent: the same incident yields the same
    /// decision ids, so replays do not act twice.
    ///
    /// # Errors
    /// Store or policy failure.
    pub async fn on_incident(
        &self,
        incident: &Incident,
        alerts: &[AlertRecord],
    ) -> Result<Vec<Decision>, RespondError> {
        let fused = fuse(&self.config.fusion, incident, alerts);
        let base = self.policy_input(
            ActionKind::Notify,
            "",
            fused.score,
            fused.criticality.as_deref(),
            Some(incident.severity),
            Origin::Automated,
        );
        let recommended = self.policies.recommended(&base)?;
        if recommended.is_empty() {
            self.audit(
                &incident.tenant,
                "policy",
                "decision.monitor",
                &incident.id,
                serde_json::json!({
                    "score": fused.score, "factors": fused.factors(), "policy_version": self.policy_version(),
                }),
            )
            .await?;
        }
        let mut decisions = Vec::new();
        for name in recommended {
            let Ok(kind) = name.parse::<ActionKind>() else {
                self.audit(
                    &incident.tenant,
                    "policy",
                    "decision.unknown_action",
                    &incident.id,
                    serde_json::json!({"action": name}),
                )
                .await?;
                continue;
            };
            for target in self.targets(kind, incident) {
                decisions.push(self.decide_for_incident(incident, &fused, kind, target).await?);
            }
        }
        Ok(decisions)
    }

    async fn decide_for_incident(
        &self,
        incident: &Incident,
        fused: &Fused,
        kind: ActionKind,
        target: String,
    ) -> Result<Decision, RespondError> {
        let decision_id = hash_id(&[incident.tenant.as_str(), &incident.id, kind.as_str(), &target]);
        let message = format!(
            "Ward incident {} ({}, score {:.2}): {} → {kind} {target}",
            incident.id, incident.severity, fused.score, incident.title
        );
        let request = ActionRequest {
            tenant: incident.tenant.clone(),
            kind,
            target: target.clone(),
            ttl: None,
            dry_run: false,
            origin: Origin::Automated,
            requested_by: "policy".into(),
            decision_id: Some(decision_id.clone()),
            incident_id: Some(incident.id.clone()),
            score: fused.score,
            criticality: fused.criticality.clone(),
            severity: Some(incident.severity),
            message,
            factors: fused.factors(),
            force_approval: false,
        };
        let (result, outcome, reasons) = self.request_inner(&request).await?;
        Ok(Decision {
            id: decision_id,
            tenant: incident.tenant.clone(),
            incident_id: Some(incident.id.clone()),
            action: kind,
            target,
            outcome,
            reasons,
            policy_version: self.policy_version().to_owned(),
            score: fused.score,
            factors: fused.factors(),
            action_id: Some(result.id),
        })
    }

    /// The targets an action takes from an incident's entities (at most 16 each).
    fn targets(&self, kind: ActionKind, incident: &Incident) -> Vec<String> {
        let fields: &[&str] = match kind {
            ActionKind::BlockIp => &["source.ip"],
            ActionKind::IsolateHost => &["host.id", "agent.id"],
            ActionKind::DisableUser => &["user.id"],
            ActionKind::RotateSshKey => &["user.name"],
            ActionKind::LaunchDecoy => return vec![self.config.decoy.port.to_string()],
            ActionKind::Notify | ActionKind::CreateTicket | ActionKind::Webhook | ActionKind::Email => {
                return vec!["security".into()];
            }
            _ => &[],
        };
        let values = fields.iter().flat_map(|f| incident.entities.get(*f).into_iter().flatten());
        values.take(16).cloned().collect()
    }

    fn policy_input(
        &self,
        kind: ActionKind,
        target: &str,
        score: f64,
        criticality: Option<&str>,
        severity: Option<Severity>,
        origin: Origin,
    ) -> PolicyInput {
        let risk = self.executors.get(kind).map(|e| e.risk()).unwrap_or(RiskClass::High);
        PolicyInput {
            action: kind.as_str().into(),
            risk: risk.as_str().into(),
            target: target.into(),
            score,
            criticality: criticality.unwrap_or("").into(),
            origin: origin.as_str().into(),
            severity: severity.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        }
    }

    /// Requests one action (CLI, API, playbooks): the same path as automated actions.
    ///
    /// # Errors
    /// Store or policy failure (refusals come back as `denied` results).
    pub async fn request(&self, request: &ActionRequest) -> Result<ActionResult, RespondError> {
        Ok(self.request_inner(request).await?.0)
    }

    async fn request_inner(
        &self,
        req: &ActionRequest,
    ) -> Result<(ActionResult, Outcome, Vec<String>), RespondError> {
        let now = self.clock.now();
        let decision_id = req.decision_id.clone().unwrap_or_else(random_id);
        let id = hash_id(&[req.tenant.as_str(), &decision_id, req.kind.as_str()]);
        if let Some(existing) = self.repo.action(&req.tenant, &id).await? {
            return Ok((
                ActionResult::from(&existing),
                Outcome::Allow,
                vec!["already decided (idempotent)".into()],
            ));
        }
        let executor = self.executors.get(req.kind).cloned();
        let risk = executor.as_ref().map(|e| e.risk()).unwrap_or(RiskClass::High);
        let ttl = match &executor {
            Some(e) if e.reversible() && e.inverse().is_some() => Some(self.ttl_for(req).await?),
            _ => None,
        };
        let mut record = ActionRecord {
            id,
            tenant: req.tenant.clone(),
            decision_id,
            incident_id: req.incident_id.clone(),
            kind: req.kind,
            target: req.target.clone(),
            mode: if req.dry_run { ExecMode::DryRun } else { ExecMode::Real },
            status: ActionStatus::Denied,
            reason: String::new(),
            requested_by: req.requested_by.clone(),
            risk,
            ttl_secs: ttl.map(|d| d.as_secs()),
            expires_at: None,
            attempts: 0,
            state: serde_json::Value::Null,
            policy_version: self.policy_version().to_owned(),
            created_at: now,
            updated_at: now,
            verified_at: None,
        };
        // Guards first: they hold whatever the policy says.
        let refusal = match &executor {
            None => Some(Refusal::Invalid(format!("{}: no executor configured", req.kind))),
            Some(e) => match e.validate(&req.target) {
                Err(err) => Some(Refusal::Invalid(err.to_string())),
                Ok(()) if self.kill_switch().await? => Some(Refusal::KillSwitch),
                Ok(()) => self.guards.check_target(req.kind, &req.target).err(),
            },
        };
        if let Some(refusal) = refusal {
            let reasons = vec![refusal.to_string()];
            record.reason = refusal.to_string();
            self.store_new(&record).await?;
            self.audit(
                &req.tenant,
                &req.requested_by,
                &format!("guard.{}", refusal.code()),
                &record.id,
                serde_json::json!({
                    "action": req.kind, "target": req.target, "reason": record.reason,
                }),
            )
            .await?;
            self.count(&record);
            return Ok((ActionResult::from(&record), Outcome::Deny, reasons));
        }
        let input = self.policy_input(
            req.kind,
            &req.target,
            req.score,
            req.criticality.as_deref(),
            req.severity,
            req.origin,
        );
        let policy = self.policies.decide(&input)?;
        let mut outcome = policy.outcome;
        let mut reasons = policy.reasons.clone();
        if outcome == Outcome::Allow && self.config.mode == Mode::Assisted {
            outcome = Outcome::RequireApproval;
            reasons.push("assisted mode: every action needs approval".into());
        }
        if outcome == Outcome::Allow && req.force_approval {
            outcome = Outcome::RequireApproval;
            reasons.push("the requester asked for a human approval".into());
        }
        self.audit(
            &req.tenant,
            &req.requested_by,
            "decision",
            &record.id,
            serde_json::json!({
                "action": req.kind, "target": req.target, "outcome": outcome, "reasons": reasons,
                "policy_version": self.policy_version(), "score": req.score, "factors": req.factors,
                "incident_id": req.incident_id, "dry_run": req.dry_run,
            }),
        )
        .await?;
        record.reason = reasons.join("; ");
        match outcome {
            Outcome::Deny => {
                record.status = ActionStatus::Denied;
                self.store_new(&record).await?;
            }
            _ if self.config.mode == Mode::Monitor && !req.dry_run => {
                record.status = ActionStatus::Denied;
                record.reason = format!("monitor mode: decision recorded ({outcome}), nothing executed");
                self.store_new(&record).await?;
            }
            _ if req.dry_run => {
                record.status = ActionStatus::DryRun;
                record.reason = format!("dry run: policy says {outcome} ({})", reasons.join("; "));
                self.store_new(&record).await?;
            }
            Outcome::RequireApproval => {
                record.status = ActionStatus::PendingApproval;
                self.store_new(&record).await?;
                self.open_approval(&record, &req.message).await?;
            }
            Outcome::Allow => {
                // Stored as `running` before anything happens: a process that stops between here
                // and the verification leaves an action `resume_action` completes.
                record.status = ActionStatus::Running;
                if !self.store_new(&record).await? {
                    return Ok((ActionResult::from(&record), outcome, reasons));
                }
                record = self.execute(record, &req.message).await?;
            }
        }
        self.count(&record);
        Ok((ActionResult::from(&record), outcome, reasons))
    }

    /// TTL: the request's, else the default multiplied for each earlier block of the target.
    async fn ttl_for(&self, req: &ActionRequest) -> Result<Duration, RespondError> {
        if let Some(ttl) = req.ttl {
            return Ok(ttl);
        }
        let earlier = self
            .repo
            .actions_on(
                &req.tenant,
                req.kind,
                &req.target,
                &[
                    ActionStatus::Verified,
                    ActionStatus::Executed,
                    ActionStatus::Expired,
                    ActionStatus::RolledBack,
                ],
            )
            .await?
            .iter()
            .filter(|a| a.mode == ExecMode::Real)
            .count();
        let factor =
            u64::from(self.config.repeat_offender_factor.max(1)).saturating_pow(earlier.min(16) as u32);
        Ok(Duration::from_secs(
            self.config.default_ttl_secs.saturating_mul(factor).min(self.config.max_ttl_secs),
        ))
    }

    async fn store_new(&self, record: &ActionRecord) -> Result<bool, RespondError> {
        Ok(self.repo.insert_action(record).await?.1)
    }

    async fn open_approval(&self, record: &ActionRecord, message: &str) -> Result<(), RespondError> {
        let now = self.clock.now();
        let approval = ApprovalRecord {
            id: record.id.clone(),
            tenant: record.tenant.clone(),
            action_id: record.id.clone(),
            status: ApprovalStatus::Pending,
            requested_by: record.requested_by.clone(),
            decided_by: None,
            reason: record.reason.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::seconds(self.config.approvals.expire_after_secs as i64),
            decided_at: None,
        };
        self.repo.put_approval(&approval).await?;
        self.audit(&record.tenant, &record.requested_by, "approval.requested", &approval.id, serde_json::json!({
            "action": record.kind, "target": record.target, "reason": record.reason, "expires_at": approval.expires_at,
        }))
        .await?;
        self.notify_approvers(record, message).await
    }

    /// Tells approvers through the configured channel; a failure is audited, not fatal.
    async fn notify_approvers(&self, record: &ActionRecord, message: &str) -> Result<(), RespondError> {
        let Some(channel) = &self.config.approvals.notify_channel else { return Ok(()) };
        let Some(executor) = self.executors.get(ActionKind::Notify).cloned() else { return Ok(()) };
        let ctx = ExecContext {
            tenant: record.tenant.clone(),
            action_id: format!("{}-approval", record.id),
            kind: ActionKind::Notify,
            target: channel.clone(),
            ttl: None,
            incident_id: record.incident_id.clone(),
            message: format!(
                "approval needed for {} {} ({}): {message}",
                record.kind, record.target, record.reason
            ),
        };
        let outcome = executor.execute(&ctx).await;
        self.audit(
            &record.tenant,
            "responder",
            "approval.notified",
            &record.id,
            serde_json::json!({
                "channel": channel, "ok": outcome.is_ok(), "error": outcome.err().map(|e| e.to_string()),
            }),
        )
        .await
        .map_err(Into::into)
    }

    fn context(&self, record: &ActionRecord, message: &str) -> ExecContext {
        ExecContext {
            tenant: record.tenant.clone(),
            action_id: record.id.clone(),
            kind: record.kind,
            target: record.target.clone(),
            ttl: record.ttl_secs.map(Duration::from_secs),
            incident_id: record.incident_id.clone(),
            message: message.to_owned(),
        }
    }

    /// Executes an allowed/approved action: rate limit, retries with backoff, verification.
    async fn execute(&self, mut record: ActionRecord, message: &str) -> Result<ActionRecord, RespondError> {
        let started = Instant::now();
        let Some(executor) = self.executors.get(record.kind).cloned() else {
            return self.finish(record, ActionStatus::Failed, "no executor configured".into()).await;
        };
        if self.kill_switch().await? {
            return self.refuse(record, Refusal::KillSwitch).await;
        }
        if let Err(refusal) = self.guards.take_rate(record.kind, self.clock.now()) {
            return self.refuse(record, refusal).await;
        }
        record.status = ActionStatus::Running;
        self.repo.update_action(&record).await?;
        let ctx = self.context(&record, message);
        let mut last_error = String::new();
        let mut backoff = Duration::from_millis(self.config.retry_backoff_ms);
        while record.attempts < self.config.max_attempts {
            record.attempts += 1;
            match run_and_verify(executor.as_ref(), &ctx).await {
                Ok((state, true)) => {
                    let now = self.clock.now();
                    record.state = state;
                    record.verified_at = Some(now);
                    record.expires_at = record.ttl_secs.map(|s| now + chrono::Duration::seconds(s as i64));
                    metrics::histogram!("ward_action_latency_seconds", "action" => record.kind.as_str())
                        .record((now - record.created_at).to_std().unwrap_or_default().as_secs_f64());
                    let reason = format!(
                        "{} verified after {} attempt(s) in {:?}",
                        record.kind,
                        record.attempts,
                        started.elapsed()
                    );
                    return self.finish(record, ActionStatus::Verified, reason).await;
                }
                Ok((state, false)) => {
                    record.state = state;
                    last_error = "executed but verification found no effect".into();
                }
                Err(e) => {
                    last_error = e.to_string();
                    if !e.is_transient() {
                        break;
                    }
                }
            }
            if record.attempts < self.config.max_attempts {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
            }
        }
        tracing::error!(action = %record.kind, id = %record.id, error = %last_error, "action failed");
        self.finish(record, ActionStatus::Failed, last_error).await
    }

    async fn refuse(&self, record: ActionRecord, refusal: Refusal) -> Result<ActionRecord, RespondError> {
        self.audit(
            &record.tenant,
            &record.requested_by,
            &format!("guard.{}", refusal.code()),
            &record.id,
            serde_json::json!({
                "action": record.kind, "target": record.target, "reason": refusal.to_string(),
            }),
        )
        .await?;
        self.finish(record, ActionStatus::Denied, refusal.to_string()).await
    }

    async fn finish(
        &self,
        mut record: ActionRecord,
        status: ActionStatus,
        reason: String,
    ) -> Result<ActionRecord, RespondError> {
        record.status = status;
        record.reason = reason;
        record.updated_at = self.clock.now();
        self.repo.update_action(&record).await?;
        self.audit(&record.tenant, &record.requested_by, &format!("action.{status}"), &record.id, serde_json::json!({
            "action": record.kind, "target": record.target, "mode": record.mode, "attempts": record.attempts,
            "reason": record.reason, "expires_at": record.expires_at,
        }))
        .await?;
        Ok(record)
    }

    fn count(&self, record: &ActionRecord) {
        metrics::counter!("ward_actions_total", "action" => record.kind.as_str(), "status" => record.status.as_str()).increment(1);
    }

    /// Re-executes an action left `running` by a process that stopped mid-execution (executors
    /// are idempotent per action id, so this completes it without doubling its effect).
    ///
    /// # Errors
    /// Not found, not running, or store failure.
    pub async fn resume_action(
        &self,
        tenant: &TenantId,
        id: &str,
        message: &str,
    ) -> Result<ActionResult, RespondError> {
        let mut record = self.action(tenant, id).await?;
        if record.status != ActionStatus::Running {
            return Ok(ActionResult::from(&record));
        }
        record.attempts = 0;
        let done = self.execute(record, message).await?;
        self.count(&done);
        Ok(ActionResult::from(&done))
    }

    /// Approves a pending action and executes it.
    ///
    /// # Errors
    /// Not found, not pending, expired, wrong role, or the requester approving a high-risk action.
    pub async fn approve(
        &self,
        tenant: &TenantId,
        id: &str,
        actor: &str,
        role: Role,
    ) -> Result<ActionResult, RespondError> {
        let (mut approval, record) = self.pending(tenant, id, actor, role).await?;
        if record.risk == RiskClass::High && record.requested_by == actor {
            self.audit(
                tenant,
                actor,
                "approval.refused",
                id,
                serde_json::json!({"reason": "requester may not approve a high-risk action"}),
            )
            .await?;
            return Err(RespondError::Forbidden(format!(
                "{actor} requested this high-risk action and may not approve it"
            )));
        }
        approval.status = ApprovalStatus::Approved;
        approval.decided_by = Some(actor.to_owned());
        approval.decided_at = Some(self.clock.now());
        self.repo.put_approval(&approval).await?;
        self.audit(
            tenant,
            actor,
            "approval.approved",
            id,
            serde_json::json!({"action": record.kind, "target": record.target}),
        )
        .await?;
        let done = self.execute(record, "approved").await?;
        self.count(&done);
        Ok(ActionResult::from(&done))
    }

    /// Rejects a pending action (it becomes `denied`).
    ///
    /// # Errors
    /// Not found, not pending, expired or wrong role.
    pub async fn reject(
        &self,
        tenant: &TenantId,
        id: &str,
        actor: &str,
        role: Role,
        reason: &str,
    ) -> Result<ActionResult, RespondError> {
        let (approval, record) = self.pending(tenant, id, actor, role).await?;
        self.close_approval(
            approval,
            record,
            ApprovalStatus::Rejected,
            actor,
            format!("rejected by {actor}: {reason}"),
        )
        .await
    }

    /// Withdraws a pending action (the requester, a responder or an admin).
    ///
    /// # Errors
    /// Not found, not pending, or someone else without the role.
    pub async fn cancel(
        &self,
        tenant: &TenantId,
        id: &str,
        actor: &str,
        role: Role,
    ) -> Result<ActionResult, RespondError> {
        let approval = self
            .repo
            .approval(tenant, id)
            .await?
            .ok_or_else(|| RespondError::NotFound { what: "approval", id: id.into() })?;
        if approval.requested_by != actor && !matches!(role, Role::Admin | Role::Responder) {
            return Err(RespondError::Forbidden(format!("{actor} may not cancel another user's request")));
        }
        let (approval, record) = self.pending(tenant, id, actor, Role::Admin).await?;
        self.close_approval(
            approval,
            record,
            ApprovalStatus::Cancelled,
            actor,
            format!("cancelled by {actor}"),
        )
        .await
    }

    async fn pending(
        &self,
        tenant: &TenantId,
        id: &str,
        actor: &str,
        role: Role,
    ) -> Result<(ApprovalRecord, ActionRecord), RespondError> {
        if !matches!(role, Role::Admin | Role::Responder) {
            self.audit(
                tenant,
                actor,
                "approval.refused",
                id,
                serde_json::json!({"reason": format!("role {role}")}),
            )
            .await?;
            return Err(RespondError::Forbidden(format!(
                "role {role} may not answer approvals (responder or admin)"
            )));
        }
        let approval = self
            .repo
            .approval(tenant, id)
            .await?
            .ok_or_else(|| RespondError::NotFound { what: "approval", id: id.into() })?;
        let record = self
            .repo
            .action(tenant, &approval.action_id)
            .await?
            .ok_or_else(|| RespondError::NotFound { what: "action", id: approval.action_id.clone() })?;
        if approval.status != ApprovalStatus::Pending {
            return Err(RespondError::Conflict(format!("approval {id} is {}, not pending", approval.status)));
        }
        if approval.expires_at <= self.clock.now() {
            self.close_approval(
                approval,
                record,
                ApprovalStatus::Expired,
                "responder",
                "approval expired".into(),
            )
            .await?;
            return Err(RespondError::Conflict(format!("approval {id} expired")));
        }
        Ok((approval, record))
    }

    async fn close_approval(
        &self,
        mut approval: ApprovalRecord,
        record: ActionRecord,
        status: ApprovalStatus,
        actor: &str,
        reason: String,
    ) -> Result<ActionResult, RespondError> {
        approval.status = status;
        approval.decided_by = Some(actor.to_owned());
        approval.decided_at = Some(self.clock.now());
        approval.reason = reason.clone();
        self.repo.put_approval(&approval).await?;
        self.audit(
            &approval.tenant,
            actor,
            &format!("approval.{status}"),
            &approval.id,
            serde_json::json!({"reason": reason}),
        )
        .await?;
        let action_status =
            if status == ApprovalStatus::Cancelled { ActionStatus::Cancelled } else { ActionStatus::Denied };
        let done = self.finish(record, action_status, reason).await?;
        self.count(&done);
        Ok(ActionResult::from(&done))
    }

    /// Expires every pending approval past its deadline (expired = denied, recorded).
    ///
    /// # Errors
    /// Store failure.
    pub async fn expire_approvals(&self) -> Result<usize, RespondError> {
        let now = self.clock.now();
        let mut expired = 0;
        for approval in self.repo.pending_approvals().await? {
            if approval.expires_at > now {
                continue;
            }
            if let Some(record) = self.repo.action(&approval.tenant, &approval.action_id).await? {
                self.close_approval(
                    approval,
                    record,
                    ApprovalStatus::Expired,
                    "responder",
                    "approval expired: denied".into(),
                )
                .await?;
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Runs an action's inverse and verifies it.
    ///
    /// # Errors
    /// Not found, or not in a state that can be rolled back.
    pub async fn rollback(
        &self,
        tenant: &TenantId,
        id: &str,
        actor: &str,
    ) -> Result<ActionResult, RespondError> {
        let record = self
            .repo
            .action(tenant, id)
            .await?
            .ok_or_else(|| RespondError::NotFound { what: "action", id: id.into() })?;
        if !matches!(record.status, ActionStatus::Verified | ActionStatus::Executed | ActionStatus::Failed)
            || record.mode == ExecMode::DryRun
        {
            return Err(RespondError::Conflict(format!(
                "action {id} is {} ({}); nothing to roll back",
                record.status, record.mode
            )));
        }
        self.undo(record, actor, ActionStatus::RolledBack).await
    }

    /// Rolls back every active action of an incident.
    ///
    /// # Errors
    /// Store failure (each action's own failure is in its result).
    pub async fn rollback_incident(
        &self,
        tenant: &TenantId,
        incident_id: &str,
        actor: &str,
    ) -> Result<Vec<ActionResult>, RespondError> {
        let mut results = Vec::new();
        for record in self.repo.actions(tenant, &[ActionStatus::Verified, ActionStatus::Executed]).await? {
            if record.incident_id.as_deref() == Some(incident_id) && record.mode == ExecMode::Real {
                results.push(self.undo(record, actor, ActionStatus::RolledBack).await?);
            }
        }
        Ok(results)
    }

    async fn undo(
        &self,
        record: ActionRecord,
        actor: &str,
        to: ActionStatus,
    ) -> Result<ActionResult, RespondError> {
        let Some(executor) = self.executors.get(record.kind).cloned() else {
            return Err(RespondError::Conflict(format!("no executor for {}", record.kind)));
        };
        if !executor.reversible() {
            self.audit(
                &record.tenant,
                actor,
                "rollback.irreversible",
                &record.id,
                serde_json::json!({"action": record.kind}),
            )
            .await?;
            return Ok(ActionResult {
                id: record.id,
                status: record.status,
                reason: format!("{} cannot be undone; nothing changed", record.kind),
            });
        }
        let ctx = self.context(&record, "rollback");
        let mut last = String::new();
        for attempt in 0..self.config.max_attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(self.config.retry_backoff_ms << attempt.min(8)))
                    .await;
            }
            match undo_and_verify(executor.as_ref(), &ctx, &record.state).await {
                Ok(true) => {
                    let done = record;
                    let reason = format!("{to} by {actor}, verified");
                    let done = self.finish_as(done, to, reason, actor).await?;
                    self.count(&done);
                    return Ok(ActionResult::from(&done));
                }
                Ok(false) => last = "inverse ran but the effect is still in place".into(),
                Err(e) => last = e.to_string(),
            }
        }
        self.audit(&record.tenant, actor, "rollback.failed", &record.id, serde_json::json!({"error": last}))
            .await?;
        metrics::counter!("ward_actions_total", "action" => record.kind.as_str(), "status" => "rollback_failed").increment(1);
        tracing::error!(action = %record.kind, id = %record.id, error = %last, "rollback failed");
        Ok(ActionResult {
            id: record.id,
            status: ActionStatus::Failed,
            reason: format!("rollback failed: {last}"),
        })
    }

    async fn finish_as(
        &self,
        mut record: ActionRecord,
        status: ActionStatus,
        reason: String,
        actor: &str,
    ) -> Result<ActionRecord, RespondError> {
        record.status = status;
        record.reason = reason;
        record.updated_at = self.clock.now();
        self.repo.update_action(&record).await?;
        self.audit(
            &record.tenant,
            actor,
            &format!("action.{status}"),
            &record.id,
            serde_json::json!({
                "action": record.kind, "target": record.target, "reason": record.reason,
            }),
        )
        .await?;
        Ok(record)
    }

    /// Whether the kill switch is on (persisted in the store, so every process sees it).
    ///
    /// # Errors
    /// Store failure.
    pub async fn kill_switch(&self) -> Result<bool, RespondError> {
        Ok(self.repo.setting(KILL_SWITCH_KEY).await?.as_deref() == Some("on"))
    }

    /// Turns the kill switch on or off, audited (the function the API and CLI call).
    ///
    /// # Errors
    /// Store failure.
    pub async fn set_kill_switch(
        &self,
        tenant: &TenantId,
        on: bool,
        actor: &str,
    ) -> Result<(), RespondError> {
        self.repo.set_setting(KILL_SWITCH_KEY, if on { "on" } else { "off" }).await?;
        self.audit(
            tenant,
            actor,
            if on { "killswitch.on" } else { "killswitch.off" },
            KILL_SWITCH_KEY,
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }

    /// One reconciler pass: expires approvals, undoes actions past their TTL, re-verifies the
    /// rest and repairs drift (re-executes), alerting (audit + metric + error log) when it cannot.
    ///
    /// # Errors
    /// Store failure.
    pub async fn reconcile(&self) -> Result<ReconcileReport, RespondError> {
        let mut report =
            ReconcileReport { approvals_expired: self.expire_approvals().await?, ..Default::default() };
        let now = self.clock.now();
        for record in self.repo.active_actions().await? {
            if record.mode != ExecMode::Real {
                continue;
            }
            let Some(executor) = self.executors.get(record.kind).cloned() else { continue };
            report.checked += 1;
            let ctx = self.context(&record, "reconcile");
            if record.expires_at.is_some_and(|t| t <= now) {
                let result = self.undo(record, "reconciler", ActionStatus::Expired).await?;
                if result.status == ActionStatus::Expired {
                    report.expired += 1;
                } else {
                    report.failed += 1;
                }
                continue;
            }
            if executor.verify(&ctx, &record.state).await.unwrap_or(false) {
                continue;
            }
            report.drifted += 1;
            metrics::counter!("ward_actions_drift_total", "action" => record.kind.as_str()).increment(1);
            self.audit(
                &record.tenant,
                "reconciler",
                "action.drift",
                &record.id,
                serde_json::json!({"action": record.kind, "target": record.target}),
            )
            .await?;
            match run_and_verify(executor.as_ref(), &ctx).await {
                Ok((_, true)) => {
                    report.repaired += 1;
                    self.audit(
                        &record.tenant,
                        "reconciler",
                        "action.repaired",
                        &record.id,
                        serde_json::json!({}),
                    )
                    .await?;
                }
                other => {
                    report.failed += 1;
                    let why =
                        other.err().map(|e| e.to_string()).unwrap_or_else(|| "repair did not verify".into());
                    tracing::error!(action = %record.kind, id = %record.id, error = %why, "drift not repaired");
                    let done = self
                        .finish(record, ActionStatus::Failed, format!("drift not repaired: {why}"))
                        .await?;
                    self.count(&done);
                }
            }
        }
        Ok(report)
    }

    /// The start-up sweep: completes the actions a stopped process left `running` (executors
    /// are idempotent per action, so an effect already in place is only verified) and reopens
    /// the approval request of actions left `pending_approval` without one. Actions a playbook
    /// requested are left to the playbook runner, which resumes its runs.
    ///
    /// # Errors
    /// Store failure.
    pub async fn resume_interrupted(&self) -> Result<ReconcileReport, RespondError> {
        let mut report = ReconcileReport::default();
        let left =
            self.repo.actions_with_status(&[ActionStatus::Running, ActionStatus::PendingApproval]).await?;
        for record in left.into_iter().filter(|r| !r.requested_by.starts_with("playbook:")) {
            if record.status == ActionStatus::Running {
                self.audit(
                    &record.tenant,
                    "responder",
                    "action.resumed",
                    &record.id,
                    serde_json::json!({
                        "action": record.kind, "target": record.target, "attempts": record.attempts,
                    }),
                )
                .await?;
                let done = self.resume_action(&record.tenant, &record.id, "resumed after a restart").await?;
                tracing::info!(action = %record.kind, id = %record.id, status = %done.status, "interrupted action resumed");
                report.resumed += 1;
            } else if self.repo.approval(&record.tenant, &record.id).await?.is_none() {
                self.open_approval(&record, "approval request reopened after a restart").await?;
                report.approvals_reopened += 1;
            }
        }
        Ok(report)
    }

    /// Runs [`Responder::resume_interrupted`] once, then [`Responder::reconcile`] every `every`
    /// until the task is aborted.
    pub fn spawn_reconciler(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            match self.resume_interrupted().await {
                Ok(r) if r.resumed + r.approvals_reopened > 0 => {
                    tracing::warn!(
                        resumed = r.resumed,
                        approvals_reopened = r.approvals_reopened,
                        "finished interrupted actions"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "resuming interrupted actions failed"),
            }
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = self.reconcile().await {
                    tracing::error!(error = %e, "reconciler pass failed");
                }
            }
        })
    }

    /// One action of a tenant.
    ///
    /// # Errors
    /// Store failure or not found.
    pub async fn action(&self, tenant: &TenantId, id: &str) -> Result<ActionRecord, RespondError> {
        self.repo
            .action(tenant, id)
            .await?
            .ok_or_else(|| RespondError::NotFound { what: "action", id: id.into() })
    }

    pub(crate) async fn audit(
        &self,
        tenant: &TenantId,
        actor: &str,
        event: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), RepoError> {
        let entry = AuditEntry {
            tenant: tenant.clone(),
            at: self.clock.now(),
            actor: actor.into(),
            event: event.into(),
            subject: subject.into(),
            detail,
        };
        self.repo.audit(&entry).await
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

async fn run_and_verify(
    executor: &dyn Executor,
    ctx: &ExecContext,
) -> Result<(serde_json::Value, bool), ActionError> {
    let state = executor.execute(ctx).await?;
    let ok = executor.verify(ctx, &state).await?;
    Ok((state, ok))
}

async fn undo_and_verify(
    executor: &dyn Executor,
    ctx: &ExecContext,
    state: &serde_json::Value,
) -> Result<bool, ActionError> {
    executor.undo(ctx, state).await?;
    executor.verify_undone(ctx, state).await
}
