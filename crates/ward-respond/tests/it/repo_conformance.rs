//! The `ResponseRepo` conformance suite, run against every adapter (memory, SQLite, PostgreSQL):
//! idempotent actions updated as whole records, approvals (incl. cancelled) gating existing
//! actions, the kill-switch setting, playbook runs and their journal in append order, the
//! cross-tenant scans of the background loops, and tenant isolation.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use ward_model::TenantId;
use ward_respond::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, ExecMode, PlaybookRun,
    ResponseRepo, RiskClass, RunStatus, StepRecord, StepState,
};

use crate::backends::{Backing, Kind};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_072_000 + secs, 0).unwrap()
}

fn t(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

pub(crate) fn action(tenant: &TenantId, id: &str, status: ActionStatus, created: i64) -> ActionRecord {
    ActionRecord {
        id: id.into(),
        tenant: tenant.clone(),
        decision_id: format!("decision-{id}"),
        incident_id: Some("inc-1".into()),
        kind: ActionKind::BlockIp,
        target: "203.0.113.7".into(),
        mode: ExecMode::Real,
        status,
        reason: "policy allows".into(),
        requested_by: "policy".into(),
        risk: RiskClass::High,
        ttl_secs: Some(600),
        expires_at: Some(at(created + 600)),
        attempts: 0,
        state: serde_json::json!({}),
        policy_version: "v1@abc".into(),
        created_at: at(created),
        updated_at: at(created),
        verified_at: None,
    }
}

fn approval(tenant: &TenantId, action_id: &str, status: ApprovalStatus) -> ApprovalRecord {
    ApprovalRecord {
        id: action_id.into(),
        tenant: tenant.clone(),
        action_id: action_id.into(),
        status,
        requested_by: "user:sam".into(),
        decided_by: None,
        reason: "critical asset".into(),
        created_at: at(0),
        expires_at: at(900),
        decided_at: None,
    }
}

fn run(tenant: &TenantId, id: &str, status: RunStatus) -> PlaybookRun {
    PlaybookRun {
        id: id.into(),
        tenant: tenant.clone(),
        playbook: "contain".into(),
        playbook_hash: "h1".into(),
        incident_id: "inc-1".into(),
        context: serde_json::json!({"source.ip": "203.0.113.7"}),
        status,
        reason: String::new(),
        created_at: at(0),
        updated_at: at(0),
    }
}

fn step(run_id: &str, step: &str, state: StepState, attempt: u32) -> StepRecord {
    StepRecord {
        run_id: run_id.into(),
        step: step.into(),
        state,
        attempt,
        output: serde_json::json!({"action_id": format!("{run_id}/{step}")}),
        at: at(i64::from(attempt)),
    }
}

/// Runs `check` on a fresh adapter of `kind` and cleans up even when it fails.
async fn on<F, Fut>(kind: Kind, check: F)
where
    F: FnOnce(Arc<dyn ResponseRepo>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(mut backing) = Backing::new(kind).await else { return };
    let repo = backing.open().await;
    let outcome = tokio::spawn(check(repo)).await;
    backing.cleanup().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn actions_are_idempotent_and_updated_whole(repo: Arc<dyn ResponseRepo>) {
    let acme = t("acme");
    let first = action(&acme, "a1", ActionStatus::Running, 0);
    assert_eq!(repo.insert_action(&first).await.unwrap(), (first.clone(), true));
    let retry = ActionRecord { status: ActionStatus::Denied, ..first.clone() };
    let (stored, new) = repo.insert_action(&retry).await.unwrap();
    assert!(!new, "a retried decision gets the first record back");
    assert_eq!(stored, first);

    let mut done = first.clone();
    done.status = ActionStatus::Verified;
    done.attempts = 3;
    done.reason = "element present".into();
    done.state = serde_json::json!({"table": "ward", "set": "blocked"});
    done.verified_at = Some(at(1));
    done.updated_at = at(1);
    repo.update_action(&done).await.unwrap();
    assert_eq!(repo.action(&acme, "a1").await.unwrap(), Some(done));
    assert!(repo.update_action(&action(&acme, "ghost", ActionStatus::Failed, 0)).await.is_err());
    assert_eq!(repo.action(&acme, "ghost").await.unwrap(), None);

    repo.insert_action(&action(&acme, "a2", ActionStatus::Denied, 10)).await.unwrap();
    repo.insert_action(&action(&acme, "a3", ActionStatus::Executed, 20)).await.unwrap();
    let ids = |v: Vec<ActionRecord>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(repo.actions(&acme, &[]).await.unwrap()), ["a3", "a2", "a1"], "newest first");
    let denied_or_verified = repo.actions(&acme, &[ActionStatus::Denied, ActionStatus::Verified]).await;
    assert_eq!(ids(denied_or_verified.unwrap()), ["a2", "a1"]);
    repo.insert_action(&action(&t("globex"), "g1", ActionStatus::Verified, 0)).await.unwrap();
    let mut active = ids(repo.active_actions().await.unwrap());
    active.sort();
    assert_eq!(active, ["a1", "a3", "g1"], "executed and verified actions of every tenant");

    let mut elsewhere = action(&acme, "a4", ActionStatus::Verified, 30);
    elsewhere.target = "198.51.100.9".into();
    repo.insert_action(&elsewhere).await.unwrap();
    let in_place = [ActionStatus::Verified, ActionStatus::Executed];
    let on = repo.actions_on(&acme, ActionKind::BlockIp, "203.0.113.7", &in_place).await.unwrap();
    assert_eq!(ids(on), ["a3", "a1"], "only that kind on that target");
    assert!(repo.actions_on(&acme, ActionKind::Notify, "203.0.113.7", &[]).await.unwrap().is_empty());
}

async fn approvals_gate_existing_actions(repo: Arc<dyn ResponseRepo>) {
    let acme = t("acme");
    assert!(repo.put_approval(&approval(&acme, "nope", ApprovalStatus::Pending)).await.is_err());
    for id in ["p1", "p2"] {
        repo.insert_action(&action(&acme, id, ActionStatus::PendingApproval, 0)).await.unwrap();
        repo.put_approval(&approval(&acme, id, ApprovalStatus::Pending)).await.unwrap();
    }
    let mut cancelled = approval(&acme, "p1", ApprovalStatus::Cancelled);
    cancelled.decided_by = Some("user:sam".into());
    cancelled.decided_at = Some(at(5));
    repo.put_approval(&cancelled).await.unwrap();
    assert_eq!(repo.approval(&acme, "p1").await.unwrap(), Some(cancelled));
    assert_eq!(repo.approvals(&acme, None).await.unwrap().len(), 2);
    let pending = repo.approvals(&acme, Some(ApprovalStatus::Pending)).await.unwrap();
    assert_eq!(pending.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["p2"]);
    let everywhere = repo.pending_approvals().await.unwrap();
    assert_eq!(everywhere.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["p2"]);
}

async fn kill_switch_setting_round_trips(repo: Arc<dyn ResponseRepo>) {
    assert_eq!(repo.setting("respond.kill_switch").await.unwrap(), None);
    repo.set_setting("respond.kill_switch", "true").await.unwrap();
    repo.set_setting("respond.kill_switch", "false").await.unwrap();
    assert_eq!(repo.setting("respond.kill_switch").await.unwrap().as_deref(), Some("false"));
}

async fn runs_and_journal_keep_append_order(repo: Arc<dyn ResponseRepo>) {
    let acme = t("acme");
    repo.put_run(&run(&acme, "r1", RunStatus::Running)).await.unwrap();
    repo.put_run(&run(&acme, "r2", RunStatus::Running)).await.unwrap();
    let lines = [
        step("r1", "block", StepState::Started, 1),
        step("r2", "block", StepState::Started, 1),
        step("r1", "block", StepState::Started, 2),
        step("r1", "block", StepState::Completed, 2),
        step("r1", "fanout/0/tell", StepState::Failed, 3),
        step("r1", "block", StepState::RolledBack, 1),
    ];
    for line in &lines {
        repo.journal_append(&acme, line).await.unwrap();
    }
    let r1: Vec<StepRecord> = lines.iter().filter(|l| l.run_id == "r1").cloned().collect();
    assert_eq!(repo.journal(&acme, "r1").await.unwrap(), r1);
    let mut failed = run(&acme, "r1", RunStatus::Failed);
    failed.reason = "step fanout/0/tell failed".into();
    failed.updated_at = at(9);
    repo.put_run(&failed).await.unwrap();
    assert_eq!(repo.run(&acme, "r1").await.unwrap(), Some(failed));
    let running = repo.runs_with_status(RunStatus::Running).await.unwrap();
    assert_eq!(running.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r2"]);
    assert_eq!(repo.runs_with_status(RunStatus::Failed).await.unwrap().len(), 1);
}

async fn tenants_do_not_see_each_other(repo: Arc<dyn ResponseRepo>) {
    let (acme, globex) = (t("acme"), t("globex"));
    repo.insert_action(&action(&acme, "x", ActionStatus::PendingApproval, 0)).await.unwrap();
    repo.put_approval(&approval(&acme, "x", ApprovalStatus::Pending)).await.unwrap();
    repo.put_run(&run(&acme, "r", RunStatus::Running)).await.unwrap();
    repo.journal_append(&acme, &step("r", "block", StepState::Completed, 1)).await.unwrap();

    assert_eq!(repo.action(&globex, "x").await.unwrap(), None);
    assert!(repo.actions(&globex, &[]).await.unwrap().is_empty());
    assert_eq!(repo.approval(&globex, "x").await.unwrap(), None);
    assert!(repo.approvals(&globex, None).await.unwrap().is_empty());
    assert_eq!(repo.run(&globex, "r").await.unwrap(), None);
    assert!(repo.journal(&globex, "r").await.unwrap().is_empty());
    let theirs = action(&globex, "x", ActionStatus::Cancelled, 0);
    assert!(repo.update_action(&theirs).await.is_err(), "globex cannot update acme's action by id");
    assert!(repo.put_approval(&approval(&globex, "x", ApprovalStatus::Approved)).await.is_err());
    // The same ids in another tenant are that tenant's own records.
    repo.insert_action(&theirs).await.unwrap();
    assert_eq!(repo.action(&acme, "x").await.unwrap().unwrap().status, ActionStatus::PendingApproval);
    assert_eq!(repo.approval(&acme, "x").await.unwrap().unwrap().status, ApprovalStatus::Pending);
}

macro_rules! suite {
    ($($backend:ident => $kind:expr),+ $(,)?) => {$(
        mod $backend {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn actions_are_idempotent_and_updated_whole() {
                on($kind, super::actions_are_idempotent_and_updated_whole).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn approvals_gate_existing_actions() {
                on($kind, super::approvals_gate_existing_actions).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn kill_switch_setting_round_trips() {
                on($kind, super::kill_switch_setting_round_trips).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn runs_and_journal_keep_append_order() {
                on($kind, super::runs_and_journal_keep_append_order).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tenants_do_not_see_each_other() {
                on($kind, super::tenants_do_not_see_each_other).await;
            }
        }
    )+};
}

suite!(memory => Kind::Memory, sqlite => Kind::Sqlite, postgres => Kind::Postgres);
