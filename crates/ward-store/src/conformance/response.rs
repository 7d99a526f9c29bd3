//! Checks of response state: idempotent actions updated as whole records, approvals gating
//! them, playbook runs with an append-only journal, the cross-tenant scans the responder's
//! background loops use, and installation-wide settings.

use ward_model::response::{ActionStatus, ApprovalStatus, RunStatus, StepState};

use super::{action_record, approval_record, assert_not_found, at, run_record, step_record, tenant};
use crate::{RawPool, Store, StoreError};

/// An action is stored once per id (a retried decision gets the first back), updated as a whole
/// record, listed by status, and found by the reconciler's scan while its effect is in place.
pub async fn actions_are_idempotent_and_updated_whole(store: &Store) {
    let (t1, t2) = (tenant("resp-one"), tenant("resp-two"));
    let (one, two) = (store.tenant(&t1), store.tenant(&t2));
    let first = action_record(&t1, "a1", "d1", ActionStatus::Running);
    let (stored, new) = one.insert_action(&first).await.expect("insert");
    assert!(new);
    assert_eq!(stored, first, "what is read back is what was written");
    let retry = action_record(&t1, "a1", "d1", ActionStatus::Denied);
    let (stored, new) = one.insert_action(&retry).await.expect("retry");
    assert!(!new, "a retried decision does not create a second action");
    assert_eq!(stored.status, ActionStatus::Running, "the first record wins");
    let clash = action_record(&t1, "a1-other-id", "d1", ActionStatus::Running);
    assert!(
        matches!(one.insert_action(&clash).await, Err(StoreError::Conflict { .. })),
        "one action per (decision, kind)"
    );

    let mut done = first.clone();
    done.status = ActionStatus::Verified;
    done.attempts = 2;
    done.reason = "element present in set ward/blocked".to_owned();
    done.state = serde_json::json!({"set": "blocked", "handle": 7});
    done.expires_at = Some(at(600));
    done.verified_at = Some(at(2));
    done.updated_at = at(2);
    one.update_action(&done).await.expect("update");
    assert_eq!(one.action("a1").await.expect("get"), Some(done.clone()));
    let mut ghost = action_record(&t1, "nope", "d9", ActionStatus::Failed);
    assert_not_found(one.update_action(&ghost).await, "unknown action");
    ghost.state = serde_json::Value::String("x".repeat(2 << 20));
    assert!(matches!(one.insert_action(&ghost).await, Err(StoreError::Invalid { .. })), "oversized state");

    let mut later = action_record(&t1, "a2", "d2", ActionStatus::Denied);
    later.created_at = at(10);
    one.insert_action(&later).await.expect("second");
    two.insert_action(&action_record(&t2, "b1", "d1", ActionStatus::Executed)).await.expect("other tenant");
    let ids = |v: Vec<ward_model::response::ActionRecord>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(one.list_actions(&[]).await.expect("all")), ["a2", "a1"], "newest first");
    assert_eq!(ids(one.list_actions(&[ActionStatus::Denied]).await.expect("denied")), ["a2"]);
    let in_place = [ActionStatus::Executed, ActionStatus::Verified];
    let mut active = ids(store.actions_with_status(&in_place).await.expect("active"));
    active.sort();
    assert_eq!(active, ["a1", "b1"], "executed and verified actions of every tenant");
}

