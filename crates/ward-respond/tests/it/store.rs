//! `StoreRepo`: response state survives a reopen of the data directory, and every audit entry
//! lands in the store's hash-chained audit log, which verifies.

use std::sync::Arc;

use ward_respond::{
    ActionKind, ActionRequest, ActionStatus, Mode, Responder, RiskClass, StoreRepo, SystemClock,
};

use crate::common::{Fake, config, executors, policies, tenant};

#[tokio::test]
async fn state_persists_and_audit_goes_into_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let open = || async {
        let store = ward_store::Store::for_data_dir(dir.path()).await.unwrap();
        store.ensure_tenant(&tenant()).await.unwrap();
        let repo = StoreRepo::new(store.clone());
        let responder = Responder::new(
            config(Mode::Autonomous),
            policies(),
            Arc::new(repo),
            executors(std::slice::from_ref(&fake)),
            Arc::new(SystemClock),
        );
        (store, responder)
    };
    let (_, responder) = open().await;
    responder.set_kill_switch(&tenant(), true, "cli:root").await.unwrap();
    let denied = responder
        .request(&ActionRequest::manual(tenant(), ActionKind::BlockIp, "203.0.113.7", "cli:root"))
        .await
        .unwrap();
    assert_eq!(denied.status, ActionStatus::Denied);
    drop(responder);

    let (store, responder) = open().await;
    assert!(responder.kill_switch().await.unwrap(), "the kill switch survives a restart");
    assert_eq!(responder.action(&tenant(), &denied.id).await.unwrap().status, ActionStatus::Denied);
    let summary = store.verify_audit(None).await.unwrap().unwrap();
    assert!(summary.records >= 2, "{summary:?}");
}

/// A process that stopped mid-execution leaves an action `running`, or `pending_approval`
/// without its approval request; the next start completes the first (once) and reopens the
/// second, and leaves actions of playbooks to the playbook runner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_completes_actions_left_running_and_reopens_lost_approvals() {
    use crate::backends::{Backing, Kind};
    use crate::repo_conformance::action;
    use ward_respond::ApprovalStatus;

    let Some(mut backing) = Backing::new(Kind::Sqlite).await else { return };
    let before = backing.open().await;
    let running = action(&tenant(), "left-running", ActionStatus::Running, 0);
    let mut waiting = action(&tenant(), "left-waiting", ActionStatus::PendingApproval, 1);
    waiting.target = "203.0.113.10".into();
    let mut owned = action(&tenant(), "playbook-owned", ActionStatus::Running, 2);
    owned.requested_by = "playbook:run-1".into();
    for a in [&running, &waiting, &owned] {
        before.insert_action(a).await.unwrap();
    }
    drop(before);

    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let repo = backing.open().await;
    let responder = Responder::new(
        config(Mode::Autonomous),
        policies(),
        repo.clone(),
        executors(std::slice::from_ref(&fake)),
        Arc::new(SystemClock),
    );
    let report = responder.resume_interrupted().await.unwrap();
    assert_eq!((report.resumed, report.approvals_reopened), (1, 1), "{report:?}");
    assert_eq!(responder.action(&tenant(), "left-running").await.unwrap().status, ActionStatus::Verified);
    assert_eq!(fake.total(), 1);
    let approval = repo.approval(&tenant(), "left-waiting").await.unwrap().expect("approval reopened");
    assert_eq!(approval.status, ApprovalStatus::Pending);
    assert_eq!(responder.action(&tenant(), "playbook-owned").await.unwrap().status, ActionStatus::Running);

    let again = responder.resume_interrupted().await.unwrap();
    assert_eq!((again.resumed, again.approvals_reopened), (0, 0), "the sweep is idempotent");
    assert_eq!(fake.total(), 1, "nothing executed twice");
    drop(responder);
    backing.cleanup().await;
}
