//! Checks of response records, configuration, assets and dead letters.

use chrono::{Duration, Utc};

use super::{assert_not_found, at, tenant};
use crate::{
    ActionFilter, ActionStatus, ApprovalDecision, ApprovalStatus, ConfigTable, Criticality, DeadLetterFilter,
    NewAction, NewAsset, NewPlaybookRun, RunStatus, RunStep, StepStatus, Store, StoreError,
};

/// The action for a (decision, action) pair is created once; approvals decide once.
pub async fn actions_and_approvals(store: &Store) {
    let ts = store.tenant(&tenant("resp"));
    let new = NewAction {
        decision_id: "d1".to_owned(),
        incident_id: Some("inc".to_owned()),
        action: "block_ip".to_owned(),
        target: "203.0.113.7".to_owned(),
        params: serde_json::json!({"ttl": "1h"}),
        status: ActionStatus::AwaitingApproval,
        dry_run: true,
        expires_at: Some(at(3600)),
    };
    let (a, created) = ts.create_action(&new).await.expect("create");
    assert!(created);
    let (again, created) = ts.create_action(&new).await.expect("retry");
    assert!(!created, "a retried decision does not create a second action");
    assert_eq!(again.id, a.id);
    let other = NewAction { action: "notify".to_owned(), ..new.clone() };
    ts.create_action(&other).await.expect("second action of the decision");
    let listed = ts
        .list_actions(&ActionFilter { decision_id: Some("d1".to_owned()), ..Default::default() }, None, 1)
        .await;
    let listed = listed.expect("list");
    assert_eq!(listed.items.len(), 1);
    let rest =
        ts.list_actions(&ActionFilter::default(), listed.next_cursor.as_deref(), 10).await.expect("page 2");
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next_cursor.is_none());

    let ap =
        ts.create_approval(&a.id, "policy:default", Utc::now() + Duration::hours(1)).await.expect("approval");
    assert_eq!(ap.status, ApprovalStatus::Pending);
    let ok = ts
        .decide_approval(&ap.id, ApprovalDecision::Approve, "rita", Some("known attacker"))
        .await
        .expect("decide");
    assert_eq!((ok.status, ok.decided_by.as_deref()), (ApprovalStatus::Approved, Some("rita")));
    let twice = ts.decide_approval(&ap.id, ApprovalDecision::Reject, "sam", None).await;
    assert!(matches!(twice, Err(StoreError::Conflict { .. })), "decided once");
    let late = ts
        .create_approval(&a.id, "policy:default", Utc::now() - Duration::seconds(1))
        .await
        .expect("approval");
    let res = ts.decide_approval(&late.id, ApprovalDecision::Approve, "rita", None).await;
    assert!(matches!(res, Err(StoreError::Conflict { .. })), "expired requests cannot be approved");
    assert_eq!(ts.approval(&late.id).await.expect("get").status, ApprovalStatus::Expired);
    assert_eq!(ts.list_approvals(Some(ApprovalStatus::Approved)).await.expect("list").len(), 1);

    let done = ts
        .update_action(&a.id, ActionStatus::Succeeded, &serde_json::json!({"rule": 42}), None)
        .await
        .expect("update");
    assert_eq!((done.status, done.result["rule"].as_i64()), (ActionStatus::Succeeded, Some(42)));
    assert_not_found(
        ts.update_action("nope", ActionStatus::Failed, &serde_json::Value::Null, Some("x")).await,
        "action",
    );
    assert_not_found(ts.create_approval("nope", "x", Utc::now()).await, "approval of unknown action");
}