/// Approvals are upserted (one per action, any status incl. cancelled) and must gate an
/// existing action; pending ones of every tenant are listed for expiry.
pub async fn approvals_gate_existing_actions(store: &Store) {
    let t = tenant("appr");
    let ts = store.tenant(&t);
    assert_not_found(
        ts.put_approval(&approval_record(&t, "missing", ApprovalStatus::Pending)).await,
        "action",
    );
    ts.insert_action(&action_record(&t, "x1", "d1", ActionStatus::PendingApproval)).await.expect("action");
    ts.insert_action(&action_record(&t, "x2", "d2", ActionStatus::PendingApproval)).await.expect("action");
    let pending = approval_record(&t, "x1", ApprovalStatus::Pending);
    ts.put_approval(&pending).await.expect("put");
    ts.put_approval(&approval_record(&t, "x2", ApprovalStatus::Pending)).await.expect("put");
    assert_eq!(ts.approval("x1").await.expect("get"), Some(pending.clone()));
    assert_eq!(store.pending_approvals().await.expect("pending").len(), 2);

    let mut cancelled = pending.clone();
    cancelled.status = ApprovalStatus::Cancelled;
    cancelled.decided_by = Some("user:rita".to_owned());
    cancelled.decided_at = Some(at(30));
    cancelled.reason = "withdrawn".to_owned();
    ts.put_approval(&cancelled).await.expect("cancel");
    assert_eq!(ts.approval("x1").await.expect("get"), Some(cancelled));
    assert_eq!(ts.list_approvals(Some(ApprovalStatus::Cancelled)).await.expect("list").len(), 1);
    assert_eq!(ts.list_approvals(None).await.expect("list").len(), 2);
    let still: Vec<String> =
        store.pending_approvals().await.expect("pending").into_iter().map(|a| a.id).collect();
    assert_eq!(still, ["x2"]);
}

/// Runs are upserted and found by status; the journal keeps every line in append order and
/// refuses to be rewritten; global settings round-trip.
pub async fn runs_journal_and_global_settings(store: &Store) {
    let t = tenant("runs");
    let ts = store.tenant(&t);
    let mut run = run_record(&t, "r1", RunStatus::Running);
    ts.put_run(&run).await.expect("put");
    ts.put_run(&run_record(&t, "r2", RunStatus::Running)).await.expect("put");
    assert_eq!(ts.run("r1").await.expect("get"), Some(run.clone()));
    assert_eq!(store.runs_with_status(RunStatus::Running).await.expect("running").len(), 2);
    run.status = RunStatus::Completed;
    run.reason = "completed".to_owned();
    run.updated_at = at(50);
    ts.put_run(&run).await.expect("finish");
    assert_eq!(ts.run("r1").await.expect("get"), Some(run));
    assert_eq!(store.runs_with_status(RunStatus::Running).await.expect("running").len(), 1);
    assert_eq!(store.runs_with_status(RunStatus::Completed).await.expect("done").len(), 1);

    let lines = [
        step_record("r1", "block", StepState::Started),
        step_record("r1", "block", StepState::Completed),
        step_record("r2", "notify", StepState::Started),
        step_record("r1", "fanout/0/tell", StepState::Failed),
        step_record("r1", "block", StepState::RolledBack),
    ];
    for line in &lines {
        ts.journal_append(line).await.expect("append");
    }
    let journal = ts.journal("r1").await.expect("journal");
    let expected: Vec<_> = lines.iter().filter(|l| l.run_id == "r1").cloned().collect();
    assert_eq!(journal, expected, "every line, in append order");
    let rewrite = match store.raw_pool() {
        RawPool::Sqlite(p) => {
            sqlx::query("UPDATE playbook_journal SET state = 'completed'").execute(p).await.err()
        }
        RawPool::Postgres(p) => {
            sqlx::query("UPDATE playbook_journal SET state = 'completed'").execute(p).await.err()
        }
    };
    assert!(
        rewrite.is_some_and(|e| e.to_string().contains("append-only")),
        "journal lines cannot be rewritten"
    );
    let erase = match store.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query("DELETE FROM playbook_journal").execute(p).await.err(),
        RawPool::Postgres(p) => sqlx::query("DELETE FROM playbook_journal").execute(p).await.err(),
    };
    assert!(erase.is_some(), "journal lines cannot be deleted");
    assert_eq!(ts.journal("r1").await.expect("journal").len(), 4);

    assert_eq!(store.global_setting("respond.kill_switch").await.expect("unset"), None);
    store.set_global_setting("respond.kill_switch", "on").await.expect("set");
    store.set_global_setting("respond.kill_switch", "off").await.expect("overwrite");
    assert_eq!(store.global_setting("respond.kill_switch").await.expect("get").as_deref(), Some("off"));
}