/// Playbook CRUD, a run's step journal survives as written, and policies are versioned.
pub async fn playbooks_runs_and_policies(store: &Store) {
    let ts = store.tenant(&tenant("books"));
    let pb = ts.create_playbook("contain", "steps: [block_ip]", true).await.expect("create");
    assert!(matches!(ts.create_playbook("contain", "x", true).await, Err(StoreError::Conflict { .. })));
    let pb2 = ts.update_playbook(&pb.id, "steps: [block_ip, notify]", false).await.expect("update");
    assert_eq!((pb2.version, pb2.enabled), (2, false));
    assert_eq!(ts.list_playbooks().await.expect("list").len(), 1);

    let run = ts
        .create_run(&NewPlaybookRun {
            playbook_id: pb.id.clone(),
            incident_id: None,
            context: serde_json::json!({"ip": "1.2.3.4"}),
        })
        .await
        .expect("run");
    assert_eq!(run.status, RunStatus::Running);
    let mut step = RunStep {
        run_id: run.id.clone(),
        step: 0,
        name: "block_ip".to_owned(),
        status: StepStatus::Running,
        output: serde_json::Value::Null,
        error: None,
        started_at: at(0),
        finished_at: None,
    };
    ts.record_step(&step).await.expect("journal");
    step.status = StepStatus::Succeeded;
    step.output = serde_json::json!({"rule_id": 7});
    step.finished_at = Some(at(1));
    ts.record_step(&step).await.expect("journal update");
    ts.record_step(&RunStep {
        step: 1,
        name: "notify".to_owned(),
        status: StepStatus::Pending,
        ..step.clone()
    })
    .await
    .expect("second step");
    let steps = ts.list_steps(&run.id).await.expect("steps");
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0], step, "the journal reads back what was last written");
    assert_eq!(ts.list_runs(Some(RunStatus::Running)).await.expect("resumable").len(), 1);
    let fin = ts.update_run(&run.id, RunStatus::Succeeded, &serde_json::json!({})).await.expect("finish");
    assert!(fin.finished_at.is_some());
    assert!(ts.list_runs(Some(RunStatus::Running)).await.expect("resumable").is_empty());

    let v1 = ts.put_policy("response", "allow if true", "admin").await.expect("v1");
    let v2 = ts.put_policy("response", "deny if true", "admin").await.expect("v2");
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(ts.policy("response", None).await.expect("latest").body, "deny if true");
    assert_eq!(ts.policy("response", Some(1)).await.expect("v1").body, "allow if true");
    assert_eq!(ts.policy_history("response").await.expect("history").len(), 2);
    assert_eq!(ts.list_policies().await.expect("latest of each").len(), 1);
    assert_not_found(ts.policy("nope", None).await, "policy");

    ts.delete_playbook(&pb.id).await.expect("delete");
    assert_not_found(ts.run(&run.id).await, "runs go with their playbook");
}

/// Key → JSON tables, assets and dead letters round-trip, list and count.
pub async fn config_assets_and_deadletter(store: &Store) {
    let ts = store.tenant(&tenant("conf"));
    for table in [ConfigTable::Connectors, ConfigTable::Notifications, ConfigTable::Settings] {
        ts.put_config(table, "b", &serde_json::json!({"v": 1})).await.expect("put");
        ts.put_config(table, "a", &serde_json::json!([1, 2])).await.expect("put");
        ts.put_config(table, "b", &serde_json::json!({"v": 2})).await.expect("overwrite");
        let all = ts.list_config(table).await.expect("list");
        assert_eq!(all.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            ts.config(table, "b").await.expect("get").map(|e| e.value),
            Some(serde_json::json!({"v": 2}))
        );
        ts.delete_config(table, "a").await.expect("delete");
        assert!(ts.config(table, "a").await.expect("get").is_none());
        assert_not_found(ts.delete_config(table, "a").await, "deleted key");
    }
    assert_eq!(ts.list_config(ConfigTable::Settings).await.expect("tables are separate").len(), 1);

    let asset = NewAsset {
        name: "db01".to_owned(),
        ip_or_cidr: Some("10.0.0.5".to_owned()),
        owner: Some("dba".to_owned()),
        criticality: Criticality::Critical,
        tags: vec!["pci".to_owned()],
    };
    assert_eq!(ts.put_asset(&asset).await.expect("asset").criticality, Criticality::Critical);
    ts.put_asset(&NewAsset { criticality: Criticality::High, ..asset.clone() }).await.expect("replace");
    assert_eq!(ts.asset("db01").await.expect("get").criticality, Criticality::High);
    assert_eq!(ts.list_assets().await.expect("list").len(), 1);
    ts.delete_asset("db01").await.expect("delete");
    assert_not_found(ts.asset("db01").await, "deleted asset");

    for i in 0..5 {
        let src = if i % 2 == 0 { "decode:cowrie" } else { "respond" };
        ts.add_deadletter(src, "unparseable", &format!("raw_events:0:{i}"), b"{broken")
            .await
            .expect("dead letter");
    }
    let big = vec![b'x'; (1 << 20) + 10];
    let d = ts.add_deadletter("decode:cowrie", "too big", "raw_events:0:9", &big).await.expect("big");
    assert!(d.truncated && d.payload.len() == 1 << 20, "cut at 1 MiB and flagged");
    let cowrie = DeadLetterFilter { source: Some("decode:cowrie".to_owned()), ..Default::default() };
    assert_eq!(ts.count_deadletter(&cowrie).await.expect("count"), 4);
    assert_eq!(ts.count_deadletter(&DeadLetterFilter::default()).await.expect("count"), 6);
    let p1 = ts.list_deadletter(&DeadLetterFilter::default(), None, 4).await.expect("page");
    let p2 =
        ts.list_deadletter(&DeadLetterFilter::default(), p1.next_cursor.as_deref(), 4).await.expect("page");
    assert_eq!((p1.items.len(), p2.items.len(), p2.next_cursor), (4, 2, None));
    assert_eq!(p1.items[0].id, d.id, "newest first");
}
